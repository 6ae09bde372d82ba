import DuplexEngineIOCore
import DuplexWebSocketCore
import NIOCore

/// A WebSocket that some HTTP server (a web framework, a proxy, a test double) has already
/// upgraded, as ``EngineIOServer/accept(_:request:remoteAddress:)`` serves it.
///
/// Framework integrations adapt their framework's WebSocket to this protocol, so that every
/// deployment mode runs the same Engine.IO code (DESIGN.md, "Framework integrations only
/// translate"). One Engine.IO packet travels per WebSocket message (protocol.md 4.1.5).
///
/// The server iterates ``inbound`` from one task and calls ``send(_:)`` and
/// ``close(code:reason:)`` from another.
public protocol EngineIOServerWebSocket: Sendable {
    /// The incoming messages, in order.
    associatedtype Inbound: AsyncSequence<EngineIOWebSocketFrame, any Error>

    /// The messages the peer sends, iterated once. It ends when the WebSocket closes normally
    /// and throws when it fails; a thrown `WebSocketError` of category `closed` counts as a
    /// normal close, anything else as a transport error (engine.io "transport error").
    var inbound: Inbound { get }

    /// Sends one message, waiting while the peer is slow to read when the framework allows it.
    /// Throws once the WebSocket can no longer send.
    func send(_ frame: EngineIOWebSocketFrame) async throws

    /// Sends several messages in order, like ``send(_:)`` for each. Implement it when the
    /// framework can write them with one flush: the server hands over everything a session
    /// queued while the previous send was in progress. Default: ``send(_:)`` for each.
    func send(contentsOf frames: [EngineIOWebSocketFrame]) async throws

    /// Whether ``trySend(contentsOf:)`` can write; the server then writes from ``eventLoop``
    /// without a task while the peer reads. Default false.
    var supportsTrySend: Bool { get }

    /// Writes messages at once, in order, if the WebSocket can take them without waiting (it is
    /// open and the peer is reading); returns false, writing nothing, otherwise (the server then
    /// calls ``send(contentsOf:)`` from its writer task). Called on ``eventLoop``, and only when
    /// ``supportsTrySend`` is true. Default: false.
    func trySend(contentsOf frames: [EngineIOWebSocketFrame]) -> Bool

    /// Starts the closing handshake (RFC 6455 §7.1.2) with `code`. Closing a WebSocket that is
    /// already closing or closed must not throw; the server ignores errors.
    func close(code: CloseCode, reason: String) async throws

    /// The event loop of the WebSocket's channel, when known. The session's timers and the
    /// application's tasks for it run there, so a message read by the channel reaches them
    /// without waking another thread. Default nil: a loop of the server's group.
    var eventLoop: (any EventLoop)? { get }
}

extension EngineIOServerWebSocket {
    public var eventLoop: (any EventLoop)? { nil }

    public func send(contentsOf frames: [EngineIOWebSocketFrame]) async throws {
        for frame in frames { try await send(frame) }
    }

    public var supportsTrySend: Bool { false }

    public func trySend(contentsOf frames: [EngineIOWebSocketFrame]) -> Bool { false }
}
