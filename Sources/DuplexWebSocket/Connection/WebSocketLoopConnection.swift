import DuplexWebSocketCore
import NIOCore

/// A WebSocket connection as its event loop sees it, handed to a route's `onMessage` handler.
///
/// This is the low-overhead path for servers that react to each message at once (echo, relay,
/// fan-out): no task and no async sequence per connection, so no thread hop per message and less
/// memory per idle connection. Use it only from the event loop, inside the handler or in work
/// scheduled on ``eventLoop``. When the peer stops reading, Duplex stops reading from it too, so
/// replies cannot pile up without bound.
public struct WebSocketLoopConnection {
    let handler: WebSocketConnectionHandler
    let context: ChannelHandlerContext

    /// The connection's event loop.
    public var eventLoop: any EventLoop { context.eventLoop }

    /// An identity for this connection, stable for its lifetime.
    public var id: ObjectIdentifier { ObjectIdentifier(context.channel) }

    /// Sends a message.
    /// - Throws: ``WebSocketError`` `sendAfterClose` once the connection is closing.
    public func send(_ message: WebSocketMessage) throws(WebSocketError) {
        try handler.sendFromLoop(.message(message), context: context)
    }

    /// Starts the closing handshake (RFC 6455 §7.1.2).
    public func close(code: CloseCode = .normalClosure, reason: String = "") throws(WebSocketError) {
        try handler.sendFromLoop(.close(code, reason: reason), context: context)
    }
}
