/// An object the daemon returned: the model value with its identity key (which names the
/// shard it lives on) and any relationships loaded with `include`.
///
/// Properties of the model read through: `report.temperature` is `report.value.temperature`.
/// Change them, then `session.update(report)` sends the changed columns.
@dynamicMemberLookup
public struct Stored<Model: ShardModel>: Sendable {
    /// Which row this is: model, primary key and shard.
    public let key: IdentityKey
    /// The row as the model type; change it and call `update` to write the changes.
    public var value: Model
    /// Relationships loaded eagerly (`include`), by name.
    public let related: RelatedObjects
    /// The column values as the daemon sent them, to find what `update` must send.
    let loaded: JSONObject

    init(key: IdentityKey, value: Model, related: RelatedObjects, loaded: JSONObject) {
        self.key = key
        self.value = value
        self.related = related
        self.loaded = loaded
    }

    /// Reads an object of the dynamic API as this model.
    /// - Throws: `ShardError` `decoding_failed` when the values do not fit `Model`.
    public init(_ object: ShardObject) throws(ShardError) {
        var values: [(key: String, value: JSONValue)] = []
        for column in object.values.columns {
            values.append((key: column.name, value: try column.value.requestJSON(column: column.name)))
        }
        let loaded = JSONObject(values)
        var related: [(key: String, value: JSONValue)] = []
        for (name, objects) in object.related.sorted(by: { $0.key < $1.key }) {
            switch objects {
            case .one(let one): related.append((key: name, value: try one?.requestJSON() ?? .null))
            case .many(let many):
                var elements: [JSONValue] = []
                for element in many { elements.append(try element.requestJSON()) }
                related.append((key: name, value: .array(elements)))
            }
        }
        self.init(key: object.key, value: try ModelDecoder.decode(Model.self, from: loaded, key: object.key),
                  related: RelatedObjects(members: JSONObject(related)), loaded: loaded)
    }

    /// A property of the model.
    public subscript<Property>(dynamicMember keyPath: KeyPath<Model, Property>) -> Property {
        value[keyPath: keyPath]
    }

    /// A property of the model, to change before `update`.
    public subscript<Property>(dynamicMember keyPath: WritableKeyPath<Model, Property>) -> Property {
        get { value[keyPath: keyPath] }
        set { value[keyPath: keyPath] = newValue }
    }

    /// Reads `{"key": ..., "values": {...}, "related"?: {...}}`.
    init(answer: JSONValue) throws(ShardError) {
        guard case .object(let object) = answer, let keyJSON = object["key"], case .object(let values)? = object["values"] else {
            throw ShardError.invalidResponse("has \(answer.serialized) where an object {\"key\":...,\"values\":{...}} belongs")
        }
        let key = try IdentityKey(json: keyJSON)
        guard key.model == Model.modelName else {
            throw ShardError(.decodingFailed, "\(key) is a \(key.model), not a \(Model.modelName) (\(Model.self))")
        }
        let related: JSONObject
        if case .object(let relationships)? = object["related"] { related = relationships } else { related = JSONObject() }
        self.init(key: key, value: try ModelDecoder.decode(Model.self, from: values, key: key),
                  related: RelatedObjects(members: related), loaded: values)
    }

    /// Reads a list of objects.
    static func list(_ answer: JSONValue?) throws(ShardError) -> [Stored<Model>] {
        guard case .array(let elements)? = answer else {
            throw ShardError.invalidResponse("has no list of objects")
        }
        var objects: [Stored<Model>] = []
        objects.reserveCapacity(elements.count)
        for element in elements { objects.append(try Stored(answer: element)) }
        return objects
    }
}

extension Stored: Equatable where Model: Equatable {
    /// Equal when key and value are (the loaded relationships are not compared).
    public static func == (lhs: Stored, rhs: Stored) -> Bool {
        lhs.key == rhs.key && lhs.value == rhs.value
    }
}

extension Stored: CustomStringConvertible {
    /// The key and the value.
    public var description: String { "\(key) \(value)" }
}

extension ShardObject {
    func requestJSON() throws(ShardError) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("key", try key.requestJSON()), ("values", .object(try values.requestObject()))]
        if !related.isEmpty {
            var relationships: [(key: String, value: JSONValue)] = []
            for (name, objects) in related.sorted(by: { $0.key < $1.key }) {
                switch objects {
                case .one(let one): relationships.append((key: name, value: try one?.requestJSON() ?? .null))
                case .many(let many):
                    var elements: [JSONValue] = []
                    for element in many { elements.append(try element.requestJSON()) }
                    relationships.append((key: name, value: .array(elements)))
                }
            }
            members.append((key: "related", value: .object(JSONObject(relationships))))
        }
        return .object(JSONObject(members))
    }
}
