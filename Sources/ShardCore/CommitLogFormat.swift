import ShardProtocol

/// The bytes of the commit log in `state_dir` (`commits.log`): a header, then one frame per
/// entry: the payload's length (UInt32, little-endian), its CRC-32 (IEEE), the payload.
///
/// An entry is written whole and the file is flushed to disk (fsync) before its decision
/// counts, so a frame cut short or with a wrong checksum at the very end of the file is one
/// whose write never finished: it is read as no entry (no decision: the transaction aborted).
/// A bad frame with good data after it is not a torn write but damage, and is refused.
package enum CommitLogFormat {
    package static let header: [UInt8] = Array("shardd commit log 1\n".utf8)

    /// What a log file holds.
    package struct Contents: Sendable, Equatable {
        package var entries: [CommitLogEntry]
        /// Bytes from the start that hold whole entries; a torn tail starts here.
        package var validLength: Int
        /// Whether a torn last frame was found (and is to be cut off before appending).
        package var tornTail: Bool
    }

    package struct Damage: Error, Sendable, Equatable, CustomStringConvertible {
        package var offset: Int
        package var reason: String
        package var description: String { "the commit log is damaged at byte \(offset): \(reason)" }
    }

    // MARK: - Writing

    /// The frame of one entry.
    package static func frame(_ entry: CommitLogEntry) -> [UInt8] {
        var payload: [UInt8] = []
        switch entry {
        case .decided(let decision):
            payload.append(1)
            put(decision.txid.description, &payload)
            if let label = decision.label {
                payload.append(1)
                put(label, &payload)
            } else {
                payload.append(0)
            }
            put(UInt64(bitPattern: decision.decidedAt.microseconds), &payload)
            put(UInt32(decision.participants.count), &payload)
            for participant in decision.participants {
                put(participant.shard, &payload)
                switch participant.finish {
                case .commitPrepared(let gid):
                    payload.append(1)
                    put(gid, &payload)
                case .applyChangeset(let changeset):
                    payload.append(2)
                    put(changeset, &payload)
                }
            }
        case .completed(let txid):
            payload.append(2)
            put(txid.description, &payload)
        }
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 8)
        put(UInt32(payload.count), &out)
        put(CRC32.checksum(payload), &out)
        out += payload
        return out
    }

    private static func put(_ value: UInt32, _ out: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func put(_ value: UInt64, _ out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private static func put(_ bytes: [UInt8], _ out: inout [UInt8]) {
        put(UInt32(bytes.count), &out)
        out += bytes
    }

    private static func put(_ text: String, _ out: inout [UInt8]) {
        put(Array(text.utf8), &out)
    }

    // MARK: - Reading

    /// Reads a whole log file (an empty file is an empty log).
    /// - Throws: `Damage` for a file that is not a commit log, or a bad frame before the end.
    package static func read(_ bytes: [UInt8]) throws(Damage) -> Contents {
        if bytes.isEmpty { return Contents(entries: [], validLength: 0, tornTail: false) }
        guard bytes.count >= header.count else {
            // A header cut short: the file was being created when the daemon died.
            if Array(header.prefix(bytes.count)) == bytes { return Contents(entries: [], validLength: 0, tornTail: true) }
            throw Damage(offset: 0, reason: "it does not start with the header of a shardd commit log")
        }
        guard Array(bytes[0..<header.count]) == header else {
            throw Damage(offset: 0, reason: "it does not start with the header of a shardd commit log")
        }
        var entries: [CommitLogEntry] = []
        var at = header.count
        while at < bytes.count {
            let start = at
            guard bytes.count - at >= 8 else { return Contents(entries: entries, validLength: start, tornTail: true) }
            let length = Int(uint32(bytes, at)), checksum = uint32(bytes, at + 4)
            at += 8
            guard bytes.count - at >= length else { return Contents(entries: entries, validLength: start, tornTail: true) }
            let payload = Array(bytes[at..<at + length])
            at += length
            let last = at == bytes.count
            guard CRC32.checksum(payload) == checksum, let entry = entry(payload) else {
                if last { return Contents(entries: entries, validLength: start, tornTail: true) }
                throw Damage(offset: start, reason: "an entry's checksum or contents are wrong and more entries follow it")
            }
            entries.append(entry)
        }
        return Contents(entries: entries, validLength: at, tornTail: false)
    }

    private static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << UInt32(8 * $1) }
    }

    /// Parses one payload; nil when it is not a well-formed entry.
    private static func entry(_ payload: [UInt8]) -> CommitLogEntry? {
        var reader = Reader(bytes: payload)
        switch reader.byte() {
        case 1?:
            guard let txidText = reader.string(), let txid = TransactionID(txidText), let flag = reader.byte() else { return nil }
            var label: String?
            if flag == 1 {
                guard let text = reader.string() else { return nil }
                label = text
            } else if flag != 0 {
                return nil
            }
            guard let micros = reader.uint64(), let count = reader.uint32() else { return nil }
            var participants: [CommitDecision.Participant] = []
            for _ in 0..<count {
                guard let shard = reader.string(), let kind = reader.byte() else { return nil }
                switch kind {
                case 1:
                    guard let gid = reader.string() else { return nil }
                    participants.append(.init(shard: shard, finish: .commitPrepared(gid: gid)))
                case 2:
                    guard let changeset = reader.bytes() else { return nil }
                    participants.append(.init(shard: shard, finish: .applyChangeset(changeset)))
                default:
                    return nil
                }
            }
            guard reader.atEnd else { return nil }
            return .decided(CommitDecision(txid: txid, label: label, decidedAt: Timestamp(microseconds: Int64(bitPattern: micros)),
                                           participants: participants))
        case 2?:
            guard let text = reader.string(), let txid = TransactionID(text), reader.atEnd else { return nil }
            return .completed(txid)
        default:
            return nil
        }
    }

    private struct Reader {
        let data: [UInt8]
        var at = 0

        init(bytes: [UInt8]) { data = bytes }

        var atEnd: Bool { at == data.count }

        mutating func byte() -> UInt8? {
            guard at < data.count else { return nil }
            defer { at += 1 }
            return data[at]
        }

        mutating func uint32() -> UInt32? {
            guard data.count - at >= 4 else { return nil }
            defer { at += 4 }
            return CommitLogFormat.uint32(data, at)
        }

        mutating func uint64() -> UInt64? {
            guard let low = uint32(), let high = uint32() else { return nil }
            return UInt64(low) | UInt64(high) << 32
        }

        mutating func bytes() -> [UInt8]? {
            guard let count = uint32().map(Int.init), data.count - at >= count else { return nil }
            defer { at += count }
            return Array(data[at..<at + count])
        }

        mutating func string() -> String? {
            bytes().map { String(decoding: $0, as: UTF8.self) }
        }
    }
}

/// CRC-32 (IEEE 802.3, the polynomial of zlib and PNG).
package enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
