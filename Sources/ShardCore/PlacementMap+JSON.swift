import ShardProtocol

/// The placement as `state_dir/placement.json` holds it:
/// `{"version": 1, "groups": [{"group", "rule": "map"|"ranges"|"hash", "column", "type",
/// "owners": [[value, shard], ...], "default": shard|null}, {..., "ranges": [[lo, hi, shard]]},
/// {..., "buckets": [shard of bucket 0, shard of bucket 1, ...]}]}`. Values are typed by the
/// stored column type, so that a file stays readable when the model's column changes.
extension PlacementMap {
    /// Why a stored placement cannot be read.
    package struct FormatError: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// The file's JSON.
    package func json(types: [String: ColumnType]) -> JSONValue {
        .object(JSONObject([
            ("version", .int(Int64(version))),
            ("groups", .array(groups.map { group, rule in
                var members: [(String, JSONValue)] = [("group", .string(group)), ("column", .string(rule.column)),
                                                      ("type", .string((types[group] ?? .text).rawValue))]
                switch rule {
                case .map(_, let owners, let defaultShard):
                    members.insert(("rule", .string("map")), at: 1)
                    members.append(("owners", .array(owners.sorted { $0.key < $1.key }.map { .array([$0.key.json, .string($0.value)]) })))
                    members.append(("default", defaultShard.map(JSONValue.string) ?? .null))
                case .ranges(_, let ranges):
                    members.insert(("rule", .string("ranges")), at: 1)
                    members.append(("ranges", .array(ranges.map { .array([$0.lower.json, $0.upper.json, .string($0.shard)]) })))
                case .hash(_, let buckets):
                    members.insert(("rule", .string("hash")), at: 1)
                    members.append(("buckets", .array(buckets.owners.map(JSONValue.string))))
                case .parent:
                    break
                }
                return .object(JSONObject(members))
            })),
        ]))
    }

    /// The column types of the groups' key columns, for `json(types:)`.
    package static func keyTypes(_ configuration: Configuration) -> [String: ColumnType] {
        var out: [String: ColumnType] = [:]
        for model in configuration.models {
            if let rule = model.shardBy, rule.isHead, let column = model.column(named: rule.column) { out[model.name] = column.type }
        }
        return out
    }

    /// Reads the file's JSON.
    package init(json: JSONValue) throws(FormatError) {
        guard case .int(let version)? = json["version"], case .array(let items)? = json["groups"] else {
            throw FormatError(description: "expected {\"version\": n, \"groups\": [...]}")
        }
        var groups: [(group: String, rule: ShardBy)] = []
        for item in items {
            guard case .string(let group)? = item["group"], case .string(let rule)? = item["rule"],
                  case .string(let column)? = item["column"], case .string(let typeName)? = item["type"],
                  let type = ColumnType(rawValue: typeName) else {
                throw FormatError(description: "a group without group, rule, column and type: \(item)")
            }
            let key = Column(name: column, type: type)
            func value(_ json: JSONValue?) throws(FormatError) -> ShardValue {
                guard let json, let value = try? ShardValue(json: json, for: key, nullable: false) else {
                    throw FormatError(description: "group \(group): \(json.map { "\($0)" } ?? "nothing") is not a \(typeName) value")
                }
                return value
            }
            switch rule {
            case "map":
                var owners: [ShardValue: String] = [:]
                for pair in item["owners"]?.arrayValue ?? [] {
                    guard case .string(let shard)? = pair[1] else { throw FormatError(description: "group \(group): an owner without a shard") }
                    owners[try value(pair[0])] = shard
                }
                var defaultShard: String?
                if case .string(let shard)? = item["default"] { defaultShard = shard }
                groups.append((group, .map(column: column, map: owners, defaultShard: defaultShard)))
            case "ranges":
                var ranges: [ShardRange] = []
                for triple in item["ranges"]?.arrayValue ?? [] {
                    guard case .string(let shard)? = triple[2] else { throw FormatError(description: "group \(group): a range without a shard") }
                    ranges.append(ShardRange(lower: try value(triple[0]), upper: try value(triple[1]), shard: shard))
                }
                groups.append((group, .ranges(column: column, ranges: ranges)))
            case "hash":
                let owners = (item["buckets"]?.arrayValue ?? []).compactMap { entry -> String? in
                    if case .string(let shard) = entry { return shard }
                    return nil
                }
                guard !owners.isEmpty, owners.count == item["buckets"]?.arrayValue?.count else {
                    throw FormatError(description: "group \(group): buckets must be a list of shard names")
                }
                groups.append((group, .hash(column: column, buckets: HashBuckets(owners: owners))))
            default:
                throw FormatError(description: "group \(group): rule \"\(rule)\" is not map, ranges or hash")
            }
        }
        self.init(version: Int(version), groups: groups)
    }
}
