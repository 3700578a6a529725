extension ShardSession {
    /// Opens a transaction explicitly (`begin`): later reads see its writes. The first write
    /// opens one anyway.
    @discardableResult
    public func begin() async throws -> [String] {
        try await shards(of: "begin")
    }

    /// Commits every shard the transaction touched (`commit`): atomically across shards
    /// when the daemon's `commit` is `two_phase` (its default).
    /// - Parameter label: 1 to 64 bytes of the caller's choosing (a request id), by which
    ///   `transactionStatus(label:)` tells later whether this commit happened (a connection
    ///   that broke during `commit` leaves the caller not knowing).
    /// - Returns: the shards that committed, in shards.conf order.
    /// - Throws: `ShardError` `transaction_failed` with `outcome`, `committed` and `failed`.
    @discardableResult
    public func commit(label: String? = nil) async throws -> [String] {
        let answer = try await perform("commit", label.map { [("label", .string($0))] } ?? [])
        guard let shards = answer["shards"]?.stringsValue else { throw ShardError.invalidResponse("to commit has no shards") }
        return shards
    }

    /// Whether a commit with `label` happened in the last 24 hours (`transaction_status`).
    public func transactionStatus(label: String) async throws -> Bool {
        let answer = try await perform("transaction_status", [("label", .string(label))])
        switch answer["outcome"] {
        case .string("committed")?: return true
        case .string("not_committed")?: return false
        default: throw ShardError.invalidResponse("to transaction_status has no outcome")
        }
    }

    /// Rolls back every shard the transaction touched and empties the identity map (`rollback`).
    @discardableResult
    public func rollback() async throws -> [String] {
        try await shards(of: "rollback")
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
    ///
    /// `body` runs in the caller's isolation (it need not be `Sendable`).
    ///
    /// ```swift
    /// try await session.transaction {
    ///     let tokyo = try await session.add(WeatherLocation(continent: "Asia", city: "Tokyo"))
    ///     try await session.add(Report(locationID: tokyo.id!, temperature: 80))
    /// }
    /// ```
    public func transaction<Result>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result) async throws -> Result {
        try await begin()
        let result: Result
        do {
            result = try await body()
        } catch {
            _ = try? await rollback()
            throw error
        }
        try await commit()
        return result
    }

    private func shards(of op: String) async throws -> [String] {
        let answer = try await perform(op)
        guard let shards = answer["shards"]?.stringsValue else { throw ShardError.invalidResponse("to \(op) has no shards") }
        return shards
    }
}
