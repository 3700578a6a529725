#if SHARDD_FAULTS
import Glibc
import Synchronization
#endif

/// The fault points of protocol.md 6.2, for crash tests. In a build made with
/// `-Xswiftc -DSHARDD_FAULTS`, the first time the daemon passes a point named in
/// `SHARDD_FAULT` (one name, or several separated by commas) it kills itself with SIGKILL.
/// Without that flag, this compiles to nothing and the variable is ignored.
///
/// One extension, for tests that need something to happen at a point rather than a death:
/// `SHARDD_FAULT_HOLD=point:path` makes the daemon wait at `point` for as long as the file
/// at `path` exists (fault builds only; docs/protocol.md).
package enum FaultPoint {
    package static let commitAfterPrepare = "commit.after_prepare"
    package static let commitAfterDecision = "commit.after_decision"
    package static let commitAfterFirstShard = "commit.after_first_shard"
    package static let migrateAfterFirstShard = "migrate.after_first_shard"
    package static let moveAfterCopy = "move.after_copy"
    package static let moveAfterSwitch = "move.after_switch"
    /// Hold points for `/health` tests (docs/protocol.md): the daemon has started everything
    /// but the socket (health says "starting"), and it is stopping with its sessions not yet
    /// finished (health says "stopping").
    package static let startBeforeServing = "start.before_serving"
    package static let stopBeforeSessionsEnd = "stop.before_sessions_end"

    #if SHARDD_FAULTS
    private static let environment: [String: String] = {
        var out: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") { out[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
            entry += 1
        }
        return out
    }()

    private static let armed: Set<String> = Set((environment["SHARDD_FAULT"] ?? "").split(separator: ",").map {
        String($0).trimmingCharacters()
    })

    private static let hold: (point: String, path: String)? = {
        guard let text = environment["SHARDD_FAULT_HOLD"], let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }()
    #endif

    /// Passes the point: dies here when it is armed (fault builds only).
    @inline(__always)
    package static func reach(_ point: String) async {
        #if SHARDD_FAULTS
        if armed.contains(point) {
            let message = "shardd: fault point \(point): SIGKILL\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            kill(getpid(), SIGKILL)
        }
        if let hold, hold.point == point {
            let message = "shardd: fault point \(point): holding while \(hold.path) exists\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            while access(hold.path, F_OK) == 0 { try? await Task.sleep(for: .milliseconds(20)) }
        }
        #endif
    }

    /// Whether the point is armed (fault builds only; always false otherwise).
    package static func isArmed(_ point: String) -> Bool {
        #if SHARDD_FAULTS
        return armed.contains(point)
        #else
        return false
        #endif
    }
}

#if SHARDD_FAULTS
extension String {
    fileprivate func trimmingCharacters() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
#endif
