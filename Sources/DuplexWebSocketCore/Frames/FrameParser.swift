import NIOCore

/// Parses RFC 6455 §5.2 frames from a byte stream and enforces the frame-level MUSTs.
///
/// The parser consumes bytes only when a whole frame is available, so it can be called again
/// with more bytes appended to the same buffer; the exception is the payload of a text frame,
/// which ``nextFrame(from:textOpcode:validator:)`` takes in and validates as it arrives, and of
/// any masked data frame, which it takes in and unmasks as it arrives. Header
/// checks run as soon as the header is complete, before the payload is buffered, so an
/// oversized or invalid frame fails early.
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
    /// The data frame being received piece by piece, by ``nextFrame(from:textOpcode:validator:)``.
    private var partialFrame: PartialFrame?

    /// Creates a parser.
    public init(role: Role, maxFrameSize: Int, allowsRSV1: Bool = false, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.role = role
        self.maxFrameSize = maxFrameSize
        self.allowsRSV1 = allowsRSV1
        self.allocator = allocator
    }

    /// Returns the next complete frame, unmasked, or nil if more bytes are needed.
    ///
    /// Use either this or ``nextFrame(from:textOpcode:validator:)`` on a stream: this one does
    /// not see a frame that the other has started taking in.
    public func nextFrame(from buffer: inout ByteBuffer) throws(WebSocketError) -> Frame? {
        guard let header = try header(in: buffer),
            buffer.readableBytes - header.size >= header.payloadLength
        else { return nil }
        return readFrame(header, from: &buffer)
    }

    /// Returns the next complete frame, unmasked, or nil if more bytes are needed, validating
    /// the payload of text frames as UTF-8 while it arrives (RFC 6455 §8.1: an endpoint that
    /// finds a text byte stream is not valid UTF-8 "MUST _Fail the WebSocket Connection_").
    ///
    /// `textOpcode` names the data frames that carry uncompressed text at this point of the
    /// stream: `.text` between messages, `.continuation` inside an uncompressed text message,
    /// nil when no frame does (a binary or compressed message, or validation off). The payload of
    /// such a frame with RSV1 clear goes through `validator` exactly once; a `.text` frame resets
    /// it first. A complete frame is validated whole. A frame whose header arrived before all of
    /// its payload is taken in: the payload bytes are moved out of `buffer` into the frame's
    /// own storage (unmasked on the way) and validated as they arrive, so invalid text fails
    /// before the rest of the frame is received; later calls, with the next bytes in `buffer`,
    /// continue that frame whatever `textOpcode` is. A masked binary or compressed data frame is
    /// taken in the same way, unmasked and not validated. Other frames are returned only once
    /// complete, as ``nextFrame(from:)`` does. The caller checks ``UTF8Validator/isComplete``
    /// at the end of the message.
    ///
    /// - Throws: the errors of ``nextFrame(from:)``, and ``WebSocketError/Code/invalidUTF8`` as
    ///   soon as the text seen so far cannot begin valid UTF-8.
    public mutating func nextFrame(
        from buffer: inout ByteBuffer,
        textOpcode: Opcode?,
        validator: inout UTF8Validator
    ) throws(WebSocketError) -> Frame? {
        if partialFrame != nil { return try continuePartialFrame(from: &buffer, validator: &validator) }
        guard let header = try header(in: buffer) else { return nil }
        let isText = header.opcode == textOpcode && !header.rsv1
        let isComplete = buffer.readableBytes - header.size >= header.payloadLength
        // Masked data frames are taken in too: unmasking them as they arrive copies each byte
        // once, where buffering the masked bytes until the frame is complete copies them twice.
        let takesInPartially = isText || (header.maskKey != nil && !header.opcode.isControl)
        guard isComplete || takesInPartially else { return nil }
        if isText && header.opcode == .text { validator.reset() }
        guard isComplete else {
            buffer.moveReaderIndex(forwardBy: header.size)
            // Grows with the bytes received, not with the length the header announces.
            let capacity = min(header.payloadLength, max(buffer.readableBytes, Self.initialPartialCapacity))
            partialFrame = PartialFrame(header: header, validates: isText, payload: allocator.buffer(capacity: capacity))
            return try continuePartialFrame(from: &buffer, validator: &validator)
        }
        let frame = readFrame(header, from: &buffer)
        if isText {
            let valid = frame.payload.withUnsafeReadableBytes { validator.validate($0) }
            guard valid else { throw WebSocketError(.invalidUTF8, "text message is not valid UTF-8") }
        }
        return frame
    }

    /// The checked fields of a frame header (RFC 6455 §5.2).
    private struct Header {
        var fin: Bool
        var rsv1: Bool
        var opcode: Opcode
        var maskKey: UInt32?
        /// Header bytes, masking key included.
        var size: Int
        var payloadLength: Int
    }

    /// A text frame whose header was consumed and whose payload is arriving.
    private struct PartialFrame {
        var header: Header
        /// Whether the payload is uncompressed text, validated as it arrives.
        var validates: Bool
        /// The payload received so far, unmasked (and validated).
        var payload: ByteBuffer
    }

    /// The first allocation for a partial frame that arrived with fewer bytes than this.
    private static let initialPartialCapacity = 16 * 1024

    /// Parses and checks the header at the reader index without consuming it; nil if it is not
    /// all buffered yet.
    private func header(in buffer: ByteBuffer) throws(WebSocketError) -> Header? {
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
        var maskKey: UInt32?
        if masked {
            guard let key = buffer.getInteger(at: start + headerSize, as: UInt32.self) else { return nil }
            maskKey = key
            headerSize += 4
        }
        return Header(fin: fin, rsv1: rsv1, opcode: opcode, maskKey: maskKey, size: headerSize, payloadLength: Int(length))
    }

    /// Consumes a frame whose header and payload are all buffered (the caller checked: the
    /// header is buffered, so `readableBytes - size` cannot overflow where `size + payloadLength`
    /// can, for a length near 2^63 and no frame size limit).
    private func readFrame(_ header: Header, from buffer: inout ByteBuffer) -> Frame {
        let payloadLength = header.payloadLength
        buffer.moveReaderIndex(forwardBy: header.size)
        let payload: ByteBuffer
        if let maskKey = header.maskKey, payloadLength > 0 {
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
            // `readSlice` cannot fail: the length was checked by the caller.
            payload = buffer.readSlice(length: payloadLength) ?? ByteBuffer()
        }
        return Frame(fin: header.fin, rsv1: header.rsv1, rsv2: false, rsv3: false, opcode: header.opcode, payload: payload)
    }

    /// Moves the next payload bytes of the partial frame out of `buffer` (unmasking them),
    /// validates them, and returns the frame once its payload is complete.
    private mutating func continuePartialFrame(
        from buffer: inout ByteBuffer,
        validator: inout UTF8Validator
    ) throws(WebSocketError) -> Frame? {
        guard var partial = partialFrame else { return nil }
        partialFrame = nil  // avoid a copy-on-write of the payload while it is appended to
        let received = partial.payload.readableBytes
        let count = min(buffer.readableBytes, partial.header.payloadLength - received)
        if count > 0 {
            if partial.payload.writableBytes < count {
                // Geometric growth, never past the announced length.
                let capacity = max(received + count, 2 * partial.payload.capacity)
                partial.payload.reserveCapacity(min(capacity, partial.header.payloadLength))
            }
            var valid = true
            partial.payload.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
                let destination = UnsafeMutableRawBufferPointer(rebasing: destination[0..<count])
                buffer.withUnsafeReadableBytes { source in
                    let source = UnsafeRawBufferPointer(rebasing: source[0..<count])
                    if let maskKey = partial.header.maskKey {
                        // RFC 6455 §5.3: byte i of the payload is masked with key byte i mod 4.
                        Masking.copy(key: maskKey, keyOffset: received, from: source, to: destination)
                    } else {
                        destination.copyMemory(from: source)
                    }
                }
                if partial.validates { valid = validator.validate(UnsafeRawBufferPointer(destination)) }
                return count
            }
            buffer.moveReaderIndex(forwardBy: count)
            guard valid else { throw WebSocketError(.invalidUTF8, "text message is not valid UTF-8") }
        }
        guard partial.payload.readableBytes == partial.header.payloadLength else {
            partialFrame = partial
            return nil
        }
        let header = partial.header
        return Frame(fin: header.fin, rsv1: header.rsv1, rsv2: false, rsv3: false, opcode: header.opcode, payload: partial.payload)
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
