import ShardCore

/// ShardCore's JSON tree, which the hot path reads and writes (the public `JSONValue` is only
/// built for results of the dynamic API).
typealias CoreJSON = ShardCore.JSONValue
typealias CoreObject = ShardCore.JSONObject

extension JSONValue {
    /// The public form of a ShardCore value.
    init(core: CoreJSON) {
        switch core {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(number)
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(JSONValue.init(core:)))
        case .object(let object): self = .object(Object(core: object))
        }
    }

    /// The ShardCore form, for writing.
    var coreValue: CoreJSON {
        switch self {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .string(let text): return .string(text)
        case .array(let elements): return .array(elements.map(\.coreValue))
        case .object(let object): return .object(object.coreObject)
        }
    }
}

extension JSONValue.Object {
    init(core: CoreObject) {
        self.init(core.members.map { (key: $0.key, value: JSONValue(core: $0.value)) })
    }

    var coreObject: CoreObject {
        CoreObject(members.map { (key: $0.key, value: $0.value.coreValue) })
    }
}

extension CoreObject {
    /// The result fields of an answer: every member but the envelope's `id` and `ok`.
    var resultFields: JSONValue {
        .object(JSONValue.Object(members.lazy.filter { $0.key != "ok" && $0.key != "id" }.map { (key: $0.key, value: JSONValue(core: $0.value)) }))
    }
}

extension CoreJSON {
    var coreString: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var coreInt: Int64? {
        if case .int(let number) = self { return number }
        return nil
    }

    var coreArray: [CoreJSON]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    var coreObject: CoreObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// A list of strings (shard names), or nil when this is not one.
    var coreStrings: [String]? {
        guard case .array(let elements) = self else { return nil }
        var names: [String] = []
        names.reserveCapacity(elements.count)
        for element in elements {
            guard case .string(let name) = element else { return nil }
            names.append(name)
        }
        return names
    }
}
