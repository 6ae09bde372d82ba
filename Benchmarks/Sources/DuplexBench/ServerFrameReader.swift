import NIOCore

/// An incremental reader of the frames a server sends (RFC 6455 §5.2), which never copies a
/// payload: it hands out slices of the received buffers as they arrive, so the load generator
/// costs the same whether the server writes a message in one segment or many.
struct ServerFrameReader {
    enum Event {
        /// A frame header: opcode (RFC 6455 §5.2 "Opcode"), FIN bit and payload length.
        case frameStart(opcode: UInt8, fin: Bool, length: Int)
        /// Part of the current frame's payload, in order, as a slice of the received bytes.
        case payload(ByteBuffer)
        /// The current frame's payload is complete.
        case frameEnd
    }

    private enum State {
        case header
        case payload(remaining: Int)
    }

    /// RFC 6455 §5.2: 2 octets, then 2 or 8 of extended length; server frames have no masking key.
    private static let maxHeaderLength = 10
    /// Nothing in the benchmark comes near this; a length above it means a broken stream.
    private static let maxPayloadLength = 1 << 30

    private var state = State.header
    /// The start of a header split across reads (at most `maxHeaderLength - 1` octets).
    private var partialHeader: ByteBuffer

    init(allocator: ByteBufferAllocator) {
        self.partialHeader = allocator.buffer(capacity: Self.maxHeaderLength)
    }

    /// The next event from `buffer`, consuming what it uses, or nil once `buffer` is exhausted.
    mutating func next(from buffer: inout ByteBuffer) throws(BenchFailure) -> Event? {
        switch self.state {
        case .payload(let remaining):
            if remaining == 0 {
                self.state = .header
                return .frameEnd
            }
            let length = min(remaining, buffer.readableBytes)
            guard length > 0, let slice = buffer.readSlice(length: length) else {
                return nil
            }
            self.state = .payload(remaining: remaining - length)
            return .payload(slice)
        case .header:
            guard let event = try self.readHeader(from: &buffer) else {
                return nil
            }
            if case .frameStart(_, _, let length) = event {
                self.state = .payload(remaining: length)
            }
            return event
        }
    }

    private mutating func readHeader(from buffer: inout ByteBuffer) throws(BenchFailure) -> Event? {
        if self.partialHeader.readableBytes == 0 {
            if let length = Self.headerLength(buffer), buffer.readableBytes >= length {
                let event = try Self.parseHeader(buffer, length: length)
                buffer.moveReaderIndex(forwardBy: length)
                return event
            }
            self.partialHeader.writeBuffer(&buffer)
            return nil
        }
        // Complete the split header from the new bytes, one octet until its length is known.
        if self.partialHeader.readableBytes < 2, var octet = buffer.readSlice(length: 1) {
            self.partialHeader.writeBuffer(&octet)
        }
        guard let length = Self.headerLength(self.partialHeader) else {
            return nil
        }
        if var rest = buffer.readSlice(length: min(length - self.partialHeader.readableBytes, buffer.readableBytes)) {
            self.partialHeader.writeBuffer(&rest)
        }
        guard self.partialHeader.readableBytes == length else {
            return nil
        }
        let event = try Self.parseHeader(self.partialHeader, length: length)
        self.partialHeader.clear()
        return event
    }

    /// The header's total length, once its first two octets are readable.
    private static func headerLength(_ buffer: ByteBuffer) -> Int? {
        guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else {
            return nil
        }
        // RFC 6455 §5.2 "Payload length": 126 announces a 16-bit length, 127 a 64-bit one.
        switch second & 0x7F {
        case 126: return 4
        case 127: return 10
        default: return 2
        }
    }

    private static func parseHeader(_ buffer: ByteBuffer, length: Int) throws(BenchFailure) -> Event {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else {
            throw BenchFailure("truncated frame header")
        }
        // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated"; none was offered.
        guard first & 0x70 == 0 else {
            throw BenchFailure("reserved bits set in a frame header (0x\(String(first, radix: 16)))")
        }
        // RFC 6455 §5.1: "A client MUST close a connection if it detects a masked frame."
        guard second & 0x80 == 0 else {
            throw BenchFailure("the server sent a masked frame")
        }
        let payloadLength: UInt64
        switch length {
        case 4: payloadLength = UInt64(buffer.getInteger(at: start + 2, as: UInt16.self) ?? 0)
        case 10: payloadLength = buffer.getInteger(at: start + 2, as: UInt64.self) ?? 0
        default: payloadLength = UInt64(second & 0x7F)
        }
        guard payloadLength <= UInt64(Self.maxPayloadLength) else {
            throw BenchFailure("frame payload length \(payloadLength) is implausible")
        }
        let opcode = first & 0x0F
        let fin = first & 0x80 != 0
        // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less and
        // MUST NOT be fragmented."
        if opcode >= 0x8 && (payloadLength > 125 || !fin) {
            throw BenchFailure("invalid control frame (opcode \(opcode), length \(payloadLength))")
        }
        return .frameStart(opcode: opcode, fin: fin, length: Int(payloadLength))
    }
}
