extension ShardSession {
    /// Opens a transaction explicitly (`begin`): later reads see its writes. The first write
    /// opens one anyway.
    @discardableResult
    public func begin() async throws -> [String] {
        try await shards(of: "begin")
    }

    /// Commits every shard the transaction touched (`commit`).
    /// - Returns: the shards that committed, in shards.conf order.
    /// - Throws: `ShardError` `transaction_failed` with `committed` and `failed` when some
    ///   shards did not commit.
    @discardableResult
    public func commit() async throws -> [String] {
        try await shards(of: "commit")
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
