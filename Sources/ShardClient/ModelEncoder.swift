import Foundation

/// Turns an `Encodable` model into the column values of a request: one JSON member per coding
/// key, `nil` as `null` (so an update can clear a column), `Date` as RFC 3339 UTC with
/// microseconds, integers exactly.
enum ModelEncoder {
    static func encode<Model: Encodable>(_ value: Model) throws(ShardError) -> JSONObject {
        let encoder = RowEncoder()
        do {
            try value.encode(to: encoder)
        } catch let error as ShardError {
            throw error
        } catch {
            throw ShardError(.encodingFailed, "cannot encode \(Model.self) as column values: \(Self.describe(error))")
        }
        if let failure = encoder.failure { throw failure }
        return JSONObject(encoder.members)
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? EncodingError else { return "\(error)" }
        switch error {
        case .invalidValue(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "\(path): ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    /// The JSON of one column value, for the types a column can hold.
    static func value<T: Encodable>(_ value: T, column: String, codingPath: [any CodingKey]) throws -> JSONValue {
        switch value {
        case let date as Date:
            return try ShardValue.timestamp(date).requestJSON(column: column)
        case let shardValue as ShardValue:
            return try shardValue.requestJSON(column: column)
        case let number as Double:
            return try ShardValue.real(number).requestJSON(column: column)
        case let text as String:
            return .string(text)
        case let number as Int64:
            return .int(number)
        case let number as Int:
            return .int(Int64(number))
        case let flag as Bool:
            return .bool(flag)
        default:
            let encoder = SingleValueEncoder(column: column, codingPath: codingPath)
            try value.encode(to: encoder)
            guard let encoded = encoder.value else {
                throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "\(T.self) encoded no value"))
            }
            return encoded
        }
    }
}

/// The top-level encoder: a keyed container of columns.
private final class RowEncoder: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    var members: [(key: String, value: JSONValue)] = []
    var failure: ShardError?

    init() {
        members.reserveCapacity(8)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(RowContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        failure = ShardError(.encodingFailed, "a model encodes as columns (a keyed container), not as an array")
        return FailingUnkeyedContainer(codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        failure = ShardError(.encodingFailed, "a model encodes as columns (a keyed container), not as a single value")
        return FailingSingleValueContainer(codingPath: codingPath)
    }

    func set(_ key: String, _ value: JSONValue) {
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append((key: key, value: value))
        }
    }
}

private struct RowContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: RowEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws { encoder.set(key.stringValue, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { encoder.set(key.stringValue, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { encoder.set(key.stringValue, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        encoder.set(key.stringValue, try ShardValue.real(value).requestJSON(column: key.stringValue))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encode(Double(value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { encoder.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { encoder.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { encoder.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { encoder.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { encoder.set(key.stringValue, .int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encodeUnsigned(UInt64(value), forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { encoder.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { encoder.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { encoder.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodeUnsigned(value, forKey: key) }

    private mutating func encodeUnsigned(_ value: UInt64, forKey key: Key) throws {
        guard let number = Int64(exactly: value) else {
            throw ShardError(.invalidValue, "column \(key.stringValue): \(value) does not fit a signed 64-bit int column",
                             details: ["column": .string(key.stringValue)])
        }
        encoder.set(key.stringValue, .int(number))
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        encoder.set(key.stringValue, try ModelEncoder.value(value, column: key.stringValue, codingPath: codingPath + [key]))
    }

    // Optionals: written as null rather than left out, so that setting a property to nil and
    // updating the object clears the column.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }

    private mutating func encodeOptional<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        encoder.failure = encoder.failure ?? nestedFailure(key)
        return KeyedEncodingContainer(FailingKeyedContainer<NestedKey>(codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder.failure = encoder.failure ?? nestedFailure(key)
        return FailingUnkeyedContainer(codingPath: codingPath + [key])
    }

    private func nestedFailure(_ key: Key) -> ShardError {
        ShardError(.encodingFailed, "column \(key.stringValue): a column holds one value (int, real, text, bool or timestamp), not a nested object or array")
    }

    mutating func superEncoder() -> any Encoder { encoder }
    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder }
}

/// Encodes one column value of a type that is not one of the basic ones (a `RawRepresentable`
/// enum, a wrapper) through its single-value container.
private final class SingleValueEncoder: Encoder, SingleValueEncodingContainer {
    let column: String
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] = [:]
    var value: JSONValue?

    init(column: String, codingPath: [any CodingKey]) {
        self.column = column
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(FailingKeyedContainer<Key>(codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { FailingUnkeyedContainer(codingPath: codingPath) }
    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func encodeNil() throws { value = .null }
    func encode(_ value: Bool) throws { self.value = .bool(value) }
    func encode(_ value: String) throws { self.value = .string(value) }
    func encode(_ value: Double) throws { self.value = try ShardValue.real(value).requestJSON(column: column) }
    func encode(_ value: Float) throws { try encode(Double(value)) }
    func encode(_ value: Int) throws { self.value = .int(Int64(value)) }
    func encode(_ value: Int8) throws { self.value = .int(Int64(value)) }
    func encode(_ value: Int16) throws { self.value = .int(Int64(value)) }
    func encode(_ value: Int32) throws { self.value = .int(Int64(value)) }
    func encode(_ value: Int64) throws { self.value = .int(value) }
    func encode(_ value: UInt) throws { try encode(UInt64(value)) }
    func encode(_ value: UInt8) throws { self.value = .int(Int64(value)) }
    func encode(_ value: UInt16) throws { self.value = .int(Int64(value)) }
    func encode(_ value: UInt32) throws { self.value = .int(Int64(value)) }
    func encode(_ value: UInt64) throws {
        guard let number = Int64(exactly: value) else {
            throw ShardError(.invalidValue, "column \(column): \(value) does not fit a signed 64-bit int column", details: ["column": .string(column)])
        }
        self.value = .int(number)
    }
    func encode<T: Encodable>(_ value: T) throws {
        self.value = try ModelEncoder.value(value, column: column, codingPath: codingPath)
    }
}

/// Stands in for a container a column cannot have; every write fails with the reason.
private struct FailingKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    var codingPath: [any CodingKey]

    private func fail() -> ShardError {
        let column = codingPath.first?.stringValue ?? "?"
        return ShardError(.encodingFailed, "column \(column): a column holds one value (int, real, text, bool or timestamp), not a nested object or array")
    }

    mutating func encodeNil(forKey key: Key) throws { throw fail() }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { throw fail() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(FailingKeyedContainer<NestedKey>(codingPath: codingPath))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { FailingUnkeyedContainer(codingPath: codingPath) }
    mutating func superEncoder() -> any Encoder { SingleValueEncoder(column: "?", codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { SingleValueEncoder(column: "?", codingPath: codingPath) }
}

private struct FailingUnkeyedContainer: UnkeyedEncodingContainer {
    var codingPath: [any CodingKey]
    var count: Int { 0 }

    private func fail() -> ShardError {
        let column = codingPath.first?.stringValue
        return ShardError(.encodingFailed, (column.map { "column \($0): " } ?? "") + "a column holds one value (int, real, text, bool or timestamp), not an array")
    }

    mutating func encodeNil() throws { throw fail() }
    mutating func encode<T: Encodable>(_ value: T) throws { throw fail() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(FailingKeyedContainer<NestedKey>(codingPath: codingPath))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { self }
    mutating func superEncoder() -> any Encoder { SingleValueEncoder(column: "?", codingPath: codingPath) }
}

private struct FailingSingleValueContainer: SingleValueEncodingContainer {
    var codingPath: [any CodingKey]
    mutating func encodeNil() throws { throw ShardError(.encodingFailed, "a model encodes as columns, not as a single value") }
    mutating func encode<T: Encodable>(_ value: T) throws { throw ShardError(.encodingFailed, "a model encodes as columns, not as a single value") }
}
