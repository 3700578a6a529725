import Foundation
import Glibc

/// A TCP socket on 127.0.0.1 that is listening but never accepts or answers.
package final class SilentListener: Sendable {
    package let fd: Int32
    package let port: UInt16

    package init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, bound else {
            if fd >= 0 { Glibc.close(fd) }
            throw TestSetupError("cannot listen on 127.0.0.1")
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    package func close() {
        Glibc.close(fd)
    }
}

/// TCP ports on 127.0.0.1 for servers the tests start.
package enum LoopbackPort {
    /// A port nothing listens on now, chosen by the kernel. Another process may take it before
    /// the caller binds it, so a caller that can retry should (`OutageTests.Cluster` does).
    package static func free() throws -> Int {
        let listener = try SilentListener()
        defer { listener.close() }
        return Int(listener.port)
    }
}
