/// A JSON object with its members in the order they were read (or written), looked up by key.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// The members in order.
    public var members: [(key: String, value: JSONValue)]

    /// An object with these members (keys should be distinct, as in any JSON object).
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// An object with these members, in the literal's order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { (key: $0.0, value: $0.1) }
    }

    /// The first member named `key`; setting replaces it in place, appends a new one, or (nil) removes it.
    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key == key }?.value }
        set {
            let index = members.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let index?, let value?): members[index].value = value
            case (let index?, nil): members.remove(at: index)
            case (nil, let value?): members.append((key: key, value: value))
            case (nil, nil): break
            }
        }
    }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// How many members the object has.
    public var count: Int { members.count }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// Iterates the members in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    /// Equal when both have the same members in the same order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes the members in order.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        for member in members {
            hasher.combine(member.key)
            hasher.combine(member.value)
        }
    }

    /// Compact JSON text.
    public var description: String { JSONValue.object(self).description }
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
