import ShardProtocol

/// One session's identity map (protocol.md 4): identity key -> the latest known values of
/// the row (in the model's column order), bounded by dropping the least recently used keys.
///
/// Nothing is pending in the map (writes go to the shards at once), so dropping a key only
/// means the next `get` reads the shard again.
package struct IdentityMap: Sendable {
    package let limit: Int
    private var slots: [Slot] = []
    private var index: [IdentityKey: Int] = [:]
    private var freeSlots: [Int] = []
    /// Least recently used end of the recency list, and most recently used end.
    private var oldest = -1
    private var newest = -1

    private struct Slot: Sendable {
        var key: IdentityKey
        var values: [ShardValue]
        var older = -1
        var newer = -1
    }

    package init(limit: Int) {
        precondition(limit >= 1)
        self.limit = limit
    }

    package var count: Int { index.count }

    /// The row's values, marking the key as just used.
    package mutating func values(for key: IdentityKey) -> [ShardValue]? {
        guard let slot = index[key] else { return nil }
        touch(slot)
        return slots[slot].values
    }

    /// Whether the key is present, without marking it used.
    package func contains(_ key: IdentityKey) -> Bool {
        index[key] != nil
    }

    /// Puts or refreshes a row. Returns the keys dropped to stay within the limit.
    @discardableResult
    package mutating func put(_ key: IdentityKey, _ values: [ShardValue]) -> [IdentityKey] {
        // One hash lookup for a new key (the common case): claim a slot, then look back.
        let slot = freeSlots.last ?? slots.count
        if let existing = index.updateValue(slot, forKey: key) {
            index[key] = existing
            slots[existing].values = values
            touch(existing)
            return []
        }
        if slot == slots.count {
            slots.append(Slot(key: key, values: values))
        } else {
            freeSlots.removeLast()
            slots[slot] = Slot(key: key, values: values)
        }
        linkNewest(slot)
        var dropped: [IdentityKey] = []
        while index.count > limit, oldest >= 0 {
            let victim = slots[oldest].key
            remove(victim)
            dropped.append(victim)
        }
        return dropped
    }

    /// Removes a key; returns whether it was present.
    @discardableResult
    package mutating func remove(_ key: IdentityKey) -> Bool {
        guard let slot = index.removeValue(forKey: key) else { return false }
        unlink(slot)
        slots[slot].values = []
        freeSlots.append(slot)
        return true
    }

    /// Empties the map; returns how many keys it held.
    @discardableResult
    package mutating func removeAll() -> Int {
        let n = index.count
        slots = []
        index = [:]
        freeSlots = []
        oldest = -1
        newest = -1
        return n
    }

    /// The keys, least recently used first; only those of `model` when given.
    package func keys(model: String? = nil) -> [IdentityKey] {
        var out: [IdentityKey] = []
        var slot = oldest
        while slot >= 0 {
            if model == nil || slots[slot].key.model == model { out.append(slots[slot].key) }
            slot = slots[slot].newer
        }
        return out
    }

    private mutating func touch(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkNewest(slot)
    }

    private mutating func linkNewest(_ slot: Int) {
        slots[slot].older = newest
        slots[slot].newer = -1
        if newest >= 0 { slots[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let (older, newer) = (slots[slot].older, slots[slot].newer)
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        slots[slot].older = -1
        slots[slot].newer = -1
    }
}
