import NIOCore

/// RFC 6455 §5.3 masking, a machine word at a time: in place, or while copying (so a payload
/// that shares storage with other buffers is unmasked without a copy-on-write first).
public enum Masking {
    /// XORs `bytes` in place with the 4-byte `key`, starting at key offset `keyOffset`
    /// (so a payload can be unmasked in several pieces). Returns the key offset for the next piece.
    @discardableResult
    @inlinable
    public static func apply(key: UInt32, keyOffset: Int = 0, to bytes: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress else { return keyOffset & 3 }
        return xor(key: key, keyOffset: keyOffset, from: UnsafeRawPointer(base), to: base, count: bytes.count)
    }

    /// Writes `source` XOR the 4-byte `key` into `destination` (which must hold at least
    /// `source.count` bytes), starting at key offset `keyOffset`. Returns the key offset for the
    /// next piece.
    @discardableResult
    @inlinable
    public static func copy(
        key: UInt32,
        keyOffset: Int = 0,
        from source: UnsafeRawBufferPointer,
        to destination: UnsafeMutableRawBufferPointer
    ) -> Int {
        precondition(destination.count >= source.count, "masking destination is too small")
        guard let from = source.baseAddress, let to = destination.baseAddress else { return keyOffset & 3 }
        return xor(key: key, keyOffset: keyOffset, from: from, to: to, count: source.count)
    }

    /// Masks or unmasks the readable bytes of `buffer` in place.
    @inlinable
    public static func apply(key: UInt32, to buffer: inout ByteBuffer, keyOffset: Int = 0) {
        _ = buffer.withUnsafeMutableReadableBytes { apply(key: key, keyOffset: keyOffset, to: $0) }
    }

    /// The one masking loop; `from` and `to` may be the same address (in place).
    @inlinable
    static func xor(key: UInt32, keyOffset: Int, from: UnsafeRawPointer, to: UnsafeMutableRawPointer, count: Int) -> Int {
        guard count > 0 else { return keyOffset & 3 }
        // `key` holds the 4 masking bytes in wire order (big-endian); rotate it so byte 0 of the
        // rotated key lines up with `keyOffset`.
        let shift = UInt32((keyOffset & 3) * 8)
        let rotated = shift == 0 ? key : (key << shift) | (key >> (32 - shift))
        let keyBytes = rotated.bigEndian  // memory order == wire order
        let key64 = UInt64(keyBytes) | (UInt64(keyBytes) << 32)
        var index = 0
        // Bulk: 32 bytes per iteration as four independent words (unaligned loads are fine on
        // x86_64 and arm64), then 8. Swift's SIMD types are not used: unless fully specialized
        // they fall back to a per-lane loop, 8x slower than this.
        while index + 32 <= count {
            let word0 = from.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let word1 = from.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)
            let word2 = from.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self)
            let word3 = from.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self)
            to.storeBytes(of: word0 ^ key64, toByteOffset: index, as: UInt64.self)
            to.storeBytes(of: word1 ^ key64, toByteOffset: index + 8, as: UInt64.self)
            to.storeBytes(of: word2 ^ key64, toByteOffset: index + 16, as: UInt64.self)
            to.storeBytes(of: word3 ^ key64, toByteOffset: index + 24, as: UInt64.self)
            index += 32
        }
        while index + 8 <= count {
            let word = from.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            to.storeBytes(of: word ^ key64, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        withUnsafeBytes(of: keyBytes) { keyBuffer in
            while index < count {
                let b = from.load(fromByteOffset: index, as: UInt8.self)
                to.storeBytes(of: b ^ keyBuffer[index & 3], toByteOffset: index, as: UInt8.self)
                index += 1
            }
        }
        return (keyOffset + count) & 3
    }
}
