/// Reads a libFuzzer input as a sequence of decisions (flags, sizes) followed by data.
///
/// Reads past the end yield zeros, so every input, however short, is a valid program for a
/// harness; libFuzzer's mutations then explore decisions and data alike.
public struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    /// The read position.
    public private(set) var offset = 0

    /// Wraps the buffer libFuzzer passes to `LLVMFuzzerTestOneInput`.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    }

    /// The bytes not read yet.
    public var remainingCount: Int { bytes.count - offset }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The low bit of the next byte.
    public mutating func bool() -> Bool { byte() & 1 == 1 }

    /// A value in `range` from the next byte (ranges wider than 256 values use two bytes).
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let width = range.upperBound - range.lowerBound + 1
        let raw = width > 256 ? Int(byte()) << 8 | Int(byte()) : Int(byte())
        return range.lowerBound + raw % width
    }

    /// The next `count` bytes (fewer at the end).
    public mutating func bytes(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, offset + max(0, count))
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    /// Every byte not read yet.
    public mutating func rest() -> [UInt8] { bytes(remainingCount) }
}

/// Splits a byte stream into chunks at pseudo-random points, so that harnesses feed incremental
/// parsers the way a socket does. Seed 0 delivers everything in one chunk.
public struct ChunkSplitter {
    private var state: UInt64
    private let maxChunk: Int

    /// A splitter whose chunks are 1...`maxChunk` bytes long.
    public init(seed: UInt8, maxChunk: Int = 64) {
        state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15
        self.maxChunk = seed == 0 ? Int.max : maxChunk
    }

    /// The next pseudo-random number (SplitMix64).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Cuts `bytes` into chunks.
    public mutating func split(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        guard maxChunk != Int.max else { return [bytes[...]] }
        var chunks: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let length = 1 + Int(next() % UInt64(maxChunk))
            let end = min(bytes.count, start + length)
            chunks.append(bytes[start..<end])
            start = end
        }
        if chunks.isEmpty { chunks.append([]) }
        return chunks
    }
}
