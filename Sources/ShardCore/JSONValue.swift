/// A JSON document as the line protocol carries it (protocol.md 1-3).
///
/// Integers and doubles are kept apart so that an `int` column never receives `12.0` and
/// int64 values survive exactly (a generic JSON library would turn them into doubles).
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// An integer literal that fits in Int64.
    case int(Int64)
    /// Any other number: a literal with a fraction or exponent, or an integer outside Int64.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON object with its members in the order they were read (or written).
package struct JSONObject: Sendable, Equatable {
    package var members: [(key: String, value: JSONValue)]

    package init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The value of the first member named `key`.
    package subscript(key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    package var keys: [String] { members.map(\.key) }

    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
