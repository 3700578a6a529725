import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// 10,000 random and mutated protocol lines over several connections: the daemon answers
/// each line once (or closes after line_too_long), stays up, and committed data is untouched.
@Suite struct FuzzTests {
    static let corpus: [String] = [
        #"{"id":1,"op":"ping"}"#,
        #"{"id":2,"op":"hello","client":"fuzz"}"#,
        #"{"id":3,"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Tokyo"}}"#,
        #"{"id":4,"op":"add","model":"Report","rows":[{"location_id":1,"temperature":80.5,"report_time":"2026-11-21T09:30:00Z"}]}"#,
        #"{"id":5,"op":"get","model":"WeatherLocation","pk":1,"shard":"asia","fresh":true}"#,
        #"{"id":6,"op":"query","model":"Report","where":["and",[">=","temperature",10],["in","location_id",[1,2,3]]],"order_by":["-temperature","id"],"limit":5,"offset":1}"#,
        #"{"id":7,"op":"count","model":"WeatherLocation","where":{"continent":"Europe"}}"#,
        #"{"id":8,"op":"aggregate","model":"Report","select":[["avg","temperature"],["count","*"]],"group_by":["location_id"],"having":[">","count",0],"order_by":["-count"],"limit":3}"#,
        #"{"id":9,"op":"update","key":["WeatherLocation",[1],"asia"],"values":{"city":"Kyoto"}}"#,
        #"{"id":10,"op":"delete","key":["Report",[1],"asia"]}"#,
        #"{"id":11,"op":"update_where","model":"Report","where":["<","temperature",0],"values":{"temperature":0}}"#,
        #"{"id":12,"op":"delete_where","model":"Report","where":["like","report_time","x%"]}"#,
        #"{"id":13,"op":"load","key":["WeatherLocation",[1],"asia"],"relationship":"reports"}"#,
        #"{"id":14,"op":"query","model":"WeatherLocation","include":["reports"],"where":["starts_with","city","T"]}"#,
        #"{"id":15,"op":"identity_keys","model":"Report"}"#,
        #"{"id":16,"op":"expunge_all"}"#,
        #"{"id":17,"op":"rollback"}"#,
        #"{"id":18,"op":"begin"}"#,
        #"{"id":19,"op":"sql","sql":"SELECT 1","shard":"asia"}"#,
        #"{"id":20,"op":"stats"}"#,
    ]

    static func mutate(_ line: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = line
        for _ in 0..<Int(1 + random.next() % 4) {
            let at = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
            switch random.next() % 12 {
            case 0: if !bytes.isEmpty { bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8)) }
            case 1: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
            case 2: if !bytes.isEmpty { bytes.removeSubrange(at..<min(bytes.count, at + Int(random.next() % 8) + 1)) }
            case 3: bytes.insert(contentsOf: Array(bytes[at..<min(bytes.count, at + Int(random.next() % 16))]), at: at)
            case 4: bytes.insert(contentsOf: [0xC3, 0x28, 0xFF, 0xFE, 0xED, 0xA0, 0x80], at: at)
            case 5: bytes.insert(0x00, at: at)
            case 6: bytes.insert(contentsOf: Array("99999999999999999999999999999".utf8), at: at)
            case 7: bytes.insert(contentsOf: Array("1e999999".utf8), at: at)
            case 8: bytes.insert(contentsOf: Array(",\"surprise\":[1,{\"a\":null}]".utf8), at: at)
            case 9: bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "["), count: Int(random.next() % 3000)), at: at)
            case 10: bytes.insert(contentsOf: Array("\"\\ud800\\u0000\"".utf8), at: at)
            default: bytes = Array(bytes.prefix(at))
            }
        }
        return bytes
    }

    static func snapshot(_ client: LineClient) throws -> String {
        let a = try client.request(#"{"op":"query","model":"WeatherLocation","order_by":["id"],"limit":1000,"shards":["north_america","asia","europe","south_america"]}"#)
        let b = try client.request(#"{"op":"query","model":"Report","order_by":["location_id","id"],"limit":1000}"#)
        return (a["objects"]?.serialized ?? "?") + (b["objects"]?.serialized ?? "?")
    }

    @Test func tenThousandBrokenLinesLeaveTheDaemonAndTheDataIntact() async throws {
        let config = "[server]\nmax_line_bytes = 4096\n" + DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: "")
        let daemon = try Daemon(config: config)
        let seed = try daemon.client()
        _ = try seed.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Tokyo"},{"continent":"Europe","city":"London"},{"continent":"North America","city":"Toronto"}]}"#)
        _ = try seed.request(#"{"op":"add","model":"Report","rows":[{"location_id":1,"temperature":80},{"location_id":2,"temperature":-5},{"location_id":3,"temperature":21.5}]}"#)
        #expect(try seed.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let before = try Self.snapshot(seed)

        let socketPath = daemon.socketPath
        let perWorker = try await onThreads(4) { worker -> (answered: Int, closed: Int) in
                    var random = SplitMix64(seed: UInt64(worker) * 7919 + 1)
                    var client = try LineClient(socketPath: socketPath)
                    var answered = 0, closed = 0
                    var sent = 0
                    while sent < 2500 {
                        var line = Self.mutate(Array(Self.corpus[Int(random.next() % UInt64(Self.corpus.count))].utf8), &random)
                        // One request per line: no line breaks inside, not blank, and no
                        // commit, so that committed data cannot change.
                        line.removeAll { $0 == 0x0A || $0 == 0x0D }
                        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) || String(decoding: line, as: UTF8.self).contains("ommit") { continue }
                        sent += 1
                        try client.send(raw: line + [0x0A])
                        guard let answer = try client.receiveLine() else {
                            // Closed: only a line over max_line_bytes may end a connection.
                            #expect(line.count > 4096, "closed after a \(line.count)-byte line")
                            closed += 1
                            client = try LineClient(socketPath: socketPath)
                            continue
                        }
                        let parsed = try? JSONValue.parse(answer)
                        #expect(parsed?["ok"] != nil, "not a response: \(answer.prefix(200))")
                        if parsed?["error"]?["code"] == .string("line_too_long") {
                            #expect(try client.receiveLine() == nil)
                            closed += 1
                            client = try LineClient(socketPath: socketPath)
                        }
                        answered += 1
                    }
                    return (answered, closed)
        }
        let results = perWorker.reduce(into: (answered: 0, closed: 0)) { $0 = ($0.answered + $1.answered, $0.closed + $1.closed) }
        #expect(results.answered == 10_000)
        #expect(daemon.process.isRunning)
        let after = try daemon.client()
        #expect(try after.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(try Self.snapshot(after) == before)
        let stats = try after.request(#"{"op":"stats"}"#)
        guard case .int(let badJSON)? = stats["errors"]?["bad_json"] else { Issue.record("\(stats)"); return }
        #expect(badJSON > 1000, "most mutations break the JSON")
        #expect(daemon.stop() == 0)
    }
}
