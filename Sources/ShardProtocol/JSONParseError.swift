/// Why a line is not valid JSON, and where (protocol.md 2: answered with `bad_json`).
package struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One sentence a person can act on, e.g.
    /// "invalid JSON at byte 17: expected ',' or '}' after an object member".
    package var message: String
    /// The 0-based byte offset in the input where the problem was found (the same number as
    /// in `message`).
    package var offset: Int

    /// An error at `offset`; `reason` completes "invalid JSON at byte N: ...".
    package init(_ reason: String, at offset: Int) {
        self.message = "invalid JSON at byte \(offset): \(reason)"
        self.offset = offset
    }

    package var description: String { message }

    /// The protocol's answer to this error: code `bad_json` with this message.
    package var requestError: ShardError {
        ShardError(.badJSON, message)
    }
}
