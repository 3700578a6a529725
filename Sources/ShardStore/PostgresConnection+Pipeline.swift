import CLibPQ
import ShardCore
import ShardProtocol

/// Reads sent together in libpq's pipeline mode (PostgreSQL 14+): one write, one sync, the
/// results read back in order, so that a batch costs about one round trip however many
/// reads it holds (issue 19, target 4: 62-78k point selects/s at 16 a batch against 8-10k
/// one round trip each, storebench's `PipelineProbe`).
extension PostgresConnection {
    /// The statements up to the sync run in one implicit transaction: reads of one snapshot,
    /// taken after every one of them was asked for. A statement that fails aborts those after
    /// it (PGRES_PIPELINE_ABORTED), which then run again on their own; so does one whose
    /// prepared statement was deallocated behind the cache (SQLSTATE 26000).
    package func runBatch(_ statements: [Statement]) -> [Result<QueryResult, BackendError>] {
        guard statements.count > 1, let handle, !broken, !isInTransaction else {
            return statements.map { statement in Result { () throws(BackendError) in try run(statement) } }
        }
        var results = [Result<QueryResult, BackendError>?](repeating: nil, count: statements.count)
        // Prepared first, outside the pipeline (blocking, once per statement text).
        var sends: [(index: Int, name: String, key: PreparedKey, parameters: [(type: PostgresType, bytes: [UInt8]?)])] = []
        for (index, statement) in statements.enumerated() {
            do throws(BackendError) {
                let parameters = try statement.storableParams(shard: shard).map(\.postgresParameter)
                let key = PreparedKey(sql: statement.sql, types: parameters.map(\.type.rawValue))
                sends.append((index, try preparedName(for: key, handle), key, parameters))
            } catch {
                results[index] = .failure(error)
                if error.cause == .unreachable { return results.map { $0 ?? .failure(error) } }
            }
        }
        guard PQenterPipelineMode(handle) == 1 else {
            // Not in a state to pipeline (it should always be, outside a transaction): one by one.
            for send in sends { results[send.index] = Result { () throws(BackendError) in try run(statements[send.index]) } }
            return results.map { $0! }
        }
        var sent: [(index: Int, key: PreparedKey)] = []
        for send in sends {
            let format: Int32 = statements[send.index].resultTypes == nil ? 0 : 1
            let ok = PostgresConnection.withParameters(send.parameters) { count, values, lengths, formats in
                PQsendQueryPrepared(handle, send.name, count, values, lengths, formats, format)
            }
            guard ok == 1 else { break }
            sent.append((send.index, send.key))
        }
        var rerun: [Int] = sends.dropFirst(sent.count).map(\.index)
        var lost: BackendError?
        if PQpipelineSync(handle) != 1 { lost = failure(nil, sql: "pipeline sync") }
        for (index, key) in sent where lost == nil {
            guard let result = PQgetResult(handle) else {
                lost = failure(nil, sql: statements[index].sql)
                break
            }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
                results[index] = Result { () throws(BackendError) in try decode(result, statements[index]) }
            case PGRES_PIPELINE_ABORTED:
                rerun.append(index)
            default:
                if PostgresConnection.state(of: result) == "26000" {
                    forget(key)
                    rerun.append(index)
                } else {
                    results[index] = .failure(failure(result, sql: statements[index].sql))
                }
            }
            PQclear(result)
            // Each query's results end with a NULL.
            if let extra = PQgetResult(handle) {
                PQclear(extra)
                lost = BackendError(.unreachable, shard: shard, "the pipeline answered out of step", sql: statements[index].sql)
            }
        }
        if lost == nil {
            let sync = PQgetResult(handle)
            if PQresultStatus(sync) != PGRES_PIPELINE_SYNC {
                lost = BackendError(.unreachable, shard: shard, "the pipeline did not end with its sync", sql: "pipeline sync")
            }
            PQclear(sync)
        }
        if lost == nil, PQexitPipelineMode(handle) != 1 {
            lost = BackendError(.unreachable, shard: shard, "the pipeline could not end: \(PostgresConnection.errorMessage(handle))", sql: "pipeline sync")
        }
        if let lost {
            // Out of step with the server: the pool drops this connection; the reads not
            // answered fail as the lost connection they met.
            broken = true
            return results.map { $0 ?? .failure(lost) }
        }
        for index in rerun.sorted() {
            results[index] = Result { () throws(BackendError) in try run(statements[index]) }
        }
        return results.map { $0! }
    }
}
