import NIOCore
import Testing

@testable import DuplexWebSocketCore

@Suite("RFC 6455 §5.3: client-to-server masking")
struct MaskingTests {
    static let keys: [UInt32] = [0x0000_0000, 0x37FA_213D, 0xFFFF_FFFF, 0x0102_0304, 0x8000_0001]

    private static func keyBytes(_ key: UInt32) -> [UInt8] {
        [UInt8(key >> 24), UInt8((key >> 16) & 0xFF), UInt8((key >> 8) & 0xFF), UInt8(key & 0xFF)]
    }

    @Test(
        "§5.3: \"octet i ... XOR ... octet at index i modulo 4 of the masking key\", every key offset and length 0...100 (vector, word and byte paths)",
        arguments: keys
    )
    func againstNaiveReference(key: UInt32) {
        var random = SeededRandom(seed: UInt64(key))
        for keyOffset in 0..<8 {
            for length in 0...100 {
                let original = random.bytes(length)
                var bytes = original
                let next = bytes.withUnsafeMutableBytes { Masking.apply(key: key, keyOffset: keyOffset, to: $0) }
                #expect(bytes == WireFrame.naiveMask(original, key: Self.keyBytes(key), keyOffset: keyOffset))
                #expect(next == (keyOffset + length) % 4)
            }
        }
    }

    @Test("masking while copying equals masking in place, and leaves the source untouched", arguments: keys)
    func copyMatchesInPlace(key: UInt32) {
        var random = SeededRandom(seed: UInt64(key) ^ 0x5EED)
        for keyOffset in 0..<4 {
            for length in [0, 1, 7, 8, 9, 63, 64, 1000] {
                let original = random.bytes(length)
                var inPlace = original
                let expectedNext = inPlace.withUnsafeMutableBytes { Masking.apply(key: key, keyOffset: keyOffset, to: $0) }
                var copied = [UInt8](repeating: 0, count: length)
                let next = original.withUnsafeBytes { source in
                    copied.withUnsafeMutableBytes { Masking.copy(key: key, keyOffset: keyOffset, from: source, to: $0) }
                }
                #expect(copied == inPlace)
                #expect(next == expectedNext)
            }
        }
    }

    @Test("§5.3: masking twice restores the payload (the same operation unmasks)", arguments: keys)
    func involution(key: UInt32) {
        var random = SeededRandom(seed: 99)
        let original = random.bytes(1000)
        var buffer = ByteBuffer(bytes: original)
        Masking.apply(key: key, to: &buffer)
        if key != 0 { #expect(buffer.bytes != original) }
        Masking.apply(key: key, to: &buffer)
        #expect(buffer.bytes == original)
    }

    @Test("a payload masked in pieces equals the payload masked at once, wherever it is split", arguments: 0..<30)
    func piecewise(split: Int) {
        var random = SeededRandom(seed: UInt64(split))
        let original = random.bytes(29)
        let key: UInt32 = 0xA1B2_C3D4
        var whole = original
        _ = whole.withUnsafeMutableBytes { Masking.apply(key: key, to: $0) }
        var pieces = original
        let cut = min(split, original.count)
        let offset = pieces.withUnsafeMutableBytes { Masking.apply(key: key, to: UnsafeMutableRawBufferPointer(rebasing: $0[..<cut])) }
        pieces.withUnsafeMutableBytes {
            _ = Masking.apply(key: key, keyOffset: offset, to: UnsafeMutableRawBufferPointer(rebasing: $0[cut...]))
        }
        #expect(pieces == whole)
    }

    @Test("ByteBuffer masking touches only the readable bytes")
    func onlyReadableBytes() {
        var buffer = ByteBuffer(bytes: [1, 2, 3, 4, 5, 6, 7, 8])
        buffer.moveReaderIndex(forwardBy: 3)
        Masking.apply(key: 0xFF00_FF00, to: &buffer)
        let expected: [UInt8] = [4 ^ 0xFF, 5, 6 ^ 0xFF, 7, 8 ^ 0xFF]
        #expect(buffer.bytes == expected)
        buffer.moveReaderIndex(to: 0)
        #expect(buffer.bytes.prefix(3) == [1, 2, 3])
    }

    @Test("long payloads (the word-at-a-time path) at unaligned starts", arguments: [0, 1, 2, 3, 5, 7])
    func unalignedLongPayloads(start: Int) {
        var random = SeededRandom(seed: UInt64(start) + 500)
        let original = random.bytes(4099)
        let key: UInt32 = 0x1234_5678
        var bytes = original
        bytes.withUnsafeMutableBytes {
            _ = Masking.apply(key: key, keyOffset: start, to: UnsafeMutableRawBufferPointer(rebasing: $0[start...]))
        }
        #expect(Array(bytes[..<start]) == Array(original[..<start]))
        #expect(Array(bytes[start...]) == WireFrame.naiveMask(Array(original[start...]), key: Self.keyBytes(key), keyOffset: start))
    }
}
