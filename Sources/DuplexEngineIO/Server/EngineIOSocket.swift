import DuplexEngineIOCore
import Logging
import NIOCore

/// One client's Engine.IO session on the server, as the application sees it: the messages the
/// client sends, and methods to send and close.
///
/// Messages and sends are independent of the transport: a session that upgrades from polling to
/// WebSocket keeps its order and loses nothing. Heartbeats, upgrades and close packets are
/// handled by the server whether or not the application is reading.
public struct EngineIOSocket: Sendable, Identifiable {
    let session: ServerSession

    init(session: ServerSession) {
        self.session = session
    }

    /// The session id.
    public var id: EngineIOSessionID { session.id }

    /// The request that opened the session (for authentication data and logging).
    public var request: EngineIOHandshakeRequest { session.request }

    /// The protocol revision the client speaks.
    public var protocolVersion: EngineIOProtocolVersion { session.protocolVersion }

    /// The transport carrying the session now (`polling` until an upgrade completes).
    public var transport: EngineIOTransport { session.transport }

    /// A logger with this session's metadata (`eio.sid`).
    public var logger: Logger { session.logger }

    /// The event loop of the session: its WebSocket's channel loop when it opened over
    /// WebSocket, otherwise a loop of the server's group. ``EventLoopTaskExecutor`` runs a
    /// task for the session there.
    public var eventLoop: any EventLoop { session.eventLoop }

    /// The client's messages, in order. The sequence ends when the session closes (see
    /// ``closeReason``). One task should iterate it.
    ///
    /// Backpressure: while the application has not taken more than
    /// ``EngineIOServerConfiguration/receiveBufferLimit`` of messages, the server stops reading
    /// the client's WebSocket, and holds the response to its polling POSTs.
    public var messages: EngineIOSocketMessages { EngineIOSocketMessages(session: session) }

    /// Sends a message: over WebSocket at once, over polling in the next GET response (several
    /// messages sent in a row share one response, up to
    /// ``EngineIOServerConfiguration/maxPacketsPerPoll``).
    ///
    /// Backpressure: while more than ``EngineIOServerConfiguration/sendHighWaterMark`` is queued
    /// for the client (it does not read its WebSocket, or does not poll), `send` waits until the
    /// queue drains to ``EngineIOServerConfiguration/sendLowWaterMark``, then queues the message.
    ///
    /// - Throws: ``EngineIOError/Code/sessionClosed`` once the session is closing or closed, also
    ///   when it closes while `send` waits; ``EngineIOError/Code/cancelled`` when the task is
    ///   cancelled while waiting; ``EngineIOError/Code/invalidPacket`` for a text message
    ///   containing U+001E while the session is on v4 long-polling (the payload separator, see
    ///   ``EngineIOPollingFormat/canFrame(_:)``). When `send` throws, the message was not queued.
    public func send(_ message: EngineIOMessage) async throws(EngineIOError) {
        try await session.send(message)
    }

    /// Sends a text message (see ``send(_:)``).
    public func send(text: String) async throws(EngineIOError) {
        try await session.send(.text(text))
    }

    /// Sends a binary message (see ``send(_:)``; over polling it travels as `b<base64>`).
    public func send(binary: ByteBuffer) async throws(EngineIOError) {
        try await session.send(.binary(binary))
    }

    /// Sends a binary message (see ``send(_:)``).
    public func send(binary: some Sequence<UInt8>) async throws(EngineIOError) {
        try await session.send(.binary(ByteBuffer(bytes: binary)))
    }

    /// Queues messages without suspending, keeping them adjacent on the wire even when other
    /// tasks send to this session at the same time (a Socket.IO packet and its binary
    /// attachments). For fan-out: a broadcast enqueues the same messages to every recipient and
    /// never waits for a slow one.
    ///
    /// - Parameters:
    ///   - messages: the messages, in order.
    ///   - volatile: when true, nothing is queued unless the transport can write at once
    ///     (``isWritable``); the messages are dropped instead (Socket.IO `volatile`).
    ///   - bufferLimit: when set, nothing is queued if ``bufferedMessageCount`` plus the new
    ///     messages would exceed it, so a client that does not read cannot grow memory without
    ///     bound.
    /// - Returns: whether the messages were queued, and if not why. Whatever `bufferLimit` says,
    ///   messages that would take the queue past ``EngineIOServerConfiguration/maxSendBufferSize``
    ///   are dropped and the session is closed with ``EngineIOCloseReason/sendBufferFull``
    ///   (`bufferFull`).
    @discardableResult
    public func enqueue(
        _ messages: some Collection<EngineIOMessage>,
        volatile: Bool = false,
        bufferLimit: Int? = nil
    ) -> EngineIOEnqueueResult {
        // An array passes through without a copy; the session's code is not generic.
        switch session.enqueue(Array(messages), volatile: volatile, bufferLimit: bufferLimit) {
        case .enqueued: return .enqueued
        case .notWritable: return .notWritable
        case .bufferFull: return .bufferFull
        case .closed: return .closed
        case .unframeable: return .unframeable
        }
    }

    /// Whether a message sent now would go out at once: over polling a GET is waiting for it,
    /// over WebSocket nothing is queued ahead of it (engine.io `transport.writable`).
    public var isWritable: Bool { session.isWritable }

    /// Messages queued for the client and not yet handed to the transport.
    public var bufferedMessageCount: Int { session.bufferedMessageCount }

    /// Closes the session (protocol.md 4.1.8: `close` goes out after the queued packets, over
    /// polling with the next GET) and waits until it is closed: at most
    /// ``EngineIOServerConfiguration/closeTimeout`` when the client stopped polling.
    public func close() async {
        session.startClosing()
        _ = await session.waitUntilClosed()
    }

    /// Starts closing the session like ``close()``, without waiting for it to be closed.
    public func startClosing() {
        session.startClosing()
    }

    /// Waits until the session is closed, by either side, and returns why.
    @discardableResult
    public func waitUntilClosed() async -> EngineIOCloseReason {
        await session.waitUntilClosed()
    }

    /// Why the session closed, once it has.
    public var closeReason: EngineIOCloseReason? { session.closeReason }

    /// Whether the session is closed.
    public var isClosed: Bool { session.closeReason != nil }
}

/// The messages of an ``EngineIOSocket``, in the order the client sent them; ends when the
/// session closes.
public struct EngineIOSocketMessages: AsyncSequence, Sendable {
    public typealias Element = EngineIOMessage
    public typealias Failure = Never

    let session: ServerSession

    /// Creates the iterator (one per sequence).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(session: session)
    }

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let session: ServerSession
        /// Messages taken from the session together and not yet returned, in order.
        var batch: [EngineIOMessage] = []
        var batchIndex = 0

        init(session: ServerSession) {
            self.session = session
        }

        /// The next element, or nil once the sequence ended.
        public mutating func next() async -> EngineIOMessage? {
            if batchIndex == batch.count {
                guard let taken = await session.inbound.takeAll() else { return nil }
                batch = taken
                batchIndex = 0
            }
            let message = batch[batchIndex]
            batchIndex += 1
            // Taking a message makes room: the transport may read the client again.
            session.inboundTaken(message)
            return message
        }
    }
}

/// The outcome of ``EngineIOSocket/enqueue(_:volatile:bufferLimit:)``.
public enum EngineIOEnqueueResult: Hashable, Sendable {
    /// The messages are queued.
    case enqueued
    /// Volatile messages dropped: the transport could not write at once.
    case notWritable
    /// Dropped: the session's buffer limit would be exceeded.
    case bufferFull
    /// Dropped: the session is closing or closed.
    case closed
    /// Dropped: a text message contains U+001E and the session is on v4 long-polling, whose
    /// payloads use it as the separator (see ``EngineIOPollingFormat/canFrame(_:)``).
    case unframeable
}
