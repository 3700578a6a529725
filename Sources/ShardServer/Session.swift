import Logging
import NIOCore
import ShardCore
import ShardProtocol
import ShardTransport
import ShardStore

/// One client connection's session (protocol.md 4): its identity map and its transaction.
///
/// Used only by the connection's own task, one request at a time, so it needs no locks.
final class Session {
    let context: ServerContext
    /// What admin ops see of this session, its identity map included.
    let record: SessionRecord
    var transaction: SessionTransaction?
    /// Set when the server ended the transaction; the next request is answered with it.
    var abortedTransaction: ShardError?
    /// The session's event lines waiting for its socket (protocol.md 12).
    let outbox: EventOutbox
    var id: Int { record.id }
    var identityMap: LockedIdentityMap { record.identityMap }
    /// Who is at the other end (nil in tests that make a session without a socket).
    var peer: PeerCredentials? { record.peer }
    /// The routed configuration of the request being handled (taken as it starts).
    var routed: RoutedConfiguration
    var configuration: Configuration { routed.configuration }
    /// The metrics of the last request's op and outcome (`ShardMetrics.series`), and the
    /// durations of the requests of that series not yet counted there (`flushMetrics`).
    private var lastSeries: ShardMetrics.RequestSeries?
    private var uncounted: [Int64] = []
    /// The number of the request being handled (1 for the first frame).
    private(set) var requestNumber = 0
    /// The frames queued behind the one being handled (`SessionInbox.frames(at:)`), for
    /// `readAhead`; none for a session without a socket.
    var upcoming: @Sendable (Range<Int>) -> [Frame] = { _ in [] }
    /// Which queued gets have been looked at, and the reads started for them, by number.
    var readWindow = ReadAheadWindow()
    var readsAhead: [Int: ReadAhead] = [:]
    /// The reads started ahead for the get being handled (from its `ReadAhead`), by shard.
    var readsOfThisGet: [String: PendingRead] = [:]

    /// - Parameter events: wakes the session's task when event lines wait in its outbox.
    init(context: ServerContext, peer: PeerCredentials? = nil, stop: @escaping @Sendable () -> Void = {},
         abort: @escaping @Sendable (ShardError) -> Void = { _ in }, events: @escaping @Sendable () -> Void = {}) {
        self.context = context
        outbox = EventOutbox(wake: events)
        self.record = context.register(peer: peer, stop: stop, abort: abort)
        routed = context.routed
    }

    /// Admin ops are for `admin_uids`; a session without a socket (tests) is the daemon's own.
    var isAdmin: Bool { peer.map { context.adminUIDs.contains($0.uid) } ?? true }

    /// Answers one frame with exactly one response line appended to `out`.
    /// Returns false when the connection must close after this response.
    func handle(_ frame: Frame, into out: inout [UInt8]) async -> Bool {
        requestNumber += 1
        let ahead = readsAhead.isEmpty ? nil : takeReadAhead()
        readsOfThisGet = [:]
        guard case .line(let line) = frame else {
            let limit = configuration.server.maxLineBytes
            ResponseLine.failure(id: .null, ShardError(.lineTooLong, "a request line may be at most \(limit) bytes (max_line_bytes); the connection is closed"), into: &out)
            recordInvalid(.lineTooLong)
            return false
        }
        let request: RequestEnvelope
        if let ahead {
            request = ahead.envelope  // parsed when it was read ahead
        } else {
            let json: JSONValue
            do {
                json = try line.withUnsafeReadableBytes { bytes throws(JSONParseError) in try JSONValue.parse(bytes) }
            } catch {
                ResponseLine.failure(id: .null, ShardError(.badJSON, error.message), into: &out)
                recordInvalid(.badJSON)
                return true
            }
            do {
                request = try RequestEnvelope(json)
            } catch {
                // A line that is not an object is answered with "id": null; a request with a bad id, without one.
                let id: JSONValue? = error.id ?? (error.error.code == .badJSON ? JSONValue.null : Optional.none)
                ResponseLine.failure(id: id, error.error, into: &out)
                recordInvalid(error.error.code)
                return true
            }
        }
        let start = ContinuousClock.now
        var failure: ShardError?
        record.began()  // paired with `finished` below, on every way out
        do {
            if let aborted = abortedTransaction {
                abortedTransaction = nil
                throw aborted
            }
            routed = context.routed
            var decoded: Request
            if let ahead, ahead.routed === routed {
                decoded = .get(ahead.request)
                readsOfThisGet = ahead.reads
            } else {
                var arguments = ArgumentReader(request, configuration: configuration, shardOrder: routed.shardOrder)
                decoded = try Request.decode(&arguments)
            }
            // The request's placement groups, worked out only when a move runs or it writes.
            let groups = context.gate.isActive || decoded.writes ? routed.groups(of: decoded.models) : []
            var entered: [String] = []
            if context.gate.isActive, !groups.isEmpty {
                if context.gate.isClosed(groups), record.transactionWrote(toAnyOf: groups) {
                    // The switch waits for this transaction: it ends now rather than hold it up.
                    await abortTransaction(Session.movedAbort(groups))
                }
                entered = await context.gate.enter(groups)
                if context.routed !== routed {
                    // The unit switched while the request waited: it routes by the new placement.
                    routed = context.routed
                    var again = ArgumentReader(request, configuration: configuration, shardOrder: routed.shardOrder)
                    decoded = try Request.decode(&again)
                    readsOfThisGet = [:]
                }
            }
            defer { context.gate.leave(entered) }
            if let aborted = abortedTransaction {
                abortedTransaction = nil
                throw aborted
            }
            let result = try await execute(decoded, op: request.op)
            if decoded.fansOut, case .array(let shards)? = result["shards"] { context.metrics.fanout(op: request.op, shards: shards.count) }
            if transaction != nil, decoded.writes { record.transactionWrote(groups) }
            ResponseLine.success(id: request.id, result, into: &out)
        } catch let error as ShardError {
            failure = error
        } catch let error as BackendError {
            failure = ShardError(shardError: error)
        } catch {
            context.logger.error("request failed unexpectedly", metadata: ["op": "\(request.op)", "error": "\(error)"])
            failure = ShardError(.internal, "\(request.op) failed: \(error)")
        }
        if var failure {
            if failure.code == .shardUnavailable, case .string(let shard)? = failure.details["shard"],
               let transaction, transaction.shardNames(in: context.shardOrder).contains(shard) {
                // The transaction lost a shard: none of it can commit any more.
                let shards = transaction.shardNames(in: context.shardOrder)
                await abandonTransaction()
                identityMap.removeAll()
                failure = ShardError(.transactionAborted,
                                     "shard \(shard) was lost during this session's transaction (\(failure.message)); the transaction on \(shards.joined(separator: ", ")) was rolled back",
                                     details: [("shard", .string(shard)), ("shards", .array(shards.map(JSONValue.string)))])
                context.logger.warning("session \(id): transaction rolled back, shard \(shard) lost")
            }
            ResponseLine.failure(id: request.id, failure, into: &out)
            // Op, code and shard only: messages may quote row values (a constraint's key).
            let shard = failure.details["shard"].map { " on \($0.serialized)" } ?? ""
            switch failure.code {
            case .internal:
                context.logger.error("\(request.op) failed: internal\(shard): \(failure.message)", metadata: ["session": "\(id)"])
            case .shardUnavailable, .timeout, .transactionFailed, .transactionAborted:
                context.logger.error("\(request.op) failed: \(failure.code)\(shard)", metadata: ["session": "\(id)"])
            default:
                context.logger.debug("\(request.op) refused: \(failure.code)\(shard)", metadata: ["session": "\(id)"])
            }
        }
        let elapsed = ContinuousClock.now - start
        let op = Request.isKnown(request.op) ? request.op : "unknown"
        context.stats.record(op: op, error: failure?.code, microseconds: elapsed.wholeMicroseconds)
        countRequest(op: op, code: failure?.code.rawValue ?? "ok", nanoseconds: Int64(elapsed.wholeNanoseconds))
        if let failure, case .string(let shard)? = failure.details["shard"] {
            context.metrics.count("shardd_shard_errors_total", [("shard", shard), ("code", failure.code.rawValue)])
        }
        if transaction == nil { record.transactionWrote(nil) }
        record.finished(request: transaction != nil)
        return true
    }

    /// Counts a request in `shardd_requests_total` and its histogram: kept with the session
    /// while its requests repeat one op and outcome, and added to the shared series when the
    /// series changes, 64 are kept, or the session waits for its next request (`flushMetrics`).
    /// Pipelined requests so cost the shared counters (atomics and a lock other threads
    /// touch too) one visit per batch; a scrape sees every request a waiting session answered.
    private func countRequest(op: String, code: String, nanoseconds: Int64) {
        if let series = lastSeries, series.op != op || series.code != code {
            flushMetrics()
            lastSeries = nil
        }
        if lastSeries == nil { lastSeries = context.metrics.series(op: op, code: code) }
        uncounted.append(nanoseconds)
        if uncounted.count >= 64 { flushMetrics() }
    }

    /// Adds the requests kept by `countRequest` to the shared metrics.
    func flushMetrics() {
        guard let series = lastSeries, !uncounted.isEmpty else { return }
        series.record(uncounted)
        uncounted.removeAll(keepingCapacity: true)
    }

    /// Counts a line that was not a request (no op to run).
    private func recordInvalid(_ code: ErrorCode) {
        context.stats.record(op: "invalid", error: code, microseconds: 0)
        context.metrics.request(op: "invalid", code: code.rawValue, nanoseconds: 0)
    }

    /// Runs a decoded request (`op` is its name, for messages).
    private func execute(_ request: Request, op: String) async throws -> JSONObject {
        if request.isAdmin, !isAdmin {
            throw ShardError(.forbidden, "\(op) is an admin op; uid \(peer.map { String($0.uid) } ?? "unknown") is not in admin_uids")
        }
        switch request {
        case .hello: return hello()
        case .ping: return JSONObject([("pong", .bool(true))])
        case .add(let request): return try await add(request)
        case .get(let request): return try await get(request)
        case .query(let request): return try await query(request)
        case .count(let request): return try await count(request)
        case .update(let request): return try await update(request)
        case .delete(let request): return try await delete(request)
        case .load(let request): return try await load(request)
        case .refresh(let request): return try await refresh(request)
        case .begin: return begin()
        case .commit(let label): return try await commit(label: label)
        case .transactionStatus(let label):
            let committed = try await context.commits.status(of: label, now: ServerContext.now())
            return JSONObject([("outcome", .string(committed ? "committed" : "not_committed"))])
        case .transactions: return JSONObject([("transactions", .array(context.commits.transactions()))])
        case .placement(let model):
            var answer = context.placement.json(model: model)
            answer.append("config_version", .int(Int64(context.configVersion)))
            return answer
        case .verify(let model): return try await verify(model: model)
        case .rebalance(let plan): return try await rebalance(plan: plan)
        case .move(let request): return try await move(request)
        case .jobs(let job): return try jobs(job)
        case .rollback: return await rollback()
        case .expunge(let key): return expunge(key)
        case .expungeAll: return expungeAll()
        case .identityKeys(let model): return identityKeys(model: model)
        case .updateWhere(let request): return try await updateWhere(request)
        case .deleteWhere(let request): return try await deleteWhere(request)
        case .sql(let request): return try await rawSQL(request)
        case .aggregate(let request): return try await aggregate(request)
        case .subscribe(let request): return subscribe(request)
        case .unsubscribe(let subscription): return unsubscribe(subscription)
        case .shards: return JSONObject([("shards", .array(await shardReports())), ("config_version", .int(Int64(routed.version)))])
        case .sessions: return sessionReports()
        case .keys(let request): return keys(request)
        case .stats: return stats()
        case .reload: return try await reload()
        case .metrics: return JSONObject([("text", .string(context.metricsText()))])
        case .config: return runningConfiguration()
        }
    }

    private func hello() -> JSONObject {
        JSONObject([
            ("server", .string(ServerContext.serverName)),
            ("version", .string(ServerContext.version)),
            ("protocol", .int(1)),
            ("session", .int(Int64(id))),
            ("shards", .array(configuration.shards.map { .string($0.name) })),
            ("models", .array(configuration.models.map { .string($0.name) })),
            ("config_version", .int(Int64(routed.version))),
        ])
    }

    /// `idle_transaction_timeout_ms` passed with the transaction open: it is rolled back (and
    /// the identity map emptied, as by `rollback`); the next request learns it once.
    func abortIdleTransaction() async {
        guard transaction != nil else { return }
        let shards = await rollBackForTheServer()
        let limit = configuration.server.idleTransactionTimeoutMs
        abortedTransaction = ShardError(
            .transactionAborted,
            "the server rolled back this session's transaction on \(shards.joined(separator: ", ")): it was idle for more than \(limit) ms (idle_transaction_timeout_ms); nothing of it was committed",
            details: [("shards", .array(shards.map(JSONValue.string)))])
        context.logger.warning("session \(id): rolled back a transaction idle for more than \(limit) ms on \(shards.joined(separator: ", "))")
    }

    /// A move's switch rolled back the open transaction (`transaction_aborted`, reason `moved`),
    /// if it wrote to one of the error's `groups` (it may have ended, and another begun, since).
    func abortTransaction(_ error: ShardError) async {
        guard transaction != nil else { return }
        let groups = error.details["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard record.transactionWrote(toAnyOf: groups) else { return }
        let shards = await rollBackForTheServer()
        var error = error
        error.details.append("shards", .array(shards.map(JSONValue.string)))
        abortedTransaction = error
        context.logger.warning("session \(id): rolled back its transaction on \(shards.joined(separator: ", ")): \(error.message)")
    }

    /// The open transaction rolled back on the server's initiative, as by `rollback`: the
    /// shards it had touched.
    private func rollBackForTheServer() async -> [String] {
        let shards = transaction?.shardNames(in: context.shardOrder) ?? []
        await abandonTransaction()
        identityMap.removeAll()
        return shards
    }

    static func movedAbort(_ groups: [String]) -> ShardError {
        ShardError(.transactionAborted,
                   "the server rolled back this session's transaction: a unit of \(groups.joined(separator: ", ")) it wrote to is switching shards (move_switch_timeout_ms); nothing of it was committed, run it again",
                   details: [("reason", .string("moved")), ("groups", .array(groups.map(JSONValue.string)))])
    }

    /// Ends the session: an open transaction is rolled back, the identity map dropped.
    func close() async {
        context.feed.endAll(session: id)
        outbox.close()
        await abandonTransaction()
        identityMap.removeAll()
        context.unregister(record)
    }
}

extension ShardError {
    /// A shard's failure as the protocol reports it, naming the shard.
    init(shardError error: BackendError) {
        self.init(error.code, "shard \(error.shard): \(error.message)", details: [("shard", .string(error.shard))])
    }
}
