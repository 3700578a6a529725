#if canImport(Glibc)
import Glibc
#endif

/// Returns the C allocator's free pages to the system (glibc's `malloc_trim`): without it the
/// per-thread arenas keep the peak of a busy spell as resident memory long after.
enum AllocatorTrim {
    private typealias Trim = @convention(c) (Int) -> Int32

    /// Looked up at run time: `malloc_trim` is glibc's, and not in the headers Swift imports.
    private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()

    static func run() {
        _ = trim?(0)
    }
}
