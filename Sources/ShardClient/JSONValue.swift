/// A JSON document as the daemon sends it: any result of any op, ready to inspect or print.
///
/// Integers and doubles are kept apart, so an `int` column's value stays an exact `Int64`.
/// `description` is compact JSON (`{"pong":true}`), with object members in the daemon's order.
public enum JSONValue: Sendable, Hashable, CustomStringConvertible {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits in 64 bits.
    case int(Int64)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, its members in order.
    case object(Object)

    /// A JSON object: members in the order they were written, looked up by key.
    public struct Object: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
        /// The members in order.
        public var members: [(key: String, value: JSONValue)]

        /// An object with these members (keys should be distinct).
        public init(_ members: [(key: String, value: JSONValue)] = []) {
            self.members = members
        }

        /// An object with these members, in the literal's order.
        public init(dictionaryLiteral elements: (String, JSONValue)...) {
            members = elements.map { (key: $0.0, value: $0.1) }
        }

        /// The member named `key`; setting replaces it in place, appends a new one, or (nil) removes it.
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
        public static func == (lhs: Object, rhs: Object) -> Bool {
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

    /// Reads one JSON value (strict RFC 8259: UTF-8 checked, no duplicate keys, nothing after it).
    ///
    /// For programs that take JSON from their users, such as a `where` expression on a command line.
    /// - Throws: `ShardError` with code `bad_json` and the byte offset of the problem.
    public init(parsing text: String) throws(ShardError) {
        do {
            self = JSONValue(core: try CoreJSON.parse(text))
        } catch {
            throw ShardError(.badJSON, "not valid JSON: \(error)")
        }
    }

    /// Compact JSON text (no spaces), as the daemon writes it.
    public var description: String {
        let core = coreValue
        return core.serialized
    }

    // MARK: - Access

    /// The member `key` of an object (nil for a missing member or a value that is not an object).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The element at `index` of an array (nil when out of range or not an array).
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// Whether this is `null`.
    public var isNull: Bool { self == .null }

    /// The boolean, if this is one.
    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The integer, if this is one (or a double with an exact integer value).
    public var intValue: Int64? {
        switch self {
        case .int(let number): return number
        case .double(let number): return Int64(exactly: number)
        default: return nil
        }
    }

    /// The number as a double, if this is a number.
    public var doubleValue: Double? {
        switch self {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: return nil
        }
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The object, if this is one.
    public var objectValue: Object? {
        if case .object(let object) = self { return object }
        return nil
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// `null`.
    public init(nilLiteral: ()) { self = .null }
    /// `true` / `false`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A double.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object, members in the literal's order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Object(elements.map { (key: $0.0, value: $0.1) }))
    }
}
