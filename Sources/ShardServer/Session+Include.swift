import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// Objects for rows found on shards, with their `include`d relationships loaded
    /// selectin-style: per relationship, one `IN` query per shard holding parents, run on
    /// that shard only (a related row lives with its parent). Everything enters the map.
    func objects(_ rows: [(row: [ShardValue], shard: String)], of model: Model, including relationships: [Relationship]) async throws -> [JSONValue] {
        var related: [[(String, JSONValue)]] = Array(repeating: [], count: rows.count)
        for relationship in relationships {
            let loaded = try await load(relationship, for: rows, of: model)
            for index in rows.indices { related[index].append((relationship.name, loaded[index])) }
        }
        return rows.enumerated().map { index, item in
            let object = remember(item.row, of: model, on: item.shard)
            guard !relationships.isEmpty, case .object(var fields) = object else { return object }
            fields.members.append(("related", .object(JSONObject(related[index]))))
            return .object(fields)
        }
    }

    /// The relationship's value for each parent row: a list (to-many) or an object or null (to-one).
    private func load(_ relationship: Relationship, for parents: [(row: [ShardValue], shard: String)], of model: Model) async throws -> [JSONValue] {
        guard let other = configuration.model(named: relationship.model) else { return parents.map { _ in .null } }
        // The parent's column holding the link, and the other model's column it matches.
        let parentColumn: String
        let otherColumn: String
        switch relationship.kind {
        case .toMany: (parentColumn, otherColumn) = (model.primaryKey[0], relationship.foreignKey)
        case .toOne: (parentColumn, otherColumn) = (relationship.foreignKey, other.primaryKey[0])
        }
        let parentIndex = model.position(of: parentColumn)
        let otherIndex = other.position(of: otherColumn)
        // Each link once per shard, in the parents' order.
        var linksByShard: [String: [ShardValue]] = [:]
        var seen: Set<ShardTokenLink> = []
        for parent in parents where parent.row[parentIndex] != .null {
            if seen.insert(ShardTokenLink(shard: parent.shard, link: parent.row[parentIndex])).inserted {
                linksByShard[parent.shard, default: []].append(parent.row[parentIndex])
            }
        }
        let shardNames = context.shardOrder.inFileOrder(linksByShard.keys)
        let shards = try shardNames.map { name throws(ShardError) in try shard(named: name) }
        let maxRows = configuration.server.maxResultRows
        let linksToLoad = linksByShard
        let found = try await readEach(shards, inline: true) { shard, connection -> [[ShardValue]] in
            var rows: [[ShardValue]] = []
            for statement in shard.dialect.selectIn(other, column: otherColumn, linksToLoad[shard.name] ?? [], limit: maxRows + 1) {
                rows += try connection.run(statement).rows
                if rows.count > maxRows { break }
            }
            return rows
        }
        if found.reduce(0, { $0 + $1.count }) > maxRows {
            throw ShardError(.resultTooLarge, "including \(relationship.name) loads more than \(maxRows) rows (max_result_rows); query \(other.name) with a limit instead")
        }
        var byLink: [String: [ShardValue: [[ShardValue]]]] = [:]
        for (name, rows) in zip(shardNames, found) {
            for row in rows { byLink[name, default: [:]][row[otherIndex], default: []].append(row) }
        }
        return parents.map { parent in
            let matches = byLink[parent.shard]?[parent.row[parentIndex]] ?? []
            let objects = matches.map { remember($0, of: other, on: parent.shard) }
            switch relationship.kind {
            case .toMany: return .array(objects)
            case .toOne: return objects.first ?? .null
            }
        }
    }
}

/// A link value of an eager load on one shard.
private struct ShardTokenLink: Hashable {
    var shard: String
    var link: ShardValue
}
