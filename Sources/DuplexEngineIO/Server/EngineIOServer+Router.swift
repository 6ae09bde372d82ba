import DuplexWebSocket

extension EngineIOServer {
    /// Serves Engine.IO at `path` on a ``WebSocketRouter``: HTTP requests go to
    /// ``handle(_:)``, WebSocket requests through ``shouldUpgrade(_:)`` to ``accept(_:request:)``.
    /// Both `path` and its variant without (or with) the trailing slash are registered (ref impl
    /// `addTrailingSlash`).
    ///
    /// Give the ``WebSocketServer`` a `maxRequestBodySize` of at least
    /// ``EngineIOServerConfiguration/maxHttpBufferSize``, and disable its keepalive pings if you
    /// like: Engine.IO has its own heartbeat.
    public func mount(on router: inout WebSocketRouter, path: String = "/engine.io/") {
        var paths = [path]
        if path.count > 1 {
            paths.append(path.hasSuffix("/") ? String(path.dropLast()) : path + "/")
        }
        for path in paths {
            router.http(path) { request in await self.handle(request) }
            router.webSocket(path, shouldUpgrade: { request in await self.shouldUpgrade(request) }) { connection in
                await self.accept(connection)
            }
        }
    }
}
