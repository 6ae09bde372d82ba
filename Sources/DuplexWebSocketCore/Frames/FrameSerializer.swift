import NIOCore

/// Writes RFC 6455 §5.2 frame headers, masking client payloads (§5.3).
public enum FrameSerializer {
    /// Payloads up to this size are copied behind the header into one buffer (one write);
    /// larger ones go out as a separate buffer so they are not copied.
    public static let coalescingLimit = 1024

    /// The header size for a payload of `length` bytes.
    @inlinable
    public static func headerSize(payloadLength length: Int, masked: Bool) -> Int {
        let base = length < 126 ? 2 : (length <= 0xFFFF ? 4 : 10)
        return masked ? base + 4 : base
    }

    /// Serializes a frame into one or two buffers (header, then payload), masking the payload with
    /// `maskKey` when given (client side: RFC 6455 §5.3 "The masking key ... MUST be derived from
    /// a strong source of entropy").
    public static func serialize(
        opcode: Opcode,
        fin: Bool = true,
        rsv1: Bool = false,
        payload: ByteBuffer,
        maskKey: UInt32?,
        allocator: ByteBufferAllocator
    ) -> (header: ByteBuffer, payload: ByteBuffer?) {
        let length = payload.readableBytes
        let headerSize = headerSize(payloadLength: length, masked: maskKey != nil)
        let coalesce = length <= coalescingLimit
        var header = allocator.buffer(capacity: coalesce ? headerSize + length : headerSize)
        writeHeader(opcode: opcode, fin: fin, rsv1: rsv1, length: length, maskKey: maskKey, into: &header)
        guard let maskKey, length > 0 else {
            guard coalesce else { return (header, payload) }
            var copy = payload
            header.writeBuffer(&copy)
            return (header, nil)
        }
        // Mask while copying: the application's buffer is shared, so masking it in place would
        // copy it first anyway (copy-on-write), and must not change what the caller holds.
        if coalesce {
            writeMasked(payload, key: maskKey, into: &header)
            return (header, nil)
        }
        var body = allocator.buffer(capacity: length)
        writeMasked(payload, key: maskKey, into: &body)
        return (header, body)
    }

    private static func writeMasked(_ payload: ByteBuffer, key: UInt32, into buffer: inout ByteBuffer) {
        let length = payload.readableBytes
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { destination in
            _ = payload.withUnsafeReadableBytes { Masking.copy(key: key, from: $0, to: destination) }
            return length
        }
    }

    /// Writes the frame header for a payload of `length` bytes.
    public static func writeHeader(
        opcode: Opcode,
        fin: Bool,
        rsv1: Bool,
        length: Int,
        maskKey: UInt32?,
        into buffer: inout ByteBuffer
    ) {
        var first = opcode.rawValue
        if fin { first |= 0x80 }
        if rsv1 { first |= 0x40 }
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        buffer.writeInteger(first)
        // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
        if length < 126 {
            buffer.writeInteger(UInt8(length) | maskBit)
        } else if length <= 0xFFFF {
            buffer.writeInteger(126 | maskBit)
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(127 | maskBit)
            buffer.writeInteger(UInt64(length))
        }
        if let maskKey { buffer.writeInteger(maskKey) }
    }
}
