/// The id of a cross-shard transaction: `<instance>-<epoch>-<sequence>`.
///
/// - `instance` is the id of the daemon's `state_dir` (made once, kept there), so that a
///   daemon recovers only its own transactions even when several share a PostgreSQL server;
/// - `epoch` is made anew at every start, so that recovery can tell a prepared transaction of
///   a process that died (which it may roll back) from one of this process (which it must not
///   touch while it may still be in flight);
/// - `sequence` counts this process's transactions.
///
/// A shard's PostgreSQL prepared transaction is `shardd_<instance>_<epoch>_<sequence>_<shard>`
/// (`gid(for:)`); the decision stores it verbatim, and recovery reads it back with `parse`.
package struct TransactionID: Sendable, Hashable, CustomStringConvertible {
    package var instance: String
    package var epoch: String
    package var sequence: UInt64

    package init(instance: String, epoch: String, sequence: UInt64) {
        precondition(TransactionID.isToken(instance) && TransactionID.isToken(epoch), "instance and epoch are [a-z0-9]+")
        self.instance = instance
        self.epoch = epoch
        self.sequence = sequence
    }

    /// `4f3a9c1e2b7d-6e1f0a93-17`.
    package var description: String { "\(instance)-\(epoch)-\(sequence)" }

    /// Reads `description` back.
    package init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, TransactionID.isToken(parts[0]), TransactionID.isToken(parts[1]),
              let sequence = UInt64(parts[2]) else { return nil }
        self.init(instance: String(parts[0]), epoch: String(parts[1]), sequence: sequence)
    }

    /// The global id of this transaction's prepared transaction on `shard`.
    package func gid(for shard: String) -> String {
        "\(TransactionID.gidPrefix(instance: instance))\(epoch)_\(sequence)_\(shard)"
    }

    /// `shardd_<instance>_`: every prepared transaction of one `state_dir` starts so.
    package static func gidPrefix(instance: String) -> String {
        "shardd_\(instance)_"
    }

    /// The transaction and shard of a prepared transaction's global id of `instance`; nil for
    /// another daemon's or anyone else's.
    package static func parse(gid: String, instance: String) -> (txid: TransactionID, shard: String)? {
        let prefix = gidPrefix(instance: instance)
        guard gid.hasPrefix(prefix) else { return nil }
        let rest = gid.dropFirst(prefix.count).split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard rest.count == 3, isToken(rest[0]), let sequence = UInt64(rest[1]), !rest[2].isEmpty else { return nil }
        return (TransactionID(instance: instance, epoch: String(rest[0]), sequence: sequence), String(rest[2]))
    }

    private static func isToken(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) }
    }
}
