/// The errors the client library finds on its own side of the socket.
extension ShardError {
    /// The connection closed with requests outstanding, or a request was sent after it closed.
    static func connectionLost(_ path: String, reason: String? = nil) -> ShardError {
        ShardError(.connectionLost, "lost the connection to shardd at \(path)" + (reason.map { " (\($0))" } ?? ""),
                   details: ["socket": .string(path)])
    }

    /// Connecting failed.
    static func cannotConnect(_ path: String, reason: String?) -> ShardError {
        let message: String
        if let reason {
            message = "cannot connect to shardd at \(path): \(reason)"
        } else {
            message = "no shardd listening at \(path); start it with `swift run shardd`"
        }
        return ShardError(.cannotConnect, message, details: ["socket": .string(path)])
    }

    /// The daemon's answer broke the protocol; `what` completes "the daemon's answer ...".
    static func invalidResponse(_ what: String) -> ShardError {
        ShardError(.invalidResponse, "the daemon's answer \(what)")
    }
}

extension JSONObject {
    /// The result fields of an answer: every member but the envelope's `id` and `ok`.
    var resultFields: JSONValue {
        .object(JSONObject(members.filter { $0.key != "ok" && $0.key != "id" }))
    }
}
