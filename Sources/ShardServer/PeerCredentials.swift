import Glibc
import NIOCore

/// The process at the other end of a Unix socket, as the kernel reports it (SO_PEERCRED):
/// never what the client says about itself.
struct PeerCredentials: Equatable, Sendable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32

    /// Linux's `struct ucred` (pid_t, uid_t, gid_t), which Swift's Glibc module does not
    /// export without _GNU_SOURCE.
    private struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// `SO_PEERCRED` on Linux.
    private static let peerCredentialsOption: Int32 = 17

    /// The credentials of the peer of the connected socket `fd`, or nil if the kernel
    /// cannot tell.
    init?(socket fd: Int32) {
        var credentials = UCred()
        var length = socklen_t(MemoryLayout<UCred>.size)
        guard getsockopt(fd, SOL_SOCKET, PeerCredentials.peerCredentialsOption, &credentials, &length) == 0,
              length == socklen_t(MemoryLayout<UCred>.size)
        else { return nil }
        self.init(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid)
    }

    /// The credentials of a connected channel's peer, read on its event loop; nil when the
    /// kernel cannot tell (the peer is then treated as unknown and refused).
    static func of(_ channel: Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(peerCredentialsOption))
        return future.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }.recover { _ in nil }
    }

    init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}
