import ShardProtocol

/// A request's arguments, read by name while its typed `Request` is decoded. Every argument must be
/// read, so that a typo is refused (protocol.md 2): `checkNoUnknownArguments` names the
/// arguments the op took. Names are checked against the configuration as they are read, so
/// that the first thing wrong with a request is the one reported.
package struct ArgumentReader {
    package let op: String
    package let configuration: Configuration
    /// The configuration's shards in file order (made once per configuration, not per request).
    package let shardOrder: ShardOrder
    private let arguments: JSONObject
    /// The argument names the op read: a handful, so an array beats a set's hashing.
    private var read: [String] = []
    /// The request's instant for `default`/`on_update = "now"`, read from the clock once.
    private var instant: Timestamp?

    /// - Parameter now: the request's instant (tests fix it); nil: the wall clock when first asked.
    package init(_ envelope: RequestEnvelope, configuration: Configuration, shardOrder: ShardOrder? = nil, now: Timestamp? = nil) {
        self.op = envelope.op
        self.arguments = envelope.object
        self.configuration = configuration
        self.shardOrder = shardOrder ?? ShardOrder(configuration)
        self.instant = now
    }

    /// The request's instant: one for every row and column it writes.
    package mutating func now() -> Timestamp {
        if let instant { return instant }
        let now = Timestamp.wallClock()
        instant = now
        return now
    }

    /// An optional argument.
    package mutating func optional(_ name: String) -> JSONValue? {
        if !read.contains(name) { read.append(name) }
        return arguments[name]
    }

    /// A required argument.
    package mutating func required(_ name: String, _ example: String) throws(ShardError) -> JSONValue {
        guard let value = optional(name) else {
            throw ShardError(.badRequest, "\(op) needs \(name), e.g. \(example)")
        }
        return value
    }

    package mutating func string(_ name: String, _ example: String) throws(ShardError) -> String {
        guard case .string(let s) = try required(name, example) else {
            throw ShardError(.badRequest, "\(name) must be a string, e.g. \(example)")
        }
        return s
    }

    package mutating func optionalString(_ name: String) throws(ShardError) -> String? {
        switch optional(name) {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw ShardError(.badRequest, "\(name) must be a string")
        }
    }

    package mutating func optionalBool(_ name: String) throws(ShardError) -> Bool? {
        switch optional(name) {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw ShardError(.badRequest, "\(name) must be true or false")
        }
    }

    /// A non-negative integer argument, such as `limit`.
    package mutating func optionalCount(_ name: String) throws(ShardError) -> Int? {
        switch optional(name) {
        case nil, .null?: return nil
        case .int(let i)? where i >= 0 && i <= Int64(Int32.max): return Int(i)
        default: throw ShardError(.badRequest, "\(name) must be a non-negative integer")
        }
    }

    /// Refuses arguments the op did not read.
    package func checkNoUnknownArguments() throws(ShardError) {
        let unknown = arguments.keys.filter { $0 != "op" && $0 != "id" && !read.contains($0) }
        guard unknown.isEmpty else {
            let known = Set(read).subtracting(["op", "id"]).sorted()
            throw ShardError(.badRequest, "\(op) has no argument\(unknown.count > 1 ? "s" : "") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) (arguments: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
    }
}
