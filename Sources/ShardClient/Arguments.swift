/// The members of a request after `op`, in order.
typealias Arguments = [(key: String, value: JSONValue)]

/// Argument lists: members added only when present.
extension Array where Element == (key: String, value: JSONValue) {
    mutating func append(_ key: String, _ value: JSONValue) {
        append((key: key, value: value))
    }

    mutating func append(_ key: String, ifPresent value: JSONValue?) {
        if let value { append((key: key, value: value)) }
    }

    /// `shard` for one name, `shards` for several, nothing for nil.
    mutating func appendShards(_ shards: [String]?) {
        guard let shards else { return }
        if shards.count == 1 {
            append("shard", .string(shards[0]))
        } else {
            append("shards", .array(shards.map(JSONValue.string)))
        }
    }
}
