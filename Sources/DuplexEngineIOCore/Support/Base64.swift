import NIOCore

/// RFC 4648 base64, written for bulk use: encoding and decoding work on contiguous memory and
/// write straight into a `ByteBuffer`'s storage (no per-byte appends).
enum Base64 {
    /// RFC 4648 §4 (standard, used by Engine.IO) or §5 (URL- and filename-safe, used for ids).
    enum Alphabet {
        case standard
        case urlSafe
    }

    private static let standardTable: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )
    private static let urlSafeTable: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8
    )
    private static let invalid: UInt8 = 0xFF
    /// Maps an ASCII byte to its 6-bit value (standard alphabet), or `invalid`.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (index, byte) in standardTable.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The length of the encoding of `count` bytes.
    static func encodedLength(of count: Int, padding: Bool = true) -> Int {
        if padding { return (count + 2) / 3 * 4 }
        return count / 3 * 4 + [0, 2, 3][count % 3]
    }

    /// Appends the base64 encoding of `bytes` to `buffer`.
    static func encode(
        _ bytes: UnsafeRawBufferPointer,
        into buffer: inout ByteBuffer,
        alphabet: Alphabet = .standard,
        padding: Bool = true
    ) {
        let length = encodedLength(of: bytes.count, padding: padding)
        guard length > 0 else { return }
        let table = alphabet == .standard ? standardTable : urlSafeTable
        _ = table.withUnsafeBufferPointer { table in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
                var input = 0
                var output = 0
                let wholeGroups = bytes.count / 3 * 3
                while input < wholeGroups {
                    let value =
                        UInt32(bytes[input]) << 16 | UInt32(bytes[input &+ 1]) << 8 | UInt32(bytes[input &+ 2])
                    out[output] = table[Int(value >> 18)]
                    out[output &+ 1] = table[Int((value >> 12) & 0x3F)]
                    out[output &+ 2] = table[Int((value >> 6) & 0x3F)]
                    out[output &+ 3] = table[Int(value & 0x3F)]
                    input &+= 3
                    output &+= 4
                }
                let remaining = bytes.count &- wholeGroups
                if remaining > 0 {
                    let first = UInt32(bytes[input]) << 16
                    let value = remaining == 2 ? first | UInt32(bytes[input &+ 1]) << 8 : first
                    out[output] = table[Int(value >> 18)]
                    out[output &+ 1] = table[Int((value >> 12) & 0x3F)]
                    output &+= 2
                    if remaining == 2 {
                        out[output] = table[Int((value >> 6) & 0x3F)]
                        output &+= 1
                    } else if padding {
                        out[output] = UInt8(ascii: "=")
                        output &+= 1
                    }
                    if padding {
                        out[output] = UInt8(ascii: "=")
                        output &+= 1
                    }
                }
                return output
            }
        }
    }

    /// Appends the base64 encoding of the readable bytes of `bytes` to `buffer`.
    static func encode(_ bytes: ByteBuffer, into buffer: inout ByteBuffer) {
        bytes.withUnsafeReadableBytes { encode($0, into: &buffer) }
    }

    /// The base64 encoding of `bytes` as a string.
    static func encodeToString(_ bytes: UnsafeRawBufferPointer, alphabet: Alphabet = .standard, padding: Bool = true)
        -> String
    {
        let length = encodedLength(of: bytes.count, padding: padding)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(length)
        encode(bytes, into: &buffer, alphabet: alphabet, padding: padding)
        return String(buffer: buffer)
    }

    /// Decodes standard base64 (padding optional) and appends the bytes to `buffer`.
    /// Returns `false`, leaving `buffer` unchanged, if `text` is not valid base64.
    static func decode(_ text: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) -> Bool {
        var count = text.count
        // RFC 4648 §3.2: padding makes the length a multiple of 4; strip it, then decode the
        // unpadded form (Node and the JS parser also accept unpadded input).
        if count % 4 == 0, count > 0, text[count - 1] == UInt8(ascii: "=") {
            count -= 1
            if text[count - 1] == UInt8(ascii: "=") { count -= 1 }
        }
        let tail = count % 4
        guard tail != 1 else { return false }
        let decodedLength = count / 4 * 3 + (tail == 0 ? 0 : tail - 1)
        guard decodedLength > 0 else { return true }
        var isValid = true
        _ = decodeTable.withUnsafeBufferPointer { table in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: decodedLength) { out in
                var input = 0
                var output = 0
                let wholeGroups = count / 4 * 4
                var invalidBits: UInt8 = 0
                while input < wholeGroups {
                    let a = table[Int(text[input])]
                    let b = table[Int(text[input &+ 1])]
                    let c = table[Int(text[input &+ 2])]
                    let d = table[Int(text[input &+ 3])]
                    invalidBits |= a | b | c | d
                    let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[output] = UInt8(truncatingIfNeeded: value >> 16)
                    out[output &+ 1] = UInt8(truncatingIfNeeded: value >> 8)
                    out[output &+ 2] = UInt8(truncatingIfNeeded: value)
                    input &+= 4
                    output &+= 3
                }
                if tail > 0 {
                    let a = table[Int(text[input])]
                    let b = table[Int(text[input &+ 1])]
                    let c = tail == 3 ? table[Int(text[input &+ 2])] : 0
                    invalidBits |= a | b | c
                    let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                    out[output] = UInt8(truncatingIfNeeded: value >> 16)
                    output &+= 1
                    if tail == 3 {
                        out[output] = UInt8(truncatingIfNeeded: value >> 8)
                        output &+= 1
                    }
                }
                // Valid sextets are < 64; the `invalid` marker (0xFF) sets the high bits.
                guard invalidBits & 0xC0 == 0 else {
                    isValid = false
                    return 0
                }
                return output
            }
        }
        return isValid
    }
}
