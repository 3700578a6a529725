import Testing
@testable import ShardCore
import ShardProtocol

/// `Expression.evaluate`: SQL's three-valued logic in memory, for `having` (the same rows
/// as the SQL of a `where`; ShardStoreTests' ExpressionEvaluationSQLTests checks that part).
@Suite struct ExpressionEvaluationTests {
    // MARK: - Fixtures

    /// One evaluation and its expected three-valued answer.
    struct Case: Sendable, CustomTestStringConvertible {
        var expression: Expression
        var row: [String: ShardValue]
        var expected: Bool?

        init(_ expression: Expression, _ row: [String: ShardValue], _ expected: Bool?) {
            self.expression = expression
            self.row = row
            self.expected = expected
        }

        var testDescription: String { "\(expression) on \(row) -> \(expected.map(String.init) ?? "unknown")" }
    }

    static func ts(_ text: String) -> ShardValue { .timestamp(try! Timestamp(rfc3339: text)) }
    static func cmp(_ op: Expression.Comparison, _ column: String, _ value: ShardValue) -> Expression {
        .compare(op, column: column, value)
    }

    /// Operands with a known truth value on `truthRow`: true, false and unknown.
    static let T: Expression = .notNull(column: "x")
    static let F: Expression = .isNull(column: "x")
    static let U: Expression = cmp(.equal, "n", .int(1))
    static let truthRow: [String: ShardValue] = ["x": .int(1), "n": .null]

    // MARK: - Comparisons

    static let comparisonCases: [Case] = {
        var cases: [Case] = []
        // (row value, operand, expected order: -1 less, 0 equal, 1 greater)
        let ordered: [(ShardValue, ShardValue, Int)] = [
            (.int(1), .int(2), -1), (.int(2), .int(2), 0), (.int(3), .int(2), 1),
            (.int(.min), .int(.max), -1), (.int(-5), .int(-5), 0),
            (.real(1.5), .real(1.5), 0), (.real(-2.25), .real(0), -1), (.real(1e10), .real(1e9), 1),
            (.real(-0.0), .real(0.0), 0),
            // An int against a real compares numerically (ShardValue.== alone keeps them apart).
            (.int(1), .real(1.0), 0), (.int(2), .real(1.5), 1), (.real(0.5), .int(1), -1), (.real(7), .int(7), 0),
            // Text by UTF-8 bytes: upper case before lower case, é (C3 A9) after z, and the
            // decomposed e + U+0301 (65 CC 81) before the precomposed é although Swift's String
            // equates them.
            (.text("abc"), .text("abc"), 0), (.text("ABC"), .text("abc"), -1), (.text("Z"), .text("a"), -1),
            (.text("\u{E9}"), .text("z"), 1), (.text("e\u{301}"), .text("\u{E9}"), -1),
            (.text("\u{E9}"), .text("e\u{301}"), 1), (.text(""), .text("a"), -1), (.text("ab"), .text("a"), 1),
            (.text("😀"), .text("\u{FFFF}"), 1),
            (.bool(false), .bool(true), -1), (.bool(true), .bool(true), 0), (.bool(true), .bool(false), 1),
            (ts("1969-12-31T23:59:59.999999Z"), ts("1970-01-01T00:00:00Z"), -1),
            (ts("2026-01-01T00:00:00Z"), ts("2026-01-01T00:00:00Z"), 0),
            (ts("9999-12-31T23:59:59.999999Z"), ts("0001-01-01T00:00:00Z"), 1),
        ]
        for (value, operand, order) in ordered {
            let row = ["c": value]
            cases.append(Case(cmp(.equal, "c", operand), row, order == 0))
            cases.append(Case(cmp(.notEqual, "c", operand), row, order != 0))
            cases.append(Case(cmp(.less, "c", operand), row, order < 0))
            cases.append(Case(cmp(.lessOrEqual, "c", operand), row, order <= 0))
            cases.append(Case(cmp(.greater, "c", operand), row, order > 0))
            cases.append(Case(cmp(.greaterOrEqual, "c", operand), row, order >= 0))
        }
        // A null column, a column missing from the row, or a null operand: unknown, for every
        // operator (so `!=` does not match nulls either).
        for op in Expression.Comparison.allCases {
            cases.append(Case(cmp(op, "c", .int(1)), ["c": .null], nil))
            cases.append(Case(cmp(op, "c", .text("")), [:], nil))
            cases.append(Case(cmp(op, "c", .text("a")), ["other": .text("a")], nil))
            cases.append(Case(cmp(op, "c", .null), ["c": .int(1)], nil))
            cases.append(Case(cmp(op, "c", .null), ["c": .null], nil))
        }
        return cases
    }()

    @Test(arguments: comparisonCases)
    func comparison(_ c: Case) {
        #expect(c.expression.evaluate(c.row) == c.expected)
    }

    // MARK: - in, not_in, between

    static let membershipCases: [Case] = [
        Case(.isIn(column: "c", [.int(1), .int(2)]), ["c": .int(2)], true),
        Case(.isIn(column: "c", [.int(1), .int(2)]), ["c": .int(3)], false),
        Case(.isIn(column: "c", [.int(1), .int(2)]), ["c": .null], nil),
        Case(.isIn(column: "c", [.int(1), .int(2)]), [:], nil),
        Case(.isIn(column: "c", [.real(1.5), .real(2)]), ["c": .int(2)], true),
        Case(.isIn(column: "c", [.text("\u{E9}")]), ["c": .text("e\u{301}")], false),
        Case(.isIn(column: "c", [.text("\u{E9}")]), ["c": .text("\u{E9}")], true),
        Case(.isIn(column: "c", [.bool(true)]), ["c": .bool(false)], false),
        Case(.isIn(column: "c", [ts("1970-01-01T00:00:00Z")]), ["c": ts("1970-01-01T00:00:00Z")], true),
        // An empty list renders as `1 = 0`: false even for a null column.
        Case(.isIn(column: "c", []), ["c": .int(1)], false),
        Case(.isIn(column: "c", []), ["c": .null], false),
        Case(.isIn(column: "c", []), [:], false),
        // A null element (the parser refuses it; SQL's IN still defines it): unknown unless
        // another element is equal.
        Case(.isIn(column: "c", [.int(1), .null]), ["c": .int(1)], true),
        Case(.isIn(column: "c", [.int(1), .null]), ["c": .int(2)], nil),
        Case(.notIn(column: "c", [.text("a"), .text("b")]), ["c": .text("a")], false),
        Case(.notIn(column: "c", [.text("a"), .text("b")]), ["c": .text("A")], true),
        Case(.notIn(column: "c", [.text("a"), .text("b")]), ["c": .null], nil),
        Case(.notIn(column: "c", [.text("a"), .text("b")]), [:], nil),
        Case(.notIn(column: "c", [.int(7)]), ["c": .real(7)], false),
        // An empty list renders as `1 = 1`: true even for a null column.
        Case(.notIn(column: "c", []), ["c": .int(1)], true),
        Case(.notIn(column: "c", []), ["c": .null], true),
        Case(.notIn(column: "c", []), [:], true),
        Case(.notIn(column: "c", [.int(1), .null]), ["c": .int(1)], false),
        Case(.notIn(column: "c", [.int(1), .null]), ["c": .int(2)], nil),
        // between: inclusive at both ends, false when the bounds are reversed.
        Case(.between(column: "c", .int(1), .int(3)), ["c": .int(1)], true),
        Case(.between(column: "c", .int(1), .int(3)), ["c": .int(2)], true),
        Case(.between(column: "c", .int(1), .int(3)), ["c": .int(3)], true),
        Case(.between(column: "c", .int(1), .int(3)), ["c": .int(0)], false),
        Case(.between(column: "c", .int(1), .int(3)), ["c": .int(4)], false),
        Case(.between(column: "c", .int(3), .int(1)), ["c": .int(2)], false),
        Case(.between(column: "c", .int(2), .int(2)), ["c": .int(2)], true),
        Case(.between(column: "c", .int(1), .int(3)), ["c": .null], nil),
        Case(.between(column: "c", .int(1), .int(3)), [:], nil),
        Case(.between(column: "c", .real(-1), .real(1)), ["c": .real(-0.5)], true),
        Case(.between(column: "c", .real(-1), .real(1)), ["c": .int(1)], true),
        Case(.between(column: "c", .text("A"), .text("a")), ["c": .text("Zebra")], true),
        Case(.between(column: "c", .text("A"), .text("a")), ["c": .text("abc")], false),
        Case(.between(column: "c", .bool(false), .bool(false)), ["c": .bool(true)], false),
        Case(
            .between(column: "c", ts("1900-01-01T00:00:00Z"), ts("2000-01-01T00:00:00Z")),
            ["c": ts("1969-12-31T23:59:59Z")], true),
        // A null bound (the parser refuses it): SQL's `c >= lo AND c <= hi`, so the other bound
        // can still make it false.
        Case(.between(column: "c", .null, .int(3)), ["c": .int(2)], nil),
        Case(.between(column: "c", .null, .int(3)), ["c": .int(4)], false),
        Case(.between(column: "c", .int(3), .null), ["c": .int(2)], false),
        Case(.between(column: "c", .int(3), .null), ["c": .int(4)], nil),
    ]

    @Test(arguments: membershipCases)
    func membership(_ c: Case) {
        #expect(c.expression.evaluate(c.row) == c.expected)
    }

    // MARK: - like, starts_with

    /// (pattern, text, matches)
    static let likeCases: [(String, String, Bool)] = [
        ("a%", "abc", true), ("a%", "a", true), ("a%", "Abc", false), ("a%", "", false), ("a%", "ba", false),
        ("%A%", "abc", false), ("%A%", "aBA", true), ("%A%", "ABC", true), ("%A%", "A", true),
        // `_` is one Unicode scalar: é precomposed is one, e + U+0301 two, an astral character one.
        ("_\u{E9}%", "x\u{E9}z", true), ("_\u{E9}%", "xe\u{301}z", false), ("_\u{E9}%", "\u{E9}", false),
        ("_\u{E9}%", "😀\u{E9}", true), ("_\u{E9}", "\u{E9}\u{E9}", true),
        // No escape character: a backslash is itself and the `%` after it a wildcard.
        ("%\\%", "back\\slash", true), ("%\\%", "\\", true), ("%\\%", "a%b", false), ("%\\%", "a\\%b", true),
        ("a\\%b", "a\\%b", true), ("a\\%b", "a\\xyzb", true), ("a\\%b", "a%b", false),
        // GLOB's metacharacters are plain in LIKE.
        ("%[%", "[bracket]", true), ("%[%", "]", false), ("%[%", "*?[", true), ("[%]", "[%]", true),
        ("[%]", "[bracket]", true), ("[%]", "a", false), ("%*%", "star*", true), ("%*%", "star", false),
        ("%?", "what?", true), ("%?", "what", false), ("%]", "]", true), ("[a]", "a", false),
        ("100%", "100%", true), ("100%", "100", true), ("100%", "1000", true), ("100%", "10", false),
        ("%", "", true), ("%", "anything at all", true), ("%%", "", true), ("%%%", "x", true),
        ("_", "", false), ("_", "a", true), ("_", "ab", false), ("_", "\u{E9}", true), ("_", "e\u{301}", false),
        ("_", "😀", true), ("_", "%", true), ("__", "e\u{301}", true), ("__", "😀", false),
        ("", "", true), ("", "a", false),
        // Case-sensitive, no normalization.
        ("abc", "abc", true), ("abc", "ABC", false), ("ABC", "ABC", true), ("%c", "abC", false),
        ("e_", "e\u{301}", true), ("e", "e\u{301}", false), ("\u{E9}", "e\u{301}", false),
        ("e\u{301}", "\u{E9}", false), ("e\u{301}", "e\u{301}", true), ("%\u{301}", "xe\u{301}", true),
        ("\u{C4}%\u{E4}", "\u{C4}rger \u{E4}", true), ("\u{C4}%\u{E4}", "\u{E4}rger \u{C4}", false),
        ("😀%", "😀 smile", true), ("_ smile", "😀 smile", true), ("__ smile", "😀 smile", false),
        // Where a greedy matcher must back up to its last `%`.
        ("%ab%ab", "abab", true), ("%ab%ab", "abxab", true), ("%ab%ab", "ab", false), ("%aab", "aaab", true),
        ("%aab", "aabab", false), ("%aab", "aaaab", true), ("a%%b", "ab", true), ("%_%", "", false), ("%_%_%", "a", false),
        ("%_%_%", "ab", true), ("%a_", "aaa", true), ("%a_", "aba", false), ("%a_%b", "xaxaxb", true),
        ("a%b%c", "abc", true), ("a%b%c", "acb", false), ("a%b%c", "abcbc", true), ("a%b%c", "abcd", false),
    ]

    @Test(arguments: likeCases)
    func like(_ pattern: String, _ text: String, _ matches: Bool) {
        let expression: Expression = .like(column: "t", pattern: pattern)
        #expect(expression.evaluate(["t": .text(text)]) == matches)
        #expect(Expression.not(expression).evaluate(["t": .text(text)]) == !matches)
        // Null, missing, or not text (which the parser refuses): unknown.
        #expect(expression.evaluate(["t": .null]) == nil)
        #expect(expression.evaluate([:]) == nil)
        #expect(expression.evaluate(["t": .int(100)]) == nil)
    }

    @Test func likeHasNoBacktrackingBlowup() {
        // Exponential for a naive backtracker; quadratic at worst here.
        let text = String(repeating: "a", count: 20_000)
        let pattern = String(repeating: "%a", count: 30) + "%b"
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(Expression.like(column: "t", pattern: pattern).evaluate(["t": .text(text)]) == false)
            #expect(Expression.like(column: "t", pattern: String(pattern.dropLast()) + "a").evaluate(["t": .text(text)]) == true)
            #expect(
                Expression.like(column: "t", pattern: String(repeating: "_%", count: 200) + "b")
                    .evaluate(["t": .text(text)]) == false)
        }
        #expect(elapsed < .seconds(10))
    }

    /// (prefix, text, matches)
    static let startsWithCases: [(String, String, Bool)] = [
        ("a", "abc", true), ("A", "abc", false), ("abc", "abc", true), ("abcd", "abc", false),
        ("", "", true), ("", "x", true), ("x", "", false),
        // Literal: LIKE and GLOB metacharacters are themselves.
        ("100%", "100%x", true), ("100%", "1000", false), ("a_", "a_b", true), ("a_", "ab", false),
        ("*?[", "*?[", true), ("*", "star*", false), ("[", "[bracket]", true), ("]", "]", true),
        ("\\", "\\", true), ("\\", "back\\slash", false),
        // Bytes: the precomposed é is not a prefix of e + U+0301, but e is.
        ("\u{E9}", "\u{E9}", true), ("\u{E9}", "e\u{301}", false), ("e", "e\u{301}", true),
        ("e\u{301}", "e\u{301}z", true), ("😀", "😀 smile", true), ("😀 s", "😀 smile", true),
    ]

    @Test(arguments: startsWithCases)
    func startsWith(_ prefix: String, _ text: String, _ matches: Bool) {
        let expression: Expression = .startsWith(column: "t", prefix: prefix)
        #expect(expression.evaluate(["t": .text(text)]) == matches)
        #expect(expression.evaluate(["t": .null]) == nil)
        #expect(expression.evaluate([:]) == nil)
        #expect(expression.evaluate(["t": .int(1)]) == nil)
    }

    // MARK: - Null tests

    static let nullTestCases: [Case] = [
        Case(.isNull(column: "c"), ["c": .null], true),
        Case(.isNull(column: "c"), [:], true),
        Case(.isNull(column: "c"), ["c": .int(0)], false),
        Case(.isNull(column: "c"), ["c": .text("")], false),
        Case(.isNull(column: "c"), ["c": .bool(false)], false),
        Case(.notNull(column: "c"), ["c": .null], false),
        Case(.notNull(column: "c"), [:], false),
        Case(.notNull(column: "c"), ["c": .real(0)], true),
        Case(.notNull(column: "c"), ["c": .text("")], true),
        Case(.not(.isNull(column: "c")), ["c": .null], false),
        Case(.not(.notNull(column: "c")), [:], true),
    ]

    @Test(arguments: nullTestCases)
    func nullTest(_ c: Case) {
        #expect(c.expression.evaluate(c.row) == c.expected)
    }

    // MARK: - and, or, not

    static let logicCases: [Case] = {
        let row = truthRow
        let (T, F, U) = (Self.T, Self.F, Self.U)
        return [
            // The operands themselves.
            Case(T, row, true), Case(F, row, false), Case(U, row, nil),
            // not
            Case(.not(T), row, false), Case(.not(F), row, true), Case(.not(U), row, nil),
            Case(.not(.not(U)), row, nil), Case(.not(.not(F)), row, false),
            // and: Kleene
            Case(.and([]), row, true), Case(.and([T]), row, true), Case(.and([F]), row, false), Case(.and([U]), row, nil),
            Case(.and([T, T]), row, true), Case(.and([T, F]), row, false), Case(.and([T, U]), row, nil),
            Case(.and([F, T]), row, false), Case(.and([F, F]), row, false), Case(.and([F, U]), row, false),
            Case(.and([U, T]), row, nil), Case(.and([U, F]), row, false), Case(.and([U, U]), row, nil),
            Case(.and([T, U, F]), row, false), Case(.and([U, T, T]), row, nil), Case(.and([T, T, T]), row, true),
            // or: Kleene
            Case(.or([]), row, false), Case(.or([T]), row, true), Case(.or([F]), row, false), Case(.or([U]), row, nil),
            Case(.or([T, T]), row, true), Case(.or([T, F]), row, true), Case(.or([T, U]), row, true),
            Case(.or([F, T]), row, true), Case(.or([F, F]), row, false), Case(.or([F, U]), row, nil),
            Case(.or([U, T]), row, true), Case(.or([U, F]), row, nil), Case(.or([U, U]), row, nil),
            Case(.or([F, U, T]), row, true), Case(.or([U, F, F]), row, nil), Case(.or([F, F, F]), row, false),
            // Nested, and the empty forms inside others.
            Case(.not(.and([])), row, false), Case(.not(.or([])), row, true),
            Case(.and([.or([]), U]), row, false), Case(.or([.and([]), U]), row, true),
            Case(.not(.and([T, U])), row, nil), Case(.not(.or([F, U])), row, nil),
            Case(.not(.or([T, U])), row, false), Case(.not(.and([F, U])), row, true),
            Case(.or([.and([T, U]), .not(F)]), row, true), Case(.and([.or([F, U]), .not(.and([]))]), row, false),
            // Real operators with nulls: `!=` and `not_in` do not match a null column, nor does
            // `not` of anything on it, but an `or` with `is_null` does.
            Case(.not(cmp(.equal, "c", .int(1))), ["c": .null], nil),
            Case(.or([cmp(.notEqual, "c", .int(1)), .isNull(column: "c")]), ["c": .null], true),
            Case(.or([cmp(.notEqual, "c", .int(1)), .isNull(column: "c")]), ["c": .int(1)], false),
            Case(.and([cmp(.greater, "a", .int(0)), cmp(.less, "b", .int(0))]), ["a": .int(1), "b": .null], nil),
            Case(.and([cmp(.greater, "a", .int(0)), cmp(.less, "b", .int(0))]), ["a": .int(0), "b": .null], false),
            Case(.not(.isIn(column: "c", [])), ["c": .null], true),
            Case(.not(.notIn(column: "c", [])), ["c": .null], false),
        ]
    }()

    @Test(arguments: logicCases)
    func logic(_ c: Case) {
        #expect(c.expression.evaluate(c.row) == c.expected)
    }

    // MARK: - Randomized cross-check

    /// Kleene's logic with false < unknown < true: `and` is the minimum, `or` the maximum.
    enum Truth: Int, Comparable {
        case no = 0, unknown = 1, yes = 2

        init(_ b: Bool?) { self = b.map { $0 ? .yes : .no } ?? .unknown }
        var bool: Bool? { self == .unknown ? nil : self == .yes }
        var negated: Truth { Truth(rawValue: 2 - rawValue)! }
        static func < (a: Truth, b: Truth) -> Bool { a.rawValue < b.rawValue }
    }

    /// -1, 0, 1, or nil for a null; written per type, without `ShardValue.<`.
    static func referenceCompare(_ a: ShardValue, _ b: ShardValue) -> Int? {
        func sign<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : x == y ? 0 : 1 }
        func rank(_ v: ShardValue) -> Int {
            switch v {
            case .null: 0
            case .bool: 1
            case .int, .real: 2
            case .text: 3
            case .timestamp: 4
            }
        }
        switch (a, b) {
        case (.null, _), (_, .null): return nil
        case (.int(let x), .int(let y)): return sign(x, y)
        case (.int(let x), .real(let y)): return sign(Double(x), y)
        case (.real(let x), .int(let y)): return sign(x, Double(y))
        case (.real(let x), .real(let y)): return sign(x, y)
        case (.text(let x), .text(let y)):
            let (xs, ys) = (Array(x.utf8), Array(y.utf8))
            for (p, q) in zip(xs, ys) where p != q { return p < q ? -1 : 1 }
            return sign(xs.count, ys.count)
        case (.bool(let x), .bool(let y)): return sign(x ? 1 : 0, y ? 1 : 0)
        case (.timestamp(let x), .timestamp(let y)): return sign(x.microseconds, y.microseconds)
        default: return sign(rank(a), rank(b))
        }
    }

    /// LIKE by dynamic programming over scalars: `m[i][j]` says whether the first i scalars
    /// of the text match the first j of the pattern.
    static func referenceLike(_ text: String, _ pattern: String) -> Bool {
        let s = Array(text.unicodeScalars), p = Array(pattern.unicodeScalars)
        var m = Array(repeating: Array(repeating: false, count: p.count + 1), count: s.count + 1)
        m[0][0] = true
        for j in 0..<p.count where p[j] == "%" { m[0][j + 1] = m[0][j] }
        for i in 0..<s.count {
            for j in 0..<p.count {
                switch p[j] {
                case "%": m[i + 1][j + 1] = m[i][j + 1] || m[i + 1][j]
                case "_": m[i + 1][j + 1] = m[i][j]
                default: m[i + 1][j + 1] = m[i][j] && s[i] == p[j]
                }
            }
        }
        return m[s.count][p.count]
    }

    /// The expression as SQL defines it: `in` an `or` of equalities, `not_in` the `not` of
    /// that, `between` an `and` of two comparisons; the empty lists as the renderer's constants.
    static func reference(_ expression: Expression, _ row: [String: ShardValue]) -> Truth {
        func value(_ column: String) -> ShardValue { row[column] ?? .null }
        func compare(_ column: String, _ operand: ShardValue, _ accept: (Int) -> Bool) -> Truth {
            guard let order = referenceCompare(value(column), operand) else { return .unknown }
            return accept(order) ? .yes : .no
        }
        func isIn(_ column: String, _ values: [ShardValue]) -> Truth {
            values.map { compare(column, $0) { $0 == 0 } }.max() ?? .no
        }
        switch expression {
        case .compare(let op, let column, let operand):
            switch op {
            case .equal: return compare(column, operand) { $0 == 0 }
            case .notEqual: return compare(column, operand) { $0 != 0 }
            case .less: return compare(column, operand) { $0 < 0 }
            case .lessOrEqual: return compare(column, operand) { $0 <= 0 }
            case .greater: return compare(column, operand) { $0 > 0 }
            case .greaterOrEqual: return compare(column, operand) { $0 >= 0 }
            }
        case .isIn(let column, let values):
            return values.isEmpty ? .no : isIn(column, values)
        case .notIn(let column, let values):
            return values.isEmpty ? .yes : isIn(column, values).negated
        case .between(let column, let low, let high):
            return min(compare(column, low) { $0 >= 0 }, compare(column, high) { $0 <= 0 })
        case .like(let column, let pattern):
            guard case .text(let text) = value(column) else { return .unknown }
            return referenceLike(text, pattern) ? .yes : .no
        case .startsWith(let column, let prefix):
            guard case .text(let text) = value(column) else { return .unknown }
            let (t, p) = (Array(text.utf8), Array(prefix.utf8))
            return p.count <= t.count && Array(t[..<p.count]) == p ? .yes : .no
        case .isNull(let column):
            return value(column).isNull ? .yes : .no
        case .notNull(let column):
            return value(column).isNull ? .no : .yes
        case .and(let terms):
            return terms.map { reference($0, row) }.min() ?? .yes
        case .or(let terms):
            return terms.map { reference($0, row) }.max() ?? .no
        case .not(let term):
            return reference(term, row).negated
        case .related:
            return .unknown  // one row does not carry its related rows
        }
    }

    /// Random rows and expressions over a few columns whose values collide often.
    struct Generator {
        var random: SplitMix64
        static let columns = ["i", "r", "t", "b", "ts"]
        /// Scalars that make LIKE interesting: wildcards, case, combining and astral characters.
        static let alphabet: [Unicode.Scalar] = ["a", "A", "b", "\u{E9}", "e", "\u{301}", "😀", "%", "_", "\\", "["]

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &random) < p }
        mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

        mutating func text(maxLength: Int, wildcards: Bool) -> String {
            var s = String.UnicodeScalarView()
            for _ in 0..<int(0...maxLength) {
                s.append(wildcards && chance(0.4) ? pick(["%", "_"]) : pick(Self.alphabet))
            }
            return String(s)
        }

        /// A non-null value for `column`; "r" also gets ints (an int against a real).
        mutating func value(_ column: String) -> ShardValue {
            switch column {
            case "i": return chance(0.05) ? pick([.int(.min), .int(.max)]) : .int(Int64(int(-3...3)))
            case "r": return chance(0.3) ? .int(Int64(int(-2...2))) : .real(pick([-1.5, -0.0, 0, 0.5, 1, 2, 2.5]))
            case "t": return .text(text(maxLength: 4, wildcards: false))
            case "b": return .bool(chance(0.5))
            default: return .timestamp(Timestamp(microseconds: pick([-1_000_000, -1, 0, 1, 1_000_000])))
            }
        }

        /// Each column null or missing now and then; occasionally a value of another type.
        mutating func row() -> [String: ShardValue] {
            var row: [String: ShardValue] = [:]
            for column in Self.columns {
                if chance(0.1) { continue }
                row[column] = chance(0.15) ? .null : chance(0.03) ? value(pick(Self.columns)) : value(column)
            }
            return row
        }

        mutating func expression(depth: Int) -> Expression {
            if depth > 0, chance(0.4) {
                switch int(0...2) {
                case 0: return .and((0..<int(0...3)).map { _ in expression(depth: depth - 1) })
                case 1: return .or((0..<int(0...3)).map { _ in expression(depth: depth - 1) })
                default: return .not(expression(depth: depth - 1))
                }
            }
            let column = chance(0.05) ? "missing" : pick(Self.columns)
            let valueColumn = column == "missing" ? pick(Self.columns) : column
            switch int(0...8) {
            case 0, 1:
                return .compare(pick(Expression.Comparison.allCases), column: column, value(valueColumn))
            case 2: return .isIn(column: column, (0..<int(0...3)).map { _ in value(valueColumn) })
            case 3: return .notIn(column: column, (0..<int(0...3)).map { _ in value(valueColumn) })
            case 4: return .between(column: column, value(valueColumn), value(valueColumn))
            case 5, 6:
                return .like(column: chance(0.9) ? "t" : column, pattern: text(maxLength: 5, wildcards: true))
            case 7:
                return .startsWith(column: chance(0.9) ? "t" : column, prefix: text(maxLength: 2, wildcards: false))
            default: return chance(0.5) ? .isNull(column: column) : .notNull(column: column)
            }
        }
    }

    @Test func randomExpressionsAgreeWithTheReference() {
        var generator = Generator(random: SplitMix64(seed: 0x5EED_E7A1))
        var outcomes: [Bool?: Int] = [:]
        for _ in 0..<4000 {
            let expression = generator.expression(depth: 3)
            for _ in 0..<4 {
                let row = generator.row()
                let got = expression.evaluate(row)
                let expected = Self.reference(expression, row).bool
                #expect(got == expected, "\(expression) on \(row)")
                outcomes[got, default: 0] += 1
            }
        }
        // The generator reaches all three answers often, so the check above means something.
        for outcome in [true, false, nil] as [Bool?] { #expect(outcomes[outcome, default: 0] > 2000, "\(outcomes)") }
    }

    @Test func randomLikePatternsAgreeWithTheReference() {
        var generator = Generator(random: SplitMix64(seed: 42))
        var matched = 0
        for _ in 0..<20_000 {
            let text = generator.text(maxLength: 8, wildcards: generator.chance(0.2))
            let pattern = generator.text(maxLength: 6, wildcards: true)
            let expected = Self.referenceLike(text, pattern)
            if expected { matched += 1 }
            #expect(Expression.like(column: "t", pattern: pattern).evaluate(["t": .text(text)]) == expected, "\(pattern) ~ \(text)")
        }
        #expect(matched > 1000)
    }
}
