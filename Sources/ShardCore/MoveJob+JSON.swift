import ShardProtocol

/// Jobs as `state_dir/jobs.json` keeps them and as `jobs` (protocol.md 9) answers. In the
/// file every value carries its type (`["text", "Asia"]`), so that it reads back exactly
/// whatever the configuration says by then.
extension MoveJob {
    /// Why a stored job cannot be read.
    package struct FormatError: Error, Sendable, CustomStringConvertible {
        package var description: String
        package init(description: String) { self.description = description }
    }

    /// The protocol's form: `{job, kind, state, moves, moves_done, rows_total, rows_copied,
    /// started_at, finished_at?, error?, rekeyed}`, plus `steps` (docs/protocol.md).
    package var answer: JSONValue {
        var members: [(String, JSONValue)] = [
            ("job", .int(Int64(id))), ("kind", .string(kind.rawValue)), ("state", .string(state.rawValue)),
            ("moves", .int(Int64(moves))), ("moves_done", .int(Int64(movesDone))),
            ("rows_total", .int(Int64(rowsTotal))), ("rows_copied", .int(Int64(rowsCopied))),
            ("started_at", .string(startedAt.description)),
        ]
        if let finishedAt { members.append(("finished_at", .string(finishedAt.description))) }
        if let error { members.append(("error", .string(error))) }
        // The first `answerRekeyedLimit` (a rebalance may renumber millions); `rekeyed_count` all.
        members.append(("rekeyed", .array(rekeyed.prefix(Self.answerRekeyedLimit).map {
            .object(JSONObject([("from", $0.from.responseJSON), ("to", $0.to.responseJSON)]))
        })))
        members.append(("rekeyed_count", .int(Int64(rekeyed.count))))
        members.append(("steps", .array(steps.map { step in
            .object(JSONObject([("group", .string(step.group)), ("units", .array(step.units.map(\.json))),
                                ("from", .string(step.from)), ("to", .string(step.to)), ("rows", .int(Int64(step.rows))),
                                ("phase", .string(step.phase.name)), ("pause_ms", step.pauseMs.map { .int(Int64($0)) } ?? .null)]))
        })))
        return .object(JSONObject(members))
    }

    /// How many of `rekeyed` the `jobs` answer lists.
    package static let answerRekeyedLimit = 1000

    /// The file's form (without `rekeyed`, which `JobStore` keeps per step: `Rekey.fileJSON`).
    package var fileJSON: JSONValue {
        var members: [(String, JSONValue)] = [
            ("job", .int(Int64(id))), ("kind", .string(kind.rawValue)), ("state", .string(state.rawValue)),
            ("rows_copied", .int(Int64(rowsCopied))), ("started_at", .string(startedAt.description)),
        ]
        if let finishedAt { members.append(("finished_at", .string(finishedAt.description))) }
        if let error { members.append(("error", .string(error))) }
        members.append(("steps", .array(steps.map { step in
            var fields: [(String, JSONValue)] = [("group", .string(step.group)), ("units", .array(step.units.map(Self.typed))),
                                                 ("from", .string(step.from)), ("to", .string(step.to)),
                                                 ("rows", .int(Int64(step.rows))), ("phase", .string(step.phase.name))]
            if let pause = step.pauseMs { fields.append(("pause_ms", .int(Int64(pause)))) }
            return .object(JSONObject(fields))
        })))
        return .object(JSONObject(members))
    }

    /// Reads the file's form.
    package init(fileJSON json: JSONValue) throws(FormatError) {
        guard case .int(let id)? = json["job"], case .string(let kindName)? = json["kind"], let kind = Kind(rawValue: kindName),
              case .string(let stateName)? = json["state"], let state = State(rawValue: stateName),
              case .string(let started)? = json["started_at"], let startedAt = try? Timestamp(rfc3339: started),
              case .array(let steps)? = json["steps"] else {
            throw FormatError(description: "a job without job, kind, state, started_at and steps: \(json.serialized)")
        }
        var parsed: [Step] = []
        for step in steps {
            guard case .string(let group)? = step["group"], case .array(let units)? = step["units"],
                  case .string(let from)? = step["from"], case .string(let to)? = step["to"],
                  case .int(let rows)? = step["rows"], case .string(let phaseName)? = step["phase"] else {
                throw FormatError(description: "job \(id): a step without group, units, from, to, rows and phase")
            }
            let phase: Phase
            switch phaseName {
            case "pending": phase = .pending
            case "copying": phase = .copying
            case "switched": phase = .switched
            case "done": phase = .done
            default: throw FormatError(description: "job \(id): phase \"\(phaseName)\" is unknown")
            }
            var read: [PlacementUnit] = []
            for unit in units { read.append(try Self.unit(unit)) }
            var parsedStep = Step(group: group, units: read, from: from, to: to, rows: Int(rows), phase: phase)
            if case .int(let pause)? = step["pause_ms"] { parsedStep.pauseMs = Int(pause) }
            parsed.append(parsedStep)
        }
        self.init(id: Int(id), kind: kind, steps: parsed, startedAt: startedAt)
        self.state = state
        if case .int(let copied)? = json["rows_copied"] { rowsCopied = Int(copied) }
        if case .string(let finished)? = json["finished_at"] { finishedAt = try? Timestamp(rfc3339: finished) }
        if case .string(let error)? = json["error"] { self.error = error }
    }

    private static func typed(_ value: ShardValue) -> JSONValue {
        let type: String
        switch value {
        case .int: type = "int"
        case .real: type = "real"
        case .bool: type = "bool"
        case .timestamp: type = "timestamp"
        case .text, .null: type = "text"
        }
        return .array([.string(type), value.json])
    }

    private static func value(_ json: JSONValue?) throws(FormatError) -> ShardValue {
        guard case .string(let typeName)? = json?[0], let type = ColumnType(rawValue: typeName), let raw = json?[1],
              let value = try? ShardValue(json: raw, for: Column(name: "value", type: type)) else {
            throw FormatError(description: "\(json?.serialized ?? "nothing") is not a typed value [type, value]")
        }
        return value
    }

    private static func typed(_ unit: PlacementUnit) -> JSONValue {
        switch unit {
        case .value(let value): .object(JSONObject([("value", typed(value))]))
        case .range(let lower, let upper): .object(JSONObject([("range", .array([typed(lower), typed(upper)]))]))
        case .bucket(let bucket): .object(JSONObject([("bucket", .int(Int64(bucket)))]))
        case .key(let key): .object(JSONObject([("key", .array(key.map(typed)))]))
        }
    }

    private static func unit(_ json: JSONValue) throws(FormatError) -> PlacementUnit {
        if let value = json["value"] { return .value(try Self.value(value)) }
        if case .array(let bounds)? = json["range"], bounds.count == 2 {
            return .range(lower: try Self.value(bounds[0]), upper: try Self.value(bounds[1]))
        }
        if case .int(let bucket)? = json["bucket"] { return .bucket(Int(bucket)) }
        if case .array(let values)? = json["key"] {
            var key: [ShardValue] = []
            for value in values { key.append(try Self.value(value)) }
            return .key(key)
        }
        throw FormatError(description: "\(json.serialized) is not a unit")
    }

    fileprivate static func typed(_ key: IdentityKey) -> JSONValue {
        .array([.string(key.model), .array(key.primaryKey.map(typed)), .string(key.token)])
    }

    fileprivate static func key(_ json: JSONValue?) throws(FormatError) -> IdentityKey? {
        guard case .string(let model)? = json?[0], case .array(let values)? = json?[1], case .string(let token)? = json?[2] else { return nil }
        var key: [ShardValue] = []
        for value in values { key.append(try Self.value(value)) }
        return IdentityKey(model: model, primaryKey: key, token: token)
    }
}

extension MoveJob.Phase {
    /// The phase's name in the file and in `jobs`.
    package var name: String {
        switch self {
        case .pending: "pending"
        case .copying: "copying"
        case .switched: "switched"
        case .done: "done"
        }
    }
}

extension MoveJob.Rekey {
    /// `[old key, new key]`, every value typed.
    package var fileJSON: JSONValue {
        .array([MoveJob.typed(from), MoveJob.typed(to)])
    }

    package init(fileJSON json: JSONValue) throws(MoveJob.FormatError) {
        guard let from = try MoveJob.key(json[0]), let to = try MoveJob.key(json[1]) else {
            throw MoveJob.FormatError(description: "\(json.serialized) is not [old key, new key]")
        }
        self.init(from: from, to: to)
    }
}
