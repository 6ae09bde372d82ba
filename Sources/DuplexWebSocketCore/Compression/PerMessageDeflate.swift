import CDuplexZlib
import NIOCore

/// The permessage-deflate codec (RFC 7692 §7.2) of one connection: a raw-deflate stream for the
/// messages this endpoint sends and a raw-inflate stream for those it receives.
///
/// Both zlib streams live for the whole connection and are reset, not reallocated, when a
/// direction has no context takeover. Not thread-safe: use it from one event loop.
///
/// The caller decides which messages to compress (``shouldCompress(messageSize:)``), sets RSV1 on
/// the first frame of those, and only hands this codec the payloads of RSV1 messages.
public final class PerMessageDeflate {
    /// zlib keeps pointers into `z_stream`, so the streams must not move: they are heap-allocated
    /// once and freed in `deinit`.
    private let deflater: UnsafeMutablePointer<z_stream>
    private let inflater: UnsafeMutablePointer<z_stream>
    /// Our direction has no context takeover (RFC 7692 §7.1.1).
    private let resetsDeflaterAfterMessage: Bool
    /// The peer's direction has no context takeover (RFC 7692 §7.1.1).
    private let resetsInflaterAfterMessage: Bool
    private let minimumMessageSize: Int
    /// The peer ended its deflate stream (a block with BFINAL set) in the current message.
    private var inflaterReachedStreamEnd = false
    /// The current inbound message has had at least one payload byte.
    private var inboundMessageHasPayload = false

    /// RFC 7692 §7.2.1: the sync-flush marker the sender strips and §7.2.2: the receiver appends.
    private static let emptyStoredBlock: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]
    /// Growth step for output buffers, and the cap on compress's first output allocation.
    private static let outputChunkSize = 4096
    private static let maximumInitialDeflateCapacity = 65_536

    /// Creates the codec for a negotiated connection.
    ///
    /// - Parameters:
    ///   - parameters: the agreed parameters, from ``PerMessageDeflateNegotiation``.
    ///   - isClient: whether this endpoint is the client; it compresses with the client's
    ///     window and context-takeover setting, and inflates with the server's.
    ///   - configuration: the compression level, memory level and minimum message size.
    /// - Throws: ``WebSocketError/Code/invalidConfiguration`` for an invalid configuration or a
    ///   window zlib cannot use (8 bits for deflate); ``WebSocketError/Code/internalError`` when
    ///   zlib cannot allocate its state.
    public init(
        parameters: PerMessageDeflateParameters,
        isClient: Bool,
        configuration: PerMessageDeflateConfiguration
    ) throws(WebSocketError) {
        try configuration.validate()
        let deflateWindowBits = isClient ? parameters.clientMaxWindowBits : parameters.serverMaxWindowBits
        let inflateWindowBits = isClient ? parameters.serverMaxWindowBits : parameters.clientMaxWindowBits
        guard PerMessageDeflateConfiguration.configurableWindowBits.contains(deflateWindowBits) else {
            throw WebSocketError(
                .invalidConfiguration,
                "zlib cannot compress with a window of \(deflateWindowBits) bits"
            )
        }
        guard (8...15).contains(inflateWindowBits) else {
            throw WebSocketError(.invalidConfiguration, "invalid inflate window of \(inflateWindowBits) bits")
        }

        let deflater = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        deflater.initialize(to: z_stream())
        // Negative windowBits: raw deflate, no zlib header or checksum (RFC 7692 §7.2.1).
        let deflateStatus = deflateInit2_(
            deflater, Int32(configuration.compressionLevel), Z_DEFLATED, -Int32(deflateWindowBits),
            Int32(configuration.memoryLevel), Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)
        )
        guard deflateStatus == Z_OK else {
            deflater.deallocate()
            throw WebSocketError(.internalError, "deflateInit2 failed with zlib status \(deflateStatus)")
        }

        let inflater = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        inflater.initialize(to: z_stream())
        // zlib before 1.2.9 silently deflated "8-bit" windows with 9 bits; a 9-bit inflate
        // window accepts both.
        let inflateStatus = inflateInit2_(
            inflater, -Int32(max(inflateWindowBits, 9)), zlibVersion(), Int32(MemoryLayout<z_stream>.size)
        )
        guard inflateStatus == Z_OK else {
            deflateEnd(deflater)
            deflater.deallocate()
            inflater.deallocate()
            throw WebSocketError(.internalError, "inflateInit2 failed with zlib status \(inflateStatus)")
        }

        self.deflater = deflater
        self.inflater = inflater
        self.resetsDeflaterAfterMessage =
            isClient ? parameters.clientNoContextTakeover : parameters.serverNoContextTakeover
        self.resetsInflaterAfterMessage =
            isClient ? parameters.serverNoContextTakeover : parameters.clientNoContextTakeover
        self.minimumMessageSize = configuration.minimumMessageSize
    }

    deinit {
        deflateEnd(deflater)
        inflateEnd(inflater)
        deflater.deallocate()
        inflater.deallocate()
    }

    /// Whether a message of this many bytes should be compressed; smaller ones go out with RSV1
    /// clear, which RFC 7692 §6.1 allows per message.
    func shouldCompress(messageSize: Int) -> Bool {
        messageSize >= minimumMessageSize
    }

    // MARK: - Compression (RFC 7692 §7.2.1)

    /// Compresses a whole message into the payload of a frame with RSV1 set.
    func compress(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        compressFragment(message, isFinal: true, allocator: allocator)
    }

    /// Compresses one fragment of a message sent in several frames. Each fragment is flushed, so
    /// the peer can inflate it on arrival; only the final one loses its `00 00 ff ff` tail, and the
    /// context is reset after it when our direction has no context takeover.
    func compressFragment(_ fragment: ByteBuffer, isFinal: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        // After the previous Z_SYNC_FLUSH the stream sits on a byte boundary with nothing pending,
        // so an empty fragment needs no zlib call (which would fail with Z_BUF_ERROR anyway).
        guard fragment.readableBytes > 0 else {
            guard isFinal else { return allocator.buffer(capacity: 0) }
            resetDeflaterIfNeeded()
            // RFC 7692 §7.2.3.6: a lone 0x00 starts an empty stored block that the receiver's
            // appended 00 00 ff ff completes; an empty payload would leave that block dangling.
            var output = allocator.buffer(capacity: 1)
            output.writeInteger(UInt8(0))
            return output
        }

        let bound = Int(deflateBound(deflater, uLong(fragment.readableBytes))) + 16  // + the sync-flush block
        var output = allocator.buffer(capacity: min(bound, Self.maximumInitialDeflateCapacity))
        fragment.withUnsafeReadableBytes { input in
            deflater.pointee.next_in = UnsafeMutablePointer(
                mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self)
            )
            deflater.pointee.avail_in = uInt(input.count)
            // zlib: "If deflate returns with avail_out == 0, this function must be called again
            // with the same value of the flush parameter and more output space", and "make sure
            // that avail_out is greater than six to avoid repeated flush markers".
            repeat {
                let growth = output.writableBytes > 6 ? 0 : Self.outputChunkSize
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: growth) { out in
                    deflater.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    deflater.pointee.avail_out = uInt(out.count)
                    let status = deflate(deflater, Z_SYNC_FLUSH)
                    precondition(status == Z_OK || status == Z_BUF_ERROR, "zlib deflate failed with status \(status)")
                    return out.count - Int(deflater.pointee.avail_out)
                }
            } while deflater.pointee.avail_out == 0
            deflater.pointee.next_in = nil
            deflater.pointee.next_out = nil
        }

        if isFinal {
            // RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end".
            let tailIndex = output.writerIndex - Self.emptyStoredBlock.count
            precondition(
                output.getInteger(at: tailIndex, as: UInt32.self) == 0x0000_FFFF,
                "Z_SYNC_FLUSH output does not end with 00 00 ff ff"
            )
            output.moveWriterIndex(to: tailIndex)
            resetDeflaterIfNeeded()
        }
        return output
    }

    private func resetDeflaterIfNeeded() {
        // RFC 7692 §7.1.1: without context takeover, each message starts with an empty window.
        if resetsDeflaterAfterMessage { deflateReset(deflater) }
    }

    // MARK: - Decompression (RFC 7692 §7.2.2)

    /// Inflates one frame payload of a compressed message and appends the result to `output`.
    ///
    /// `output` holds the message assembled so far: its readable bytes count against
    /// `maxMessageSize`. Inflation runs in bounded steps, so a compression bomb fails as soon as
    /// the limit is crossed, without allocating much past it.
    ///
    /// - Throws: ``WebSocketError/Code/messageTooLarge`` when the inflated message would exceed
    ///   `maxMessageSize`; ``WebSocketError/Code/protocolViolation`` for data that is not valid
    ///   DEFLATE. After an error the inflate stream is reset, and the connection should fail.
    func decompressFragment(
        _ fragment: ByteBuffer,
        isFinal: Bool,
        into output: inout ByteBuffer,
        maxMessageSize: Int
    ) throws(WebSocketError) {
        var noValidator: UTF8Validator? = nil
        try decompressFragment(fragment, isFinal: isFinal, into: &output, maxMessageSize: maxMessageSize, validator: &noValidator)
    }

    /// Inflates one frame payload of a compressed text message, feeding the output to
    /// `validator` (when not nil) as zlib produces it, so that invalid text stops inflation at
    /// once (RFC 6455 §8.1). The caller checks ``UTF8Validator/isComplete`` at the end of the message.
    ///
    /// - Throws: as ``decompressFragment(_:isFinal:into:maxMessageSize:)``, and
    ///   ``WebSocketError/Code/invalidUTF8`` when the inflated text cannot begin valid UTF-8.
    func decompressFragment(
        _ fragment: ByteBuffer,
        isFinal: Bool,
        into output: inout ByteBuffer,
        maxMessageSize: Int,
        validator: inout UTF8Validator?
    ) throws(WebSocketError) {
        if fragment.readableBytes > 0 { inboundMessageHasPayload = true }
        if !inflaterReachedStreamEnd && fragment.readableBytes > 0 {
            let outcome = fragment.withUnsafeReadableBytes { input in
                inflateInput(input, into: &output, maxMessageSize: maxMessageSize, validator: &validator)
            }
            try handle(outcome, maxMessageSize: maxMessageSize)
        }
        guard isFinal else { return }
        // An empty payload carries no DEFLATE block; appending the tail to nothing would leave
        // the inflater inside a stored block and corrupt the next message. Some senders (zlib
        // returns no output when flushing an empty message twice) do send RSV1 with no payload.
        if !inflaterReachedStreamEnd && inboundMessageHasPayload {
            // RFC 7692 §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the
            // payload of the message", completing the stored block of the sender's flush.
            let outcome = Self.emptyStoredBlock.withUnsafeBytes { tail in
                inflateInput(tail, into: &output, maxMessageSize: maxMessageSize, validator: &validator)
            }
            try handle(outcome, maxMessageSize: maxMessageSize)
        }
        if resetsInflaterAfterMessage {
            // RFC 7692 §7.1.1: the peer starts every message with an empty window.
            inflateReset(inflater)
        } else if inflaterReachedStreamEnd {
            restartInflaterKeepingWindow()
        }
        inflaterReachedStreamEnd = false
        inboundMessageHasPayload = false
    }

    private enum InflateOutcome {
        case consumedInput
        case reachedStreamEnd
        case exceededLimit
        case invalidUTF8
        case corruptData(String)
        case failed(Int32)
    }

    private func handle(_ outcome: InflateOutcome, maxMessageSize: Int) throws(WebSocketError) {
        switch outcome {
        case .consumedInput:
            return
        case .reachedStreamEnd:
            // RFC 7692 §7.2.3.4: a sender may end the message with a BFINAL block; what follows
            // it (the §7.2.3.4 example has one more byte, then our appended tail) is ignored.
            inflaterReachedStreamEnd = true
        case .exceededLimit:
            abandonMessage()
            throw WebSocketError(
                .messageTooLarge,
                "decompressed message exceeds the limit of \(maxMessageSize) bytes"
            )
        case .invalidUTF8:
            abandonMessage()
            throw WebSocketError(.invalidUTF8, "text message is not valid UTF-8")
        case .corruptData(let reason):
            abandonMessage()
            throw WebSocketError(.protocolViolation, "invalid compressed data: \(reason)")
        case .failed(let status):
            abandonMessage()
            throw WebSocketError(.internalError, "zlib inflate failed with status \(status)")
        }
    }

    private func abandonMessage() {
        inflateReset(inflater)
        inflaterReachedStreamEnd = false
        inboundMessageHasPayload = false
    }

    /// Inflates all of `input`, growing `output` in bounded steps and never past `maxMessageSize`,
    /// and validates each step's output with `validator` if there is one.
    private func inflateInput(
        _ input: UnsafeRawBufferPointer,
        into output: inout ByteBuffer,
        maxMessageSize: Int,
        validator: inout UTF8Validator?
    ) -> InflateOutcome {
        inflater.pointee.next_in = UnsafeMutablePointer(
            mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self)
        )
        inflater.pointee.avail_in = uInt(input.count)
        defer {
            inflater.pointee.next_in = nil
            inflater.pointee.next_out = nil
        }
        while true {
            let remaining = max(maxMessageSize, 0) - output.readableBytes
            guard remaining >= 0 else { return .exceededLimit }
            let status: Int32
            if remaining == 0 {
                // At the limit: one more byte proves the message too large. It goes to a local
                // probe, so the output never grows past the limit.
                var probe: UInt8 = 0
                status = withUnsafeMutablePointer(to: &probe) { probe in
                    inflater.pointee.next_out = probe
                    inflater.pointee.avail_out = 1
                    return CDuplexZlib.inflate(inflater, Z_SYNC_FLUSH)
                }
                if inflater.pointee.avail_out == 0 { return .exceededLimit }
            } else {
                if output.writableBytes == 0 {
                    // Geometric growth (amortised copies), capped by what the limit still allows.
                    let growth = min(max(output.capacity, Self.outputChunkSize), remaining)
                    output.reserveCapacity(minimumWritableBytes: growth)
                }
                var callStatus = Z_OK
                var valid = true
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { out in
                    let count = min(out.count, remaining)
                    inflater.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    inflater.pointee.avail_out = uInt(count)
                    callStatus = CDuplexZlib.inflate(inflater, Z_SYNC_FLUSH)
                    let produced = count - Int(inflater.pointee.avail_out)
                    if var textValidator = validator {
                        valid = textValidator.validate(UnsafeRawBufferPointer(rebasing: out[0..<produced]))
                        validator = textValidator
                    }
                    return produced
                }
                guard valid else { return .invalidUTF8 }
                status = callStatus
            }
            switch status {
            case Z_OK:
                // Room left in the output means zlib stopped for lack of input.
                if inflater.pointee.avail_in == 0 && inflater.pointee.avail_out > 0 { return .consumedInput }
            case Z_BUF_ERROR:
                // No progress possible with output space available: the input is used up.
                return .consumedInput
            case Z_STREAM_END:
                return .reachedStreamEnd
            case Z_DATA_ERROR, Z_NEED_DICT:
                return .corruptData(inflater.pointee.msg.map { String(cString: $0) } ?? "status \(status)")
            default:
                return .failed(status)
            }
        }
    }

    /// After the peer ended its deflate stream, starts a new one that still sees the last 32 KiB:
    /// with context takeover the peer's next message may refer to them.
    private func restartInflaterKeepingWindow() {
        var window = [UInt8](repeating: 0, count: 1 << 15)
        var windowSize: uInt = 0
        let status = window.withUnsafeMutableBufferPointer { window in
            inflateGetDictionary(inflater, window.baseAddress, &windowSize)
        }
        inflateReset(inflater)
        if status == Z_OK && windowSize > 0 {
            inflateSetDictionary(inflater, window, windowSize)
        }
    }
}

@available(*, unavailable, message: "PerMessageDeflate owns zlib streams; use it from one event loop")
extension PerMessageDeflate: Sendable {}
