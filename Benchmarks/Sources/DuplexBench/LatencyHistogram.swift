/// A log-linear histogram of nanosecond durations: 64 sub-buckets per power of two, so any
/// recorded value is reported within 1/64 (1.6 %) of its true value, in fixed memory and with
/// no allocation per sample (the layout of HdrHistogram with two significant binary digits).
struct LatencyHistogram {
    private static let subBucketBits = 6
    private static let subBucketCount = 1 << subBucketBits
    /// Values below 2 × subBucketCount are counted exactly; above, one bucket row per power of two.
    private static let bucketCount = (64 - subBucketBits) * subBucketCount + 2 * subBucketCount

    private var counts: [UInt64]
    private(set) var totalCount: UInt64 = 0
    private(set) var maximum: UInt64 = 0

    init() {
        self.counts = [UInt64](repeating: 0, count: Self.bucketCount)
    }

    mutating func record(_ nanoseconds: UInt64) {
        self.counts[Self.bucketIndex(of: nanoseconds)] += 1
        self.totalCount += 1
        self.maximum = max(self.maximum, nanoseconds)
    }

    mutating func reset() {
        for index in self.counts.indices { self.counts[index] = 0 }
        self.totalCount = 0
        self.maximum = 0
    }

    /// The value below which `fraction` of the samples lie (midpoint of its bucket), or nil if empty.
    func percentile(_ fraction: Double) -> Double? {
        guard self.totalCount > 0 else { return nil }
        let rank = max(UInt64((fraction * Double(self.totalCount)).rounded(.up)), 1)
        var seen: UInt64 = 0
        for (index, count) in self.counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank {
                let (low, high) = Self.bounds(ofBucket: index)
                return min((Double(low) + Double(high)) / 2, Double(self.maximum))
            }
        }
        return Double(self.maximum)
    }

    private static func bucketIndex(of value: UInt64) -> Int {
        let shift = max(63 - value.leadingZeroBitCount - subBucketBits, 0)
        // For shift ≥ 1 the top bits `value >> shift` lie in subBucketCount..<2 × subBucketCount.
        return shift * subBucketCount + Int(value >> UInt64(shift))
    }

    /// The inclusive range of values counted in bucket `index`.
    private static func bounds(ofBucket index: Int) -> (UInt64, UInt64) {
        guard index >= 2 * subBucketCount else {
            return (UInt64(index), UInt64(index))
        }
        let shift = index / subBucketCount - 1
        let top = UInt64(index - shift * subBucketCount)
        return (top << UInt64(shift), ((top + 1) << UInt64(shift)) - 1)
    }
}
