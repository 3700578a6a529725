import ArgumentParser
import ShardClient

/// Values typed on the command line, read into the protocol's terms; each failure is a
/// `ValidationError` whose message says what to type instead.
enum CommandLineValues {
    /// A primary key: a JSON scalar (`7`, `"OSL"`) or a list of them for a composite key
    /// (`[1,"a"]`). Text that is not JSON and does not start like JSON (`OSL`) is taken as a string.
    static func primaryKey(_ text: String) throws(ValidationError) -> [ShardValue] {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: text)
        } catch {
            if let first = text.first, "[{\"".contains(first) {
                throw ValidationError("PK \(text) is not valid JSON (\(jsonProblem(error))); write a number, a quoted string such as '\"OSL\"', or a list such as '[1,\"a\"]'.")
            }
            return [.text(text)]
        }
        switch json {
        case .array(let elements):
            guard !elements.isEmpty else { throw ValidationError("PK [] names no row; give the primary key's value(s), e.g. 7 or '[1,\"a\"]'.") }
            return try elements.map { element throws(ValidationError) in try scalar(element, in: text) }
        default:
            return [try scalar(json, in: text)]
        }
    }

    private static func scalar(_ json: JSONValue, in text: String) throws(ValidationError) -> ShardValue {
        switch json {
        case .null: throw ValidationError("PK \(text): a primary key value cannot be null.")
        case .array, .object: throw ValidationError("PK \(text): a primary key is a value (7, \"OSL\") or a list of values ([1,\"a\"]), not \(json).")
        default: return (try? ShardValue(json: json)) ?? .null
        }
    }

    /// The parser's description of what is wrong, without the library's "not valid JSON: " prefix.
    private static func jsonProblem(_ error: ShardError) -> String {
        let prefix = "not valid JSON: "
        return error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message
    }

    /// A `where` expression (protocol.md 7): a JSON object of equalities or a prefix array.
    /// The daemon checks the columns and operators.
    static func predicate(_ text: String) throws(ValidationError) -> Predicate {
        let example = #"e.g. '{"continent":"Asia"}' or '[">=","temperature",80]'"#
        let json: JSONValue
        do {
            json = try JSONValue(parsing: text)
        } catch {
            throw ValidationError("--where is not valid JSON (\(jsonProblem(error))); give an object of equalities or a prefix array, \(example).")
        }
        switch json {
        case .object: break
        case .array(let elements) where elements.first?.stringValue != nil: break
        case .array: throw ValidationError("--where \(text): a prefix array starts with its operator (a string), \(example).")
        default: throw ValidationError("--where \(text): an expression is a JSON object of equalities or a prefix array, \(example).")
        }
        return Predicate(json: json)
    }

    /// An `order_by` list: column names separated by commas, `-` before a name for descending.
    static func ordering(_ text: String) throws(ValidationError) -> [Ordering] {
        var orderings: [Ordering] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let term = part.trimmingSpaces
            guard !term.isEmpty, term != "-", !term.hasPrefix("--") else {
                throw ValidationError("--order-by \(text): give column names separated by commas, - before a name for descending, e.g. city,-temperature.")
            }
            orderings.append(Ordering(term))
        }
        return orderings
    }

    /// Shard names given as repeated `--shard` options or separated by commas.
    static func shards(_ options: [String]) throws(ValidationError) -> [String]? {
        let names = options.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces) }
        guard !names.isEmpty else { return nil }
        if names.contains(where: \.isEmpty) { throw ValidationError("--shard needs a shard name (see `shardctl shards`).") }
        return names
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
