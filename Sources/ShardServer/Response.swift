import ShardCore

/// Writes response lines (protocol.md 2): `{"id": ..., "ok": true, ...}` or
/// `{"id": ..., "ok": false, "error": {"code": ..., "message": ..., ...details}}`.
enum Response {
    static func success(id: JSONValue?, _ fields: JSONObject, into out: inout [UInt8]) {
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

    /// `hasID` false omits `id`; a request whose JSON could not be read gets `"id": null`.
    static func failure(id: JSONValue?, _ error: RequestError, into out: inout [UInt8]) {
        var object = JSONObject()
        if let id { object.members.append(("id", id)) }
        object.members.append(("ok", .bool(false)))
        var body = JSONObject([("code", .string(error.code.rawValue)), ("message", .string(error.message))])
        body.members.append(contentsOf: error.details)
        object.members.append(("error", .object(body)))
        JSONValue.object(object).write(into: &out)
        out.append(UInt8(ascii: "\n"))
    }
}
