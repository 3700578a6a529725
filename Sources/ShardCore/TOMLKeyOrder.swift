/// The order in which keys first appear in a TOML text.
///
/// TOMLKit hands tables back sorted by key (toml++ keeps them in a `std::map`), but
/// shards.conf gives meaning to the order of the file: the shards' order is the routing
/// order, and models, columns and relationships are kept in the order they were written.
/// This scanner walks the raw text and records, for every key path, the index of its first
/// appearance. It knows enough TOML to find keys (comments; basic, literal and multi-line
/// strings; bare, quoted and dotted keys; `[table]` and `[[array]]` headers; inline tables
/// and arrays) and nothing of values beyond skipping them.
///
/// It does not validate: the text is parsed by TOMLKit as well, which reports syntax
/// errors. On text it does not understand it skips to the next line, so it always ends.
///
/// Key paths are the unescaped key components. A `[[array]]` header and an inline table
/// inside an array record their keys under the array's own path (element indexes are not
/// part of a path): `[[a]] x = 1` records `["a"]` and `["a", "x"]`.
package struct TOMLKeyOrder: Sendable {
    private var positions: [[String]: Int] = [:]

    /// Scans `text`; never fails.
    package init(text: String) {
        var scanner = Scanner(bytes: Array(text.utf8))
        scanner.scanDocument()
        positions = scanner.positions
    }

    /// The index of the first appearance of `path`, or nil when the text never names it.
    package func index(of path: [String]) -> Int? {
        positions[path]
    }

    /// Every recorded key path, in order of first appearance.
    package var paths: [[String]] {
        positions.sorted { $0.value < $1.value }.map(\.key)
    }

    /// `keys` (the keys of the table at `path`) in file order; keys the scanner did not see
    /// come last, sorted by name.
    package func ordered(_ keys: [String], under path: [String]) -> [String] {
        keys.map { key in (key, positions[path + [key]]) }
            .sorted { a, b in
                switch (a.1, b.1) {
                case let (x?, y?): return x < y
                case (.some, nil): return true
                case (nil, .some): return false
                case (nil, nil): return a.0 < b.0
                }
            }
            .map(\.0)
    }
}

extension TOMLKeyOrder {
    /// A byte-level walk over the TOML text.
    private struct Scanner {
        let bytes: [UInt8]
        var i = 0
        var positions: [[String]: Int] = [:]

        init(bytes: [UInt8]) {
            self.bytes = bytes
            // A UTF-8 byte order mark.
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        }

        private var atEnd: Bool { i >= bytes.count }
        private var current: UInt8? { i < bytes.count ? bytes[i] : nil }

        private func peek(_ offset: Int) -> UInt8? {
            i + offset < bytes.count ? bytes[i + offset] : nil
        }

        private func starts(with s: StaticString) -> Bool {
            let count = s.utf8CodeUnitCount
            guard i + count <= bytes.count else { return false }
            let p = s.utf8Start
            for k in 0..<count where bytes[i + k] != p[k] { return false }
            return true
        }

        private mutating func record(_ path: [String]) {
            guard !path.isEmpty else { return }
            for length in 1...path.count {
                let prefix = Array(path.prefix(length))
                if positions[prefix] == nil { positions[prefix] = positions.count }
            }
        }

        // MARK: Layout

        /// Spaces and tabs.
        private mutating func skipBlanks() {
            while let c = current, c == .space || c == .tab { i += 1 }
        }

        /// Blanks, newlines and comments.
        private mutating func skipBlanksNewlinesAndComments() {
            while let c = current {
                if c == .space || c == .tab || c == .lf || c == .cr {
                    i += 1
                } else if c == .hash {
                    skipToEndOfLine()
                } else {
                    return
                }
            }
        }

        private mutating func skipToEndOfLine() {
            while let c = current, c != .lf { i += 1 }
        }

        // MARK: Document

        mutating func scanDocument() {
            var table: [String] = []
            while true {
                skipBlanksNewlinesAndComments()
                guard let c = current else { return }
                let start = i
                if c == .leftBracket {
                    let isArray = peek(1) == .leftBracket
                    i += isArray ? 2 : 1
                    skipBlanks()
                    if let key = scanKey() {
                        skipBlanks()
                        if current == .rightBracket {
                            i += 1
                            if isArray, current == .rightBracket { i += 1 }
                            table = key
                            record(key)
                        }
                    }
                    skipToEndOfLine()
                } else if let key = scanKey() {
                    skipBlanks()
                    if current == .equals {
                        i += 1
                        record(table + key)
                        skipBlanks()
                        scanValue(at: table + key)
                    }
                    skipToEndOfLine()
                } else {
                    skipToEndOfLine()
                }
                if i == start { i += 1 }  // never stall on text it does not understand
            }
        }

        // MARK: Keys

        /// A dotted key such as `a."b.c".'d'`; nil when there is none here.
        private mutating func scanKey() -> [String]? {
            var parts: [String] = []
            while true {
                guard let part = scanSimpleKey() else { return nil }
                parts.append(part)
                let save = i
                skipBlanks()
                if current == .dot {
                    i += 1
                    skipBlanks()
                } else {
                    i = save
                    return parts
                }
            }
        }

        private mutating func scanSimpleKey() -> String? {
            guard let c = current else { return nil }
            if c == .quote {
                guard !starts(with: "\"\"\"") else { return nil }
                return scanBasicString()
            }
            if c == .apostrophe {
                guard !starts(with: "'''") else { return nil }
                return scanLiteralString()
            }
            let start = i
            while let c = current, c.isBareKeyCharacter { i += 1 }
            guard i > start else { return nil }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        // MARK: Values

        private mutating func scanValue(at path: [String]) {
            guard let c = current else { return }
            switch c {
            case .quote:
                if starts(with: "\"\"\"") { skipMultilineString(delimiter: .quote) } else { _ = scanBasicString() }
            case .apostrophe:
                if starts(with: "'''") { skipMultilineString(delimiter: .apostrophe) } else { _ = scanLiteralString() }
            case .leftBrace:
                scanInlineTable(at: path)
            case .leftBracket:
                scanArray(at: path)
            default:
                // Numbers, booleans, dates and times: up to the next delimiter. A date-time
                // may contain a space (`1979-05-27 07:32:00Z`), which is harmless here.
                while let c = current, c != .comma, c != .rightBracket, c != .rightBrace, c != .hash, c != .lf {
                    i += 1
                }
            }
        }

        private mutating func scanInlineTable(at path: [String]) {
            i += 1  // {
            while true {
                skipBlanksNewlinesAndComments()
                guard let c = current else { return }
                if c == .rightBrace { i += 1; return }
                if c == .comma { i += 1; continue }
                guard let key = scanKey() else { i += 1; continue }
                skipBlanks()
                guard current == .equals else { continue }
                i += 1
                record(path + key)
                skipBlanksNewlinesAndComments()
                scanValue(at: path + key)
            }
        }

        private mutating func scanArray(at path: [String]) {
            i += 1  // [
            while true {
                skipBlanksNewlinesAndComments()
                guard let c = current else { return }
                if c == .rightBracket { i += 1; return }
                if c == .comma { i += 1; continue }
                let start = i
                scanValue(at: path)
                if i == start { i += 1 }
            }
        }

        // MARK: Strings

        /// A `"..."` string with its escapes decoded; `i` is at the opening quote.
        private mutating func scanBasicString() -> String {
            i += 1
            var out: [UInt8] = []
            while let c = current, c != .lf {
                i += 1
                if c == .quote { break }
                if c == .backslash, let e = current {
                    i += 1
                    switch e {
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "e"): out.append(0x1B)
                    case UInt8(ascii: "u"): appendUnicodeEscape(digits: 4, to: &out)
                    case UInt8(ascii: "U"): appendUnicodeEscape(digits: 8, to: &out)
                    case UInt8(ascii: "x"): appendUnicodeEscape(digits: 2, to: &out)
                    default: out.append(e)  // \" \\ and anything unknown
                    }
                } else {
                    out.append(c)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }

        private mutating func appendUnicodeEscape(digits: Int, to out: inout [UInt8]) {
            var value: UInt32 = 0
            for _ in 0..<digits {
                guard let c = current, let d = c.hexDigitValue else { return }
                value = value &* 16 &+ UInt32(d)
                i += 1
            }
            if let scalar = Unicode.Scalar(value) {
                UTF8.encode(scalar) { out.append($0) }
            }
        }

        /// A `'...'` string (no escapes); `i` is at the opening apostrophe.
        private mutating func scanLiteralString() -> String {
            i += 1
            let start = i
            while let c = current, c != .apostrophe, c != .lf { i += 1 }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            if current == .apostrophe { i += 1 }
            return text
        }

        /// A `"""..."""` or `'''...'''` string; up to two more delimiters may end it
        /// (`""""a""""` is legal TOML).
        private mutating func skipMultilineString(delimiter: UInt8) {
            i += 3
            while let c = current {
                if c == .backslash, delimiter == .quote {
                    i += 2
                    continue
                }
                if c == delimiter, peek(1) == delimiter, peek(2) == delimiter {
                    i += 3
                    var extra = 0
                    while extra < 2, current == delimiter { i += 1; extra += 1 }
                    return
                }
                i += 1
            }
        }
    }
}

extension UInt8 {
    fileprivate static let tab = UInt8(ascii: "\t")
    fileprivate static let lf = UInt8(ascii: "\n")
    fileprivate static let cr = UInt8(ascii: "\r")
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let apostrophe = UInt8(ascii: "'")
    fileprivate static let hash = UInt8(ascii: "#")
    fileprivate static let comma = UInt8(ascii: ",")
    fileprivate static let dot = UInt8(ascii: ".")
    fileprivate static let equals = UInt8(ascii: "=")
    fileprivate static let backslash = UInt8(ascii: "\\")
    fileprivate static let leftBracket = UInt8(ascii: "[")
    fileprivate static let rightBracket = UInt8(ascii: "]")
    fileprivate static let leftBrace = UInt8(ascii: "{")
    fileprivate static let rightBrace = UInt8(ascii: "}")

    fileprivate var isBareKeyCharacter: Bool {
        (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "z"))
            || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z"))
            || (self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9"))
            || self == UInt8(ascii: "_") || self == UInt8(ascii: "-")
    }

    fileprivate var hexDigitValue: UInt8? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): self - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): self - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): self - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
