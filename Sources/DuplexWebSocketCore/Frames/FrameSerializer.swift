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
        if coalesce {
            let payloadOffset = header.writerIndex - header.readerIndex
            var copy = payload
            header.writeBuffer(&copy)
            if let maskKey, length > 0 {
                _ = header.withUnsafeMutableReadableBytes { bytes in
                    Masking.apply(key: maskKey, to: UnsafeMutableRawBufferPointer(rebasing: bytes[payloadOffset...]))
                }
            }
            return (header, nil)
        }
        var body = payload
        if let maskKey { Masking.apply(key: maskKey, to: &body) }
        return (header, body)
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
