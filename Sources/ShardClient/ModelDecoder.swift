import Foundation

/// Reads a `Decodable` model from the column values of an object the daemon sent: integers
/// exactly, a `real` into `Double`/`Float`, RFC 3339 text into `Date`, `null` into optionals.
enum ModelDecoder {
    static func decode<Model: Decodable>(_ type: Model.Type, from values: JSONObject, key: IdentityKey? = nil) throws(ShardError) -> Model {
        do {
            return try Model(from: RowDecoder(values: values))
        } catch {
            throw ShardError(.decodingFailed, "cannot read \(key.map { "\($0) as " } ?? "")\(Model.self): \(describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "" : "column \(path): "
        }
        switch error {
        case .keyNotFound(let key, _):
            return "the row has no column \"\(key.stringValue)\" (check the model's CodingKeys against shards.conf)"
        case .valueNotFound(_, let context), .typeMismatch(_, let context), .dataCorrupted(let context):
            return path(context) + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    /// One column value as `T`, for the types a column can hold and those that decode from one.
    static func value<T: Decodable>(_ type: T.Type, from json: JSONValue, codingPath: [any CodingKey]) throws -> T {
        if T.self == Date.self {
            guard case .string(let text) = json, let date = (try? Timestamp(rfc3339: text))?.date else {
                throw DecodingError.typeMismatch(Date.self, .init(codingPath: codingPath, debugDescription: "expected an RFC 3339 timestamp, found \(json.serialized)"))
            }
            return date as! T
        }
        if T.self == ShardValue.self {
            return ShardValue(untyped: json) as! T
        }
        return try T(from: ValueDecoder(json: json, codingPath: codingPath))
    }

    static func mismatch<T>(_ type: T.Type, _ json: JSONValue, _ codingPath: [any CodingKey]) -> DecodingError {
        DecodingError.typeMismatch(T.self, .init(codingPath: codingPath, debugDescription: "expected \(T.self), found \(json.serialized)"))
    }

    static func bool(_ json: JSONValue, _ codingPath: [any CodingKey]) throws -> Bool {
        guard case .bool(let flag) = json else { throw mismatch(Bool.self, json, codingPath) }
        return flag
    }

    static func string(_ json: JSONValue, _ codingPath: [any CodingKey]) throws -> String {
        guard case .string(let text) = json else { throw mismatch(String.self, json, codingPath) }
        return text
    }

    static func double(_ json: JSONValue, _ codingPath: [any CodingKey]) throws -> Double {
        switch json {
        case .double(let number): return number
        case .int(let number): return Double(number)
        default: throw mismatch(Double.self, json, codingPath)
        }
    }

    static func integer<T: FixedWidthInteger>(_ type: T.Type, _ json: JSONValue, _ codingPath: [any CodingKey]) throws -> T {
        switch json {
        case .int(let number):
            guard let value = T(exactly: number) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(number) does not fit \(T.self)"))
            }
            return value
        default:
            throw mismatch(T.self, json, codingPath)
        }
    }
}

/// The top-level decoder: a keyed container over the object's values.
private struct RowDecoder: Decoder {
    let values: JSONObject
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowContainer<Key>(values: values))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "a row is an object of columns, not an array"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        ValueDecoder(json: .object(values), codingPath: [])
    }
}

private struct RowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let values: JSONObject
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { values.members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { values[key.stringValue] != nil }

    private func json(_ key: Key) throws -> JSONValue {
        let name = key.stringValue
        for member in values.members where member.key == name { return member.value }
        throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription: "no column \"\(name)\""))
    }

    private func present(_ key: Key) throws -> JSONValue {
        let value = try json(key)
        if case .null = value {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: [key], debugDescription: "the column is null; make the property optional"))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let value = values[key.stringValue] else { return true }
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try ModelDecoder.bool(try present(key), [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try ModelDecoder.string(try present(key), [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try ModelDecoder.double(try present(key), [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try ModelDecoder.double(try present(key), [key])) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try ModelDecoder.integer(Int.self, try present(key), [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try ModelDecoder.integer(Int8.self, try present(key), [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try ModelDecoder.integer(Int16.self, try present(key), [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try ModelDecoder.integer(Int32.self, try present(key), [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try ModelDecoder.integer(Int64.self, try present(key), [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try ModelDecoder.integer(UInt.self, try present(key), [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try ModelDecoder.integer(UInt8.self, try present(key), [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try ModelDecoder.integer(UInt16.self, try present(key), [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try ModelDecoder.integer(UInt32.self, try present(key), [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try ModelDecoder.integer(UInt64.self, try present(key), [key]) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try ModelDecoder.value(T.self, from: try json(key), codingPath: [key])
    }

    // Optionals, with one lookup each instead of the default's three.
    private func optional(_ key: Key) -> JSONValue? {
        let name = key.stringValue
        for member in values.members where member.key == name {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(key).map { try ModelDecoder.bool($0, [key]) } }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(key).map { try ModelDecoder.string($0, [key]) } }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(key).map { try ModelDecoder.double($0, [key]) } }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(key).map { try ModelDecoder.integer(Int.self, $0, [key]) } }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(key).map { try ModelDecoder.integer(Int64.self, $0, [key]) } }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try optional(key).map { try ModelDecoder.value(T.self, from: $0, codingPath: [key]) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: [key], debugDescription: "a column holds one value, not a nested object"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "a column holds one value, not an array"))
    }

    func superDecoder() throws -> any Decoder { RowDecoder(values: values) }
    func superDecoder(forKey key: Key) throws -> any Decoder { ValueDecoder(json: try json(key), codingPath: [key]) }
}

/// Decodes one column value through a single-value container (enums, wrappers).
private struct ValueDecoder: Decoder, SingleValueDecodingContainer {
    let json: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = json else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "a column holds one value, not an object; found \(json.serialized)"))
        }
        return KeyedDecodingContainer(RowContainer<Key>(values: object))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "a column holds one value, not an array"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool {
        if case .null = json { return true }
        return false
    }

    private func present() throws -> JSONValue {
        if case .null = json {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the column is null; make the property optional"))
        }
        return json
    }

    func decode(_ type: Bool.Type) throws -> Bool { try ModelDecoder.bool(try present(), codingPath) }
    func decode(_ type: String.Type) throws -> String { try ModelDecoder.string(try present(), codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try ModelDecoder.double(try present(), codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try ModelDecoder.double(try present(), codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try ModelDecoder.integer(Int.self, try present(), codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try ModelDecoder.integer(Int8.self, try present(), codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try ModelDecoder.integer(Int16.self, try present(), codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try ModelDecoder.integer(Int32.self, try present(), codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try ModelDecoder.integer(Int64.self, try present(), codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try ModelDecoder.integer(UInt.self, try present(), codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try ModelDecoder.integer(UInt8.self, try present(), codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try ModelDecoder.integer(UInt16.self, try present(), codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try ModelDecoder.integer(UInt32.self, try present(), codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try ModelDecoder.integer(UInt64.self, try present(), codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try ModelDecoder.value(T.self, from: json, codingPath: codingPath) }
}
