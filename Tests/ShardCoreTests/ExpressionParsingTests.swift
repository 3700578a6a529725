import Testing
import ShardCore
import ShardProtocol

/// `where` and `order_by` of protocol.md 7, parsed against the weather models.
@Suite struct ExpressionParsingTests {
    static let configuration = try! ConfigLoader.parse(
        DefaultConfiguration.text, file: "shards.conf", baseDirectory: "/srv", environment: [:])
    /// id int, continent text NOT NULL, city text NOT NULL.
    let location = configuration.model(named: "WeatherLocation")!
    /// id int, location_id int NOT NULL, temperature real, report_time timestamp.
    let report = configuration.model(named: "Report")!

    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
    }

    static func ts(_ text: String) -> ShardValue { .timestamp(try! Timestamp(rfc3339: text)) }

    func parse(_ json: JSONValue, _ model: Model? = nil) throws(ShardError) -> Expression {
        try Expression(where: json, model: model ?? location)
    }

    /// Asserts that parsing fails with `code` and a message containing `fragment`.
    @discardableResult
    func refuses(
        _ json: JSONValue, _ code: ErrorCode, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) -> ShardError? {
        refuses(json, location, code, fragment, sourceLocation: sourceLocation)
    }

    @discardableResult
    func refuses(
        _ json: JSONValue, _ model: Model, _ code: ErrorCode, _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ShardError? {
        let error = #expect(throws: ShardError.self, sourceLocation: sourceLocation) { try parse(json, model) }
        #expect(error?.code == code, "\(json): \(error?.description ?? "")", sourceLocation: sourceLocation)
        #expect(error?.message.contains(fragment) == true, "\(json): \(error?.message ?? "")", sourceLocation: sourceLocation)
        return error
    }

    // MARK: - The object form

    @Test func anObjectIsAnAndOfEqualities() throws {
        #expect(try parse(Self.object([("continent", .string("Asia")), ("city", .string("Tokyo"))]))
            == .and([.compare(.equal, column: "continent", .text("Asia")), .compare(.equal, column: "city", .text("Tokyo"))]))
        #expect(try parse(Self.object([("continent", .string("Asia"))])) == .compare(.equal, column: "continent", .text("Asia")))
        #expect(try parse(Self.object([])) == .and([]))
        #expect(try parse(Self.object([("temperature", .int(20))]), report) == .compare(.equal, column: "temperature", .real(20)))
    }

    @Test func anObjectMemberOfNullIsIsNullEvenForANotNullColumn() throws {
        #expect(try parse(Self.object([("city", .null)])) == .isNull(column: "city"))
        #expect(try parse(Self.object([("city", .null), ("continent", .string("Asia"))]))
            == .and([.isNull(column: "city"), .compare(.equal, column: "continent", .text("Asia"))]))
    }

    @Test func objectFormErrors() {
        let unknown = refuses(Self.object([("country", .string("Japan"))]), .unknownColumn, "no column \"country\"")
        #expect(unknown?.message.contains("id, continent, city") == true)
        #expect(unknown.map { $0.details } == JSONObject([("column", .string("country"))]))
        let invalid = refuses(Self.object([("city", .int(5))]), .invalidValue, "expected a string")
        #expect(invalid.map { $0.details } == JSONObject([("column", .string("city"))]))
        refuses(Self.object([("city", .string("a")), ("city", .string("b"))]), .badRequest, "appears twice")
    }

    // MARK: - Every operator

    @Test func comparisons() throws {
        for comparison in Expression.Comparison.allCases {
            #expect(try parse(.array([.string(comparison.rawValue), .string("city"), .string("Oslo")]))
                == .compare(comparison, column: "city", .text("Oslo")))
        }
        #expect(try parse(.array([.string("<"), .string("temperature"), .int(-5)]), report)
            == .compare(.less, column: "temperature", .real(-5)))
        #expect(try parse(.array([.string(">="), .string("temperature"), .double(20.5)]), report)
            == .compare(.greaterOrEqual, column: "temperature", .real(20.5)))
        #expect(try parse(.array([.string("<="), .string("report_time"), .string("1969-07-20T20:17:00Z")]), report)
            == .compare(.lessOrEqual, column: "report_time", Self.ts("1969-07-20T20:17:00Z")))
        #expect(try parse(.array([.string("!="), .string("location_id"), .int(.min)]), report)
            == .compare(.notEqual, column: "location_id", .int(.min)))
    }

    @Test func equalityWithNullIsANullTest() throws {
        #expect(try parse(.array([.string("="), .string("city"), .null])) == .isNull(column: "city"))
        #expect(try parse(.array([.string("!="), .string("temperature"), .null]), report) == .notNull(column: "temperature"))
    }

    @Test func inAndNotIn() throws {
        #expect(try parse(.array([.string("in"), .string("continent"), .array([.string("Europe"), .string("Asia")])]))
            == .isIn(column: "continent", [.text("Europe"), .text("Asia")]))
        #expect(try parse(.array([.string("not_in"), .string("id"), .array([.int(1), .int(2), .int(3)])]))
            == .notIn(column: "id", [.int(1), .int(2), .int(3)]))
        #expect(try parse(.array([.string("in"), .string("temperature"), .array([.int(1), .double(2.5)])]), report)
            == .isIn(column: "temperature", [.real(1), .real(2.5)]))
        #expect(try parse(.array([.string("in"), .string("id"), .array([])])) == .isIn(column: "id", []))
        #expect(try parse(.array([.string("not_in"), .string("id"), .array([])])) == .notIn(column: "id", []))
    }

    @Test func betweenLikeStartsWithAndNullTests() throws {
        #expect(try parse(.array([.string("between"), .string("temperature"), .int(-10), .double(30.5)]), report)
            == .between(column: "temperature", .real(-10), .real(30.5)))
        #expect(try parse(.array([.string("between"), .string("report_time"), .string("1900-01-01T00:00:00Z"), .string("2000-01-01T00:00:00+01:00")]), report)
            == .between(column: "report_time", Self.ts("1900-01-01T00:00:00Z"), Self.ts("1999-12-31T23:00:00Z")))
        #expect(try parse(.array([.string("like"), .string("city"), .string("%o_y%\\")])) == .like(column: "city", pattern: "%o_y%\\"))
        #expect(try parse(.array([.string("starts_with"), .string("city"), .string("São")])) == .startsWith(column: "city", prefix: "São"))
        #expect(try parse(.array([.string("like"), .string("city"), .string("")])) == .like(column: "city", pattern: ""))
        #expect(try parse(.array([.string("is_null"), .string("temperature")]), report) == .isNull(column: "temperature"))
        #expect(try parse(.array([.string("not_null"), .string("report_time")]), report) == .notNull(column: "report_time"))
        #expect(try parse(.array([.string("is_null"), .string("city")])) == .isNull(column: "city"))
    }

    @Test func andOrNotNestAndMixBothForms() throws {
        let json: JSONValue = .array([
            .string("or"),
            .array([.string("and"), Self.object([("continent", .string("Asia"))]), .array([.string("starts_with"), .string("city"), .string("T")])]),
            .array([.string("not"), .array([.string("in"), .string("continent"), .array([.string("Europe")])])]),
        ])
        #expect(try parse(json) == .or([
            .and([.compare(.equal, column: "continent", .text("Asia")), .startsWith(column: "city", prefix: "T")]),
            .not(.isIn(column: "continent", [.text("Europe")])),
        ]))
        #expect(try parse(.array([.string("and"), .array([.string("is_null"), .string("city")])])) == .and([.isNull(column: "city")]))
        #expect(try parse(.array([.string("or"), Self.object([])])) == .or([.and([])]))
    }

    @Test func nestingIsBoundedAt32Levels() throws {
        func nested(_ levels: Int) -> JSONValue {
            var json: JSONValue = .array([.string("is_null"), .string("city")])
            for _ in 1..<levels { json = .array([.string("not"), json]) }
            return json
        }
        var expected: Expression = .isNull(column: "city")
        for _ in 1..<Expression.maximumDepth { expected = .not(expected) }
        #expect(try parse(nested(Expression.maximumDepth)) == expected)
        refuses(nested(Expression.maximumDepth + 1), .badRequest, "deeper than 32 levels")
        // Deep on the last operand of `and`s, the first ones being fine.
        var chain: JSONValue = Self.object([("city", .string("x"))])
        for _ in 0..<Expression.maximumDepth { chain = .array([.string("and"), Self.object([("city", .string("y"))]), chain]) }
        refuses(chain, .badRequest, "deeper than 32 levels")
        // Refused at the limit without walking the rest (and without printing it on failure).
        let deep = #expect(throws: ShardError.self) { try parse(nested(10_000)) }
        #expect(deep?.code == .badRequest)
        #expect(deep?.message.contains("deeper than 32 levels") == true)
    }

    // MARK: - Null where no comparison can be true

    @Test func nullAsABoundOrListMemberIsInvalid() {
        for op in ["<", "<=", ">", ">="] {
            let error = refuses(.array([.string(op), .string("temperature"), .null]), report, .invalidValue, "never true")
            #expect(error?.message.contains("is_null") == true)
            #expect(error.map { $0.details } == JSONObject([("column", .string("temperature"))]))
        }
        refuses(.array([.string("between"), .string("temperature"), .null, .int(1)]), report, .invalidValue, "never true")
        refuses(.array([.string("between"), .string("temperature"), .int(1), .null]), report, .invalidValue, "never true")
        refuses(.array([.string("in"), .string("city"), .array([.string("Oslo"), .null])]), .invalidValue, "is_null")
        refuses(.array([.string("not_in"), .string("city"), .array([.null])]), .invalidValue, "never true")
    }

    // MARK: - Errors

    @Test func unknownColumnsListTheModelsColumns() {
        let cases: [JSONValue] = [
            .array([.string("="), .string("country"), .string("x")]),
            .array([.string("in"), .string("country"), .array([])]),
            .array([.string("between"), .string("country"), .int(1), .int(2)]),
            .array([.string("like"), .string("country"), .string("x")]),
            .array([.string("starts_with"), .string("country"), .string("x")]),
            .array([.string("is_null"), .string("country")]),
            .array([.string("not"), .array([.string("not_null"), .string("country")])]),
            .array([.string("and"), Self.object([("city", .string("x"))]), Self.object([("country", .string("x"))])]),
        ]
        for json in cases {
            let error = refuses(json, .unknownColumn, "model WeatherLocation has no column \"country\"; its columns are id, continent, city")
            #expect(error.map { $0.details } == JSONObject([("column", .string("country"))]))
        }
        // Another model's column is unknown too.
        refuses(.array([.string("="), .string("temperature"), .int(1)]), .unknownColumn, "no column \"temperature\"")
    }

    @Test func valuesMustFitTheirColumn() {
        refuses(.array([.string("="), .string("id"), .string("12")]), .invalidValue, "column id: expected an integer")
        refuses(.array([.string("in"), .string("id"), .array([.int(1), .double(1.5)])]), .invalidValue, "expected an integer")
        refuses(.array([.string(">"), .string("report_time"), .string("yesterday")]), report, .invalidValue, "RFC 3339")
        refuses(.array([.string("between"), .string("temperature"), .int(1), .string("2")]), report, .invalidValue, "expected a number")
        refuses(.array([.string("="), .string("city"), .array([])]), .invalidValue, "expected a string")
        refuses(.array([.string("like"), .string("city"), .string("a\u{0}")]), .invalidValue, "NUL")
    }

    @Test func malformedExpressionsAreBadRequests() {
        let cases: [(JSONValue, String)] = [
            (.string("city = 'Tokyo'"), "object of equalities"),
            (.null, "prefix array"),
            (.int(1), "prefix array"),
            (.array([]), "starts with an operator"),
            (.array([.int(1), .string("city"), .int(2)]), "starts with an operator string"),
            (.array([.array([.string("=")]), .string("city")]), "starts with an operator string"),
            (.array([.string("=="), .string("city"), .string("x")]), "unknown operator \"==\""),
            (.array([.string("NOT"), .array([.string("is_null"), .string("city")])]), "unknown operator \"NOT\""),
            (.array([.string("="), .string("city")]), "expects [\"=\", column, value]: 3 elements, got 2"),
            (.array([.string("<"), .string("city"), .string("a"), .string("b")]), "expects [\"<\", column, value]"),
            (.array([.string("between"), .string("id"), .int(1)]), "expects [\"between\", column, low, high]"),
            (.array([.string("in"), .string("id")]), "expects [\"in\", column, [value, ...]]"),
            (.array([.string("in"), .string("id"), .int(1)]), "expects an array of values"),
            (.array([.string("not_in"), .string("id"), Self.object([])]), "expects an array of values"),
            (.array([.string("is_null")]), "expects [\"is_null\", column]"),
            (.array([.string("not_null"), .string("city"), .null]), "expects [\"not_null\", column]"),
            (.array([.string("like"), .string("id"), .string("1%")]), "needs a text column; id is int"),
            (.array([.string("starts_with"), .string("id"), .string("1")]), "needs a text column"),
            (.array([.string("like"), .string("city"), .int(1)]), "expects a string pattern"),
            (.array([.string("starts_with"), .string("city"), .null]), "expects a string prefix"),
            (.array([.string("like"), .string("city")]), "expects [\"like\", column, pattern]"),
            (.array([.string("and")]), "\"and\" needs at least one expression"),
            (.array([.string("or")]), "\"or\" needs at least one expression"),
            (.array([.string("not")]), "expects [\"not\", expression]"),
            (.array([.string("not"), Self.object([]), Self.object([])]), "expects [\"not\", expression]"),
            (.array([.string("and"), .string("city")]), "object of equalities"),
            (.array([.string("="), .int(1), .int(1)]), "expects a column name"),
            (.array([.string("is_null"), .array([.string("city")])]), "expects a column name"),
        ]
        for (json, fragment) in cases {
            refuses(json, .badRequest, fragment)
        }
        let unknown = refuses(.array([.string("~"), .string("city"), .string("x")]), .badRequest, "the operators are")
        for op in Expression.operators { #expect(unknown?.message.contains("\"\(op)\"") == true, "lists \(op)") }
    }

    // MARK: - order_by

    func sortKeys(_ json: JSONValue, _ model: Model? = nil) throws(ShardError) -> [SortKey] {
        try SortKey.parse(orderBy: json, model: model ?? report)
    }

    @Test func orderByNamesColumnsDashForDescending() throws {
        #expect(try sortKeys(.array([.string("-temperature"), .string("id")]))
            == [SortKey(column: "temperature", descending: true), SortKey(column: "id")])
        #expect(try sortKeys(.array([])) == [])
        #expect(try sortKeys(.array([.string("report_time")])) == [SortKey(column: "report_time", descending: false)])
    }

    @Test func orderByErrors() {
        func refusesOrder(_ json: JSONValue, _ code: ErrorCode, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) -> ShardError? {
            let error = #expect(throws: ShardError.self, sourceLocation: sourceLocation) { try sortKeys(json) }
            #expect(error?.code == code, "\(json): \(error?.description ?? "")", sourceLocation: sourceLocation)
            #expect(error?.message.contains(fragment) == true, "\(json): \(error?.message ?? "")", sourceLocation: sourceLocation)
            return error
        }
        let unknown = refusesOrder(.array([.string("-city")]), .unknownColumn, "model Report has no column \"city\"; its columns are id, location_id, temperature, report_time")
        #expect(unknown.map { $0.details } == JSONObject([("column", .string("city"))]))
        _ = refusesOrder(.array([.string("id"), .string("-id")]), .badRequest, "names column id twice")
        _ = refusesOrder(.array([.string("temperature"), .string("temperature")]), .badRequest, "twice")
        _ = refusesOrder(.string("id"), .badRequest, "array of column names")
        _ = refusesOrder(Self.object([("id", .string("asc"))]), .badRequest, "array of column names")
        _ = refusesOrder(.array([.string("id"), .int(1)]), .badRequest, "got 1 in it")
        _ = refusesOrder(.array([.array([.string("id")])]), .badRequest, "array of column names")
        _ = refusesOrder(.array([.string("-")]), .badRequest, "empty column name")
        _ = refusesOrder(.array([.string("")]), .badRequest, "empty column name")
        _ = refusesOrder(.array([.string("--id")]), .unknownColumn, "no column \"-id\"")
    }
}
