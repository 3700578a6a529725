import Testing

@testable import ShardCore
import ShardProtocol

/// Which changes make events (protocol.md 12), without a daemon: the `where` on the row
/// after an insert, before a delete, before or after an update; and `subscribe`'s refusals.
@Suite struct SubscriptionTests {
    static let configuration = RequestDecodingTests.configuration
    static let report = configuration.model(named: "Report")!

    /// A Report row: id, location_id, temperature, report_time.
    static func row(_ id: Int64, _ temperature: Double?) -> [ShardValue] {
        [.int(id), .int(1), temperature.map(ShardValue.real) ?? .null, .null]
    }

    static func subscription(_ line: String) throws(ShardError) -> Subscription {
        guard case .subscribe(let request) = try RequestDecodingTests.decode(line) else { fatalError("not a subscribe") }
        return request.subscription
    }

    @Test func theWhereDecidesOnTheRowBeforeOrAfter() throws {
        let hot = try Self.subscription(#"{"op":"subscribe","model":"Report","where":[">=","temperature",80]}"#)
        #expect(hot.needsOldRows)
        func event(_ change: RowChange) -> String {
            guard let made = hot.event(for: change) else { return "none" }
            return made.kind.rawValue + (made.matches.map { " \($0)" } ?? "")
        }
        let model = Self.report
        #expect(event(RowChange(.insert, model, shard: "asia", new: Self.row(1, 85))) == "insert")
        #expect(event(RowChange(.insert, model, shard: "asia", new: Self.row(1, 20))) == "none")
        // Null is unknown, which is not a match.
        #expect(event(RowChange(.insert, model, shard: "asia", new: Self.row(1, nil))) == "none")
        #expect(event(RowChange(.delete, model, shard: "asia", old: Self.row(1, 85))) == "delete")
        #expect(event(RowChange(.delete, model, shard: "asia", old: Self.row(1, 20))) == "none")
        #expect(event(RowChange(.update, model, shard: "asia", old: Self.row(1, 85), new: Self.row(1, 20))) == "update false")
        #expect(event(RowChange(.update, model, shard: "asia", old: Self.row(1, 20), new: Self.row(1, 85))) == "update true")
        #expect(event(RowChange(.update, model, shard: "asia", old: Self.row(1, 90), new: Self.row(1, 85))) == "update true")
        #expect(event(RowChange(.update, model, shard: "asia", old: Self.row(1, 20), new: Self.row(1, 21))) == "none")
        // Not known before: decided on the row after.
        #expect(event(RowChange(.update, model, shard: "asia", new: Self.row(1, 21))) == "none")
        #expect(event(RowChange(.update, model, shard: "asia", new: Self.row(1, 81))) == "update true")
        // Another model's changes are not this subscription's.
        let location = Self.configuration.model(named: "WeatherLocation")!
        #expect(hot.event(for: RowChange(.insert, location, shard: "asia", new: [.int(1), .text("Asia"), .text("Tokyo")])) == nil)
    }

    @Test func withoutAWhereEveryChangeOfTheChosenKinds() throws {
        let all = try Self.subscription(#"{"op":"subscribe","model":"Report"}"#)
        #expect(all.events == Set(ChangeKind.allCases) && !all.needsOldRows)
        let update = RowChange(.update, Self.report, shard: "europe", new: Self.row(3, 1))
        #expect(all.event(for: update)?.matches == true)
        let deletes = try Self.subscription(#"{"op":"subscribe","model":"Report","events":["delete"]}"#)
        #expect(deletes.event(for: update) == nil)
        #expect(deletes.event(for: RowChange(.insert, Self.report, shard: "europe", new: Self.row(3, 1))) == nil)
        #expect(deletes.event(for: RowChange(.delete, Self.report, shard: "europe", old: Self.row(3, 1)))?.kind == .delete)
        // Only updates with a where need the rows before.
        #expect(!(try Self.subscription(#"{"op":"subscribe","model":"Report","where":{"id":1},"events":["insert","delete"]}"#)).needsOldRows)
    }

    @Test func theEventCarriesTheRowAndItsKey() {
        let delete = RowChange(.delete, Self.report, shard: "asia", old: Self.row(7, 85))
        #expect(delete.row == Self.row(7, 85))
        #expect(delete.key == IdentityKey(model: "Report", primaryKey: [.int(7)], token: "asia"))
        let update = RowChange(.update, Self.report, shard: "asia", old: Self.row(7, 85), new: Self.row(7, 20))
        #expect(update.row == Self.row(7, 20))
    }

    @Test func subscribeRefusesWhatItCannotDecide() {
        RequestDecodingTests.refusal(#"{"op":"subscribe","model":"Report","where":["has","location",["=","continent","Asia"]]}"#,
                                     .badRequest, "subscribe's where cannot use any or has")
        RequestDecodingTests.refusal(#"{"op":"subscribe","model":"WeatherLocation","where":["not",["any","reports"]]}"#,
                                     .badRequest, "cannot use any or has")
        RequestDecodingTests.refusal(#"{"op":"subscribe","model":"Report","events":["insert","upsert"]}"#, .badRequest, "got \"upsert\"")
        RequestDecodingTests.refusal(#"{"op":"subscribe","model":"Report","events":[]}"#, .badRequest, "at least one")
        RequestDecodingTests.refusal(#"{"op":"subscribe","model":"Report","events":"insert"}"#, .badRequest, "must be a list")
        RequestDecodingTests.refusal(#"{"op":"subscribe","model":"Nope"}"#, .unknownModel, "\"Nope\" is not a model")
        RequestDecodingTests.refusal(#"{"op":"subscribe","model":"Report","where":{"nope":1}}"#, .unknownColumn, "no column \"nope\"")
        RequestDecodingTests.refusal(#"{"op":"subscribe","model":"Report","shard":"asia"}"#, .badRequest, "(arguments: events, model, where)")
        RequestDecodingTests.refusal(#"{"op":"unsubscribe","subscription":"3"}"#, .badRequest, "the number subscribe answered")
        RequestDecodingTests.refusal(#"{"op":"unsubscribe"}"#, .badRequest, "unsubscribe needs subscription")
    }
}
