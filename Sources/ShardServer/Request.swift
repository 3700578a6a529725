import ShardCore
import ShardProtocol

/// One parsed request line: its `id`, its `op`, and its arguments, which an op reads by
/// name. Every argument must be read by the op, so that a typo is refused (protocol.md 2).
struct Request {
    /// The `id` to echo, nil when the request had none.
    let id: JSONValue?
    let op: String
    private let arguments: JSONObject
    /// The argument names the op read: a handful, so an array beats a set's hashing.
    private var read: [String] = []

    /// Reads the envelope (protocol.md 2).
    init(_ json: JSONValue) throws(EnvelopeError) {
        let envelope = try RequestEnvelope(json)
        self.id = envelope.id
        self.op = envelope.op
        self.arguments = envelope.object
    }

    /// An optional argument.
    mutating func optional(_ name: String) -> JSONValue? {
        if !read.contains(name) { read.append(name) }
        return arguments[name]
    }

    /// A required argument.
    mutating func required(_ name: String, _ example: String) throws(ShardError) -> JSONValue {
        guard let value = optional(name) else {
            throw ShardError(.badRequest, "\(op) needs \(name), e.g. \(example)")
        }
        return value
    }

    mutating func string(_ name: String, _ example: String) throws(ShardError) -> String {
        guard case .string(let s) = try required(name, example) else {
            throw ShardError(.badRequest, "\(name) must be a string, e.g. \(example)")
        }
        return s
    }

    mutating func optionalString(_ name: String) throws(ShardError) -> String? {
        switch optional(name) {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw ShardError(.badRequest, "\(name) must be a string")
        }
    }

    mutating func optionalBool(_ name: String) throws(ShardError) -> Bool? {
        switch optional(name) {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw ShardError(.badRequest, "\(name) must be true or false")
        }
    }

    /// A non-negative integer argument, such as `limit`.
    mutating func optionalCount(_ name: String) throws(ShardError) -> Int? {
        switch optional(name) {
        case nil, .null?: return nil
        case .int(let i)? where i >= 0 && i <= Int64(Int32.max): return Int(i)
        default: throw ShardError(.badRequest, "\(name) must be a non-negative integer")
        }
    }

    /// Refuses arguments the op did not read.
    func checkNoUnknownArguments() throws(ShardError) {
        let unknown = arguments.keys.filter { $0 != "op" && $0 != "id" && !read.contains($0) }
        guard unknown.isEmpty else {
            let known = Set(read).subtracting(["op", "id"]).sorted()
            throw ShardError(.badRequest, "\(op) has no argument\(unknown.count > 1 ? "s" : "") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) (arguments: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
    }
}
