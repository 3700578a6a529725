import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP, as a service of the daemon's `ServiceGroup`: each one reloads shards.conf
/// (protocol.md 14); the outcome is logged by the reload.
package struct HangupListener: Service {
    private let hangups: UnixSignalsSequence
    private let context: ServerContext?

    /// Traps SIGHUP at once, before the daemon does anything slow: the signal's default
    /// action would end it. Until `serving` gives it the daemon, nothing listens.
    package static func trap() async -> HangupListener {
        HangupListener(hangups: await UnixSignalsSequence(trapping: .sighup), context: nil)
    }

    /// The listener, reloading `context` on each SIGHUP.
    package func serving(_ context: ServerContext) -> HangupListener {
        HangupListener(hangups: hangups, context: context)
    }

    package func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            guard let context else { continue }
            _ = await context.reload(trigger: "SIGHUP")
        }
    }
}
