/// The relationships of an object that were loaded with `include`, read as model types:
/// `location.related.many("reports", as: Report.self)`.
public struct RelatedObjects: Sendable {
    let members: JSONObject

    /// The names of the loaded relationships.
    public var names: [String] { members.keys }

    /// Whether `name` was loaded.
    public func contains(_ name: String) -> Bool { members[name] != nil }

    /// The objects of a to-many relationship (a to-one one gives zero or one object).
    /// - Throws: `ShardError` `unknown_relationship` when `name` was not included,
    ///   `decoding_failed` when the rows do not fit `Related`.
    public func many<Related: ShardModel>(_ name: String, as type: Related.Type = Related.self) throws(ShardError) -> [Stored<Related>] {
        switch try value(name) {
        case .null: return []
        case .array(let elements):
            var objects: [Stored<Related>] = []
            objects.reserveCapacity(elements.count)
            for element in elements { objects.append(try Stored(answer: element)) }
            return objects
        case let object: return [try Stored(answer: object)]
        }
    }

    /// The object of a to-one relationship, nil when there is none.
    /// - Throws: `ShardError` `unknown_relationship` when `name` was not included or is
    ///   to-many, `decoding_failed` when the row does not fit `Related`.
    public func one<Related: ShardModel>(_ name: String, as type: Related.Type = Related.self) throws(ShardError) -> Stored<Related>? {
        switch try value(name) {
        case .null: return nil
        case .array: throw ShardError(.unknownRelationship, "\(name) is a to-many relationship; read it with many(\"\(name)\", as:)")
        case let object: return try Stored(answer: object)
        }
    }

    /// A loaded relationship as JSON (`null`, an object, or a list of objects).
    public subscript(name: String) -> JSONValue? { members[name] }

    private func value(_ name: String) throws(ShardError) -> JSONValue {
        guard let value = members[name] else {
            throw ShardError(.unknownRelationship, "\(name) was not loaded with this object; add include(\"\(name)\") to the query or get, or use session.load")
        }
        return value
    }
}
