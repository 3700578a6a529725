import ShardProtocol

/// The function of `shard_by = { column = ..., hash = true }` (config.md): which shard a
/// value belongs to. It is fixed forever; changing it would strand every row already placed.
///
/// The definition, complete enough to reimplement in any language:
///
/// 1. The value is encoded as bytes (there is no type tag: a column has one type):
///    - `int`: its 8 bytes, big-endian two's complement (`1` is `00 00 00 00 00 00 00 01`,
///      `-1` is `FF FF FF FF FF FF FF FF`);
///    - `text`: its UTF-8 bytes, as stored, without normalization or terminator (`""` is no
///      bytes);
///    - `bool`: one byte, `00` for false and `01` for true;
///    - `timestamp`: its microseconds since 1970-01-01T00:00:00Z as an `int` (8 bytes
///      big-endian two's complement);
///    - `real` and `null` have no encoding: the configuration refuses `hash` on a `real`
///      column, and a row with a null key has no hash shard.
/// 2. The bytes are hashed with 64-bit FNV-1a: `h = 0xcbf29ce484222325`; for each byte `b`
///    in order, `h = (h XOR b) * 0x100000001b3` modulo 2^64.
/// 3. `h` is finished with murmur3's fmix64 (all arithmetic modulo 2^64):
///    `h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33`.
///    Without it, `h mod 2^k` depends only on the low bits of each byte: with 4 shards the ids
///    0, 4, 8, ... would all land on one shard, and anagrams always share a shard.
/// 4. The shard is `shards[h mod n]`, where `shards` are the configuration's shards in file
///    order and `n` is their count (unsigned 64-bit remainder).
///
/// Examples: int `0` -> `h = 0x7bd3144f29c0cc9e` (shard index 2 of 4), int `42` ->
/// `0x641dede4f0973e8c` (0 of 4), text `"Tokyo"` -> `0xd9f0a827bd64d712` (2 of 4), bool
/// `true` -> `0x0d7cea42b5057e4c` (0 of 4), timestamp `2026-11-21T09:30:00Z` (microseconds
/// 1795253400000000) -> `0xe787d4a01e19fac7` (3 of 4). `ShardHashTests` pins these and more,
/// computed by an independent implementation.
package enum ShardHash {
    /// The FNV-1a 64-bit offset basis.
    package static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// The FNV 64-bit prime.
    package static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The canonical bytes of `value` (step 1), or nil for `null` and `real`.
    package static func bytes(of value: ShardValue) -> [UInt8]? {
        switch value {
        case .int(let i): bigEndianBytes(i)
        case .text(let s): Array(s.utf8)
        case .bool(let b): [b ? 1 : 0]
        case .timestamp(let t): bigEndianBytes(t.microseconds)
        case .real, .null: nil
        }
    }

    /// 64-bit FNV-1a of `bytes` (step 2).
    package static func fnv1a64<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var h = offsetBasis
        for byte in bytes {
            h ^= UInt64(byte)
            h &*= prime
        }
        return h
    }

    /// murmur3's 64-bit finalizer (step 3): spreads every input bit over the low bits.
    package static func fmix64(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// The hash of `value` (steps 1 to 3), or nil for `null` and `real`.
    package static func hash(_ value: ShardValue) -> UInt64? {
        switch value {
        case .text(let s): fmix64(fnv1a64(s.utf8))
        default: bytes(of: value).map { fmix64(fnv1a64($0)) }
        }
    }

    /// The index of `value`'s shard among `shardCount` shards in file order (step 4), or nil
    /// for `null` and `real`.
    package static func shardIndex(of value: ShardValue, shardCount: Int) -> Int? {
        precondition(shardCount > 0, "a configuration has at least one shard")
        guard let h = hash(value) else { return nil }
        return Int(h % UInt64(shardCount))
    }

    private static func bigEndianBytes(_ i: Int64) -> [UInt8] {
        let u = UInt64(bitPattern: i)
        return (0..<8).map { UInt8(truncatingIfNeeded: u >> (56 - 8 * UInt64($0))) }
    }
}
