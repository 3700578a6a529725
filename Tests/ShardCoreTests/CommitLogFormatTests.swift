import Testing

@testable import ShardCore
import ShardProtocol

/// The commit log's bytes: entries read back as written; a torn or truncated last entry is no
/// entry; damage with good entries after it is refused.
@Suite struct CommitLogFormatTests {
    static let txid = TransactionID(instance: "a1b2c3", epoch: "e9", sequence: 7)
    static let decision = CommitDecision(
        txid: txid, label: "transfer-42", decidedAt: Timestamp(microseconds: 1_795_253_400_000_001),
        participants: [.init(shard: "asia", finish: .applyChangeset([1, 2, 3, 0, 255])),
                       .init(shard: "europe", finish: .commitPrepared(gid: txid.gid(for: "europe")))])

    static func log(_ entries: [CommitLogEntry]) -> [UInt8] {
        CommitLogFormat.header + entries.flatMap(CommitLogFormat.frame)
    }

    @Test func entriesReadBackAsWritten() throws {
        let unlabeled = CommitDecision(txid: TransactionID(instance: "a1b2c3", epoch: "e9", sequence: 8), label: nil,
                                       decidedAt: Timestamp(microseconds: -5), participants: [])
        let entries: [CommitLogEntry] = [.decided(Self.decision), .completed(Self.txid), .decided(unlabeled)]
        let bytes = Self.log(entries)
        let contents = try CommitLogFormat.read(bytes)
        #expect(contents == CommitLogFormat.Contents(entries: entries, validLength: bytes.count, tornTail: false))
        #expect(try CommitLogFormat.read([]) == CommitLogFormat.Contents(entries: [], validLength: 0, tornTail: false))
    }

    @Test func aTornOrTruncatedLastEntryIsNoEntry() throws {
        let first = Self.log([.decided(Self.decision)])
        let second = CommitLogFormat.frame(.completed(Self.txid))
        // Every cut of the last frame, and every single-byte corruption of it.
        for cut in 0..<second.count {
            let contents = try CommitLogFormat.read(first + second.prefix(cut))
            #expect(contents.entries == [.decided(Self.decision)], "cut at \(cut)")
            #expect(contents.validLength == first.count && contents.tornTail == (cut > 0))
        }
        for index in second.indices {
            var damaged = second
            damaged[index] ^= 0x40
            let contents = try CommitLogFormat.read(first + damaged)
            #expect(contents.entries == [.decided(Self.decision)], "byte \(index) flipped")
            #expect(contents.validLength == first.count && contents.tornTail)
        }
        // A header cut short: the file was being created.
        #expect(try CommitLogFormat.read(Array(CommitLogFormat.header.prefix(5))).tornTail)
    }

    @Test func damageBeforeTheEndIsRefused() {
        var bytes = Self.log([.decided(Self.decision), .completed(Self.txid)])
        bytes[CommitLogFormat.header.count + 12] ^= 0x01
        #expect(throws: CommitLogFormat.Damage.self) { try CommitLogFormat.read(bytes) }
        #expect(throws: CommitLogFormat.Damage.self) { try CommitLogFormat.read(Array("not a log at all\n".utf8)) }
    }

    @Test func crcIsZlibs() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func transactionIDsAndGlobalIDs() {
        let id = Self.txid
        #expect(id.description == "a1b2c3-e9-7" && TransactionID("a1b2c3-e9-7") == id)
        #expect(TransactionID("a1b2c3-e9") == nil && TransactionID("A1-e9-7") == nil && TransactionID("a1-e9-x") == nil)
        let gid = id.gid(for: "north_america")
        #expect(gid == "shardd_a1b2c3_e9_7_north_america")
        #expect(TransactionID.parse(gid: gid, instance: "a1b2c3")! == (id, "north_america"))
        #expect(TransactionID.parse(gid: gid, instance: "a1b2c4") == nil, "another state_dir's")
        #expect(TransactionID.parse(gid: "shardd_a1b2c3_e9_x_asia", instance: "a1b2c3") == nil)
        #expect(TransactionID.parse(gid: "citus_1_2_3", instance: "a1b2c3") == nil)
    }
}
