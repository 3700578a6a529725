import Testing
import ShardCore
import ShardProtocol

@Suite struct ShardHashTests {
    /// The published FNV-1a 64-bit test vectors.
    @Test func fnv1aMatchesTheReferenceVectors() {
        #expect(ShardHash.fnv1a64([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(ShardHash.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(ShardHash.fnv1a64(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
    }

    @Test func valuesAreEncodedCanonically() {
        #expect(ShardHash.bytes(of: .int(1)) == [0, 0, 0, 0, 0, 0, 0, 1])
        #expect(ShardHash.bytes(of: .int(-1)) == [UInt8](repeating: 0xFF, count: 8))
        #expect(ShardHash.bytes(of: .int(0x0102_0304_0506_0708)) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(ShardHash.bytes(of: .int(.min)) == [0x80, 0, 0, 0, 0, 0, 0, 0])
        #expect(ShardHash.bytes(of: .text("")) == [])
        #expect(ShardHash.bytes(of: .text("é日")) == [0xC3, 0xA9, 0xE6, 0x97, 0xA5])
        #expect(ShardHash.bytes(of: .bool(false)) == [0])
        #expect(ShardHash.bytes(of: .bool(true)) == [1])
        #expect(ShardHash.bytes(of: .timestamp(Timestamp(microseconds: 1_795_253_400_000_000)))
                == ShardHash.bytes(of: .int(1_795_253_400_000_000)))
        #expect(ShardHash.bytes(of: .real(1.5)) == nil)
        #expect(ShardHash.bytes(of: .null) == nil)
        #expect(ShardHash.hash(.real(1)) == nil)
        #expect(ShardHash.hash(.null) == nil)
        #expect(ShardHash.shardIndex(of: .null, shardCount: 4) == nil)
    }

    /// Pinned forever: a change here strands rows already placed by `hash = true`.
    @Test(arguments: [
        (ShardValue.int(0), 0x7bd3_144f_29c0_cc9e as UInt64, 2, 2),
        (.int(1), 0x0d4a_d0eb_39c5_0357, 3, 1),
        (.int(-1), 0x6a92_c022_8678_c02e, 2, 1),
        (.int(42), 0x641d_ede4_f097_3e8c, 0, 2),
        (.int(1000), 0x95e2_5c5a_5b76_5d21, 1, 1),
        (.int(.max), 0xec95_5921_1635_08be, 2, 0),
        (.int(.min), 0x7c58_ca50_5305_a910, 0, 2),
        (.text(""), 0xefd0_1f60_ba99_2926, 2, 2),
        (.text("Tokyo"), 0xd9f0_a827_bd64_d712, 2, 1),
        (.text("Asia"), 0xd8ac_99b8_d72f_3b81, 1, 2),
        (.text("Ünïcødé"), 0xe316_3c1a_3f92_60de, 2, 1),
        (.text("日本"), 0x1230_c550_89fe_4e43, 3, 0),
        (.bool(false), 0xb903_4ad3_7056_f5fb, 3, 0),
        (.bool(true), 0x0d7c_ea42_b505_7e4c, 0, 0),
        (.timestamp(Timestamp(microseconds: 1_795_253_400_000_000)), 0xe787_d4a0_1e19_fac7, 3, 0),
        (.timestamp(Timestamp(microseconds: 0)), 0x7bd3_144f_29c0_cc9e, 2, 2),
    ])
    func pinnedOutputs(value: ShardValue, hash: UInt64, ofFour: Int, ofThree: Int) {
        #expect(ShardHash.hash(value) == hash)
        #expect(ShardHash.shardIndex(of: value, shardCount: 4) == ofFour)
        #expect(ShardHash.shardIndex(of: value, shardCount: 3) == ofThree)
        #expect(ShardHash.shardIndex(of: value, shardCount: 1) == 0)
        #expect(ShardHash.shardIndex(of: value, shardCount: 7) == Int(hash % 7))
    }

    @Test func timestampFromRFC3339HashesItsMicroseconds() throws {
        let t = try Timestamp(rfc3339: "2026-11-21T09:30:00Z")
        #expect(t.microseconds == 1_795_253_400_000_000)
        #expect(ShardHash.hash(.timestamp(t)) == 0xe787_d4a0_1e19_fac7)
    }

    /// Text hashes its UTF-8 bytes as given: canonically equivalent spellings are different
    /// values (as `ShardValue ==` and the databases say), so they may land apart.
    @Test func textIsHashedByItsBytesWithoutNormalization() {
        let composed = "\u{E9}", decomposed = "e\u{301}"
        #expect(ShardHash.hash(.text(composed)) == ShardHash.fmix64(ShardHash.fnv1a64([0xC3, 0xA9])))
        #expect(ShardHash.hash(.text(decomposed)) == ShardHash.fmix64(ShardHash.fnv1a64([0x65, 0xCC, 0x81])))
    }

    private func counts(_ values: [ShardValue], shards: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: shards)
        for value in values { counts[ShardHash.shardIndex(of: value, shardCount: shards)!] += 1 }
        return counts
    }

    /// Every shard gets within 10% of its fair share.
    private func expectEven(_ counts: [Int], total: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let fair = Double(total) / Double(counts.count)
        for count in counts {
            #expect(abs(Double(count) - fair) < fair * 0.1, "counts \(counts)", sourceLocation: sourceLocation)
        }
    }

    @Test func intsSpreadEvenly() {
        let values = (0..<10_000).map { ShardValue.int(Int64($0)) }
        expectEven(counts(values, shards: 4), total: 10_000)
        expectEven(counts(values, shards: 3), total: 10_000)
        var rng = SplitMix64(seed: 7)
        let random = (0..<10_000).map { _ in ShardValue.int(Int64(bitPattern: rng.next())) }
        expectEven(counts(random, shards: 4), total: 10_000)
    }

    /// Plain FNV-1a put every multiple of 4 on one shard of 4 and every anagram on the same
    /// shard of 2; the fmix64 finisher is there to prevent that.
    @Test func stridesAndAnagramsDoNotClump() {
        let strided = (0..<256).map { ShardValue.int(Int64($0) * 4) }
        let spread = counts(strided, shards: 4)
        #expect(spread.allSatisfy { $0 >= 40 }, "counts \(spread)")
        let anagrams = ["listen", "silent", "enlist", "tinsel", "inlets", "elints"].map(ShardValue.text)
        #expect(Set(anagrams.map { ShardHash.shardIndex(of: $0, shardCount: 2)! }).count == 2)
    }

    @Test func stringsSpreadEvenly() {
        let users = (0..<10_000).map { ShardValue.text("user-\($0)") }
        expectEven(counts(users, shards: 4), total: 10_000)
        expectEven(counts(users, shards: 3), total: 10_000)
        var rng = SplitMix64(seed: 11)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzÅßé日本 -_0123456789")
        let random = (0..<10_000).map { _ in
            ShardValue.text(String((0..<(4 + Int(rng.next() % 16))).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }))
        }
        expectEven(counts(random, shards: 4), total: 10_000)
    }
}

