import ShardCore
import ShardProtocol
import ShardStore
import ShardTransport

/// A queued get looked at before its turn (`Session.readAhead`): parsed and decoded once, with
/// the reads started for it.
struct ReadAhead {
    /// The snapshot the get was decoded with: after a move's switch or a reload it is decoded
    /// again and reads again.
    let routed: RoutedConfiguration
    let envelope: RequestEnvelope
    let request: GetRequest
    /// By shard name: the batching shards among the get's candidates; none when the identity
    /// map knows the row or no candidate batches.
    let reads: [String: PendingRead]
}

extension Session {
    /// Starts, on the shards that batch their reads (PostgreSQL), the reads of the gets queued
    /// right behind the get being handled, so that a pipelining client's gets go out in one
    /// batch rather than one round trip each. Answers still leave in order, each from its
    /// own turn of `get`, which finds its read under its number (`takeReadAhead`).
    ///
    /// Only outside a transaction, with no move under way, and only across a run of gets
    /// (`ReadAheadWindow`): each read then sees what was committed before the client asked
    /// for it, as protocol.md 4 promises of a read outside a transaction, and the session's
    /// own writes are never passed.
    func readAhead() {
        guard routed.batchesReads, transaction == nil, abortedTransaction == nil, !context.gate.isActive,
              let numbers = readWindow.next(current: requestNumber, queued: .max) else { return }
        let frames = upcoming((numbers.lowerBound - requestNumber - 1)..<(numbers.upperBound - requestNumber))
        // Planned first, then handed to each shard at once: they leave together.
        var planned: [(number: Int, envelope: RequestEnvelope, request: GetRequest, shards: [String])] = []
        var statements: [String: (shard: Shard, statements: [Statement])] = [:]
        for (number, frame) in zip(numbers, frames) {
            let decoded = queuedGet(frame)
            readWindow.looked(at: number, isGet: decoded != nil)
            guard let (envelope, request) = decoded else { break }
            let (model, key) = (request.model, request.primaryKey)
            var names: [String] = []
            // Known to the identity map: its turn answers from there (or says it is ambiguous).
            if request.fresh || !request.shards.contains(where: { identityMap.contains(IdentityKey(model: model.name, primaryKey: key, token: $0)) }) {
                for name in request.shards {
                    guard let shard = context.shards.shard(named: name), shard.dialect.batchesReads else { continue }
                    statements[name, default: (shard, [])].statements.append(shard.pointSelects.statement(model, key))
                    names.append(name)
                }
            }
            planned.append((number, envelope, request, names))
        }
        var pending = statements.mapValues { $0.shard.readSoon($0.statements).makeIterator() }
        var started = 0
        for plan in planned {
            var reads: [String: PendingRead] = [:]
            for name in plan.shards { reads[name] = pending[name]!.next()! }
            readsAhead[plan.number] = ReadAhead(routed: routed, envelope: plan.envelope, request: plan.request, reads: reads)
            started += reads.count
        }
        if started > 0 { context.metrics.count("shardd_reads_ahead_total", by: started) }
    }

    /// What was read ahead for the request being handled, if anything.
    func takeReadAhead() -> ReadAhead? {
        let ahead = readsAhead.removeValue(forKey: requestNumber)
        if readsAhead.count > 2 * ReadAheadWindow.depth {
            // Left by gets that never reached their turn (a connection closed mid-pipeline): dropped.
            readsAhead = readsAhead.filter { $0.key > requestNumber }
        }
        return ahead
    }

    /// The queued frame as a get, parsed and decoded as its turn would; nil for anything else.
    private func queuedGet(_ frame: Frame) -> (RequestEnvelope, GetRequest)? {
        guard case .line(let line) = frame,
              let json = try? line.withUnsafeReadableBytes({ bytes throws(JSONParseError) in try JSONValue.parse(bytes) }),
              let envelope = try? RequestEnvelope(json), envelope.op == "get" else { return nil }
        var arguments = ArgumentReader(envelope, configuration: configuration, shardOrder: routed.shardOrder)
        guard case .get(let request)? = try? Request.decode(&arguments) else { return nil }
        return (envelope, request)
    }
}
