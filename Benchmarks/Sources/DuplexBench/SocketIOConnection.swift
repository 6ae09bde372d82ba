import NIOCore
import NIOWebSocket

/// One Socket.IO client of the load generator, speaking Engine.IO v4 directly over WebSocket:
/// the opening handshake, the Engine.IO open packet, a CONNECT to `/`, then events. It answers
/// every Engine.IO ping (and WebSocket ping) at any time, idle or not.
///
/// Like `LoadConnection`, it writes shared pre-encoded frames and reuses one buffer for the
/// message being received, so it does no allocation per event.
final class SocketIOConnection: BenchClient {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case webSocketHandshake
        /// Waiting for Engine.IO's open packet `0{…}`.
        case engineOpening
        /// `40` sent; waiting for the namespace's CONNECT `40{"sid":…}`.
        case namespaceConnecting
        case open
        /// Our close frame is sent; the server closes TCP (RFC 6455 §7.1.1).
        case closing
        case closed
    }

    /// RFC 6455 §5.2 opcodes.
    private enum Opcode {
        static let continuation: UInt8 = 0x0
        static let text: UInt8 = 0x1
        static let close: UInt8 = 0x8
        static let ping: UInt8 = 0x9
    }

    /// A message longer than the server's announced default maxPayload is not one of ours.
    private static let maxMessageSize = 1_000_000

    private let session: SocketIOSession
    private let frames: SocketIOFrames
    private var context: ChannelHandlerContext?
    private var state = State.webSocketHandshake
    private var handshakeResponse: HandshakeResponseReader
    private var reader: ServerFrameReader

    /// Opcode of the data message being received, nil between messages.
    private var messageOpcode: UInt8?
    /// The message being received, reassembled; cleared (capacity kept) for each message.
    private var message: ByteBuffer
    private var controlOpcode: UInt8?
    private var controlPayload: ByteBuffer
    private var currentFrameFin = false

    private var inFlight = 0
    /// When the oldest event in flight was sent; meaningful with one event in flight.
    private var sentAt: UInt64 = 0
    private var needsFlush = false
    /// The last broadcast sequence number received, to catch duplicates.
    private var lastBroadcast = 0

    init(session: SocketIOSession, frames: SocketIOFrames, allocator: ByteBufferAllocator) {
        self.session = session
        self.frames = frames
        self.handshakeResponse = HandshakeResponseReader(allocator: allocator)
        self.reader = ServerFrameReader(allocator: allocator)
        self.message = allocator.buffer(capacity: frames.expectedEcho.readableBytes)
        self.controlPayload = allocator.buffer(capacity: 0)
    }

    // MARK: Commands from the session

    /// Puts `count` `message` events in flight.
    func startSending(count: Int) {
        guard self.state == .open, let context = self.context else { return }
        self.sentAt = ProcessStats.monotonicNanoseconds()
        for _ in 0..<count {
            context.write(Self.wrapOutboundOut(self.frames.message), promise: nil)
        }
        self.inFlight += count
        context.flush()
    }

    /// Sends one pre-encoded frame now (the broadcast trigger).
    func send(_ frame: ByteBuffer) {
        guard self.state == .open, let context = self.context else { return }
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }

    /// Starts the WebSocket closing handshake (RFC 6455 §7.1.2), or drops TCP before it is open.
    func beginClose() {
        guard let context = self.context else { return }
        switch self.state {
        case .engineOpening, .namespaceConnecting, .open:
            self.state = .closing
            context.writeAndFlush(Self.wrapOutboundOut(self.frames.close), promise: nil)
        case .webSocketHandshake:
            self.state = .closing
            context.close(promise: nil)
        case .closing, .closed:
            break
        }
    }

    func forceClose() {
        guard self.state != .closed, let context = self.context else { return }
        context.close(promise: nil)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        self.session.connectionActive(self)
        if self.state == .webSocketHandshake {
            context.writeAndFlush(Self.wrapOutboundOut(self.frames.upgradeRequest), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let wasClosing = self.state == .closing
        self.state = .closed
        self.context = nil
        self.session.connectionInactive(self, expected: wasClosing)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error, context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        do {
            if self.state == .webSocketHandshake {
                guard let rest = try self.handshakeResponse.read(&buffer) else { return }
                buffer = rest
                self.state = .engineOpening
            }
            if self.state != .closed {
                try self.readFrames(&buffer, context: context)
            }
        } catch {
            self.fail(error, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
    }

    // MARK: WebSocket frames

    private func readFrames(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) throws {
        while let event = try self.reader.next(from: &buffer) {
            switch event {
            case .frameStart(let opcode, let fin, let length):
                try self.frameStarted(opcode: opcode, fin: fin, length: length)
            case .payload(var slice):
                if self.controlOpcode != nil {
                    self.controlPayload.writeBuffer(&slice)
                } else {
                    self.message.writeBuffer(&slice)
                }
            case .frameEnd:
                try self.frameEnded(context: context)
            }
        }
    }

    private func frameStarted(opcode: UInt8, fin: Bool, length: Int) throws(BenchFailure) {
        self.currentFrameFin = fin
        if opcode >= Opcode.close {
            self.controlOpcode = opcode
            self.controlPayload.clear()
            return
        }
        switch (opcode, self.messageOpcode) {
        case (Opcode.continuation, .some):
            break
        case (Opcode.continuation, .none):
            // RFC 6455 §5.4: continuation frames only follow a first fragment.
            throw BenchFailure("continuation frame outside a fragmented message")
        case (_, .none):
            self.messageOpcode = opcode
            self.message.clear()
        case (_, .some):
            // RFC 6455 §5.4: fragments of one message are not interleaved with another message.
            throw BenchFailure("new data frame inside a fragmented message")
        }
        guard self.message.readableBytes + length <= Self.maxMessageSize else {
            throw BenchFailure("a message of over \(Self.maxMessageSize) bytes")
        }
    }

    private func frameEnded(context: ChannelHandlerContext) throws(BenchFailure) {
        if let opcode = self.controlOpcode {
            self.controlOpcode = nil
            self.controlReceived(opcode: opcode, context: context)
            return
        }
        guard self.currentFrameFin else { return }
        let opcode = self.messageOpcode
        self.messageOpcode = nil
        // engine.io-protocol v4, "Transports" > "WebSocket": text packets travel as text frames;
        // nothing in this benchmark is binary.
        guard opcode == Opcode.text else {
            throw BenchFailure("a message with opcode \(opcode.map { String($0) } ?? "none") (expected text)")
        }
        try self.packetReceived(context: context)
    }

    private func controlReceived(opcode: UInt8, context: ChannelHandlerContext) {
        switch opcode {
        case Opcode.ping:
            // RFC 6455 §5.5.2: a Ping frame is answered with a Pong frame.
            guard self.state != .closing else { return }
            let pong = ClientFrames.maskedFrame(opcode: .pong, payload: self.controlPayload, allocator: context.channel.allocator)
            context.write(Self.wrapOutboundOut(pong), promise: nil)
            self.needsFlush = true
        case Opcode.close:
            if self.state != .closing {
                self.session.connectionFailed(BenchFailure("the server sent a close frame"))
            }
        default:
            break  // pong
        }
    }

    // MARK: Engine.IO and Socket.IO packets

    /// One Engine.IO packet (`self.message`), whose first character is its type
    /// (engine.io-protocol v4, "Packet encoding").
    private func packetReceived(context: ChannelHandlerContext) throws(BenchFailure) {
        guard let type = self.message.getInteger(at: self.message.readerIndex, as: UInt8.self) else {
            throw BenchFailure("an empty Engine.IO packet")
        }
        switch type {
        case UInt8(ascii: "4"):
            try self.socketIOPacketReceived()
        case UInt8(ascii: "2"):
            // engine.io-protocol v4, "Heartbeat": the server pings, the client answers with a pong.
            guard self.state != .closing else { return }
            context.write(Self.wrapOutboundOut(self.frames.pong), promise: nil)
            self.needsFlush = true
        case UInt8(ascii: "0"):
            guard self.state == .engineOpening else {
                throw BenchFailure("a second Engine.IO open packet")
            }
            // socket.io-protocol v5: the client joins a namespace with a CONNECT packet.
            self.state = .namespaceConnecting
            context.write(Self.wrapOutboundOut(self.frames.namespaceConnect), promise: nil)
            self.needsFlush = true
        case UInt8(ascii: "1"):
            throw BenchFailure("the server closed the Engine.IO session")
        case UInt8(ascii: "6"):
            break  // noop
        default:
            throw BenchFailure("an unexpected Engine.IO packet: \(String(buffer: self.message).prefix(80))")
        }
    }

    /// A Socket.IO packet (socket.io-protocol v5, "Packet format"): `4` then its type.
    private func socketIOPacketReceived() throws(BenchFailure) {
        let type = self.message.getInteger(at: self.message.readerIndex + 1, as: UInt8.self)
        switch type {
        case UInt8(ascii: "2"):
            guard self.state == .open || self.state == .closing else {
                throw BenchFailure("an event before the namespace CONNECT")
            }
            try self.eventReceived()
        case UInt8(ascii: "0"):
            guard self.state == .namespaceConnecting else {
                throw BenchFailure("an unexpected namespace CONNECT")
            }
            self.state = .open
            self.session.connectionReady(self)
        case UInt8(ascii: "4"):
            throw BenchFailure("namespace refused: \(String(buffer: self.message).prefix(200))")
        case UInt8(ascii: "1"):
            throw BenchFailure("the server disconnected the socket")
        default:
            throw BenchFailure("an unexpected Socket.IO packet: \(String(buffer: self.message).prefix(80))")
        }
    }

    private func eventReceived() throws(BenchFailure) {
        let view = self.message.readableBytesView
        if view.starts(with: SocketIOFrames.echoPrefix) {
            // The whole echo is compared: the payloads are small and a memcmp is cheap.
            guard self.message == self.frames.expectedEcho else {
                throw BenchFailure("message-back differs from the message sent: \(String(buffer: self.message).prefix(80))")
            }
            guard self.inFlight > 0 else {
                throw BenchFailure("message-back received with no message in flight")
            }
            let now = ProcessStats.monotonicNanoseconds()
            if self.session.echoReceived(roundTrip: now &- self.sentAt), let context = self.context {
                self.sentAt = now
                context.write(Self.wrapOutboundOut(self.frames.message), promise: nil)
                self.needsFlush = true
            } else {
                self.inFlight -= 1
            }
        } else if view.starts(with: SocketIOFrames.broadcastPrefix) {
            let sequence = try self.broadcastSequence(view.dropFirst(SocketIOFrames.broadcastPrefix.count))
            guard sequence > self.lastBroadcast else {
                throw BenchFailure("broadcast \(sequence) received after broadcast \(self.lastBroadcast)")
            }
            self.lastBroadcast = sequence
            self.session.broadcastReceived(sequence: sequence)
        }
        // Other events (the `auth` event sent on CONNECT) are not measured.
    }

    /// The decimal number before the closing `]` of `42["broadcast",N]`.
    private func broadcastSequence(_ rest: ByteBufferView.SubSequence) throws(BenchFailure) -> Int {
        var sequence = 0
        var digits = 0
        for byte in rest {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9") where digits < 18:
                sequence = sequence * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
            case UInt8(ascii: "]") where digits > 0:
                return sequence
            default:
                throw BenchFailure("an unexpected broadcast: \(String(buffer: self.message).prefix(80))")
            }
        }
        throw BenchFailure("an unexpected broadcast: \(String(buffer: self.message).prefix(80))")
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        if self.state != .closing {
            self.session.connectionFailed(error)
        }
        context.close(promise: nil)
    }
}
