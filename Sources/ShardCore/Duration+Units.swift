extension Duration {
    /// In milliseconds, with the fraction (for logs and latencies shown to people).
    package var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// In whole microseconds (negative durations count as zero).
    package var wholeMicroseconds: UInt64 {
        UInt64(max(0, components.seconds)) * 1_000_000 + UInt64(max(0, components.attoseconds) / 1_000_000_000_000)
    }

    /// In whole nanoseconds (negative durations count as zero).
    package var wholeNanoseconds: UInt64 {
        UInt64(max(0, components.seconds)) * 1_000_000_000 + UInt64(max(0, components.attoseconds) / 1_000_000_000)
    }
}
