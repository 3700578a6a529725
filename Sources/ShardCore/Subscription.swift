import ShardProtocol

/// What a write did to one row (protocol.md 12).
package enum ChangeKind: String, Sendable, CaseIterable {
    case insert, update, delete
}

/// One row a transaction changed, as the shard wrote it: the change feed's input.
package struct RowChange: Sendable {
    package var kind: ChangeKind
    /// The model as the write saw it (its columns give the rows' positions).
    package var model: Model
    /// The shard (identity token) the row is on.
    package var shard: String
    /// The row before the write: for updates and deletes, when a subscription needed it.
    package var old: [ShardValue]?
    /// The row after the write: for inserts and updates.
    package var new: [ShardValue]?

    package init(_ kind: ChangeKind, _ model: Model, shard: String, old: [ShardValue]? = nil, new: [ShardValue]? = nil) {
        self.kind = kind
        self.model = model
        self.shard = shard
        self.old = old
        self.new = new
    }

    /// The row the event carries: after the write, before it for a delete.
    package var row: [ShardValue] { (kind == .delete ? old : new) ?? old ?? [] }

    package var key: IdentityKey {
        IdentityKey(model: model.name, primaryKey: model.primaryKeyPositions.map { row[$0] }, token: shard)
    }
}

/// One `subscribe` (protocol.md 8, 12): which changes of one model a session is told of.
/// Pure: deciding an event needs only the change, so it is tested without a daemon.
package struct Subscription: Sendable {
    package var model: String
    package var filter: Expression?
    package var events: Set<ChangeKind>

    package init(model: String, filter: Expression?, events: Set<ChangeKind>) {
        self.model = model
        self.filter = filter
        self.events = events
    }

    /// Whether an update's event needs the row before the write: only when a `where` can
    /// tell the old row from the new one (without one, every update matches).
    package var needsOldRows: Bool { filter != nil && events.contains(.update) }

    /// The event this change makes, or nil:
    /// - an insert when the new row matches;
    /// - a delete when the old row matched;
    /// - an update when the row matched before or after, `matches` saying whether after. An
    ///   update whose old row is not known (a row the shard changed that its read before the
    ///   write did not see) counts as not matching before.
    package func event(for change: RowChange) -> (kind: ChangeKind, matches: Bool?)? {
        guard change.model.name == model, events.contains(change.kind) else { return nil }
        switch change.kind {
        case .insert:
            return matches(change.new, change.model) ? (.insert, nil) : nil
        case .delete:
            return matches(change.old, change.model) ? (.delete, nil) : nil
        case .update:
            guard filter != nil else { return (.update, true) }
            let after = matches(change.new, change.model)
            return after || matches(change.old, change.model) ? (.update, after) : nil
        }
    }

    private func matches(_ row: [ShardValue]?, _ model: Model) -> Bool {
        guard let row else { return false }
        guard let filter else { return true }
        var named: [String: ShardValue] = [:]
        named.reserveCapacity(row.count)
        for (column, value) in zip(model.columns, row) { named[column.name] = value }
        return filter.evaluate(named) == true
    }
}

/// `subscribe`'s arguments: `model`, `where?`, `events?`.
package struct SubscribeRequest: Sendable {
    package var subscription: Subscription

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        let model = try reader.model()
        let filter = try reader.filter(of: model)
        let events = try SubscribeRequest.events(reader.optional("events"))
        try reader.checkNoUnknownArguments()
        if let filter, filter.followsRelationships {
            // The feed decides on the written row alone, without reading other shards.
            throw ShardError(.badRequest,
                             "subscribe's where cannot use any or has: an event is decided on the changed row alone; subscribe to \(model.name) with conditions on its own columns, or to the related model")
        }
        subscription = Subscription(model: model.name, filter: filter, events: events)
    }

    private static func events(_ json: JSONValue?) throws(ShardError) -> Set<ChangeKind> {
        let example = "e.g. [\"insert\", \"update\"]"
        switch json {
        case nil, .null?:
            return Set(ChangeKind.allCases)
        case .array(let items)?:
            var kinds: Set<ChangeKind> = []
            for item in items {
                guard case .string(let name) = item, let kind = ChangeKind(rawValue: name) else {
                    throw ShardError(.badRequest, "events lists some of \"insert\", \"update\", \"delete\" (\(example)); got \(item.serialized)")
                }
                kinds.insert(kind)
            }
            guard !kinds.isEmpty else { throw ShardError(.badRequest, "events must name at least one of \"insert\", \"update\", \"delete\", or be left out for all three") }
            return kinds
        case let other?:
            throw ShardError(.badRequest, "events must be a list of \"insert\", \"update\", \"delete\" (\(example)); got \(other.serialized)")
        }
    }
}
