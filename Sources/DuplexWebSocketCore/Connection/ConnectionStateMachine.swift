import NIOCore

/// The sans-I/O WebSocket connection (RFC 6455 §5-§7, RFC 7692 §6) after the opening handshake.
///
/// Feed it events (`bytesReceived`, `sendRequested`, `closeRequested`, `timerFired`,
/// `transportClosed`) and execute the ``ConnectionAction``s that ``nextAction()`` returns, in
/// order. Protocol reactions — pongs, close echoes, keepalive pings, failing the connection with
/// the right close code — are produced here, so they happen whether or not the application reads.
/// Time is passed in; the machine never reads a clock.
public struct ConnectionStateMachine {
    /// Everything the machine needs to know about the negotiated connection.
    public struct Configuration {
        /// Client or server.
        public var role: Role
        /// Frame and message size limits.
        public var limits: WebSocketLimits
        /// Keepalive pings.
        public var keepAlive: KeepAlive
        /// How long to wait for the peer's close frame, or for the server to close TCP.
        public var closeTimeout: Duration
        /// Validate text messages and close reasons as UTF-8 (RFC 6455 §8.1). Default true.
        public var validatesUTF8: Bool
        /// The negotiated permessage-deflate codec, if any.
        public var deflate: PerMessageDeflate?

        /// Creates a configuration.
        public init(
            role: Role,
            limits: WebSocketLimits = .default,
            keepAlive: KeepAlive = .disabled,
            closeTimeout: Duration = .seconds(10),
            validatesUTF8: Bool = true,
            deflate: PerMessageDeflate? = nil
        ) {
            self.role = role
            self.limits = limits
            self.keepAlive = keepAlive
            self.closeTimeout = closeTimeout
            self.validatesUTF8 = validatesUTF8
            self.deflate = deflate
        }
    }

    private enum State: Equatable {
        /// Data flows both ways.
        case open
        /// We sent a close frame and wait for the peer's (RFC 6455 §7.1.2).
        case closeSent
        /// Both close frames were exchanged (or we failed); a client waits for the server to close TCP.
        case closing
        /// The transport is closed.
        case closed
    }

    /// A data message being reassembled from fragments (RFC 6455 §5.4).
    private struct Assembly {
        var kind: WebSocketMessage.Kind
        var isCompressed: Bool
        var buffer: ByteBuffer
    }

    private let configuration: Configuration
    private let allocator: ByteBufferAllocator
    private var parser: FrameParser
    private var state: State = .open
    private var inbound = ByteBuffer()
    private var assembly: Assembly?
    private var utf8 = UTF8Validator()
    private var outboundFragmentKind: WebSocketMessage.Kind?
    private var outboundFragmentCompressed = false
    private var closeSent: CloseFrame?
    private var closeReceived: CloseFrame?
    private var receivedThenSent = false
    private var failure: WebSocketError?
    private var closeDeadline: NIODeadline?
    private var nextPingAt: NIODeadline?
    private var outstandingPing: (payload: UInt64, sentAt: NIODeadline, deadline: NIODeadline)?
    private var pingCounter: UInt64 = 0
    private var maskKeys = MaskKeySource()
    private var actions: [ConnectionAction] = []
    private var actionIndex = 0

    /// The round-trip time of the last keepalive ping, once one was answered.
    public private(set) var lastPingLatency: Duration?

    /// Creates the machine for a connection whose handshake completed at `now`.
    public init(configuration: Configuration, allocator: ByteBufferAllocator = ByteBufferAllocator(), now: NIODeadline) {
        self.configuration = configuration
        self.allocator = allocator
        self.parser = FrameParser(
            role: configuration.role,
            maxFrameSize: configuration.limits.maxFrameSize,
            allowsRSV1: configuration.deflate != nil,
            allocator: allocator
        )
        actions.reserveCapacity(8)
        if let interval = configuration.keepAlive.interval {
            nextPingAt = now + TimeAmount(interval)
            scheduleTimer()
        }
    }

    /// Whether the application may still send data messages.
    public var canSend: Bool { state == .open }

    /// Whether the connection is fully closed.
    public var isClosed: Bool { state == .closed }

    /// The next action to execute, or nil when there is nothing left to do.
    public mutating func nextAction() -> ConnectionAction? {
        guard actionIndex < actions.count else {
            if actionIndex > 0 {
                actions.removeAll(keepingCapacity: true)
                actionIndex = 0
            }
            return nil
        }
        let action = actions[actionIndex]
        actionIndex += 1
        return action
    }

    // MARK: - Inputs

    /// Bytes arrived from the transport.
    public mutating func bytesReceived(_ bytes: ByteBuffer, now: NIODeadline) {
        guard state == .open || state == .closeSent else { return }  // RFC 6455 §1.4: discard after the close handshake
        if inbound.readableBytes == 0 {
            inbound = bytes
        } else {
            var bytes = bytes
            inbound.writeBuffer(&bytes)
        }
        do {
            while state == .open || state == .closeSent {
                // Recomputed for every frame: the previous one may have opened or ended a message.
                let textOpcode = self.textOpcode
                guard let frame = try parser.nextFrame(from: &inbound, textOpcode: textOpcode, validator: &utf8) else { break }
                try frameReceived(frame, now: now)
            }
        } catch {
            fail(error, now: now)
        }
        if inbound.readableBytes == 0 {
            inbound = ByteBuffer()
        } else if inbound.readerIndex >= 64 * 1024 {
            inbound.discardReadBytes()
        }
    }

    /// The application asks to send a whole message.
    public mutating func sendRequested(_ message: WebSocketMessage) throws(WebSocketError) {
        guard state == .open else { throw sendAfterCloseError() }
        guard outboundFragmentKind == nil else {
            throw WebSocketError(.sendAfterClose, "a fragmented message is being sent; finish it first")
        }
        if let deflate = configuration.deflate, deflate.shouldCompress(messageSize: message.data.readableBytes) {
            let compressed = deflate.compress(message.data, allocator: allocator)
            writeFrame(opcode: message.opcode, fin: true, rsv1: true, payload: compressed)
        } else {
            writeFrame(opcode: message.opcode, fin: true, rsv1: false, payload: message.data)
        }
    }

    /// The application sends one fragment of a message (RFC 6455 §5.4), for streaming large
    /// messages. The first call fixes the kind; `isFinal` ends the message.
    public mutating func sendFragmentRequested(
        kind: WebSocketMessage.Kind,
        _ payload: ByteBuffer,
        isFinal: Bool
    ) throws(WebSocketError) {
        guard state == .open else { throw sendAfterCloseError() }
        let opcode: Opcode
        if let current = outboundFragmentKind {
            guard current == kind else {
                throw WebSocketError(.sendAfterClose, "fragment kind differs from the message being sent")
            }
            opcode = .continuation
        } else {
            opcode = kind == .text ? .text : .binary
            outboundFragmentCompressed = configuration.deflate != nil
        }
        outboundFragmentKind = isFinal ? nil : kind
        if outboundFragmentCompressed, let deflate = configuration.deflate {
            let compressed = deflate.compressFragment(payload, isFinal: isFinal, allocator: allocator)
            // RFC 7692 §6.1: RSV1 is set on the first frame of the message only.
            writeFrame(opcode: opcode, fin: isFinal, rsv1: opcode != .continuation, payload: compressed)
        } else {
            writeFrame(opcode: opcode, fin: isFinal, rsv1: false, payload: payload)
        }
    }

    /// The application sends a ping with this payload (at most 125 bytes, RFC 6455 §5.5).
    public mutating func pingRequested(_ payload: ByteBuffer) throws(WebSocketError) {
        guard state == .open else { throw sendAfterCloseError() }
        guard payload.readableBytes <= 125 else {
            throw WebSocketError(.invalidConfiguration, "ping payload over 125 bytes")
        }
        writeFrame(opcode: .ping, fin: true, rsv1: false, payload: payload)
    }

    /// The application starts the closing handshake (RFC 6455 §7.1.2).
    public mutating func closeRequested(code: CloseCode, reason: String, now: NIODeadline) throws(WebSocketError) {
        guard state == .open else { throw sendAfterCloseError() }
        guard code.isSendable else {
            throw WebSocketError(.invalidCloseCode, "close code \(code) may not be sent (RFC 6455 §7.4)")
        }
        guard reason.utf8.count <= 123 else {
            throw WebSocketError(.invalidCloseCode, "close reason over 123 bytes (RFC 6455 §5.5)")
        }
        sendClose(CloseFrame(code: code, reason: reason))
        state = .closeSent
        closeDeadline = now + TimeAmount(configuration.closeTimeout)
        scheduleTimer()
    }

    /// A timer scheduled with ``ConnectionAction/scheduleTimer(_:)`` fired.
    public mutating func timerFired(now: NIODeadline) {
        // A stale timer after the transport closed must not reschedule itself (the close
        // deadline is still set and already past).
        guard state != .closed else { return }
        if let closeDeadline, now >= closeDeadline {
            // RFC 6455 §7.1.1: the client closes TCP itself if the server does not in a reasonable time.
            self.closeDeadline = nil
            actions.append(.closeTransport)
            return
        }
        if state == .open, let ping = outstandingPing, now >= ping.deadline {
            fail(
                WebSocketError(.keepAliveTimedOut, "no pong within \(configuration.keepAlive.timeout)"),
                now: now
            )
            return
        }
        if state == .open, outstandingPing == nil, let pingAt = nextPingAt, now >= pingAt {
            pingCounter &+= 1
            var payload = allocator.buffer(capacity: 8)
            payload.writeInteger(pingCounter)
            writeFrame(opcode: .ping, fin: true, rsv1: false, payload: payload)
            outstandingPing = (pingCounter, now, now + TimeAmount(configuration.keepAlive.timeout))
            nextPingAt = nil
        }
        scheduleTimer()
    }

    /// The transport closed (EOF, reset or our own close). Emits ``ConnectionAction/closed(_:error:)``.
    public mutating func transportClosed() {
        guard state != .closed else { return }
        state = .closed
        let info = CloseInfo(received: closeReceived, sent: closeSent, receivedThenSent: receivedThenSent)
        var error = failure
        if error == nil && !info.isNormal {
            error = WebSocketError(
                .connectionClosed,
                closeReceived == nil
                    ? "connection closed without a close frame (1006)"
                    : "connection closed with code \(info.code)",
                closeInfo: info
            )
        }
        error?.closeInfo = info
        actions.append(.closed(info, error: error))
    }

    // MARK: - Frames

    /// The data frames whose payload the parser validates as UTF-8 while it arrives (RFC 6455
    /// §8.1): `.text` between messages, `.continuation` inside an uncompressed text message.
    /// Compressed text is validated as it is inflated instead.
    private var textOpcode: Opcode? {
        guard configuration.validatesUTF8 else { return nil }
        guard let assembly else { return .text }
        return assembly.kind == .text && !assembly.isCompressed ? .continuation : nil
    }

    private mutating func frameReceived(_ frame: Frame, now: NIODeadline) throws(WebSocketError) {
        switch frame.opcode {
        case .text, .binary:
            // RFC 6455 §5.4: a new data frame while a fragmented message is open is a protocol error.
            guard assembly == nil else {
                throw WebSocketError(.protocolViolation, "new data frame before the fragmented message ended")
            }
            let kind: WebSocketMessage.Kind = frame.opcode == .text ? .text : .binary
            if frame.fin && !frame.rsv1 {
                try deliverWhole(kind: kind, payload: frame.payload)
            } else {
                assembly = Assembly(kind: kind, isCompressed: frame.rsv1, buffer: allocator.buffer(capacity: 0))
                // The parser reset the validator for an uncompressed text frame and validated it.
                if frame.rsv1 { utf8.reset() }
                try appendFragment(frame)
            }
        case .continuation:
            guard assembly != nil else {
                throw WebSocketError(.protocolViolation, "continuation frame without a message to continue")
            }
            // RFC 7692 §6.1: "An endpoint MUST NOT set the RSV1 bit on continuation frames".
            guard !frame.rsv1 else { throw WebSocketError(.protocolViolation, "RSV1 set on a continuation frame") }
            try appendFragment(frame)
        case .ping:
            // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
            // response, unless it already received a Close frame." Not after we sent ours either.
            if state == .open {
                writeFrame(opcode: .pong, fin: true, rsv1: false, payload: frame.payload)
            }
        case .pong:
            pongReceived(frame.payload, now: now)
        case .close:
            try closeFrameReceived(frame.payload, now: now)
        default:
            throw WebSocketError(.protocolViolation, "reserved opcode \(frame.opcode.rawValue)")
        }
    }

    private mutating func deliverWhole(kind: WebSocketMessage.Kind, payload: ByteBuffer) throws(WebSocketError) {
        guard payload.readableBytes <= configuration.limits.maxMessageSize else {
            throw WebSocketError(.messageTooLarge, "message over \(configuration.limits.maxMessageSize) bytes")
        }
        // The parser validated the payload (`textOpcode`); it must also end on a whole code point.
        if kind == .text && configuration.validatesUTF8 && !utf8.isComplete {
            throw WebSocketError(.invalidUTF8, "text message ends inside a UTF-8 sequence")
        }
        actions.append(.deliver(WebSocketMessage(kind: kind, data: payload)))
    }

    private mutating func appendFragment(_ frame: Frame) throws(WebSocketError) {
        guard var current = assembly else { return }
        assembly = nil  // avoid a copy-on-write of the buffer while it is mutated
        let limit = configuration.limits.maxMessageSize
        let validatesText = current.kind == .text && configuration.validatesUTF8
        if current.isCompressed {
            guard let deflate = configuration.deflate else {
                throw WebSocketError(.protocolViolation, "compressed frame without permessage-deflate")
            }
            // Inflated text is validated piece by piece as zlib produces it.
            var textValidator = validatesText ? utf8 : nil
            try deflate.decompressFragment(
                frame.payload,
                isFinal: frame.fin,
                into: &current.buffer,
                maxMessageSize: limit,
                validator: &textValidator
            )
            if let textValidator { utf8 = textValidator }
        } else {
            // The parser validated uncompressed text while the frame arrived (`textOpcode`).
            guard current.buffer.readableBytes + frame.payload.readableBytes <= limit else {
                throw WebSocketError(.messageTooLarge, "message over \(limit) bytes")
            }
            var payload = frame.payload
            current.buffer.writeBuffer(&payload)
        }
        if validatesText && frame.fin && !utf8.isComplete {
            throw WebSocketError(.invalidUTF8, "text message ends inside a UTF-8 sequence")
        }
        if frame.fin {
            actions.append(.deliver(WebSocketMessage(kind: current.kind, data: current.buffer)))
        } else {
            assembly = current
        }
    }

    private mutating func pongReceived(_ payload: ByteBuffer, now: NIODeadline) {
        // RFC 6455 §5.5.3: "A Pong frame sent in response to a Ping frame must have identical
        // Application data"; unsolicited pongs are allowed and ignored.
        if let ping = outstandingPing, payload.readableBytes == 8, payload.getInteger(at: payload.readerIndex, as: UInt64.self) == ping.payload {
            lastPingLatency = .nanoseconds((now - ping.sentAt).nanoseconds)
            outstandingPing = nil
            if let interval = configuration.keepAlive.interval {
                nextPingAt = max(ping.sentAt + TimeAmount(interval), now)
            }
            scheduleTimer()
        }
        actions.append(.pongReceived(payload))
    }

    private mutating func closeFrameReceived(_ payload: ByteBuffer, now: NIODeadline) throws(WebSocketError) {
        let frame = try Self.parseClosePayload(payload, validatesUTF8: configuration.validatesUTF8)
        closeReceived = frame
        // RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a
        // Close frame, the endpoint MUST send a Close frame in response ... typically echoing the
        // status code it received."
        if state == .open {
            receivedThenSent = true
            sendClose(frame)
        }
        state = .closing
        assembly = nil
        nextPingAt = nil
        outstandingPing = nil
        switch configuration.role {
        case .server:
            // RFC 6455 §7.1.1: "the server ... SHOULD close the underlying TCP connection" first.
            actions.append(.closeTransport)
        case .client:
            closeDeadline = now + TimeAmount(configuration.closeTimeout)
            scheduleTimer()
        }
    }

    /// Decodes and validates a close frame body (RFC 6455 §5.5.1, §7.4).
    public static func parseClosePayload(_ payload: ByteBuffer, validatesUTF8: Bool = true) throws(WebSocketError) -> CloseFrame {
        if payload.readableBytes == 0 { return CloseFrame(code: .noStatusReceived) }
        guard payload.readableBytes >= 2, let raw = payload.getInteger(at: payload.readerIndex, as: UInt16.self) else {
            throw WebSocketError(.protocolViolation, "close frame with a 1-byte body")
        }
        let code = CloseCode(raw)
        guard code.isSendable else {
            throw WebSocketError(.protocolViolation, "invalid close code \(raw)")
        }
        let reasonBytes = payload.getSlice(at: payload.readerIndex + 2, length: payload.readableBytes - 2) ?? ByteBuffer()
        if validatesUTF8 {
            let valid = reasonBytes.withUnsafeReadableBytes { UTF8Validator.isValid($0) }
            guard valid else { throw WebSocketError(.invalidUTF8, "close reason is not valid UTF-8") }
        }
        return CloseFrame(code: code, reason: String(buffer: reasonBytes))
    }

    // MARK: - Failing and closing

    /// RFC 6455 §7.1.7 "_Fail the WebSocket Connection_": send a close frame with the error's
    /// code if none was sent yet, then drop the connection (server) or wait for the server to (client).
    private mutating func fail(_ error: WebSocketError, now: NIODeadline) {
        guard failure == nil, state != .closed else { return }
        failure = error
        if closeSent == nil {
            // The reason is for humans; keep it within the 123 bytes a close frame allows.
            sendClose(CloseFrame(code: error.closeCode, reason: String(error.message.utf8.prefix(123)) ?? ""))
        }
        state = .closing
        assembly = nil
        nextPingAt = nil
        outstandingPing = nil
        actions.append(.failed(error))
        switch configuration.role {
        case .server:
            actions.append(.closeTransport)
        case .client:
            closeDeadline = now + TimeAmount(configuration.closeTimeout)
            scheduleTimer()
        }
    }

    private mutating func sendClose(_ frame: CloseFrame) {
        var payload = allocator.buffer(capacity: 2 + frame.reason.utf8.count)
        // RFC 6455 §7.4.1: 1005 "MUST NOT be set as a status code in a Close control frame";
        // an empty close body stands for it.
        if frame.code != .noStatusReceived {
            payload.writeInteger(frame.code.rawValue)
            payload.writeString(frame.reason)
        }
        writeFrame(opcode: .close, fin: true, rsv1: false, payload: payload)
        closeSent = frame
    }

    private func sendAfterCloseError() -> WebSocketError {
        if let failure { return WebSocketError(.sendAfterClose, "the connection failed: \(failure.message)", cause: failure) }
        return WebSocketError(.sendAfterClose, "the connection is closing or closed")
    }

    private mutating func writeFrame(opcode: Opcode, fin: Bool, rsv1: Bool, payload: ByteBuffer) {
        let maskKey: UInt32? = configuration.role == .client ? maskKeys.next() : nil
        let (header, body) = FrameSerializer.serialize(
            opcode: opcode,
            fin: fin,
            rsv1: rsv1,
            payload: payload,
            maskKey: maskKey,
            allocator: allocator
        )
        actions.append(.write(header))
        if let body { actions.append(.write(body)) }
    }

    private mutating func scheduleTimer() {
        // Keepalive timers only matter while open: once closing, a past ping deadline would be
        // rescheduled on every firing (a busy loop) until the close timeout.
        let keepAliveDeadline = state != .open ? nil : outstandingPing?.deadline ?? nextPingAt
        let candidates = [closeDeadline, keepAliveDeadline]
        if let earliest = candidates.compactMap({ $0 }).min() {
            actions.append(.scheduleTimer(earliest))
        }
    }
}

/// Masking keys from the system CSPRNG, fetched in batches so a frame does not cost a syscall
/// (RFC 6455 §5.3: keys "MUST be derived from a strong source of entropy").
struct MaskKeySource {
    private var keys: [UInt32] = []

    mutating func next() -> UInt32 {
        if keys.isEmpty {
            var generator = SystemRandomNumberGenerator()
            keys = (0..<64).map { _ in generator.next() }
        }
        return keys.removeLast()
    }
}
