/// Raw SQL from clients (the `sql` op): written once with PostgreSQL's `$1, $2, ...`
/// placeholders, so that the same statement runs on every shard.
extension SQLDialect {
    /// `sql` with `$N` rewritten to this dialect's placeholder outside quoted strings,
    /// quoted identifiers and comments (SQLite reads `$1` as a named parameter, `?1` as
    /// the first).
    package func rawSQL(_ sql: String) -> String {
        guard backend == .sqlite else { return sql }
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                // Quoted: copy through the closing quote (a doubled quote stays inside).
                out.append(byte)
                i += 1
                while i < bytes.count {
                    out.append(bytes[i])
                    if bytes[i] == byte {
                        if i + 1 < bytes.count && bytes[i + 1] == byte {
                            out.append(bytes[i + 1])
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    i += 1
                }
            case UInt8(ascii: "-") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "-"):
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { out.append(bytes[i]); i += 1 }
            case UInt8(ascii: "/") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "*"):
                let end = (i + 2..<max(i + 2, bytes.count - 1)).first { bytes[$0] == UInt8(ascii: "*") && bytes[$0 + 1] == UInt8(ascii: "/") }
                let stop = end.map { $0 + 2 } ?? bytes.count
                out.append(contentsOf: bytes[i..<stop])
                i = stop
            case UInt8(ascii: "$") where i + 1 < bytes.count && (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[i + 1]):
                out.append(UInt8(ascii: "?"))
                i += 1
            default:
                out.append(byte)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
