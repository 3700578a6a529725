import Foundation
import Logging
import ServiceLifecycle
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing
@testable import ShardServer

/// The daemon's services (the socket server, the shard monitor, the SIGHUP listener) in one
/// `ServiceGroup`, as shardd runs them: they serve, then all end on graceful shutdown.
@Suite struct ServiceGroupTests {
    let directory = TemporaryDirectory()

    @Test func theServicesServeAndEndTogetherOnGracefulShutdown() async throws {
        let text = DefaultConfiguration.text.replacing("socket = \"shardd.sock\"", with: "socket = \"s.sock\"")
        let configuration = try ConfigLoader.parse(text, file: "shards.conf", baseDirectory: directory.path, environment: [:])
        let shards = ShardSet(configuration: configuration)
        defer { shards.close() }
        _ = await shards.start()
        let logger = Logger(label: "test")
        let context = try ServerContext(configuration: configuration, shards: shards, logger: logger)
        let services: [any Service] = [ShardMonitor(shards: shards), (await HangupListener.trap()).serving(context), Server(context: context)]
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [], logger: logger)
        let running = Task { try await group.run() }

        let socket = configuration.server.socket
        var client: LineClient?
        for _ in 0..<500 where client == nil {
            client = try? LineClient(socketPath: socket, timeoutSeconds: 5)
            if client == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let answer = try #require(client).request(#"{"id":1,"op":"ping"}"#)
        #expect(answer["pong"] == .bool(true))
        client = nil

        let start = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await running.value
        // The monitor wakes from its sleep, the listener stops, the server removes its socket.
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(!FileManager.default.fileExists(atPath: socket))
    }
}
