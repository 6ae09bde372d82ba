import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore
import Synchronization

/// An open WebSocket connection, on either side: an async sequence of incoming messages and
/// methods to send, ping and close.
///
/// Backpressure is real: when the application stops iterating ``messages``, Duplex stops reading
/// from the socket; when the peer stops reading, ``send(_:)`` waits. Protocol reactions (pongs,
/// close echoes, keepalive) never wait for the application.
///
/// Errors thrown by the library are always ``WebSocketError``.
public struct WebSocketConnection: Sendable {
    /// Which side of the connection this is.
    public let role: Role
    /// The subprotocol agreed in the handshake, if any.
    public let subprotocol: String?
    /// The `Sec-WebSocket-Extensions` value agreed in the handshake, if any.
    public let extensions: String?
    /// Server side: the client's upgrade request. Client side: the request that was sent.
    public let request: HTTPRequest
    /// Client side: the server's 101 response. Server side: the 101 response that was sent.
    public let response: HTTPResponse
    /// The peer's address, when known.
    public let remoteAddress: SocketAddress?
    /// A logger with this connection's metadata.
    public let logger: Logger

    let channel: any Channel
    /// The event loop of the connection's channel.
    public var eventLoop: any EventLoop { channel.eventLoop }
    let shared: ConnectionSharedState
    private let inbound: NIOAsyncChannelInboundStream<WebSocketMessage>
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketOutbound>
    private let iterationStarted = IterationFlag()

    init(
        role: Role,
        channel: any Channel,
        inbound: NIOAsyncChannelInboundStream<WebSocketMessage>,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketOutbound>,
        shared: ConnectionSharedState,
        request: HTTPRequest,
        response: HTTPResponse,
        subprotocol: String?,
        extensions: String?,
        logger: Logger
    ) {
        self.role = role
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
        self.shared = shared
        self.request = request
        self.response = response
        self.subprotocol = subprotocol
        self.extensions = extensions
        self.remoteAddress = channel.remoteAddress
        self.logger = logger
    }

    /// The incoming messages. Ends when the connection closes normally (both close frames
    /// exchanged with code 1000 or 1001); throws ``WebSocketError`` otherwise (`connectionClosed`
    /// with ``WebSocketError/closeInfo``, or the protocol error that failed the connection).
    /// Only one task may iterate it: a second iterator throws `concurrentReceive`.
    public var messages: WebSocketInboundMessages {
        WebSocketInboundMessages(stream: inbound, flag: iterationStarted, shared: shared)
    }

    /// Sends a message. Waits while the peer is slow to read (the channel is not writable).
    /// - Throws: ``WebSocketError`` `sendAfterClose` once the connection is closing.
    public func send(_ message: WebSocketMessage) async throws(WebSocketError) {
        try await write(.message(message), size: message.data.readableBytes)
    }

    /// Sends several messages in order, handing them to the event loop together: they leave in
    /// one flush (usually one `write` system call) instead of one each. Waits like ``send(_:)``.
    /// - Throws: ``WebSocketError`` `sendAfterClose` once the connection is closing; the
    ///   messages not yet written by then are not sent.
    public func send(contentsOf messages: some Collection<WebSocketMessage>) async throws(WebSocketError) {
        let size = messages.reduce(0) { $0 + $1.data.readableBytes }
        try await write(messages.lazy.map { WebSocketOutbound.message($0) }, size: size)
    }

    /// Sends a message at once if the connection can take it without waiting: it is open and
    /// the peer is reading (the channel is writable and less than NIO's default high write
    /// watermark is on its way). Returns false, sending nothing, otherwise; ``send(_:)`` then
    /// waits for room.
    ///
    /// On the connection's ``eventLoop`` the message is written and flushed before it returns;
    /// elsewhere it is handed to the loop in one job. For code that already runs on the loop and
    /// has no task to suspend (a server fanning one message out to many connections).
    public func trySend(_ message: WebSocketMessage) -> Bool {
        trySend(messages: CollectionOfOne(message))
    }

    /// Sends messages at once, in order and with one flush, if the connection can take them
    /// without waiting; returns false, sending none of them, otherwise. See ``trySend(_:)``.
    public func trySend(contentsOf messages: [WebSocketMessage]) -> Bool {
        trySend(messages: messages)
    }

    /// Both `trySend` variants: generic only inside this module, where it is specialized, so the
    /// per-recipient path of a broadcast pays no generic dispatch.
    private func trySend(messages: some Collection<WebSocketMessage> & Sendable) -> Bool {
        guard channel.isWritable, shared.queuedBytes <= ConnectionSharedState.maxQueuedBytes, shared.isOpen else {
            return false
        }
        _ = shared.enqueue(messages.reduce(0) { $0 + $1.data.readableBytes })
        let pipeline = channel.pipeline
        if pipeline.eventLoop.inEventLoop {
            Self.write(messages, to: pipeline)
        } else {
            pipeline.eventLoop.execute { Self.write(messages, to: pipeline) }
        }
        return true
    }

    /// Writes through the pipeline rather than `Channel.write`, whose generic default
    /// implementation cannot be specialized from here (it would box every message).
    private static func write(_ messages: some Collection<WebSocketMessage>, to pipeline: ChannelPipeline) {
        for message in messages { pipeline.write(WebSocketOutbound.message(message), promise: nil) }
        pipeline.flush()
    }

    /// Sends a text message.
    public func send(text: String) async throws(WebSocketError) {
        try await send(.text(text))
    }

    /// Sends a binary message.
    public func send(binary: some Sequence<UInt8>) async throws(WebSocketError) {
        try await send(.binary(binary))
    }

    /// Sends one fragment of a message being streamed out (RFC 6455 §5.4); the first call fixes
    /// the kind, and `isFinal: true` ends the message. Use it for messages too large to hold.
    public func sendFragment(_ data: ByteBuffer, kind: WebSocketMessage.Kind, isFinal: Bool) async throws(WebSocketError) {
        try await write(.fragment(kind, data, isFinal: isFinal), size: data.readableBytes)
    }

    /// Hands a message or fragment to the event loop. The async writer waits while the channel
    /// is not writable, but learns that only once the loop has run; when more than
    /// ``ConnectionSharedState/maxQueuedBytes`` are already on their way, wait for this write
    /// itself, so a slow peer bounds what is buffered whatever the scheduling.
    private func write(_ outboundMessage: WebSocketOutbound, size: Int) async throws(WebSocketError) {
        try await write(CollectionOfOne(outboundMessage), size: size)
    }

    /// Hands messages to the event loop with one flush (see ``write(_:size:)``).
    private func write(_ outboundMessages: some Collection<WebSocketOutbound>, size: Int) async throws(WebSocketError) {
        guard shared.isOpen else { throw closedError() }
        do {
            if shared.enqueue(size) > ConnectionSharedState.maxQueuedBytes {
                // Past the bound: wait for the last write itself (the channel keeps the order).
                var remaining = outboundMessages.count
                for outboundMessage in outboundMessages {
                    remaining -= 1
                    if remaining > 0 {
                        channel.write(outboundMessage, promise: nil)
                    } else {
                        try await channel.writeAndFlush(outboundMessage).get()
                    }
                }
            } else if outboundMessages.count == 1, let outboundMessage = outboundMessages.first {
                try await outbound.write(outboundMessage)
            } else {
                try await outbound.write(contentsOf: outboundMessages)
            }
        } catch let error as WebSocketError where shared.isOpen {
            throw error  // a usage error from the state machine (a fragmented message is unfinished)
        } catch {
            throw closedError(cause: error)
        }
    }

    /// Sends `message` as fragments of at most `fragmentSize` bytes each.
    public func send(_ message: WebSocketMessage, fragmentSize: Int) async throws(WebSocketError) {
        precondition(fragmentSize > 0, "fragmentSize must be positive")
        var data = message.data
        repeat {
            let chunk = data.readSlice(length: min(fragmentSize, data.readableBytes)) ?? ByteBuffer()
            try await sendFragment(chunk, kind: message.kind, isFinal: data.readableBytes == 0)
        } while data.readableBytes > 0
    }

    /// Sends a ping and waits for its pong; returns the round-trip time.
    public func ping(_ payload: [UInt8] = []) async throws(WebSocketError) -> Duration {
        guard shared.isOpen else { throw closedError() }
        var data = ByteBuffer(bytes: payload)
        if payload.isEmpty {
            data = ByteBuffer()
            data.writeInteger(UInt32.random(in: 0...UInt32.max))
        }
        let start = ContinuousClock.now
        do {
            try await channel.writeAndFlush(WebSocketOutbound.ping(data)).get()
        } catch let error as WebSocketError {
            throw error
        } catch {
            throw closedError(cause: error)
        }
        return ContinuousClock.now - start
    }

    /// Starts the closing handshake (RFC 6455 §7.1.2) and waits until the connection is closed.
    /// Closing an already closing connection waits for it to finish and does not throw.
    public func close(code: CloseCode = .normalClosure, reason: String = "") async throws(WebSocketError) {
        if shared.isOpen {
            do {
                try await channel.writeAndFlush(WebSocketOutbound.close(code, reason: reason)).get()
            } catch let error as WebSocketError where error.code == .invalidCloseCode {
                throw error
            } catch {
                // Already closing: fall through and wait.
            }
        }
        try? await channel.closeFuture.get()
    }

    /// The close frames exchanged, once the connection is closed.
    public var closeInfo: CloseInfo? { shared.closeInfo }

    /// The round-trip time of the last keepalive ping, once one was answered.
    public var latency: Duration? { shared.latency }

    /// An identity for this connection, stable for its lifetime (for dictionaries of members).
    public var id: ObjectIdentifier { ObjectIdentifier(channel) }

    /// Whether messages can still be sent.
    public var isOpen: Bool { shared.isOpen }

    private func closedError(cause: (any Error)? = nil) -> WebSocketError {
        if let error = shared.error, error.code != .connectionClosed {
            return WebSocketError(.sendAfterClose, "the connection failed: \(error.message)", cause: error, closeInfo: error.closeInfo)
        }
        return WebSocketError(.sendAfterClose, "the connection is closing or closed", cause: cause, closeInfo: shared.closeInfo)
    }
}

/// Guards against two iterators over one connection's messages.
final class IterationFlag: Sendable {
    private let started = Atomic<Bool>(false)
    /// Returns true the first time only.
    func claim() -> Bool { started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged }
}

/// The incoming messages of a ``WebSocketConnection``.
public struct WebSocketInboundMessages: AsyncSequence, Sendable {
    public typealias Element = WebSocketMessage
    public typealias Failure = WebSocketError

    let stream: NIOAsyncChannelInboundStream<WebSocketMessage>
    let flag: IterationFlag
    let shared: ConnectionSharedState

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: flag.claim() ? stream.makeAsyncIterator() : nil, shared: shared)
    }

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: NIOAsyncChannelInboundStream<WebSocketMessage>.AsyncIterator?
        let shared: ConnectionSharedState

        public mutating func next() async throws(WebSocketError) -> WebSocketMessage? {
            guard base != nil else {
                throw WebSocketError(.concurrentReceive, "the messages of a connection can be iterated by one task only")
            }
            do {
                return try await base?.next()
            } catch let error as WebSocketError {
                throw error
            } catch is CancellationError {
                throw WebSocketError(.cancelled, "receiving was cancelled", cause: CancellationError())
            } catch {
                throw shared.error ?? WebSocketError(.connectionClosed, "the connection failed", cause: error, closeInfo: shared.closeInfo)
            }
        }
    }
}
