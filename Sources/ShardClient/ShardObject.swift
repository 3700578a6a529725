/// An object of the dynamic API: identity key, column values, and eagerly loaded relationships.
///
/// Read one from a result with `ShardObject(json:)`, e.g. each element of `result["objects"]`.
public struct ShardObject: Sendable, Hashable {
    /// Which row this is.
    public var key: IdentityKey
    /// Every column of the row, in the model's column order.
    public var values: ShardRow
    /// Relationships loaded with `include`, by name.
    public var related: [String: Related]

    /// The objects of one eagerly loaded relationship.
    public enum Related: Sendable, Hashable {
        /// A to-one relationship: the object, or nil when the foreign key is null or dangling.
        case one(ShardObject?)
        /// A to-many relationship.
        case many([ShardObject])
    }

    /// An object from its parts.
    public init(key: IdentityKey, values: ShardRow, related: [String: Related] = [:]) {
        self.key = key
        self.values = values
        self.related = related
    }

    /// Reads `{"key": ..., "values": {...}, "related"?: {...}}` (protocol.md 3).
    /// - Throws: `ShardError` `invalid_response` for another shape.
    public init(json: JSONValue) throws(ShardError) {
        guard case .object(let object) = json, let key = object["key"], case .object(let values)? = object["values"] else {
            throw ShardError.invalidResponse("has \(json.serialized) where an object {\"key\":...,\"values\":{...}} belongs")
        }
        self.key = try IdentityKey(json: key)
        self.values = ShardRow(answer: values)
        var related: [String: Related] = [:]
        if case .object(let relationships)? = object["related"] {
            for member in relationships.members {
                switch member.value {
                case .null: related[member.key] = .one(nil)
                case .array(let elements):
                    var objects: [ShardObject] = []
                    for element in elements { objects.append(try ShardObject(json: element)) }
                    related[member.key] = .many(objects)
                default: related[member.key] = .one(try ShardObject(json: member.value))
                }
            }
        }
        self.related = related
    }

    /// The value of `column` (nil when the model has no such column).
    public subscript(column: String) -> ShardValue? { values[column] }
}
