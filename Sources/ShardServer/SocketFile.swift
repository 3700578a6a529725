import Glibc

/// The Unix socket's path on disk: what to do with a file already there, and its mode.
enum SocketFile {
    /// Why the socket cannot be served, saying what to do.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Makes `path` free to bind: a stale socket (nobody accepts on it) is removed; a live
    /// one, or a file that is not a socket, is an error naming what is there.
    static func clear(_ path: String) throws(Failure) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw Failure(description: "\(path) exists and is not a socket; remove it or choose another [server] socket")
        }
        if let pid = listener(at: path) {
            throw Failure(description: "another process (pid \(pid)) is listening on \(path); stop it, or give this daemon another [server] socket")
        }
        unlink(path)
    }

    /// The pid of the process accepting connections at `path`, or nil when nobody does.
    static func listener(at path: String) -> pid_t? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        guard connected else { return nil }
        return PeerCredentials(socket: fd)?.pid ?? -1
    }

    static func setMode(_ path: String, _ mode: UInt32) throws(Failure) {
        guard chmod(path, mode_t(mode)) == 0 else {
            throw Failure(description: "cannot set mode \(String(mode, radix: 8)) on \(path): \(String(cString: strerror(errno)))")
        }
    }
}
