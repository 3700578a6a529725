import Dispatch
import Glibc
import ShardCore
import Synchronization

/// Where the decisions of cross-shard commits are kept. One small interface, so that a
/// catalog shard can hold them later (several daemons sharing PostgreSQL shards) without
/// changing the coordinator.
package protocol CommitStore: Sendable {
    /// The entries kept, oldest first.
    var entries: [CommitLogEntry] { get }
    /// Appends entries; with `durable`, returns only once they survive a crash of the host.
    func append(_ entries: [CommitLogEntry], durable: Bool) async throws
    /// Keeps only the entries `keep` accepts (compaction), durably. Appends are ordered
    /// before or after it, never lost by it.
    func compact(keeping keep: @escaping @Sendable (CommitLogEntry) -> Bool) async throws
}

/// The commit log in `state_dir` (`commits.log`, `CommitLogFormat`): appended to and
/// fsynced. Appends that arrive while one is being written go together, with one fsync.
package final class CommitLog: CommitStore {
    package let path: String
    /// Whether opening found a torn last entry (and cut it off).
    package let hadTornTail: Bool
    private let queue = DispatchQueue(label: "shardd.commit-log")
    private let state: Mutex<State>

    private struct State {
        var fd: Int32
        var entries: [CommitLogEntry]
        var pending: [(entries: [CommitLogEntry], bytes: [UInt8], durable: Bool, done: CheckedContinuation<Void, Error>)] = []
        var writing = false
    }

    /// A failure of the log file, with the path and the system's reason.
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// Opens (creating it and `state_dir` if missing) the log at `directory/commits.log`.
    /// - Throws: `Failure` when the file cannot be opened, read or written, and
    ///   `CommitLogFormat.Damage` for a log damaged before its end.
    package init(directory: String) throws {
        try StateDirectory.create(directory)
        path = directory + "/commits.log"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        let entries: [CommitLogEntry]
        do {
            let contents = try CommitLogFormat.read(try CommitLog.readAll(fd, path: path))
            entries = contents.entries
            hadTornTail = contents.tornTail
            if contents.validLength < CommitLogFormat.header.count {
                // New, or cut short while it was being made: a header and nothing else.
                try CommitLog.check(ftruncate(fd, 0), "truncate", path)
                try CommitLog.writeAll(fd, CommitLogFormat.header, at: 0, path: path)
                try CommitLog.check(fsync(fd), "fsync", path)
                try StateDirectory.sync(directory)
            } else if contents.tornTail {
                // The last entry's write never finished: no decision. Cut it off so that
                // appends follow whole entries.
                try CommitLog.check(ftruncate(fd, off_t(contents.validLength)), "truncate", path)
                try CommitLog.check(fsync(fd), "fsync", path)
            }
            guard lseek(fd, 0, SEEK_END) >= 0 else { throw Failure(description: "cannot seek \(path): \(String(cString: strerror(errno)))") }
        } catch {
            close(fd)
            throw error
        }
        state = Mutex(State(fd: fd, entries: entries))
    }

    package var entries: [CommitLogEntry] { state.withLock { $0.entries } }

    deinit {
        state.withLock { _ = close($0.fd) }
    }

    package func append(_ entries: [CommitLogEntry], durable: Bool) async throws {
        let bytes = entries.flatMap(CommitLogFormat.frame)
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            let start = state.withLock { state -> Bool in
                state.pending.append((entries, bytes, durable, done))
                defer { state.writing = true }
                return !state.writing
            }
            if start { queue.async { self.drain() } }
        }
    }

    /// Writes what is pending, one write and at most one fsync per round, until nothing is.
    private func drain() {
        while true {
            let (fd, batch) = state.withLock { state -> (Int32, [(entries: [CommitLogEntry], bytes: [UInt8], durable: Bool, done: CheckedContinuation<Void, Error>)]) in
                defer { state.pending = [] }
                if state.pending.isEmpty { state.writing = false }
                return (state.fd, state.pending)
            }
            if batch.isEmpty { return }
            let result = Result { () throws in
                var bytes: [UInt8] = []
                for item in batch { bytes += item.bytes }
                let end = lseek(fd, 0, SEEK_END)
                try CommitLog.writeAll(fd, bytes, at: end, path: path)
                if batch.contains(where: \.durable) { try CommitLog.check(fsync(fd), "fsync", path) }
            }
            if case .success = result {
                state.withLock { state in for item in batch { state.entries += item.entries } }
            }
            for item in batch { item.done.resume(with: result) }
        }
    }

    package func compact(keeping keep: @escaping @Sendable (CommitLogEntry) -> Bool) async throws {
        let path = self.path
        let directory = String(path[..<path.lastIndex(of: "/")!])
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            queue.async {
                done.resume(with: Result { () throws in
                    // On the log's queue: no append runs meanwhile, and all written ones are in.
                    let kept = self.state.withLock { $0.entries.filter(keep) }
                    let bytes = CommitLogFormat.header + kept.flatMap(CommitLogFormat.frame)
                    // A new file, made durable, then renamed over the old one: a crash leaves
                    // one whole log or the other.
                    let temporary = path + ".new"
                    let fd = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                    guard fd >= 0 else { throw Failure(description: "cannot open \(temporary): \(String(cString: strerror(errno)))") }
                    do {
                        try CommitLog.writeAll(fd, bytes, at: 0, path: temporary)
                        try CommitLog.check(fsync(fd), "fsync", temporary)
                        try CommitLog.check(rename(temporary, path), "rename", temporary)
                        try StateDirectory.sync(directory)
                    } catch {
                        close(fd)
                        throw error
                    }
                    self.state.withLock { state in
                        close(state.fd)
                        state.fd = fd
                        state.entries = kept
                    }
                })
            }
        }
    }

    private static func readAll(_ fd: Int32, path: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            guard count >= 0 else { throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            offset += off_t(count)
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: off_t, path: String) throws {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + written, $0.count - written, offset + off_t(written)) }
            guard count > 0 else { throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
            written += count
        }
    }

    private static func check(_ rc: Int32, _ what: String, _ path: String) throws {
        guard rc == 0 else { throw Failure(description: "cannot \(what) \(path): \(String(cString: strerror(errno)))") }
    }
}

/// The daemon's `state_dir`: made when missing; its directory entries made durable.
package enum StateDirectory {
    package static func create(_ path: String) throws {
        var prefix = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw CommitLog.Failure(description: "cannot create directory \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// fsync of the directory itself, so that a file created or renamed in it survives.
    package static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CommitLog.Failure(description: "cannot open directory \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CommitLog.Failure(description: "cannot fsync directory \(path): \(String(cString: strerror(errno)))") }
    }

    /// The id of this `state_dir` (`instance`, made once): a daemon's transactions carry it,
    /// and it recovers only its own.
    package static func instanceID(_ path: String) throws -> String {
        try create(path)
        let file = path + "/instance"
        if let text = try? String(contentsOfFileAtPath: file), let id = text.split(separator: "\n").first,
           !id.isEmpty, id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) {
            return String(id)
        }
        let id = randomHex(bytes: 6)
        try replace(file, with: Array((id + "\n").utf8), in: path)
        return id
    }

    /// Writes `bytes` as the file at `file` (in the directory `path`) all at once: a new file,
    /// fsynced, renamed over the old one, then the directory fsynced. A crash leaves the old
    /// file or the new one, never a mix.
    package static func replace(_ file: String, with bytes: [UInt8], in path: String) throws {
        try create(path)
        let temporary = file + ".new"
        guard writeSynced(temporary, bytes, flags: O_TRUNC), rename(temporary, file) == 0 else {
            throw CommitLog.Failure(description: "cannot write \(file): \(String(cString: strerror(errno)))")
        }
        try sync(path)
    }

    /// Appends `bytes` to the file at `file` (made when missing, in the directory `path`), fsynced.
    package static func append(_ file: String, _ bytes: [UInt8], in path: String) throws {
        try create(path)
        let existed = access(file, F_OK) == 0
        guard writeSynced(file, bytes, flags: O_APPEND) else {
            throw CommitLog.Failure(description: "cannot append to \(file): \(String(cString: strerror(errno)))")
        }
        if !existed { try sync(path) }
    }

    /// Writes all of `bytes` to `file` opened with `flags` (and create), then fsyncs it.
    private static func writeSynced(_ file: String, _ bytes: [UInt8], flags: Int32) -> Bool {
        let fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0o600)
        guard fd >= 0 else { return false }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
        let synced = fsync(fd)
        close(fd)
        return written == bytes.count && synced == 0
    }

    /// Lowercase hex of `bytes` random bytes.
    package static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
    }
}

extension String {
    /// The file's text, or nil when it cannot be read (a small reader without Foundation).
    fileprivate init?(contentsOfFileAtPath path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        self = String(decoding: bytes[0..<count], as: UTF8.self)
    }
}
