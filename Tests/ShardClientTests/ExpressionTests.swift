import Foundation
import ShardClient
import Testing

/// Expressions serialise to protocol.md 7's prefix arrays.
@Suite struct ExpressionTests {
    @Test func comparisons() {
        #expect((Column("temperature") >= 80).description == #"[">=","temperature",80]"#)
        #expect((Column("temperature") > 80.5).description == #"[">","temperature",80.5]"#)
        #expect((Column("temperature") < 1).description == #"["<","temperature",1]"#)
        #expect((Column("temperature") <= 1).description == #"["<=","temperature",1]"#)
        #expect((Column("city") == "Tokyo").description == #"["=","city","Tokyo"]"#)
        #expect((Column("city") != "Tokyo").description == #"["!=","city","Tokyo"]"#)
        #expect((Column("flag") == true).description == #"["=","flag",true]"#)
        let missing: Double? = nil
        #expect((Column("temperature") == missing).description == #"["=","temperature",null]"#)
        #expect((Column("id") == Int64.max).description == #"["=","id",9223372036854775807]"#)
        #expect((Column("id") == Int64.min).description == #"["=","id",-9223372036854775808]"#)
    }

    @Test func listsRangesPatternsAndNulls() {
        #expect(Column("continent").in(["Asia", "Europe"]).description == #"["in","continent",["Asia","Europe"]]"#)
        #expect(Column("id").notIn([1, 2]).description == #"["not_in","id",[1,2]]"#)
        #expect(Column("temperature").between(60, 80).description == #"["between","temperature",60,80]"#)
        #expect(Column("temperature").between(60.5...80).description == #"["between","temperature",60.5,80.0]"#)
        #expect(Column("city").like("T%").description == #"["like","city","T%"]"#)
        #expect(Column("city").startsWith("To").description == #"["starts_with","city","To"]"#)
        #expect(Column("report_time").isNull.description == #"["is_null","report_time"]"#)
        #expect(Column("report_time").isNotNull.description == #"["not_null","report_time"]"#)
        let time = Date(timeIntervalSince1970: 1_795_253_400.25)
        #expect((Column("report_time") >= time).description == #"[">=","report_time","2026-11-21T09:30:00.250000Z"]"#)
    }

    @Test func logic() {
        let a = Column("a") == 1, b = Column("b") == 2, c = Column("c") == 3
        #expect((a && b && c).description == #"["and",["=","a",1],["=","b",2],["=","c",3]]"#)
        #expect((a || b || c).description == #"["or",["=","a",1],["=","b",2],["=","c",3]]"#)
        #expect(((a || b) && c).description == #"["and",["or",["=","a",1],["=","b",2]],["=","c",3]]"#)
        #expect((!a).description == #"["not",["=","a",1]]"#)
        #expect(Predicate.equals(["continent": "Asia", "city": "Tokyo"]).description == #"{"continent":"Asia","city":"Tokyo"}"#)
        #expect((Predicate.equals(["continent": "Asia"]) && b).description == #"["and",["=","continent","Asia"],["=","b",2]]"#)
        #expect(Predicate(json: ["is_null", "x"]).description == #"["is_null","x"]"#)
        #expect(Predicate.all([]).description == #"["and"]"#)
    }

    @Test func orderings() {
        let orderings: [Ordering] = ["city", "-temperature", Column("id").descending, Column("x").ascending]
        #expect(orderings.map(\.description) == ["city", "-temperature", "-id", "x"])
        #expect(Ordering("-temperature") == Ordering(column: "temperature", descending: true))
    }

    @Test func aggregates() {
        #expect(Aggregate.count().description == #"["count","*"]"#)
        #expect(Aggregate.avg("temperature").description == #"["avg","temperature"]"#)
        #expect(Aggregate.max("temperature", as: "hottest").description == #"["max","temperature","hottest"]"#)
    }
}
