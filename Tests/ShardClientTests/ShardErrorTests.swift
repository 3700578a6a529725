import Foundation
import ShardClient
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// Each error code the daemon produces, surfaced as a typed `ShardError`; the session goes on.
@Suite struct ShardErrorTests {
    struct Airport: ShardModel {
        static let modelName = "Airport"
        var code: String
    }

    /// A model type whose columns do not match shards.conf's.
    struct MistypedReport: ShardModel {
        static let modelName = "Report"
        var id: Int64?
        var location_id: String
    }

    struct Station: ShardModel {
        static let modelName = "Station"
        var code: String
        var name: String
    }

    @discardableResult
    static func expectError<T>(_ code: ShardError.Code, _ body: () async throws -> T,
                               sourceLocation: SourceLocation = #_sourceLocation) async -> ShardError? {
        do {
            let value = try await body()
            Issue.record("expected \(code), got \(value)", sourceLocation: sourceLocation)
            return nil
        } catch let error as ShardError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected ShardError \(code), got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test func daemonErrorsAreTypedAndCarryTheirDetails() async throws {
        let config = TestConfig.weather(server: "max_result_rows = 20", extra: TestConfig.station)
        let daemon = try Daemon(config: config)
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let (locations, _) = try await seed(session)

        await Self.expectError(.unknownModel) { try await session.query(Airport.self).count() }
        let unknownColumn = await Self.expectError(.unknownColumn) {
            try await session.query(Report.self).where(Column("humidity") > 50).all()
        }
        #expect(unknownColumn?.column == "humidity")
        #expect(unknownColumn?.shard == nil)
        #expect(unknownColumn?.message.contains("humidity") == true)
        await Self.expectError(.unknownColumn) { try await session.dynamic.add(model: "Report", values: ["location_id": 1, "humidity": 3]) }
        await Self.expectError(.unknownShard) { try await session.query(Report.self).shard("moon").all() }
        await Self.expectError(.unknownRelationship) { try await session.load("station", of: locations[0], as: Station.self) }
        await Self.expectError(.unknownOp) { try await session.dynamic.request("fly") }
        let invalid = await Self.expectError(.invalidValue) {
            try await session.dynamic.add(model: "Report", values: ["location_id": 1, "temperature": "hot"])
        }
        #expect(invalid?.message.contains("temperature") == true)
        await Self.expectError(.invalidValue) { try await session.add(MistypedReport(location_id: "one")) }
        await Self.expectError(.noShard) { try await session.add(WeatherLocation(continent: "Atlantis", city: "Poseidonia")) }
        await Self.expectError(.notFound) {
            try await session.delete(IdentityKey(model: "Report", primaryKey: [99], token: "asia"))
        }
        let moved = await Self.expectError(.shardKeyChange) { try await session.update(locations[2], set: ["continent": "Europe"]) }
        #expect(moved?.shard == "asia")
        #expect(moved?.column == "continent")
        await Self.expectError(.forbidden) { try await session.sql("SELECT 1", shards: ["asia"]) }
        await Self.expectError(.badRequest) { try await session.dynamic.request("ping", ["color": "red"]) }
        await Self.expectError(.badRequest) { try await session.dynamic.get(model: "Report", primaryKey: [1, 2, 3]) }
        try await session.add(Station(code: "NRT", name: "Narita"), shard: "asia")
        try await session.add(Station(code: "NRT", name: "Newark"), shard: "north_america")
        let duplicate = await Self.expectError(.constraintViolation) {
            try await session.add(Station(code: "HND", name: "Narita"), shard: "asia")
        }
        #expect(duplicate?.shard == "asia")
        try await session.commit()
        await Self.expectError(.resultTooLarge) {
            try await session.dynamic.add(model: "WeatherLocation", rows: Array(repeating: ["continent": "Asia", "city": "Sapporo"], count: 20))
            return try await session.query(WeatherLocation.self).all()
        }
        try await session.rollback()

        // ambiguous_identity: a fresh session (empty identity map) finds pk 1 on three shards.
        let fresh = try await ShardSession.connect(socketPath: daemon.socketPath)
        let ambiguous = await Self.expectError(.ambiguousIdentity) { try await fresh.get(Report.self, 1) }
        #expect(ambiguous?.keys?.map(\.shard).sorted() == ["asia", "europe", "north_america"])
        #expect(ambiguous?.keys?.allSatisfy { $0.model == "Report" && $0.primaryKey == [1] } == true)
        #expect(try await fresh.get(Report.self, 1, shard: "europe")?.locationID == locations[4].id)

        // A model type that does not fit the rows fails on this side, naming the column.
        let mistyped = await Self.expectError(.decodingFailed) { try await session.query(MistypedReport.self).all() }
        #expect(mistyped?.message.contains("location_id") == true)

        // Values that cannot be sent fail before anything is sent.
        await Self.expectError(.invalidValue) { try await session.add(Report(locationID: 1, temperature: .nan)) }
        await Self.expectError(.invalidValue) { try await session.query(Report.self).where(Column("temperature") > Double.infinity).all() }
        try await session.ping()
        try await fresh.ping()
    }
}
