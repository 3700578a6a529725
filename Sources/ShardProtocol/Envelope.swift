/// A request line's envelope (protocol.md 2): `{"op": ..., "id"?: ..., ...arguments}`.
package struct RequestEnvelope: Sendable {
    /// The `id` to echo, nil when the request had none.
    package var id: JSONValue?
    package var op: String
    /// The whole request object, `op` and `id` included (arguments are read from it by name).
    package var object: JSONObject

    /// Reads the envelope of a parsed line.
    /// - Throws: `bad_json` for a non-object, `bad_request` for an `id` that is not a scalar
    ///   or a missing or non-string `op` (the error carries the id when there was one).
    package init(_ json: JSONValue) throws(EnvelopeError) {
        guard case .object(let object) = json else {
            throw EnvelopeError(id: nil, error: ShardError(.badJSON, "a request is one JSON object per line, e.g. {\"id\":1,\"op\":\"ping\"}"))
        }
        let id = object["id"]
        switch id {
        case .array?, .object?:
            throw EnvelopeError(id: nil, error: ShardError(.badRequest, "id must be a JSON scalar (a string, number, boolean or null)"))
        default:
            break
        }
        guard let op = object["op"] else {
            throw EnvelopeError(id: id, error: ShardError(.badRequest, "missing op: every request names one, e.g. {\"op\":\"ping\"}"))
        }
        guard case .string(let name) = op else {
            throw EnvelopeError(id: id, error: ShardError(.badRequest, "op must be a string, e.g. \"ping\""))
        }
        self.id = id
        self.op = name
        self.object = object
    }

    /// Writes the line `{"op": op, ...arguments}` and its `\n`.
    package static func write(op: String, arguments: [(key: String, value: JSONValue)], into out: inout [UInt8]) {
        out.append(contentsOf: #"{"op":"#.utf8)
        JSONWriter.appendString(op, &out)
        JSONObject(arguments).writeMembers(into: &out, afterOthers: true)
        out.append(contentsOf: "}\n".utf8)
    }
}

/// A request refused before its op ran, with the id to echo (if it could be read).
package struct EnvelopeError: Error, Sendable {
    package var id: JSONValue?
    package var error: ShardError
}

/// Response lines (protocol.md 2): `{"id": ..., "ok": true, ...}` or
/// `{"id": ..., "ok": false, "error": {"code": ..., "message": ..., ...details}}`.
package enum ResponseLine {
    /// Appends a success line with `fields` after `id` and `ok`.
    package static func success(id: JSONValue?, _ fields: JSONObject, into out: inout [UInt8]) {
        // Written member by member: no merged copy of the fields.
        out.append(UInt8(ascii: "{"))
        if let id {
            out.append(contentsOf: #""id":"#.utf8)
            id.write(into: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""ok":true"#.utf8)
        fields.writeMembers(into: &out, afterOthers: true)
        out.append(contentsOf: "}\n".utf8)
    }

    /// Appends a failure line; a nil `id` omits it (a request whose JSON could not be read
    /// is answered with `"id": null`, which the caller passes as `.null`).
    package static func failure(id: JSONValue?, _ error: ShardError, into out: inout [UInt8]) {
        var object = JSONObject()
        if let id { object.members.append(("id", id)) }
        object.members.append(("ok", .bool(false)))
        object.members.append(("error", .object(error.object)))
        JSONValue.object(object).write(into: &out)
        out.append(UInt8(ascii: "\n"))
    }

    /// The object of a successful answer to `op`, or the error it reports, thrown.
    /// - Throws: the daemon's `ShardError`, or `invalid_response` for a line that is not an answer.
    package static func read(_ bytes: UnsafeRawBufferPointer, op: String) throws(ShardError) -> JSONObject {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(bytes)
        } catch {
            throw ShardError(.invalidResponse, "the daemon's answer to \(op) is not JSON: \(error)")
        }
        guard case .object(let object) = parsed else {
            throw ShardError(.invalidResponse, "the daemon's answer to \(op) is not a JSON object")
        }
        switch object["ok"] {
        case .bool(true)?:
            return object
        case .bool(false)?:
            guard case .object(let error)? = object["error"] else {
                throw ShardError(.invalidResponse, "the daemon's answer to \(op) failed without an error object")
            }
            throw ShardError(answer: error)
        default:
            throw ShardError(.invalidResponse, "the daemon's answer to \(op) has no ok member")
        }
    }
}
