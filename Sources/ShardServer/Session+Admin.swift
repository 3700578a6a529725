import Glibc
import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    // The admin ops of protocol.md 9; `execute` lets only peers in `admin_uids` reach them.

    /// `sessions`: the live sessions, oldest first.
    func sessionReports() -> JSONObject {
        JSONObject([("sessions", .array(context.sessions.map { Session.report($0, subscriptions: context.feed.subscriptions(of: $0.id)) }))])
    }

    /// `keys`: identity keys across live sessions.
    func keys(_ request: KeysRequest) -> JSONObject {
        var keys: [JSONValue] = []
        for record in context.sessions where request.session == nil || record.id == request.session {
            for key in record.identityMap.keys(model: request.model) {
                guard keys.count < request.limit else { break }
                keys.append(.object(JSONObject([("session", .int(Int64(record.id))), ("key", key.responseJSON)])))
            }
        }
        return JSONObject([("keys", .array(keys))])
    }

    /// `verify`: every shard read, rows on a shard their placement does not name (at most 100
    /// listed, all counted), the rows checked and their count per shard per model.
    func verify(model: String?) async throws -> JSONObject {
        let result = try await PlacementVerifier(shards: context.shards, configuration: context.configuration)
            .verify(models: model.map { [$0] })
        let strays = result.strays.map { stray -> JSONValue in
            .object(JSONObject([("key", stray.key.responseJSON), ("shard", .string(stray.key.token)),
                                ("wanted", stray.wanted.map(JSONValue.string) ?? .null)]))
        }
        let rows = JSONObject(context.shards.shards.map { shard in
            (shard.name, .object(JSONObject((result.rows[shard.name] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int(Int64($0.value))) })))
        })
        // protocol.md 9 names this field `ok`, which the envelope already holds (true for any
        // answer): `clean` instead (docs/protocol.md).
        return JSONObject([("clean", .bool(result.strayCount == 0)), ("checked", .int(Int64(result.checked))),
                           ("stray_count", .int(Int64(result.strayCount))), ("strays", .array(strays)), ("rows", .object(rows))])
    }

    /// `rebalance`: the moves that would make the placement match shards.conf, with the rows
    /// each carries; without `plan`, a job that runs them (protocol.md 13).
    func rebalance(plan: Bool) async throws -> JSONObject {
        let moves = RebalancePlan(placement: context.placement.placement, configuration: context.placement.configured).moves
        let rows = try await UnitRowCounter(shards: context.shards, configuration: context.configuration).rows(of: moves)
        var answer = JSONObject([("moves", .array(zip(moves, rows).map { move, rows in
            .object(JSONObject([("group", .string(move.group)), ("unit", move.unit.json), ("from", .string(move.from)),
                                ("to", .string(move.to)), ("rows", .int(Int64(rows)))]))
        }))])
        if !plan {
            guard !moves.isEmpty else {
                answer.append("job", .null)
                return answer
            }
            let job = try await context.reloading.run { [context] in try context.jobs.start(.rebalance, steps: MoveJob.steps(of: Array(zip(moves, rows))), context: context) }
            answer.append("job", .int(Int64(job.id)))
        }
        return answer
    }

    /// `stats`: uptime, connections, requests and errors by kind, latencies, per-shard
    /// statements; and the saturation `/metrics` shows (an extension, docs/protocol.md): the
    /// configuration's version, sessions, pools, commits, refused and slow clients.
    func stats() -> JSONObject {
        let (requests, errors, latency) = context.stats.snapshot()
        let uptime = ContinuousClock.now - context.stats.started
        let shards = context.shards.shards
        let perShard = JSONObject(shards.map { shard in
            (shard.name, .object(JSONObject([("statements", .int(Int64(shard.statements.value))), ("errors", .int(Int64(shard.statements.errors))),
                                      ("reads_redone", .int(Int64(shard.readsRedoneCount)))])))
        })
        let pools = JSONObject(shards.map { shard in
            let use = shard.poolUse
            return (shard.name, .object(JSONObject([
                ("up", .bool(!shard.health.isDown)), ("size", .int(Int64(shard.poolSize))), ("open", .int(Int64(use.open))),
                ("in_use", .int(Int64(use.inUse))), ("waiting", .int(Int64(shard.waiting.borrowers))),
            ])))
        })
        var commits: [String: [(String, JSONValue)]] = [:]
        for tally in context.metrics.tallies(of: "shardd_commits_total") {
            let labels = Dictionary(tally.labels, uniquingKeysWith: { first, _ in first })
            commits[labels["kind"] ?? "?", default: []].append((labels["outcome"] ?? "?", .int(Int64(tally.value))))
        }
        let refused = context.metrics.tallies(of: "shardd_connections_refused_total").map { tally in
            (tally.labels.first { $0.0 == "reason" }?.1 ?? "?", JSONValue.int(Int64(tally.value)))
        }
        let sessions = context.sessions
        return JSONObject([
            ("uptime_s", .int(uptime.components.seconds)), ("connections", .int(Int64(sessions.count))),
            ("requests", .object(requests)), ("errors", .object(errors)), ("latency_us", .object(latency)),
            ("per_shard", .object(perShard)),
            ("config_version", .int(Int64(context.configVersion))),
            ("transactions_open", .int(Int64(sessions.filter(\.inTransaction).count))),
            ("identity_map_keys", .int(Int64(sessions.reduce(0) { $0 + $1.identityMap.count }))),
            ("pools", .object(pools)),
            ("commits", .object(JSONObject(commits.sorted { $0.key < $1.key }.map { ($0.key, .object(JSONObject($0.value.sorted { $0.0 < $1.0 }))) }))),
            ("commits_pending", .int(Int64(context.commits.transactions().count))),
            ("connections_refused", .object(JSONObject(refused.sorted { $0.0 < $1.0 }))),
            ("slow_clients_disconnected", .int(Int64(context.metrics.tallies(of: "shardd_slow_clients_disconnected_total").reduce(0) { $0 + $1.value }))),
        ])
    }

    /// - Parameter subscriptions: the session's open change-feed subscriptions (protocol.md 12).
    private static func report(_ record: SessionRecord, subscriptions: [Int]) -> JSONValue {
        .object(JSONObject([
            ("session", .int(Int64(record.id))), ("pid", record.peer.map { .int(Int64($0.pid)) } ?? .null),
            ("uid", record.peer.map { .int(Int64($0.uid)) } ?? .null), ("connected_at", .string(record.connectedAt.description)),
            ("in_transaction", .bool(record.inTransaction)), ("identity_keys", .int(Int64(record.identityMap.count))),
            ("requests", .int(Int64(record.requests))),
            ("subscriptions", .array(subscriptions.map { .int(Int64($0)) })),
        ]))
    }

    /// Each shard probed live and concurrently: status, latency, rows per model, pool use.
    /// The probes do not count as client statements.
    func shardReports() async -> [JSONValue] {
        let models = configuration.models
        return await withTaskGroup(of: (Int, JSONValue).self) { group in
            for (index, shard) in context.shards.shards.enumerated() {
                group.addTask {
                    let start = ContinuousClock.now
                    var rows: [(String, JSONValue)] = []
                    var status = "up"
                    var latency: JSONValue = .null
                    do {
                        try await shard.withConnection { connection in
                            _ = try connection.uncounted.run(SQLDialect.probe)
                        }
                        latency = .double((ContinuousClock.now - start).milliseconds)
                        let counts = try await shard.withConnection { connection in
                            try models.map { model in
                                // Not counted in the shard's statements, but without rows a move hides.
                                try connection.uncounted.run(shard.hidden.rewriting(shard.dialect.count(model, where: nil))).rows.first?.first ?? .null
                            }
                        }
                        rows = zip(models, counts).map { ($0.name, $1.responseJSON) }
                    } catch {
                        status = "down"
                    }
                    let pool = shard.poolUse
                    return (index, .object(JSONObject([
                        ("name", .string(shard.name)), ("backend", .string(shard.dialect.backend.rawValue)),
                        ("url", .string(shard.spec.location.redacted)), ("status", .string(status)), ("latency_ms", latency),
                        ("rows", .object(JSONObject(rows))),
                        ("pool", .object(JSONObject([("size", .int(Int64(shard.poolSize))), ("in_use", .int(Int64(pool.inUse)))]))),
                    ])))
                }
            }
            var out = [JSONValue](repeating: .null, count: context.shards.shards.count)
            for await (index, report) in group { out[index] = report }
            return out
        }
    }
}
