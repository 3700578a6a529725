import Synchronization

/// Whether the daemon is starting (recovering, migrating), serving, or stopping: what
/// `GET /health` answers (200 only while serving).
package final class ServingPhase: Sendable {
    package enum Phase: Int, Sendable {
        case starting, serving, stopping

        package var name: String {
            switch self {
            case .starting: "starting"
            case .serving: "serving"
            case .stopping: "stopping"
            }
        }
    }

    private let value = Atomic<Int>(Phase.starting.rawValue)

    package init() {}

    package var now: Phase { Phase(rawValue: value.load(ordering: .relaxed)) ?? .starting }

    package func enter(_ phase: Phase) {
        value.store(phase.rawValue, ordering: .relaxed)
    }
}
