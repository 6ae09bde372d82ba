import NIOCore
import NIOWebSocket

/// One client WebSocket connection of the load generator: it performs the opening handshake,
/// keeps a fixed number of binary messages in flight, checks every echo, and closes cleanly.
///
/// It writes shared, pre-encoded frames and reads payloads as slices of the received buffers,
/// so the client does no allocation per message. Flushes are batched per read.
final class LoadConnection: BenchClient {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking
        case open
        /// Our close frame is sent; waiting for the server's, then for it to close TCP (RFC 6455 §7.1.1).
        case closing
        case closed
    }

    /// RFC 6455 §5.2 opcodes.
    private enum Opcode {
        static let continuation: UInt8 = 0x0
        static let binary: UInt8 = 0x2
        static let close: UInt8 = 0x8
        static let ping: UInt8 = 0x9
    }

    /// The content of one echo in this many is compared with what was sent; every length is.
    private static let contentCheckInterval = 64

    private let session: LoadSession
    private let frames: ClientFrames
    private var context: ChannelHandlerContext?
    private var state = State.handshaking
    private var handshakeResponse: HandshakeResponseReader
    private var reader: ServerFrameReader

    /// Opcode of the data message being received, nil between messages.
    private var messageOpcode: UInt8?
    private var messageLength = 0
    private var checksMessageContent = false
    private var echoesReceived = 0
    /// Opcode of the control frame being received (RFC 6455 §5.5: they may come between fragments).
    private var controlOpcode: UInt8?
    private var controlPayload: ByteBuffer
    private var currentFrameFin = false

    private var inFlight = 0
    /// When the oldest message in flight was sent; meaningful with one message in flight.
    private var sentAt: UInt64 = 0
    private var needsFlush = false

    init(session: LoadSession, frames: ClientFrames, allocator: ByteBufferAllocator) {
        self.session = session
        self.frames = frames
        self.handshakeResponse = HandshakeResponseReader(allocator: allocator)
        self.reader = ServerFrameReader(allocator: allocator)
        self.controlPayload = allocator.buffer(capacity: 0)
    }

    // MARK: Commands from the session

    /// Puts `count` messages in flight.
    func startSending(count: Int) {
        guard self.state == .open, let context = self.context else { return }
        self.sentAt = ProcessStats.monotonicNanoseconds()
        for _ in 0..<count {
            context.write(Self.wrapOutboundOut(self.frames.message), promise: nil)
        }
        self.inFlight += count
        context.flush()
    }

    /// Starts the closing handshake (RFC 6455 §7.1.2), or drops TCP if there is no WebSocket yet.
    func beginClose() {
        guard let context = self.context else { return }
        switch self.state {
        case .open:
            self.state = .closing
            context.writeAndFlush(Self.wrapOutboundOut(self.frames.close), promise: nil)
        case .handshaking:
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
        if self.state == .handshaking {
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
            if self.state == .handshaking {
                try self.readHandshakeResponse(&buffer)
            }
            if self.state == .open || self.state == .closing {
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

    // MARK: Opening handshake

    private func readHandshakeResponse(_ buffer: inout ByteBuffer) throws(BenchFailure) {
        guard let rest = try self.handshakeResponse.read(&buffer) else { return }
        buffer = rest
        self.state = .open
        self.session.connectionReady(self)
    }

    // MARK: Frames

    private func readFrames(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) throws {
        while let event = try self.reader.next(from: &buffer) {
            switch event {
            case .frameStart(let opcode, let fin, let length):
                try self.frameStarted(opcode: opcode, fin: fin, length: length)
            case .payload(let slice):
                try self.payloadReceived(slice)
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
            self.messageLength = 0
            self.checksMessageContent = self.echoesReceived % Self.contentCheckInterval == 0
        case (_, .some):
            // RFC 6455 §5.4: fragments of one message are not interleaved with another message.
            throw BenchFailure("new data frame inside a fragmented message")
        }
        guard self.messageLength + length <= self.frames.expectedPayload.readableBytes else {
            throw BenchFailure("echo longer than the \(self.frames.expectedPayload.readableBytes)-byte message sent")
        }
    }

    private func payloadReceived(_ slice: ByteBuffer) throws(BenchFailure) {
        if self.controlOpcode != nil {
            var slice = slice
            self.controlPayload.writeBuffer(&slice)
            return
        }
        if self.checksMessageContent {
            let expected = self.frames.expectedPayload.getSlice(
                at: self.frames.expectedPayload.readerIndex + self.messageLength,
                length: slice.readableBytes
            )
            guard expected == slice else {
                throw BenchFailure("echoed payload differs from the message sent (at offset \(self.messageLength))")
            }
        }
        self.messageLength += slice.readableBytes
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
        guard opcode == Opcode.binary else {
            throw BenchFailure("binary message echoed with opcode \(opcode.map { String($0) } ?? "none")")
        }
        guard self.messageLength == self.frames.expectedPayload.readableBytes else {
            throw BenchFailure("echo of \(self.messageLength) bytes for a \(self.frames.expectedPayload.readableBytes)-byte message")
        }
        guard self.inFlight > 0 else {
            throw BenchFailure("echo received with no message in flight")
        }
        self.echoesReceived += 1
        let now = ProcessStats.monotonicNanoseconds()
        if self.session.echoReceived(roundTrip: now &- self.sentAt) {
            self.sentAt = now
            context.write(Self.wrapOutboundOut(self.frames.message), promise: nil)
            self.needsFlush = true
        } else {
            self.inFlight -= 1
        }
    }

    private func controlReceived(opcode: UInt8, context: ChannelHandlerContext) {
        switch opcode {
        case Opcode.ping:
            // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
            // response" (Python websockets pings idle connections every 20 s by default).
            guard self.state == .open else { return }
            let pong = ClientFrames.maskedFrame(opcode: .pong, payload: self.controlPayload, allocator: context.channel.allocator)
            context.write(Self.wrapOutboundOut(pong), promise: nil)
            self.needsFlush = true
        case Opcode.close:
            if self.state == .open {
                // The server closed first: unexpected during a measurement.
                self.session.connectionFailed(BenchFailure("the server sent a close frame"))
            }
            // RFC 6455 §7.1.1: the server closes TCP first; our close timeout bounds the wait.
        default:
            break  // pong
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        if self.state != .closing {
            self.session.connectionFailed(error)
        }
        context.close(promise: nil)
    }
}
