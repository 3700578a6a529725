import ShardCore

/// One parsed request line: its `id`, its `op`, and its arguments, which an op reads by
/// name. Every argument must be read by the op, so that a typo is refused (protocol.md 2).
struct Request {
    /// The `id` to echo, nil when the request had none.
    let id: JSONValue?
    let op: String
    private let arguments: JSONObject
    /// The argument names the op read: a handful, so an array beats a set's hashing.
    private var read: [String] = []

    /// Reads the envelope. Throws `bad_json` for a non-object, `bad_request` for a missing
    /// or non-string `op` (the thrown error carries the id when there was one).
    init(_ json: JSONValue) throws(EnvelopeError) {
        guard case .object(let object) = json else {
            throw EnvelopeError(id: nil, error: RequestError(.badJSON, "a request is one JSON object per line, e.g. {\"id\":1,\"op\":\"ping\"}"))
        }
        let id = object["id"]
        switch id {
        case .array?, .object?:
            throw EnvelopeError(id: nil, error: RequestError(.badRequest, "id must be a JSON scalar (a string, number, boolean or null)"))
        default:
            break
        }
        guard let op = object["op"] else {
            throw EnvelopeError(id: id, error: RequestError(.badRequest, "missing op: every request names one, e.g. {\"op\":\"ping\"}"))
        }
        guard case .string(let name) = op else {
            throw EnvelopeError(id: id, error: RequestError(.badRequest, "op must be a string, e.g. \"ping\""))
        }
        self.id = id
        self.op = name
        self.arguments = object
    }

    /// An optional argument.
    mutating func optional(_ name: String) -> JSONValue? {
        if !read.contains(name) { read.append(name) }
        return arguments[name]
    }

    /// A required argument.
    mutating func required(_ name: String, _ example: String) throws(RequestError) -> JSONValue {
        guard let value = optional(name) else {
            throw RequestError(.badRequest, "\(op) needs \(name), e.g. \(example)")
        }
        return value
    }

    mutating func string(_ name: String, _ example: String) throws(RequestError) -> String {
        guard case .string(let s) = try required(name, example) else {
            throw RequestError(.badRequest, "\(name) must be a string, e.g. \(example)")
        }
        return s
    }

    mutating func optionalString(_ name: String) throws(RequestError) -> String? {
        switch optional(name) {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw RequestError(.badRequest, "\(name) must be a string")
        }
    }

    mutating func optionalBool(_ name: String) throws(RequestError) -> Bool? {
        switch optional(name) {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw RequestError(.badRequest, "\(name) must be true or false")
        }
    }

    /// A non-negative integer argument, such as `limit`.
    mutating func optionalCount(_ name: String) throws(RequestError) -> Int? {
        switch optional(name) {
        case nil, .null?: return nil
        case .int(let i)? where i >= 0 && i <= Int64(Int32.max): return Int(i)
        default: throw RequestError(.badRequest, "\(name) must be a non-negative integer")
        }
    }

    /// Refuses arguments the op did not read.
    func checkNoUnknownArguments() throws(RequestError) {
        let unknown = arguments.keys.filter { $0 != "op" && $0 != "id" && !read.contains($0) }
        guard unknown.isEmpty else {
            let known = Set(read).subtracting(["op", "id"]).sorted()
            throw RequestError(.badRequest, "\(op) has no argument\(unknown.count > 1 ? "s" : "") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) (arguments: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
    }
}

/// A request refused before its op ran, with the id to echo (if it could be read).
struct EnvelopeError: Error {
    var id: JSONValue?
    var error: RequestError
}
