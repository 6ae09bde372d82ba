import DuplexEngineIOCore
import NIOCore

/// An open client-side Engine.IO session: the messages the server sends, and methods to send
/// and close. Given to the body of ``EngineIOClient/connect(to:configuration:eventLoopGroup:logger:_:)``.
///
/// Protocol reactions (pongs, the upgrade, the close handshake) never wait for the
/// application. Backpressure is real: when the application stops iterating ``messages``, the
/// client stops polling or reading the WebSocket; when messages pile up faster than the
/// server takes them, ``send(_:)`` waits.
public struct EngineIOClientSocket: Sendable {
    /// The session id the server assigned (the handshake's `sid`).
    public let id: String
    /// The server's handshake.
    public let handshake: EngineIOHandshake
    /// The incoming messages; see ``EngineIOClientMessages`` for how it ends.
    public let messages: EngineIOClientMessages
    private let state: ClientSocketState
    private let events: AsyncStream<ClientDriverEvent>.Continuation
    private let finished: ClientOneShot<Void>

    init(
        handshake: EngineIOHandshake,
        messages: EngineIOClientMessages,
        state: ClientSocketState,
        events: AsyncStream<ClientDriverEvent>.Continuation,
        finished: ClientOneShot<Void>
    ) {
        self.id = handshake.sid
        self.handshake = handshake
        self.messages = messages
        self.state = state
        self.events = events
        self.finished = finished
    }

    /// The transport carrying the session now: `.polling` until an upgrade completes.
    public var transport: EngineIOTransport { state.transport }

    /// The current transport, then every change (an upgrade to `.websocket`); ends when the
    /// session closes. Each call returns a new, independent stream.
    public var transportUpdates: AsyncStream<EngineIOTransport> { state.transportUpdates() }

    /// Sends a message. Returns once the session has taken it: messages go out in order,
    /// batched into POSTs over polling, one per WebSocket message over WebSocket.
    ///
    /// - Throws: ``EngineIOError/Code/sessionClosed`` once the session is closing or closed.
    public func send(_ data: EngineIOPacketData) async throws(EngineIOError) {
        let result = await withCheckedContinuation { continuation in
            if let id = state.registerSend(continuation) { events.yield(.send(data, id: id)) }
        }
        try result.get()
    }

    /// Sends a text message.
    public func send(text: String) async throws(EngineIOError) {
        try await send(.text(text))
    }

    /// Sends a binary message.
    public func send(binary: ByteBuffer) async throws(EngineIOError) {
        try await send(.binary(binary))
    }

    /// Sends a binary message.
    public func send(binary: some Sequence<UInt8>) async throws(EngineIOError) {
        try await send(.binary(ByteBuffer(bytes: binary)))
    }

    /// Closes the session (protocol.md 4.1.8): the messages sent so far go out, then `close`,
    /// and the transports are released. Returns when the session is over; closing a closed
    /// session returns at once.
    public func close() async {
        events.yield(.close)
        await finished.value
    }

    /// Whether the session is over (closed by either side, or failed).
    public var isClosed: Bool { state.isFinished }
}
