/// The column types of protocol.md section 3.
package enum ColumnType: String, Sendable, Hashable, CaseIterable {
    case int
    case real
    case text
    case bool
    case timestamp
}
