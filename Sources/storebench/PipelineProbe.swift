import CLibPQ
import ShardCore
import Foundation

/// Point selects on one libpq connection in pipeline mode (PostgreSQL 14+), for issue 19's
/// target 4: how many selects one connection answers per second when `depth` of them leave
/// in one write and their results come back in one read, against one round trip each.
///
/// Plain libpq on purpose: it measures the protocol's floor, before any choice of how the
/// daemon would drive it.
struct PipelineProbe {
    let uri: String
    /// The table and statement of storebench's point selects.
    let sql: String
    let rowCount: Int

    enum ProbeError: Error, CustomStringConvertible {
        case libpq(String)
        var description: String { switch self { case .libpq(let message): "libpq: \(message)" } }
    }

    /// Selects per second at each depth; depth 1 is one round trip per select.
    func run(selects: Int, depths: [Int]) throws -> [(depth: Int, seconds: Double)] {
        guard let connection = PQconnectdb(uri), PQstatus(connection) == CONNECTION_OK else {
            throw ProbeError.libpq("cannot connect to \(uri)")
        }
        defer { PQfinish(connection) }
        let prepared = PQprepare(connection, "probe", sql, 1, nil)
        defer { PQclear(prepared) }
        guard PQresultStatus(prepared) == PGRES_COMMAND_OK else { throw ProbeError.libpq(message(connection)) }
        var generator = SplitMix64(seed: 13)
        var out: [(depth: Int, seconds: Double)] = []
        for depth in depths {
            guard PQenterPipelineMode(connection) == 1 else { throw ProbeError.libpq(message(connection)) }
            let start = DispatchTime.now().uptimeNanoseconds
            var done = 0
            while done < selects {
                let batch = min(depth, selects - done)
                for _ in 0..<batch {
                    let id = String(Int(generator.next() % UInt64(rowCount)) + 1)
                    let sent = id.withCString { value -> Int32 in
                        var values: [UnsafePointer<CChar>?] = [value]
                        return PQsendQueryPrepared(connection, "probe", 1, &values, nil, nil, 1)
                    }
                    guard sent == 1 else { throw ProbeError.libpq(message(connection)) }
                }
                guard PQpipelineSync(connection) == 1 else { throw ProbeError.libpq(message(connection)) }
                for _ in 0..<batch {
                    // Each query's result, then the NULL that ends it.
                    guard let result = PQgetResult(connection) else { throw ProbeError.libpq("a result is missing") }
                    let rows = PQntuples(result)
                    let status = PQresultStatus(result)
                    PQclear(result)
                    guard status == PGRES_TUPLES_OK, rows == 1 else { throw ProbeError.libpq("a row is missing: \(message(connection))") }
                    PQclear(PQgetResult(connection))
                }
                guard let sync = PQgetResult(connection) else { throw ProbeError.libpq("the pipeline's sync is missing") }
                let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
                PQclear(sync)
                guard synced else { throw ProbeError.libpq("the pipeline did not sync: \(message(connection))") }
                done += batch
            }
            out.append((depth, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            guard PQexitPipelineMode(connection) == 1 else { throw ProbeError.libpq(message(connection)) }
        }
        return out
    }

    private func message(_ connection: OpaquePointer) -> String {
        PQerrorMessage(connection).map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown"
    }
}
