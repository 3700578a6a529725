import Foundation

/// A Swift value that can stand for a column value in expressions and rows:
/// integers, `Double`, `Float`, `String`, `Bool`, `Date`, `ShardValue`, and optionals of them.
public protocol ShardValueConvertible: Sendable {
    /// The column value.
    var shardValue: ShardValue { get }
}

extension ShardValue: ShardValueConvertible {
    /// Itself.
    public var shardValue: ShardValue { self }
}

extension Int: ShardValueConvertible {
    /// `.int`.
    public var shardValue: ShardValue { .int(Int64(self)) }
}

extension Int64: ShardValueConvertible {
    /// `.int`.
    public var shardValue: ShardValue { .int(self) }
}

extension Int32: ShardValueConvertible {
    /// `.int`.
    public var shardValue: ShardValue { .int(Int64(self)) }
}

extension Int16: ShardValueConvertible {
    /// `.int`.
    public var shardValue: ShardValue { .int(Int64(self)) }
}

extension Int8: ShardValueConvertible {
    /// `.int`.
    public var shardValue: ShardValue { .int(Int64(self)) }
}

extension UInt32: ShardValueConvertible {
    /// `.int`.
    public var shardValue: ShardValue { .int(Int64(self)) }
}

extension UInt16: ShardValueConvertible {
    /// `.int`.
    public var shardValue: ShardValue { .int(Int64(self)) }
}

extension UInt8: ShardValueConvertible {
    /// `.int`.
    public var shardValue: ShardValue { .int(Int64(self)) }
}

extension Double: ShardValueConvertible {
    /// `.real`.
    public var shardValue: ShardValue { .real(self) }
}

extension Float: ShardValueConvertible {
    /// `.real` (the float's exact double).
    public var shardValue: ShardValue { .real(Double(self)) }
}

extension String: ShardValueConvertible {
    /// `.text`.
    public var shardValue: ShardValue { .text(self) }
}

extension Substring: ShardValueConvertible {
    /// `.text`.
    public var shardValue: ShardValue { .text(String(self)) }
}

extension Bool: ShardValueConvertible {
    /// `.bool`.
    public var shardValue: ShardValue { .bool(self) }
}

extension Date: ShardValueConvertible {
    /// `.timestamp`.
    public var shardValue: ShardValue { .timestamp(self) }
}

extension Optional: ShardValueConvertible where Wrapped: ShardValueConvertible {
    /// The wrapped value's, or `.null`.
    public var shardValue: ShardValue { self?.shardValue ?? .null }
}
