/// Every mistake found in one shards.conf, reported together (config.md).
///
/// Each issue names the TOML key path and says what would be valid, e.g.
/// `shards.conf: models.Report.shard_by.parent: "Location" is not a model (models: WeatherLocation, Report)`.
package struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// One mistake.
    package struct Issue: Sendable, Equatable, CustomStringConvertible {
        /// The TOML key path, e.g. `models.Report.shard_by.parent`; `""` for the file as a whole.
        package var path: String
        package var message: String
        /// For a TOML syntax error: where it is (1-based).
        package var line: Int?
        package var column: Int?

        package init(path: String, message: String, line: Int? = nil, column: Int? = nil) {
            self.path = path
            self.message = message
            self.line = line
            self.column = column
        }

        /// `<key path>: <message>`, or `<line>:<col>: <message>` for a syntax error.
        package var description: String {
            if let line {
                return "\(line):\(column ?? 1): \(message)"
            }
            return path.isEmpty ? message : "\(path): \(message)"
        }
    }

    /// The file as the user gave it.
    package var file: String
    /// In file order.
    package var issues: [Issue]

    package init(file: String, issues: [Issue]) {
        self.file = file
        self.issues = issues
    }

    /// One line per issue: `<file>: <key path>: <message>`; a TOML syntax error is
    /// `<file>:<line>:<col>: <message>`; a reading failure `<file>: cannot read: <reason>`.
    package var description: String {
        issues.map { issue in
            issue.line != nil ? "\(file):\(issue)" : "\(file): \(issue)"
        }.joined(separator: "\n")
    }

    /// The issue lines without the file name, for tests and for callers that print the
    /// file once.
    package var messages: [String] {
        issues.map(\.description)
    }
}
