import Foundation
import ShardCore
import ShardProtocol

/// A blocking client for the line protocol, for tests: one Unix socket, lines out, lines in,
/// with a receive timeout so that a broken server fails a test instead of hanging it.
package final class LineClient {
    private let fd: Int32
    private var pending: [UInt8] = []

    package init(socketPath: String, timeoutSeconds: Int = 30) throws {
        // `fd` is set only once connected: a throwing init of a fully initialised class
        // still runs deinit, whose close would then hit a descriptor number that another
        // thread may already have reused.
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSetupError("socket(): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw TestSetupError("cannot connect to \(socketPath): \(reason)")
        }
        fd = descriptor
    }

    deinit { close(fd) }

    /// Sends raw bytes (one or more lines, or broken input).
    package func send(raw bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a peer that closed is an error here, not a SIGPIPE for the tests.
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestSetupError("write: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    package func send(_ line: String) throws {
        try send(raw: Array((line + "\n").utf8))
    }

    /// The next response line, or nil when the server closed the connection.
    package func receiveLine() throws -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            guard try readMore() else { return nil }
        }
    }

    /// Reads what the socket has into `pending`; false when the server closed the connection.
    private func readMore() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { return false }
        guard n > 0 else { throw TestSetupError("read: \(String(cString: strerror(errno))) (no answer in time?)") }
        pending.append(contentsOf: buffer[..<n])
        return true
    }

    /// Event lines (protocol.md 12) read while waiting for responses, oldest first.
    package var events: [JSONValue] = []

    /// Sends one request and returns its parsed response; event lines met on the way are
    /// kept in `events`.
    package func request(_ line: String) throws -> JSONValue {
        try send(line)
        return try response()
    }

    /// The next response line parsed, event lines before it kept in `events`.
    package func response() throws -> JSONValue {
        while true {
            guard let answer = try receiveLine() else { throw TestSetupError("the server closed the connection") }
            let parsed = try JSONValue.parse(answer)
            guard LineClient.isEvent(parsed) else { return parsed }
            events.append(parsed)
        }
    }

    /// An event line: it has `event` and never `ok`.
    package static func isEvent(_ line: JSONValue) -> Bool { line["event"] != nil && line["ok"] == nil }

    /// The next event (kept ones first), waiting at most `seconds` for one; nil when none came.
    /// A response line read meanwhile is a test failure (nothing was asked).
    package func nextEvent(within seconds: Double) throws -> JSONValue? {
        if !events.isEmpty { return events.removeFirst() }
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if pending.contains(UInt8(ascii: "\n")) {
                let parsed = try JSONValue.parse(try receiveLine()!)
                guard LineClient.isEvent(parsed) else { throw TestSetupError("a response came with no request: \(parsed)") }
                return parsed
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000) + 1) > 0 else { continue }
            guard try readMore() else { throw TestSetupError("the server closed the connection") }
        }
    }

    /// Every event that comes until none has come for `quiet` seconds.
    package func drainEvents(quiet: Double = 0.3) throws -> [JSONValue] {
        var out: [JSONValue] = []
        while let event = try nextEvent(within: quiet) { out.append(event) }
        return out
    }
}
