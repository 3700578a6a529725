import ShardProtocol

/// The durable decision of a cross-shard commit (protocol.md 6.1): written, and made durable,
/// after every shard is ready and before any commits. It holds what recovery needs to finish
/// each shard, so that the commit completes on every shard whatever moment the daemon dies at.
/// No decision means abort.
package struct CommitDecision: Sendable, Equatable {
    /// How one shard's part is finished.
    package enum Finish: Sendable, Equatable {
        /// PostgreSQL: `COMMIT PREPARED` of this global id (stored verbatim, never rebuilt).
        case commitPrepared(gid: String)
        /// SQLite (no prepared state survives a crash): the transaction's changes, applied in
        /// one transaction when the shard's own commit did not happen.
        case applyChangeset([UInt8])
    }

    /// One shard taking part.
    package struct Participant: Sendable, Equatable {
        package var shard: String
        package var finish: Finish

        package init(shard: String, finish: Finish) {
            self.shard = shard
            self.finish = finish
        }
    }

    package var txid: TransactionID
    package var label: String?
    package var decidedAt: Timestamp
    /// In shards.conf order.
    package var participants: [Participant]

    package init(txid: TransactionID, label: String?, decidedAt: Timestamp, participants: [Participant]) {
        self.txid = txid
        self.label = label
        self.decidedAt = decidedAt
        self.participants = participants
    }

    package var shards: [String] { participants.map(\.shard) }
}

/// One entry of the commit log: a decision, or the news that one is finished everywhere.
package enum CommitLogEntry: Sendable, Equatable {
    case decided(CommitDecision)
    /// Every shard committed and its marker is about to go: nothing is left to recover.
    case completed(TransactionID)
}
