import Foundation
import ShardClient

/// `weather load --check-writes`: every report that an answered add and commit wrote, read
/// back by its key after the run (following `moved` to the key it has after a move), and
/// compared with what was written.
struct WriteCheck: Sendable {
    var checked = 0
    /// Keys that found no row.
    var missing: [IdentityKey] = []
    /// Keys whose row has other values than written.
    var changed: [IdentityKey] = []
    /// Reads that followed a `moved` answer.
    var followedMoves = 0

    var passed: Bool { missing.isEmpty && changed.isEmpty }

    static func run(_ writes: [Stored<Report>], on session: ShardSession) async throws -> WriteCheck {
        var check = WriteCheck()
        for written in writes {
            check.checked += 1
            var key = written.key
            var found: Stored<Report>?
            for _ in 0..<4 {
                do {
                    found = try await session.get(key, as: Report.self, fresh: true)
                    break
                } catch let error as ShardError where error.code == .moved {
                    guard let now = error.details["key"], let next = try? IdentityKey(json: now) else { break }
                    key = next
                    check.followedMoves += 1
                }
            }
            guard let found else {
                check.missing.append(written.key)
                continue
            }
            let same = found.value.locationID == written.value.locationID && found.value.temperature == written.value.temperature
                && found.value.reportTime.map(Timestamp.init) == written.value.reportTime.map(Timestamp.init)
            if !same { check.changed.append(written.key) }
        }
        return check
    }

    var json: JSONValue {
        .object(["checked": .int(Int64(checked)), "missing": .array(missing.prefix(100).map(\.json)),
                 "changed": .array(changed.prefix(100).map(\.json)), "followed_moves": .int(Int64(followedMoves))])
    }

    var text: String {
        "writes read back: \(ProgressBar.count(checked)), missing \(missing.count), changed \(changed.count)"
            + (followedMoves > 0 ? ", \(ProgressBar.count(followedMoves)) found after a move" : "")
    }
}
