import Foundation

/// Runs `count` blocking bodies (socket clients) on threads of their own, not on the Swift
/// concurrency pool, whose few threads they would otherwise hold and starve every other
/// async test of.
package func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) async throws -> [T] {
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
        for index in 0..<count {
            group.addTask {
                let value = try await withCheckedThrowingContinuation { continuation in
                    let thread = Thread { continuation.resume(with: Result { try body(index) }) }
                    thread.stackSize = 1 << 20
                    thread.start()
                }
                return (index, value)
            }
        }
        var results = [T?](repeating: nil, count: count)
        for try await (index, value) in group { results[index] = value }
        return results.map { $0! }
    }
}
