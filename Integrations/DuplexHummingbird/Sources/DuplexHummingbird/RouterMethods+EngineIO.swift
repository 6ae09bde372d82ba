import DuplexEngineIO
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore

extension RouterMethods where Context: WebSocketRequestContext {
    /// Serves Engine.IO (and so Socket.IO, whose server mounts its Engine.IO server at
    /// `/socket.io/`) at `path`: long-polling GET and POST, CORS preflight, and WebSocket upgrades.
    ///
    /// Hummingbird only routes: every request goes to the framework-neutral ``EngineIOServer``
    /// (``EngineIOServer/handle(head:body:remoteAddress:)``, then
    /// ``EngineIOServer/validateUpgrade(head:remoteAddress:)`` and
    /// ``EngineIOServer/accept(_:request:remoteAddress:)`` for WebSockets), so a mounted server
    /// behaves exactly as the standalone one. Use the router both as the application's router and
    /// as the WebSocket router, with ``HummingbirdWebSocket/WebSocketServerConfiguration/engineIO(_:)``:
    ///
    /// ```swift
    /// let router = Router(context: BasicWebSocketRequestContext.self)
    /// router.engineIO(engine, path: "/engine.io/")
    /// let app = Application(
    ///     router: router,
    ///     server: .http1WebSocketUpgrade(
    ///         webSocketRouter: router,
    ///         configuration: .init(ws: .engineIO(engine.configuration))
    ///     )
    /// )
    /// ```
    ///
    /// With a separate WebSocket router, call this on the WebSocket router and
    /// ``RouterMethods/engineIOPolling(_:path:)`` on the HTTP one. Hummingbird answers a refused
    /// upgrade with a bare 400 whatever the Engine.IO error (its upgrade negotiation has no
    /// response body), and ignores trailing slashes, so `/engine.io` and `/engine.io/` both work.
    /// The peer's address reaches the application when `Context` is a
    /// `RemoteAddressRequestContext`.
    @discardableResult
    public func engineIO(_ engine: EngineIOServer, path: RouterPath = "/engine.io/") -> Self {
        let maxMessageSize = HummingbirdEngineIOWebSocket.maxMessageSize(engine.configuration)
        let upgrade = WebSocketUpgradeMiddleware<Context>(
            // The request was validated just before; see below.
            shouldUpgrade: { _, _ in .upgrade([:]) },
            onUpgrade: { inbound, outbound, context in
                await engine.accept(
                    HummingbirdEngineIOWebSocket(inbound: inbound, outbound: outbound, maxMessageSize: maxMessageSize),
                    request: context.request.head,
                    remoteAddress: (context.requestContext as? any RemoteAddressRequestContext)?.remoteAddress
                )
            }
        )
        on(path, method: .get) { request, context -> Response in
            // Hummingbird asks the router whether to upgrade (before the 101, with an empty body):
            // Engine.IO decides, and only an accepted request reaches the upgrade middleware.
            guard request.head.isWebSocketUpgrade else {
                return try await EngineIOHummingbirdRoute.respond(engine, request, context)
            }
            let remoteAddress = (context as? any RemoteAddressRequestContext)?.remoteAddress
            if let refusal = await engine.validateUpgrade(head: request.head, remoteAddress: remoteAddress) {
                return Response(refusal)
            }
            return try await upgrade.handle(request, context: context) { _, _ in Response(status: .internalServerError) }
        }
        return addEngineIOPollingRoutes(engine, path: path, methods: [.post, .options])
    }
}

extension RouterMethods {
    /// Serves Engine.IO long-polling (GET, POST, CORS preflight) at `path`, for an HTTP router
    /// whose WebSocket router is a separate one (where ``RouterMethods/engineIO(_:path:)`` mounts
    /// the WebSocket side). A session then starts on polling and upgrades through the other router.
    @discardableResult
    public func engineIOPolling(_ engine: EngineIOServer, path: RouterPath = "/engine.io/") -> Self {
        addEngineIOPollingRoutes(engine, path: path, methods: [.get, .post, .options])
    }

    fileprivate func addEngineIOPollingRoutes(_ engine: EngineIOServer, path: RouterPath, methods: [HTTPRequest.Method]) -> Self {
        for method in methods {
            on(path, method: method) { request, context in
                try await EngineIOHummingbirdRoute.respond(engine, request, context)
            }
        }
        return self
    }
}

/// The HTTP side of the routes: translation only.
enum EngineIOHummingbirdRoute {
    static func respond<Context: RequestContext>(_ engine: EngineIOServer, _ request: Request, _ context: Context) async throws -> Response {
        let body = try await engine.collectRequestBody(request.body)
        let remoteAddress = (context as? any RemoteAddressRequestContext)?.remoteAddress
        return Response(await engine.handle(head: request.head, body: body, remoteAddress: remoteAddress))
    }
}
