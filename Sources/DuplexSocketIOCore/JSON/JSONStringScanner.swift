/// Finds the bytes of a JSON string that need attention: `"`, `\` and control characters
/// (RFC 8259 §7: the characters that must be escaped), eight bytes at a time.
enum JSONStringScanner {
    private static let lowBits: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Whether `byte` must be escaped inside a JSON string (and so ends a run of plain bytes).
    @inline(__always)
    static func isSpecial(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Whether any byte of `word` is zero (exact for the whole word).
    @inline(__always)
    private static func hasZeroByte(_ word: UInt64) -> Bool {
        (word &- lowBits) & ~word & highBits != 0
    }

    /// Whether any of the eight bytes of `word` is special.
    @inline(__always)
    private static func hasSpecialByte(_ word: UInt64) -> Bool {
        // Bytes below 0x20: (x - 0x20 per byte) & ~x & 0x80 per byte (exact for n <= 128).
        let control = (word &- 0x2020_2020_2020_2020) & ~word & highBits
        return control != 0 || hasZeroByte(word ^ 0x2222_2222_2222_2222) || hasZeroByte(word ^ 0x5C5C_5C5C_5C5C_5C5C)
    }

    /// The offset of the first special byte at or after `start`, or `bytes.count` if there is
    /// none, and whether the bytes skipped include non-ASCII ones.
    @inline(__always)
    static func scan(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (index: Int, sawNonASCII: Bool) {
        let end = bytes.count
        var position = start
        var seenBits: UInt64 = 0
        if let base = bytes.baseAddress {
            while end - position >= 8 {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                if hasSpecialByte(word) { break }
                seenBits |= word
                position += 8
            }
        }
        while position < end {
            let byte = bytes[position]
            if isSpecial(byte) { break }
            seenBits |= UInt64(byte)
            position += 1
        }
        return (position, seenBits & highBits != 0)
    }
}
