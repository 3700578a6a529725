import Testing
import ShardCore
import ShardProtocol

@Suite struct IdentityMapTests {
    func key(_ id: Int64, _ token: String = "asia", model: String = "Report") -> IdentityKey {
        IdentityKey(model: model, primaryKey: [.int(id)], token: token)
    }

    @Test func equalKeysOnTwoShardsAreTwoIdentities() {
        var map = IdentityMap(limit: 10)
        map.put(key(1, "asia"), [.int(1), .real(80)])
        map.put(key(1, "north_america"), [.int(1), .real(75)])
        #expect(map.count == 2)
        #expect(map.values(for: key(1, "asia")) == [.int(1), .real(80)])
        #expect(map.values(for: key(1, "north_america")) == [.int(1), .real(75)])
        #expect(key(1, "asia").responseJSON == .array([.string("Report"), .array([.int(1)]), .string("asia")]))
    }

    @Test func putRefreshesAndRemoveForgets() {
        var map = IdentityMap(limit: 10)
        map.put(key(1), [.real(1)])
        map.put(key(1), [.real(2)])
        #expect(map.count == 1)
        #expect(map.values(for: key(1)) == [.real(2)])
        let removed = map.remove(key(1))
        let again = map.remove(key(1))
        #expect(removed && !again)
        #expect(map.values(for: key(1)) == nil)
    }

    @Test func theLeastRecentlyUsedKeysAreDroppedPastTheLimit() {
        var map = IdentityMap(limit: 3)
        for id in 1...3 { map.put(key(Int64(id)), []) }
        _ = map.values(for: key(1))          // 1 is now the most recently used
        let dropped = map.put(key(4), [])
        #expect(dropped == [key(2)])
        #expect(map.keys() == [key(3), key(1), key(4)])
        #expect(map.count == 3)
    }

    @Test func keysFilterByModelAndRemoveAllEmpties() {
        var map = IdentityMap(limit: 10)
        map.put(key(1), [])
        map.put(key(1, model: "WeatherLocation"), [])
        map.put(key(2), [])
        #expect(map.keys(model: "Report") == [key(1), key(2)])
        let emptied = map.removeAll()
        #expect(emptied == 3)
        #expect(map.keys().isEmpty)
    }

    @Test func matchesAReferenceLRUUnderRandomOperations() {
        var map = IdentityMap(limit: 16)
        var reference: [(IdentityKey, [ShardValue])] = []   // oldest first
        var seed: UInt64 = 12345
        func next(_ n: UInt64) -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return (seed >> 33) % n }
        for step in 0..<20_000 {
            let k = key(Int64(next(40)), ["asia", "europe"][Int(next(2))])
            switch next(4) {
            case 0, 1:
                let values: [ShardValue] = [.int(Int64(step))]
                map.put(k, values)
                reference.removeAll { $0.0 == k }
                reference.append((k, values))
                if reference.count > 16 { reference.removeFirst() }
            case 2:
                let got = map.values(for: k)
                if let i = reference.firstIndex(where: { $0.0 == k }) {
                    let entry = reference.remove(at: i)
                    reference.append(entry)
                    #expect(got == entry.1)
                } else {
                    #expect(got == nil)
                }
            default:
                let removed = map.remove(k)
                #expect(removed == reference.contains { $0.0 == k })
                reference.removeAll { $0.0 == k }
            }
        }
        #expect(map.keys() == reference.map(\.0))
    }
}
