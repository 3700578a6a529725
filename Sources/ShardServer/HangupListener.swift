import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP, as a service of the daemon's `ServiceGroup`. Reloading shards.conf is a later
/// feature; until then the signal is noted, not fatal (its default action ends the process).
package struct HangupListener: Service {
    private let logger: Logger
    private let hangups: UnixSignalsSequence

    /// Traps SIGHUP at once, before the daemon serves anything.
    package init(logger: Logger) async {
        self.logger = logger
        self.hangups = await UnixSignalsSequence(trapping: .sighup)
    }

    package func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            logger.notice("SIGHUP received: reloading shards.conf is not supported yet; restart shardd to apply changes")
        }
    }
}
