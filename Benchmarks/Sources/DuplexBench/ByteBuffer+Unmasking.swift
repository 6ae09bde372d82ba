import NIOCore
import NIOWebSocket

extension ByteBuffer {
    /// Appends `source`'s readable bytes XOR-ed with `key`, in one pass, eight bytes at a time.
    ///
    /// RFC 6455 §5.3: "octet i of the transformed data is the XOR of octet i of the original
    /// data with octet at index i modulo 4 of the masking key". Copying and unmasking in the
    /// same pass is the least a server can do with a masked payload that it sends back, since
    /// the decoder's payload is a slice of its shared receive buffer and cannot be unmasked in place.
    mutating func writeUnmasking(_ source: ByteBuffer, key: WebSocketMaskingKey) {
        let count = source.readableBytes
        // The key's four octets, repeated, as they lie in memory: loading eight payload octets as
        // a UInt64 and XOR-ing with this word masks each with the octet of the same index modulo 4.
        let keyWord =
            UInt32(key[0]) | UInt32(key[1]) << 8 | UInt32(key[2]) << 16 | UInt32(key[3]) << 24
        let maskWord = UInt64(littleEndian: UInt64(keyWord) | UInt64(keyWord) << 32)
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
            source.withUnsafeReadableBytes { source in
                var index = 0
                while index + 8 <= count {
                    let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    destination.storeBytes(of: word ^ maskWord, toByteOffset: index, as: UInt64.self)
                    index += 8
                }
                while index < count {
                    destination[index] = source[index] ^ key[index & 3]
                    index += 1
                }
            }
            return count
        }
    }
}
