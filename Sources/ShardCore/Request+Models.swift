/// The models a request reads or writes, for the gate of a moving unit's switch.
extension Request {
    /// The request's model and the models its `include` and `load` reach; empty for ops on
    /// no model (raw `sql` names tables, which the daemon cannot map: docs/moves.md).
    package var models: [String] {
        switch self {
        case .add(let request): [request.model.name]
        case .get(let request): [request.model.name] + request.include.map(\.model)
        case .query(let request): [request.model.name] + request.include.map(\.model)
        case .count(let request), .deleteWhere(let request): [request.model.name]
        case .update(let request): [request.model.name]
        case .delete(let request): [request.model.name]
        case .refresh(let request): [request.model.name]
        case .load(let request): [request.model.name, request.other.name]
        case .updateWhere(let request): [request.model.name]
        case .aggregate(let request): [request.model.name]
        default: []
        }
    }

    /// Whether the request changes rows of its model.
    package var writes: Bool {
        switch self {
        case .add, .update, .delete, .updateWhere, .deleteWhere: true
        default: false
        }
    }
}
