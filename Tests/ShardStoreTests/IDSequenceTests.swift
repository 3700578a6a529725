import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing
@testable import ShardStore

@Suite struct IDSequenceTests {
    @Test(arguments: TestBackend.allCases)
    func idsAreUniqueAscendingAndContiguousPerCall(backend: TestBackend) async throws {
        let counter = try await TestShard.make(backend)
        defer { counter.drop() }
        let sequence = IDSequence(model: "WeatherLocation", counter: counter.shard, blockSize: 4)
        try await sequence.ensureAbove(0)
        var seen: [Int64] = []
        for count in [1, 3, 1, 10, 2] {
            let ids = try await sequence.next(count)
            #expect(ids.count == count)
            seen.append(contentsOf: ids)
        }
        #expect(seen.first == 1)
        #expect(seen == seen.sorted() && Set(seen).count == seen.count)
    }

    @Test(arguments: TestBackend.allCases)
    func aRestartNeverRepeatsAnId(backend: TestBackend) async throws {
        let counter = try await TestShard.make(backend)
        defer { counter.drop() }
        var handedOut: [Int64] = []
        // Three "daemon runs" over the same counter, each stopping mid-block.
        for _ in 0..<3 {
            let sequence = IDSequence(model: "Report", counter: counter.shard, blockSize: 10)
            for _ in 0..<3 { handedOut.append(contentsOf: try await sequence.next()) }
        }
        #expect(handedOut == handedOut.sorted())
        #expect(Set(handedOut).count == handedOut.count)
    }

    @Test(arguments: TestBackend.allCases)
    func twoDaemonsSharingACounterNeverCollide(backend: TestBackend) async throws {
        let counter = try await TestShard.make(backend, poolSize: 4)
        defer { counter.drop() }
        let a = IDSequence(model: "M", counter: counter.shard, blockSize: 5)
        let b = IDSequence(model: "M", counter: counter.shard, blockSize: 5)
        let all = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for i in 0..<16 {
                let sequence = i % 2 == 0 ? a : b
                group.addTask { var ids: [Int64] = []; for _ in 0..<20 { ids += try await sequence.next(1 + i % 3) }; return ids }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        #expect(Set(all).count == all.count)
    }

    @Test func ensureAboveSkipsExistingIdsButNeverGoesBack() async throws {
        let counter = try await TestShard.make(.sqlite)
        defer { counter.drop() }
        let sequence = IDSequence(model: "M", counter: counter.shard, blockSize: 100)
        #expect(try await sequence.next() == 1...1)
        try await sequence.ensureAbove(500)
        #expect(try await sequence.next() == 501...501)
        try await sequence.ensureAbove(10)
        #expect(try await sequence.next().lowerBound > 501)
    }
}
