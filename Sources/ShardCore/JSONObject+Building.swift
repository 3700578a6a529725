/// Building objects for responses: `["ok": true, "id": id]` keeps the written order.
extension JSONObject: ExpressibleByDictionaryLiteral {
    /// An object with these members in this order; keys must be distinct (as in any JSON object).
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}

extension JSONObject {
    /// Adds a member at the end; the caller keeps keys distinct (checked in debug builds).
    package mutating func append(_ key: String, _ value: JSONValue) {
        assert(!members.contains { $0.key == key }, "duplicate key \(key) in a JSON object")
        members.append((key: key, value: value))
    }

    /// Adds the member unless `value` is nil (for optional fields such as `"id"`).
    package mutating func append(_ key: String, ifPresent value: JSONValue?) {
        if let value { append(key, value) }
    }
}
