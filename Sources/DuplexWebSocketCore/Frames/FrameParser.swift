import NIOCore

/// Parses RFC 6455 §5.2 frames from a byte stream and enforces the frame-level MUSTs.
///
/// The parser consumes bytes only when a whole frame is available, so it can be called again
/// with more bytes appended to the same buffer. Header checks run as soon as the header is
/// complete, before the payload is buffered, so an oversized or invalid frame fails early.
public struct FrameParser: Sendable {
    /// Which side of the connection this parser serves (decides the masking rule).
    public var role: Role
    /// The largest payload accepted in one frame; larger frames fail with
    /// ``WebSocketError/Code/messageTooLarge``. A compressed (RSV1) frame may exceed it by
    /// deflate's worst-case expansion (``compressedBound(_:)``): its inflated size is bounded by
    /// the message size limit instead.
    public var maxFrameSize: Int
    /// Whether a negotiated extension (permessage-deflate) gives RSV1 a meaning.
    public var allowsRSV1: Bool
    /// Allocates the storage of unmasked payloads.
    public var allocator: ByteBufferAllocator

    /// Creates a parser.
    public init(role: Role, maxFrameSize: Int, allowsRSV1: Bool = false, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.role = role
        self.maxFrameSize = maxFrameSize
        self.allowsRSV1 = allowsRSV1
        self.allocator = allocator
    }

    /// Returns the next complete frame, unmasked, or nil if more bytes are needed.
    public func nextFrame(from buffer: inout ByteBuffer) throws(WebSocketError) -> Frame? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }

        let fin = first & 0x80 != 0
        let rsv1 = first & 0x40 != 0
        let rsv2 = first & 0x20 != 0
        let rsv3 = first & 0x10 != 0
        let opcode = Opcode(rawValue: first & 0x0F)
        let masked = second & 0x80 != 0

        // RFC 6455 §5.2: "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated that
        // defines meanings for non-zero values." RFC 7692 §6.1 gives RSV1 to data frames only.
        if rsv2 || rsv3 || (rsv1 && (!allowsRSV1 || opcode.isControl)) {
            throw WebSocketError(.protocolViolation, "reserved bit set without a negotiated extension")
        }
        // RFC 6455 §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
        guard opcode.isKnown else {
            throw WebSocketError(.protocolViolation, "reserved opcode \(opcode.rawValue)")
        }
        // RFC 6455 §5.1: "a server MUST close the connection upon receiving a frame that is not
        // masked" and "A client MUST close a connection if it detects a masked frame."
        switch role {
        case .server where !masked:
            throw WebSocketError(.protocolViolation, "client frame is not masked")
        case .client where masked:
            throw WebSocketError(.protocolViolation, "server frame is masked")
        default:
            break
        }

        var headerSize = 2
        var length = UInt64(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = UInt64(extended)
            headerSize = 4
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            // RFC 6455 §5.2: "the most significant bit MUST be 0".
            guard extended & (1 << 63) == 0 else {
                throw WebSocketError(.protocolViolation, "64-bit payload length with the high bit set")
            }
            length = extended
            headerSize = 10
        }
        if opcode.isControl {
            // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less
            // and MUST NOT be fragmented."
            guard length <= 125 else {
                throw WebSocketError(.protocolViolation, "control frame payload over 125 bytes")
            }
            guard fin else { throw WebSocketError(.protocolViolation, "fragmented control frame") }
        }
        // A compressed payload may be slightly larger than the message it holds (incompressible
        // data in stored blocks); the inflated size is bounded by the message size limit instead.
        let limit = rsv1 ? Self.compressedBound(maxFrameSize) : maxFrameSize
        guard length <= UInt64(limit) else {
            throw WebSocketError(.messageTooLarge, "frame of \(length) bytes exceeds the limit of \(maxFrameSize)")
        }
        let payloadLength = Int(length)
        var maskKey: UInt32 = 0
        if masked {
            guard let key = buffer.getInteger(at: start + headerSize, as: UInt32.self) else { return nil }
            maskKey = key
            headerSize += 4
        }
        // The header is buffered (its bytes were read above); subtracting cannot overflow where
        // `headerSize + payloadLength` can, for a length near 2^63 and no frame size limit.
        guard buffer.readableBytes - headerSize >= payloadLength else { return nil }

        buffer.moveReaderIndex(forwardBy: headerSize)
        let payload: ByteBuffer
        if masked && payloadLength > 0 {
            // Unmask while copying into the payload's own storage. Unmasking in place would force
            // a copy-on-write of the whole receive buffer whenever it is shared (by the channel
            // that read it, or by payloads of earlier frames in it that are still alive), and a
            // slice would keep the whole receive buffer alive for as long as the message lives.
            var unmasked = allocator.buffer(capacity: payloadLength)
            unmasked.writeWithUnsafeMutableBytes(minimumWritableBytes: payloadLength) { destination in
                _ = buffer.withUnsafeReadableBytes { source in
                    Masking.copy(key: maskKey, from: UnsafeRawBufferPointer(rebasing: source[0..<payloadLength]), to: destination)
                }
                return payloadLength
            }
            buffer.moveReaderIndex(forwardBy: payloadLength)
            payload = unmasked
        } else {
            // `readSlice` cannot fail: the length was checked above.
            payload = buffer.readSlice(length: payloadLength) ?? ByteBuffer()
        }
        return Frame(fin: fin, rsv1: rsv1, rsv2: false, rsv3: false, opcode: opcode, payload: payload)
    }
}

extension FrameParser {
    /// The largest deflate output for `size` bytes of input: zlib's `deflateBound` for the
    /// default settings, plus room for the empty block of a flush (RFC 7692 §7.2.1).
    static func compressedBound(_ size: Int) -> Int {
        let (bound, overflow) = size.addingReportingOverflow((size >> 12) + (size >> 14) + (size >> 25) + 32)
        return overflow ? Int.max : bound
    }
}

/// The side of a WebSocket connection.
public enum Role: Sendable, Hashable {
    /// The side that sent the opening handshake request.
    case client
    /// The side that accepted it.
    case server
}
