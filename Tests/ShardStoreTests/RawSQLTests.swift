import ShardStore
import Testing

@Suite struct RawSQLTests {
    @Test func dollarPlaceholdersBecomeNumberedOnSQLiteOnly() {
        let sql = "SELECT '$1', \"$2\", $1, x--$3\n/* $4 */ FROM t WHERE a = $2 AND b = 'it''s $5' AND c = $10 AND d = $"
        #expect(SQLDialect.sqlite.rawSQL(sql) == "SELECT '$1', \"$2\", ?1, x--$3\n/* $4 */ FROM t WHERE a = ?2 AND b = 'it''s $5' AND c = ?10 AND d = $")
        #expect(SQLDialect.postgres.rawSQL(sql) == sql)
        #expect(SQLDialect.sqlite.rawSQL("/* unterminated $1") == "/* unterminated $1")
        #expect(SQLDialect.sqlite.rawSQL("'unterminated $1") == "'unterminated $1")
    }
}
