import ShardProtocol
import TOMLKit

extension ConfigLoader.Validator {
    /// The four forms of `shard_by`: the key that selects each, and all its keys.
    private static let shardByForms: [(name: String, selector: String, keys: [String], text: String)] = [
        ("map", "map", ["column", "map", "default"], "{ column, map, default? }"),
        ("hash", "hash", ["column", "hash", "buckets"], "{ column, hash = true, buckets? }"),
        ("ranges", "ranges", ["column", "ranges"], "{ column, ranges }"),
        ("parent", "parent", ["parent", "via"], "{ parent, via }"),
    ]
    private static let shardByFormsText = shardByForms.map(\.text).joined(separator: ", ")
    private static let shardByKeys = ["column", "map", "default", "hash", "buckets", "ranges", "parent", "via"]
    /// Keys a form may leave out.
    private static let optionalShardByKeys = ["default", "buckets"]

    // MARK: shard_by

    mutating func checkShardBy(
        _ draft: inout ModelDraft, models: [String: ModelDraft], modelNames: [String], shardNames: [String]
    ) {
        guard let value = draft.toml?["shard_by"] else { return }
        let path = draft.path.key("shard_by")
        guard let table = table(value, at: path) else { return }
        let keys = orderedKeys(table, at: path)
        checkKeys(table, at: path, allowed: Self.shardByKeys, in: "shard_by, whose forms are \(Self.shardByFormsText)")

        let forms = Self.shardByForms.filter { keys.contains($0.selector) }
        guard forms.count == 1, let form = forms.first else {
            if forms.isEmpty {
                report(path, "says neither map, hash, ranges nor parent; give exactly one of the forms \(Self.shardByFormsText)")
            } else {
                report(path, "mixes the \(forms.map(\.name).joined(separator: " and ")) forms; give exactly one of \(Self.shardByFormsText)")
            }
            return
        }
        var valid = true
        for key in keys where Self.shardByKeys.contains(key) && !form.keys.contains(key) {
            report(path.key(key), "is not a key of the \(form.name) form \(form.text)")
            valid = false
        }
        for key in form.keys where !Self.optionalShardByKeys.contains(key) && table[key] == nil {
            report(path, "the \(form.name) form needs \(key): \(form.text)")
            valid = false
        }
        guard valid else { return }

        let before = issues.count
        let rule: ShardBy?
        if form.name == "parent" {
            rule = parentRule(&draft, table, at: path, models: models, modelNames: modelNames)
        } else {
            guard let column = shardByColumn(draft, table, at: path.key("column")) else { return }
            switch form.name {
            case "map":
                rule = mapRule(column, table, at: path, shardNames: shardNames)
            case "hash":
                rule = hashRule(column, table, at: path, shardNames: shardNames)
            default:
                rule = rangesRule(column, table, at: path, shardNames: shardNames)
            }
        }
        // The shard makes a shard_local key only after the row is placed.
        if let rule, draft.id == .shardLocal, draft.primaryKey == [rule.column] {
            let key = form.name == "parent" ? "via" : "column"
            report(path.key(key), "\(ConfigLoader.quoted(rule.column)) is made by the shard itself (id = \"shard_local\"), so it cannot choose the shard")
        }
        if issues.count == before { draft.shardBy = rule }
    }

    /// The `column` of a map, hash or ranges rule; nil (reported) unless it is a valid column.
    private mutating func shardByColumn(_ draft: ModelDraft, _ table: TOMLTable, at path: ConfigPath) -> Column? {
        guard let value = table["column"], let name = string(value, at: path) else { return nil }
        guard draft.declaredColumns.contains(name) else {
            report(path, "\(ConfigLoader.quoted(name)) is not a column of \(draft.name) (\(ConfigLoader.listing("columns", draft.declaredColumns)))")
            return nil
        }
        return draft.column(name)  // nil: the column itself is broken and reported
    }

    private mutating func mapRule(_ column: Column, _ table: TOMLTable, at path: ConfigPath, shardNames: [String]) -> ShardBy? {
        let mapPath = path.key("map")
        guard let value = table["map"], let map = self.table(value, at: mapPath) else { return nil }
        let keys = orderedKeys(map, at: mapPath)
        guard !keys.isEmpty else {
            report(mapPath, "is empty; give at least one entry such as { \"value\" = \"\(shardNames.first ?? "shard")\" }")
            return nil
        }
        var result: [ShardValue: String] = [:]
        var firstKey: [ShardValue: String] = [:]
        for key in keys {
            guard let item = map[key] else { continue }
            let entryPath = mapPath.key(key)
            let shard = placedShard(item, at: entryPath, shardNames: shardNames)
            guard let converted = mapKey(key, for: column, at: entryPath) else { continue }
            if let earlier = firstKey[converted] {
                report(entryPath, "is the same \(column.type.rawValue) value as \(ConfigLoader.quoted(earlier)) (\(converted.messageText))")
                continue
            }
            firstKey[converted] = key
            if let shard { result[converted] = shard }
        }
        var defaultShard: String?
        if let value = table["default"] {
            defaultShard = placedShard(value, at: path.key("default"), shardNames: shardNames)
        }
        return .map(column: column.name, map: result, defaultShard: defaultShard)
    }

    /// A shard that a map value, the map's default or a range names: not a drained one.
    private mutating func placedShard(_ value: TOMLValueConvertible, at path: ConfigPath, shardNames: [String]) -> String? {
        guard let shard = shardReference(value, at: path, shardNames: shardNames) else { return nil }
        if drained.contains(shard) {
            report(path, "\(ConfigLoader.quoted(shard)) has drain = true, so no map value, default or range may name it: point this at a shard that stays (rebalance then moves the rows)")
            return nil
        }
        return shard
    }

    /// A map key (always a TOML string) converted to the column's type.
    private mutating func mapKey(_ key: String, for column: Column, at path: ConfigPath) -> ShardValue? {
        let columnNote = "column \(column.name) is \(column.type.rawValue)"
        switch column.type {
        case .text:
            return .text(key)
        case .int:
            if let n = Int64(key) { return .int(n) }
            report(path, "\(ConfigLoader.quoted(key)) is not an integer (\(columnNote); expected decimal digits like \"42\")")
        case .real:
            if let d = Double(key), d.isFinite { return .real(d) }
            report(path, "\(ConfigLoader.quoted(key)) is not a finite number (\(columnNote); expected e.g. \"2.5\")")
        case .bool:
            if key == "true" { return .bool(true) }
            if key == "false" { return .bool(false) }
            report(path, "\(ConfigLoader.quoted(key)) is not a boolean (\(columnNote); expected \"true\" or \"false\")")
        case .timestamp:
            do throws(InvalidValue) {
                return .timestamp(try Timestamp(rfc3339: key))
            } catch {
                report(path, "\(error.reason) (\(columnNote))")
            }
        }
        return nil
    }

    private mutating func hashRule(_ column: Column, _ table: TOMLTable, at path: ConfigPath, shardNames: [String]) -> ShardBy? {
        let hashPath = path.key("hash")
        guard let value = table["hash"], let flag = bool(value, at: hashPath) else { return nil }
        guard flag else {
            report(hashPath, "must be true (to place rows only by an explicit shard, leave shard_by out)")
            return nil
        }
        guard column.type != .real else {
            report(path.key("column"), "\(ConfigLoader.quoted(column.name)) is real; a hash needs an exact value (int, text, bool or timestamp): use ranges for a real column")
            return nil
        }
        // config.md: 1024 buckets per shard unless given; bucket b on the shard at b mod n,
        // which is exactly the placement hash mod n.
        var count = 1024 * max(1, shardNames.count)
        if let value = table["buckets"] {
            guard let n = positiveInteger(value, at: path.key("buckets")) else { return nil }
            guard n <= HashBuckets.maximumCount else {
                report(path.key("buckets"), "must be at most \(HashBuckets.maximumCount), got \(n)")
                return nil
            }
            count = n
        }
        return .hash(column: column.name, buckets: HashBuckets(count: count, shards: shardNames.isEmpty ? ["?"] : shardNames))
    }

    private mutating func rangesRule(_ column: Column, _ table: TOMLTable, at path: ConfigPath, shardNames: [String]) -> ShardBy? {
        let rangesPath = path.key("ranges")
        guard column.type != .bool else {
            report(path.key("column"), "\(ConfigLoader.quoted(column.name)) is bool, which has no ranges; use map")
            return nil
        }
        guard let value = table["ranges"], let array = array(value, at: rangesPath) else { return nil }
        let example = "[[lo, hi, \"\(shardNames.first ?? "shard")\"], ...]"
        guard !array.isEmpty else {
            report(rangesPath, "is empty; give half-open ranges \(example)")
            return nil
        }
        var ranges: [(index: Int, range: ShardRange)] = []
        var valid = true
        for i in 0..<array.count {
            let entryPath = rangesPath.index(i)
            let entry = array[i]
            guard entry.type == .array, let triple = entry.array, triple.count == 3 else {
                let got = entry.type == .array ? "an array of \(entry.array?.count ?? 0)" : ConfigLoader.describe(entry.type)
                report(entryPath, "expected [lo, hi, \"shard\"], got \(got)")
                valid = false
                continue
            }
            let lower = rangeBound(triple[0], for: column, at: entryPath.index(0))
            let upper = rangeBound(triple[1], for: column, at: entryPath.index(1))
            let shard = placedShard(triple[2], at: entryPath.index(2), shardNames: shardNames)
            guard let lower, let upper, let shard else { valid = false; continue }
            guard lower < upper else {
                report(entryPath, "lo \(lower.messageText) is not below hi \(upper.messageText) (a range is [lo, hi), lo < hi)")
                valid = false
                continue
            }
            let range = ShardRange(lower: lower, upper: upper, shard: shard)
            for earlier in ranges where earlier.range.lower < upper && lower < earlier.range.upper {
                report(entryPath, "[\(lower.messageText), \(upper.messageText)) overlaps ranges[\(earlier.index)] [\(earlier.range.lower.messageText), \(earlier.range.upper.messageText))")
                valid = false
            }
            ranges.append((i, range))
        }
        return valid ? .ranges(column: column.name, ranges: ranges.map(\.range)) : nil
    }

    /// One bound of a range, of the column's type.
    private mutating func rangeBound(_ value: TOMLValueConvertible, for column: Column, at path: ConfigPath) -> ShardValue? {
        let columnNote = "column \(column.name) is \(column.type.rawValue)"
        switch (column.type, value.type) {
        case (.int, .int):
            return value.int.map { .int(Int64($0)) }
        case (.real, .int):
            return value.int.map { .real(Double($0)) }
        case (.real, .double):
            guard let d = value.double, d.isFinite else {
                report(path, "expected a finite number (\(columnNote))")
                return nil
            }
            return .real(d)
        case (.text, .string):
            return value.string.map { .text($0) }
        case (.timestamp, .string):
            guard let text = value.string else { return nil }
            do throws(InvalidValue) {
                return .timestamp(try Timestamp(rfc3339: text))
            } catch {
                report(path, "\(error.reason) (\(columnNote))")
                return nil
            }
        case (.timestamp, .dateTime):
            guard let dateTime = value.dateTime else { return nil }
            guard dateTime.offset != nil else {
                report(path, "a date-time without an offset is not an instant; add Z or an offset like +01:00 (\(columnNote))")
                return nil
            }
            do throws(InvalidValue) {
                return .timestamp(try Timestamp(rfc3339: Self.rfc3339(dateTime)))
            } catch {
                report(path, "\(error.reason) (\(columnNote))")
                return nil
            }
        default:
            let expected = switch column.type {
            case .int: "an integer"
            case .real: "a number"
            case .text: "a string"
            case .timestamp: "a date-time with an offset or an RFC 3339 string"
            case .bool: "a boolean"
            }
            report(path, "expected \(expected) (\(columnNote)), got \(ConfigLoader.describe(value.type))")
            return nil
        }
    }

    /// A TOML offset date-time as RFC 3339 text (nanoseconds kept, so that `Timestamp`
    /// refuses what it cannot hold).
    static func rfc3339(_ value: TOMLDateTime) -> String {
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        let d = value.date, t = value.time
        var out = "\(pad(d.year, 4))-\(pad(d.month, 2))-\(pad(d.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2))"
        if t.nanoSecond != 0 { out += "." + pad(t.nanoSecond, 9) }
        let offset = value.offset?.offset ?? 0
        if offset == 0 {
            out += "Z"
        } else {
            out += (offset < 0 ? "-" : "+") + pad(abs(offset) / 60, 2) + ":" + pad(abs(offset) % 60, 2)
        }
        return out
    }

    private mutating func parentRule(
        _ draft: inout ModelDraft, _ table: TOMLTable, at path: ConfigPath, models: [String: ModelDraft],
        modelNames: [String]
    ) -> ShardBy? {
        let parentPath = path.key("parent"), viaPath = path.key("via")
        var parent: ModelDraft?
        if let value = table["parent"], let name = string(value, at: parentPath) {
            if name == draft.name {
                report(parentPath, "a model cannot be its own parent (models: \(modelNames.filter { $0 != draft.name }.joined(separator: ", ")))")
            } else if let found = models[name] {
                parent = found
                draft.parent = name
            } else {
                report(parentPath, "\(ConfigLoader.quoted(name)) is not a model (\(ConfigLoader.listing("models", modelNames)))")
            }
        }
        var via: Column?
        if let value = table["via"], let name = string(value, at: viaPath) {
            if draft.declaredColumns.contains(name) {
                via = draft.column(name)
            } else {
                report(viaPath, "\(ConfigLoader.quoted(name)) is not a column of \(draft.name) (\(ConfigLoader.listing("columns", draft.declaredColumns)))")
            }
        }
        guard let parent, let via else { return nil }
        guard let parentKey = parent.primaryKey else { return nil }  // the parent's own issue
        guard parentKey.count == 1 else {
            report(parentPath, "\(parent.name) has the composite primary key \(parent.primaryKeyText); a parent needs a single-column primary key")
            return nil
        }
        guard let keyColumn = parent.singleKeyColumn else { return nil }
        guard keyColumn.type == via.type else {
            report(viaPath, "\(ConfigLoader.quoted(via.name)) is \(via.type.rawValue) but \(parent.name)'s primary key \(keyColumn.name) is \(keyColumn.type.rawValue); they must be the same type")
            return nil
        }
        return .parent(model: parent.name, via: via.name)
    }

    /// Reports each cycle of parent rules once, at the first model of the cycle in file order.
    mutating func reportParentCycles(_ drafts: inout [ModelDraft]) {
        let parents = Dictionary(drafts.compactMap { d in d.parent.map { (d.name, $0) } }, uniquingKeysWith: { a, _ in a })
        var reported: Set<String> = []
        for i in drafts.indices {
            let start = drafts[i].name
            guard !reported.contains(start) else { continue }
            var chain = [start]
            var current = start
            while let next = parents[current], !chain.contains(next) {
                chain.append(next)
                current = next
            }
            // A cycle through `start` exists when the walk comes back to it.
            guard let next = parents[current], next == start else { continue }
            reported.formUnion(chain)
            let path = drafts[i].path.key("shard_by").key("parent")
            drafts[i].issues.append(.init(
                path: path.description,
                message: "parent rules form a cycle: \((chain + [start]).joined(separator: " -> ")); one of them must be placed another way"))
        }
    }

    // MARK: relationships

    static let relationshipKeys = ["model", "foreign_key"]

    mutating func checkRelationships(_ draft: inout ModelDraft, models: [String: ModelDraft], modelNames: [String]) {
        guard let value = draft.toml?["relationships"] else { return }
        let path = draft.path.key("relationships")
        guard let table = table(value, at: path) else { return }
        for name in orderedKeys(table, at: path) {
            guard let item = table[name] else { continue }
            let before = issues.count
            let relationship = self.relationship(name, item, of: draft, at: path.key(name), models: models, modelNames: modelNames)
            if let relationship, issues.count == before { draft.relationships.append(relationship) }
        }
    }

    private mutating func relationship(
        _ name: String, _ value: TOMLValueConvertible, of draft: ModelDraft, at path: ConfigPath,
        models: [String: ModelDraft], modelNames: [String]
    ) -> Relationship? {
        if !ConfigLoader.isIdentifier(name) {
            report(path, "\(ConfigLoader.quoted(name)) is not a valid relationship name (expected [A-Za-z_][A-Za-z0-9_]*)")
        } else if draft.declaredColumns.contains(name) {
            report(path, "\(ConfigLoader.quoted(name)) is also a column of \(draft.name); a relationship needs a name of its own")
        }
        guard let table = table(value, at: path) else { return nil }
        checkKeys(table, at: path, allowed: Self.relationshipKeys, in: "a relationship")
        var other: ModelDraft?
        if let value = table["model"] {
            if let otherName = string(value, at: path.key("model")) {
                other = models[otherName]
                if other == nil {
                    report(path.key("model"), "\(ConfigLoader.quoted(otherName)) is not a model (\(ConfigLoader.listing("models", modelNames)))")
                }
            }
        } else {
            report(path, "missing model: { model = \"Other\", foreign_key = \"column\" }")
        }
        var foreignKey: String?
        let fkPath = path.key("foreign_key")
        if let value = table["foreign_key"] {
            foreignKey = string(value, at: fkPath)
        } else {
            report(path, "missing foreign_key: { model = \"Other\", foreign_key = \"column\" }")
        }
        guard let other, let foreignKey, other.toml != nil else { return nil }

        if draft.declaredColumns.contains(foreignKey) {
            // To-one: this model's column holds the other model's key.
            return link(name, .toOne, holder: draft, keyOwner: other, foreignKey: foreignKey, at: fkPath)
        }
        if other.declaredColumns.contains(foreignKey) {
            // To-many: the other model's column holds this model's key.
            return link(name, .toMany, holder: other, keyOwner: draft, foreignKey: foreignKey, at: fkPath)
        }
        report(fkPath, "\(ConfigLoader.quoted(foreignKey)) is neither a column of \(draft.name) (\(ConfigLoader.listing("columns", draft.declaredColumns))) nor of \(other.name) (\(ConfigLoader.listing("columns", other.declaredColumns)))")
        return nil
    }

    /// The relationship whose `foreignKey` column on `holder` holds `keyOwner`'s primary key,
    /// which must be a single column of the same type.
    private mutating func link(
        _ name: String, _ kind: Relationship.Kind, holder: ModelDraft, keyOwner: ModelDraft,
        foreignKey: String, at fkPath: ConfigPath
    ) -> Relationship? {
        guard let column = holder.column(foreignKey), let ownerKey = keyOwner.primaryKey else { return nil }
        guard ownerKey.count == 1 else {
            let shape = kind == .toOne ? "a to-one relationship to" : "a to-many relationship from"
            report(fkPath, "\(shape) \(keyOwner.name) needs a single-column primary key on \(keyOwner.name), which has \(keyOwner.primaryKeyText)")
            return nil
        }
        guard let keyColumn = keyOwner.singleKeyColumn else { return nil }
        guard keyColumn.type == column.type else {
            let holderColumn = kind == .toOne ? ConfigLoader.quoted(foreignKey) : "\(holder.name).\(foreignKey)"
            report(fkPath, "\(holderColumn) is \(column.type.rawValue) but \(keyOwner.name)'s primary key \(keyColumn.name) is \(keyColumn.type.rawValue); they must be the same type")
            return nil
        }
        let other = kind == .toOne ? keyOwner.name : holder.name
        return Relationship(name: name, model: other, foreignKey: foreignKey, kind: kind)
    }
}
