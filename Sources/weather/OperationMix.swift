import Foundation
import ArgumentParser

/// The operations of `weather load`, each a small, cheap request against the seeded data.
enum LoadOperation: String, CaseIterable, Sendable {
    /// A report by primary key, its shard named, read from the shard (`fresh`).
    case get
    /// Locations of one continent from an id on, or the latest reports of one location.
    case query
    /// One report added, then committed.
    case add
    /// Average temperature and count per location, for a few locations of one shard.
    case aggregate
    /// `ping`: the round trip with no database behind it, the floor of the others.
    case ping
}

/// How often each operation runs: `get=50,query=20,add=20,aggregate=10` (relative weights).
struct OperationMix: Sendable, CustomStringConvertible {
    /// The default mix of `--mix`.
    static let defaultText = "get=50,query=20,add=20,aggregate=10"

    /// The operations with a weight above zero, in the order of `LoadOperation`, and their weights.
    let weights: [(operation: LoadOperation, weight: Int)]
    private let total: Int

    /// Reads `name=weight,...`; names are get, query, add, aggregate, ping; weights are integers >= 0,
    /// not all zero. Operations left out do not run.
    init(parsing text: String) throws(ValidationError) {
        var byOperation: [LoadOperation: Int] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let names = LoadOperation.allCases.map(\.rawValue).joined(separator: ", ")
            guard pieces.count == 2 else {
                throw ValidationError("--mix takes name=weight pairs separated by commas, e.g. \(Self.defaultText); got \"\(part)\"")
            }
            guard let operation = LoadOperation(rawValue: pieces[0]) else {
                throw ValidationError("--mix: unknown operation \"\(pieces[0])\"; the operations are \(names)")
            }
            guard let weight = Int(pieces[1]), weight >= 0 else {
                throw ValidationError("--mix: the weight of \(operation.rawValue) must be a whole number 0 or more; got \"\(pieces[1])\"")
            }
            guard byOperation[operation] == nil else {
                throw ValidationError("--mix names \(operation.rawValue) twice")
            }
            byOperation[operation] = weight
        }
        weights = LoadOperation.allCases.compactMap { operation in
            byOperation[operation].flatMap { $0 > 0 ? (operation: operation, weight: $0) : nil }
        }
        total = weights.reduce(0) { $0 + $1.weight }
        guard total > 0 else {
            throw ValidationError("--mix gives no operation a weight above 0, e.g. \(Self.defaultText)")
        }
    }

    /// The operations that run.
    var operations: [LoadOperation] { weights.map(\.operation) }

    /// One operation, drawn with the mix's weights.
    func pick(using generator: inout some RandomNumberGenerator) -> LoadOperation {
        var draw = Int.random(in: 0..<total, using: &generator)
        for (operation, weight) in weights {
            if draw < weight { return operation }
            draw -= weight
        }
        return weights[weights.count - 1].operation
    }

    /// `get=50,query=20,add=20,aggregate=10`, the operations that run.
    var description: String {
        weights.map { "\($0.operation.rawValue)=\($0.weight)" }.joined(separator: ",")
    }
}
