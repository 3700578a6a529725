import Testing

@testable import ShardCore
import ShardProtocol

@Suite struct TOMLKeyOrderTests {
    @Test func tableHeadersInFileOrder() {
        let order = TOMLKeyOrder(text: """
            [server]
            socket = "s.sock"

            [shards.zeta]
            url = "sqlite:z.db"
            [shards.alpha]
            url = "sqlite:a.db"
            [shards.mid]
            url = "sqlite:m.db"
            """)
        #expect(order.ordered(["alpha", "mid", "zeta"], under: ["shards"]) == ["zeta", "alpha", "mid"])
        #expect(order.ordered(["shards", "server"], under: []) == ["server", "shards"])
        #expect(order.paths == [
            ["server"], ["server", "socket"],
            ["shards"], ["shards", "zeta"], ["shards", "zeta", "url"],
            ["shards", "alpha"], ["shards", "alpha", "url"],
            ["shards", "mid"], ["shards", "mid", "url"],
        ])
    }

    @Test func hashAndBracketInsideStringsAreNotSyntax() {
        let order = TOMLKeyOrder(text: """
            [shards.b]
            url = "sqlite:#not-a-comment[shards.x].db" # a comment [shards.y]
            note = 'literal [shards.z] # still the string'
            esc = "quote \\" [shards.w] # inside"
            # [shards.commented]
            [shards.a]
            url = "sqlite:a.db"
            """)
        #expect(order.paths == [
            ["shards"], ["shards", "b"], ["shards", "b", "url"], ["shards", "b", "note"], ["shards", "b", "esc"],
            ["shards", "a"], ["shards", "a", "url"],
        ])
    }

    @Test func multilineStringsHideWhatLooksLikeHeaders() {
        let order = TOMLKeyOrder(text: """
            [t]
            basic = \"\"\"
            [shards.fake]
            x = 1 \\\"\"\"
            \"\"\"
            literal = '''
            [[also.fake]]
            y = 2
            '''
            after = 1
            four = \"\"\"\"x\"\"\"\"
            last = 2
            """)
        #expect(order.paths == [["t"], ["t", "basic"], ["t", "literal"], ["t", "after"], ["t", "four"], ["t", "last"]])
    }

    @Test func inlineTables() {
        let order = TOMLKeyOrder(text: """
            shards = { b = { url = "sqlite:b.db" }, a = { url = "sqlite:a.db", pool_size = 2 } }
            models = { M = { columns = { z = "int", y = { type = "text", nullable = false } } } }
            """)
        #expect(order.ordered(["a", "b"], under: ["shards"]) == ["b", "a"])
        #expect(order.ordered(["y", "z"], under: ["models", "M", "columns"]) == ["z", "y"])
        #expect(order.index(of: ["shards", "a", "pool_size"]) != nil)
        #expect(order.index(of: ["models", "M", "columns", "y", "nullable"]) != nil)
        #expect(order.index(of: ["models", "M", "columns", "y", "type"])! < order.index(of: ["models", "M", "columns", "y", "nullable"])!)
    }

    @Test func dottedKeysAtTopLevelAndInTables() {
        let order = TOMLKeyOrder(text: """
            shards.b.url = "sqlite:b.db"
            shards . a . url = "sqlite:a.db"
            [models.M]
            columns.id = "int"
            columns.name.type = "text"
            """)
        #expect(order.ordered(["a", "b"], under: ["shards"]) == ["b", "a"])
        #expect(order.paths == [
            ["shards"], ["shards", "b"], ["shards", "b", "url"], ["shards", "a"], ["shards", "a", "url"],
            ["models"], ["models", "M"], ["models", "M", "columns"], ["models", "M", "columns", "id"],
            ["models", "M", "columns", "name"], ["models", "M", "columns", "name", "type"],
        ])
    }

    @Test func quotedKeysAreUnescaped() {
        let order = TOMLKeyOrder(text: """
            [ models . "Two Words" ]
            "a.b" = 1
            'lit.eral' = 2
            "\\u0041x" = 3
            [models.'single']
            """)
        #expect(order.paths == [
            ["models"], ["models", "Two Words"], ["models", "Two Words", "a.b"],
            ["models", "Two Words", "lit.eral"], ["models", "Two Words", "Ax"], ["models", "single"],
        ])
    }

    @Test func arraysAndArraysOfTables() {
        let order = TOMLKeyOrder(text: """
            [m]
            ranges = [
              [1, 10, "a"],   # first [x]
              [10, 20, "b"],
            ]
            when = 1979-05-27 07:32:00Z
            list = [{ k = 1 }, { j = 2 }]
            next = "x"
            [[items]]
            name = "one"
            [[items]]
            name = "two"
            other = true
            """)
        #expect(order.paths == [
            ["m"], ["m", "ranges"], ["m", "when"], ["m", "list"], ["m", "list", "k"], ["m", "list", "j"], ["m", "next"],
            ["items"], ["items", "name"], ["items", "other"],
        ])
    }

    @Test func unknownKeysSortLastByName() {
        let order = TOMLKeyOrder(text: "[s.b]\n[s.a]\n")
        #expect(order.ordered(["z", "a", "b", "c"], under: ["s"]) == ["b", "a", "c", "z"])
    }

    @Test func garbageDoesNotHang() {
        let texts = ["[", "[[", "a = ", "a = \"unterminated", "a = '''", "a = [1, {", "= = =", "\u{FEFF}x = 1", "a.b. = 1", "{}]]"]
        for text in texts {
            _ = TOMLKeyOrder(text: text)
        }
        #expect(TOMLKeyOrder(text: "\u{FEFF}x = 1").paths == [["x"]])
    }
}
