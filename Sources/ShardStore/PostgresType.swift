import CLibPQ
import ShardCore
import ShardProtocol

/// A PostgreSQL data type, by its OID (the built-in OIDs are fixed, see `pg_type.dat`).
struct PostgresType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    var rawValue: Oid

    init(rawValue: Oid) { self.rawValue = rawValue }

    /// Lets the server infer the type (used for a null parameter).
    static let unspecified = PostgresType(rawValue: 0)
    static let bool = PostgresType(rawValue: 16)
    static let bytea = PostgresType(rawValue: 17)
    static let char = PostgresType(rawValue: 18)
    static let name = PostgresType(rawValue: 19)
    static let int8 = PostgresType(rawValue: 20)
    static let int2 = PostgresType(rawValue: 21)
    static let int4 = PostgresType(rawValue: 23)
    static let text = PostgresType(rawValue: 25)
    static let oid = PostgresType(rawValue: 26)
    static let json = PostgresType(rawValue: 114)
    static let float4 = PostgresType(rawValue: 700)
    static let float8 = PostgresType(rawValue: 701)
    static let unknown = PostgresType(rawValue: 705)
    static let bpchar = PostgresType(rawValue: 1042)
    static let varchar = PostgresType(rawValue: 1043)
    static let date = PostgresType(rawValue: 1082)
    static let timestamp = PostgresType(rawValue: 1114)
    static let timestamptz = PostgresType(rawValue: 1184)
    static let numeric = PostgresType(rawValue: 1700)
    static let uuid = PostgresType(rawValue: 2950)
    static let jsonb = PostgresType(rawValue: 3802)

    /// The type a parameter of this column type is declared as.
    init(parameterFor type: ColumnType) {
        switch type {
        case .int: self = .int8
        case .real: self = .float8
        case .text: self = .text
        case .bool: self = .bool
        case .timestamp: self = .timestamptz
        }
    }

    var description: String {
        switch self {
        case .bool: "boolean"
        case .bytea: "bytea"
        case .char: "\"char\""
        case .name: "name"
        case .int8: "bigint"
        case .int2: "smallint"
        case .int4: "integer"
        case .text: "text"
        case .oid: "oid"
        case .json: "json"
        case .float4: "real"
        case .float8: "double precision"
        case .unknown: "unknown"
        case .bpchar: "character"
        case .varchar: "character varying"
        case .date: "date"
        case .timestamp: "timestamp"
        case .timestamptz: "timestamptz"
        case .numeric: "numeric"
        case .uuid: "uuid"
        case .jsonb: "jsonb"
        default: "type oid \(rawValue)"
        }
    }
}

extension Timestamp {
    /// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01 (UTC).
    static let postgresEpochOffset: Int64 = 946_684_800_000_000
}
