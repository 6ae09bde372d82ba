import DuplexWebSocketCore
import HTTPTypes

/// Routes requests by path: WebSocket endpoints and plain HTTP endpoints.
public struct WebSocketRouter: Sendable {
    /// Decides whether to accept an upgrade; runs before the 101 response is sent.
    public typealias UpgradeHook = @Sendable (WebSocketUpgradeRequest) async -> WebSocketUpgradeDecision
    /// Serves an accepted connection; the connection is closed (1000) when it returns. It runs in
    /// a task that prefers the connection's event loop (``EventLoopTaskExecutor``), so a message
    /// reaches it without a thread hop: blocking calls in it hold up that loop's other
    /// connections, run them elsewhere.
    public typealias ConnectionHandler = @Sendable (WebSocketConnection) async throws -> Void
    /// Handles one message on the connection's event loop (no task per connection).
    public typealias MessageHandler = @Sendable (WebSocketMessage, WebSocketLoopConnection) -> Void
    /// Serves a plain HTTP request.
    public typealias HTTPResponder = @Sendable (HTTPServerRequest) async throws -> HTTPServerResponse

    struct WebSocketRoute: Sendable {
        var shouldUpgrade: UpgradeHook
        var handler: ConnectionHandler
        /// When set, messages are handled on the event loop and `handler` is not used.
        var onMessage: MessageHandler?
    }

    private var webSocketRoutes: [String: WebSocketRoute] = [:]
    private var anyPathWebSocket: WebSocketRoute?
    private var httpRoutes: [String: HTTPResponder] = [:]
    private var anyPathHTTP: HTTPResponder?

    /// An empty router: every request gets 404.
    public init() {}

    /// Serves WebSocket connections at `path` (exact match, without query; `*` matches any path).
    public mutating func webSocket(
        _ path: String,
        shouldUpgrade: @escaping UpgradeHook = { _ in .accept },
        handler: @escaping ConnectionHandler
    ) {
        let route = WebSocketRoute(shouldUpgrade: shouldUpgrade, handler: handler)
        if path == "*" { anyPathWebSocket = route } else { webSocketRoutes[path] = route }
    }

    /// Serves WebSocket connections at `path` with a handler that runs on the connection's event
    /// loop for each message: no task per connection, no thread hop per message. For echo, relay
    /// and fan-out servers; see ``WebSocketLoopConnection``.
    public mutating func webSocket(
        _ path: String,
        shouldUpgrade: @escaping UpgradeHook = { _ in .accept },
        onMessage: @escaping MessageHandler
    ) {
        let route = WebSocketRoute(shouldUpgrade: shouldUpgrade, handler: { _ in }, onMessage: onMessage)
        if path == "*" { anyPathWebSocket = route } else { webSocketRoutes[path] = route }
    }

    /// Serves plain HTTP requests at `path` (exact match; `*` matches any path).
    public mutating func http(_ path: String, responder: @escaping HTTPResponder) {
        if path == "*" { anyPathHTTP = responder } else { httpRoutes[path] = responder }
    }

    func webSocketRoute(for path: Substring) -> WebSocketRoute? {
        webSocketRoutes[String(path)] ?? anyPathWebSocket
    }

    func httpResponder(for path: Substring) -> HTTPResponder? {
        httpRoutes[String(path)] ?? anyPathHTTP
    }
}
