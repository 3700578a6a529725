import Foundation
import ShardClient
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// Connecting, finding the socket, and losing the connection.
@Suite struct ConnectionTests {
    @Test func aMissingSocketNamesThePathAndHowToStartTheDaemon() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/shardd.sock"
        do {
            _ = try await ShardSession.connect(socketPath: path)
            Issue.record("connected to nothing")
        } catch let error as ShardError {
            #expect(error.code == .cannotConnect)
            #expect(error.message == "no shardd listening at \(path); start it with `swift run shardd`")
            #expect(error.socketPath == path)
        }
    }

    @Test func aStoppedDaemonIsAConnectionLossNamingThePath() async throws {
        let daemon = try Daemon()
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        try await session.ping()
        #expect(daemon.stop() == 0)
        do {
            try await session.ping()
            Issue.record("a stopped daemon answered")
        } catch let error as ShardError {
            #expect(error.code == .connectionLost)
            #expect(error.message.hasPrefix("lost the connection to shardd at \(daemon.socketPath)"))
        }
        // Every later request fails the same way, at once.
        await #expect(throws: ShardError.self) { try await session.query(WeatherLocation.self).all() }
    }

    @Test func closingTheSessionFailsLaterRequests() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        _ = try await session.add(WeatherLocation(continent: "Asia", city: "Tokyo"))
        session.close()
        do {
            try await session.ping()
            Issue.record("a closed session answered")
        } catch let error as ShardError {
            #expect(error.code == .connectionLost)
            #expect(error.message.contains("closed"))
        }
        // The daemon rolled back what was not committed.
        let other = try await ShardSession.connect(socketPath: daemon.socketPath)
        #expect(try await other.query(WeatherLocation.self).count() == 0)
    }

    @Test func droppingTheSessionClosesItsConnection() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let observer = try await ShardSession.connect(socketPath: daemon.socketPath)
        var dropped: ShardSession? = try await ShardSession.connect(socketPath: daemon.socketPath)
        let droppedNumber = dropped!.server.session
        try await dropped!.ping()
        dropped = nil
        func live() async throws -> [Int64] {
            try await observer.dynamic.sessions()["sessions"]?.arrayValue?.compactMap { $0["session"]?.intValue } ?? []
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while try await live().contains(droppedNumber), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let sessions = try await live()
        #expect(!sessions.contains(droppedNumber))
        #expect(sessions.contains(observer.server.session))
    }

    @Test func aConnectionBeyondTheLimitGetsTooManyConnections() async throws {
        let daemon = try Daemon(config: DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: "[server]\nmax_connections = 1\n"))
        defer { daemon.stop() }
        // The daemon's readiness probe (Daemon.init) may still hold the one connection for a moment.
        var first: ShardSession?
        for _ in 0..<250 where first == nil {
            do {
                first = try await ShardSession.connect(socketPath: daemon.socketPath)
            } catch let error as ShardError where error.code == .tooManyConnections {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let session = try #require(first)
        do {
            _ = try await ShardSession.connect(socketPath: daemon.socketPath)
            Issue.record("a second connection was served")
        } catch let error as ShardError {
            #expect(error.code == .tooManyConnections, "\(error)")
        }
        try await session.ping()
    }

    @Test func aLineTooLongEndsTheSession() async throws {
        let daemon = try Daemon(config: DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: "[server]\nmax_line_bytes = 256\n"))
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let long = String(repeating: "x", count: 300)
        await #expect(throws: ShardError.self) {
            do {
                try await session.add(WeatherLocation(continent: "Asia", city: long))
            } catch let error as ShardError {
                #expect(error.code == .lineTooLong)
                throw error
            }
        }
        do {
            try await session.ping()
            Issue.record("the daemon went on after line_too_long")
        } catch let error as ShardError {
            #expect(error.code == .connectionLost)
        }
    }

    @Test func theSocketPathComesFromTheEnvironmentOrShardsConf() throws {
        let directory = TemporaryDirectory()
        #expect(ShardSession.defaultSocketPath(environment: ["SHARDD_SOCKET": "/run/x.sock"], currentDirectory: directory.path) == "/run/x.sock")
        #expect(ShardSession.defaultSocketPath(environment: ["SHARDD_SOCKET": "x.sock"], currentDirectory: "/srv") == "/srv/x.sock")
        // No shards.conf: the daemon's default, ./shardd.sock.
        #expect(ShardSession.defaultSocketPath(environment: [:], currentDirectory: directory.path) == directory.path + "/shardd.sock")
        // shards.conf: [server] socket, relative to the file's directory.
        try """
            # the daemon
            [server]
            socket_mode = "0600"
            socket = "run/shardd.sock"   # relative

            [shards.asia]
            url = "sqlite:data/asia.db"
            """.write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        #expect(ShardSession.defaultSocketPath(environment: [:], currentDirectory: directory.path) == directory.path + "/run/shardd.sock")
        try "[server]\nsocket = '/tmp/literal.sock'\n".write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        #expect(ShardSession.defaultSocketPath(environment: [:], currentDirectory: directory.path) == "/tmp/literal.sock")
        // A shards.conf without the key: the default name beside it.
        try "[shards.asia]\nurl = \"sqlite:a.db\"\nsocket = \"not/this.sock\"\n".write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        #expect(ShardSession.defaultSocketPath(environment: [:], currentDirectory: directory.path) == directory.path + "/shardd.sock")
    }

    @Test func connectingThroughTheDaemonsShardsConf() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let path = ShardSession.defaultSocketPath(environment: [:], currentDirectory: daemon.directory.path)
        #expect(path == daemon.socketPath)
        let session = try await ShardSession.connect(socketPath: path)
        #expect(session.socketPath == daemon.socketPath)
        try await session.ping()
    }
}
