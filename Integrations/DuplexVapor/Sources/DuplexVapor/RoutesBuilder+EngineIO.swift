import DuplexEngineIO
import HTTPTypes
import NIOCore
import Vapor

extension RoutesBuilder {
    /// Serves Engine.IO (and so Socket.IO, whose server mounts its Engine.IO server at
    /// `/socket.io/`) at `path`: long-polling GET and POST, CORS preflight, and WebSocket upgrades.
    ///
    /// Vapor only routes: every request goes to the framework-neutral ``EngineIOServer``
    /// (``EngineIOServer/handle(head:body:remoteAddress:)``, then
    /// ``EngineIOServer/validateUpgrade(head:remoteAddress:)`` before the 101 and
    /// ``EngineIOServer/accept(_:request:remoteAddress:)``), so a mounted server behaves exactly
    /// as the standalone one, refusals included (status and `{"code":N,"message":"…"}` body).
    ///
    /// ```swift
    /// app.engineIO(engine)                                   // /engine.io/
    /// app.grouped("api", "realtime").engineIO(engine)        // /api/realtime/engine.io/
    /// app.engineIO(engine, at: "/socket.io/".pathComponents)
    /// ```
    ///
    /// Bodies are streamed and read up to ``EngineIOServerConfiguration/maxHttpBufferSize``, so
    /// Vapor's `maxBodySize` does not apply; WebSocket messages are accepted up to a little above
    /// it (Engine.IO enforces the exact limit). The peer's address is the socket's
    /// (`Request.remoteAddress`): forwarding headers are not trusted.
    @discardableResult
    public func engineIO(_ engine: EngineIOServer, at path: [PathComponent]) -> [Route] {
        let maxFrameSize = WebSocketMaxFrameSize(integerLiteral: engine.configuration.maxHttpBufferSize + 64 * 1024)
        let get = on(.GET, path, body: .stream) { request async throws -> Response in
            guard let head = HTTPRequest(request) else {
                return Response(status: .badRequest)
            }
            guard head.isWebSocketUpgrade else {
                return try await VaporEngineIORoute.respond(engine, head, request)
            }
            // Engine.IO decides before the 101; a refusal is an ordinary response.
            if let refusal = await engine.validateUpgrade(head: head, remoteAddress: request.remoteAddress) {
                return Response(refusal)
            }
            return request.webSocket(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: { request in request.eventLoop.makeSucceededFuture([:]) },
                onUpgrade: { (request: Request, webSocket: WebSocket) in
                    // Synchronously, before websocket-kit delivers the first message (`2probe` may
                    // follow the 101 at once): a callback set later would miss it.
                    let adapted = VaporEngineIOWebSocket(webSocket)
                    Task { await engine.accept(adapted, request: head, remoteAddress: request.remoteAddress) }
                }
            )
        }
        let others = [HTTPMethod.POST, .OPTIONS].map { method in
            on(method, path, body: .stream) { request async throws -> Response in
                guard let head = HTTPRequest(request) else { return Response(status: .badRequest) }
                return try await VaporEngineIORoute.respond(engine, head, request)
            }
        }
        return [get] + others
    }

    /// Serves Engine.IO at `path`, by default `engine.io` (see the variant taking an array).
    @discardableResult
    public func engineIO(_ engine: EngineIOServer, at path: PathComponent...) -> [Route] {
        engineIO(engine, at: path.isEmpty ? ["engine.io"] : path)
    }
}

/// The HTTP side of the routes: translation only.
enum VaporEngineIORoute {
    static func respond(_ engine: EngineIOServer, _ head: HTTPRequest, _ request: Request) async throws -> Response {
        let body = try await engine.collectRequestBody(request.body)
        return Response(await engine.handle(head: head, body: body, remoteAddress: request.remoteAddress))
    }
}
