import Glibc

/// The process at the other end of a Unix socket, as the kernel reports it (SO_PEERCRED):
/// never what the client says about itself.
struct PeerCredentials: Equatable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32

    /// Linux's `struct ucred` (pid_t, uid_t, gid_t), which Swift's Glibc module does not
    /// export without _GNU_SOURCE.
    private struct UCred {
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

    init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}
