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
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return nil }
            guard n > 0 else { throw TestSetupError("read: \(String(cString: strerror(errno))) (no answer in time?)") }
            pending.append(contentsOf: buffer[..<n])
        }
    }

    /// Sends one request and returns its parsed response.
    package func request(_ line: String) throws -> JSONValue {
        try send(line)
        guard let answer = try receiveLine() else { throw TestSetupError("the server closed the connection") }
        return try JSONValue.parse(answer)
    }
}
