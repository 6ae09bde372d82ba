import DuplexWebSocket
import DuplexWebSocketCore
import Logging
import NIOCore

/// A ``WebSocketServer`` listening on a free loopback port for the duration of a test.
struct RunningServer: Sendable {
    let server: WebSocketServer
    let port: Int

    /// `ws://127.0.0.1:<port><path>` (or `wss://` when `secure`).
    func url(_ path: String = "/", secure: Bool = false) -> String {
        "\(secure ? "wss" : "ws")://127.0.0.1:\(port)\(path)"
    }
}

extension WebSocketServerConfiguration {
    /// Port 0 on 127.0.0.1, a short grace period so a failing test cannot stall shutdown, and no
    /// keepalive pings (the tests that need them enable them).
    static func test(
        compression: PerMessageDeflateConfiguration? = .default,
        configure: (inout WebSocketServerConfiguration) -> Void = { _ in }
    ) -> WebSocketServerConfiguration {
        var configuration = WebSocketServerConfiguration(
            host: "127.0.0.1",
            port: 0,
            keepAlive: .disabled,
            compression: compression,
            shutdownGracePeriod: .seconds(2)
        )
        configure(&configuration)
        return configuration
    }
}

extension WebSocketClientConfiguration {
    /// Client defaults for tests: no keepalive pings, and an open timeout generous enough for a
    /// busy machine (the tests of the timeout set their own).
    static func test(configure: (inout WebSocketClientConfiguration) -> Void = { _ in }) -> WebSocketClientConfiguration {
        var configuration = WebSocketClientConfiguration(openTimeout: .seconds(20), closeTimeout: .seconds(5), keepAlive: .disabled)
        configure(&configuration)
        return configuration
    }
}

/// Runs a server in a child task while `body` runs, then shuts it down gracefully and waits
/// until ``WebSocketServer/run()`` has returned.
func withServer<T: Sendable>(
    _ configuration: WebSocketServerConfiguration = .test(),
    router: WebSocketRouter,
    _ body: (RunningServer) async throws -> T
) async throws -> T {
    let server = WebSocketServer(configuration: configuration, router: router, logger: .test)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let port: Int
        do {
            port = try await server.waitUntilListening().port ?? 0
        } catch {
            group.cancelAll()
            throw error
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(RunningServer(server: server, port: port)))
        } catch {
            result = .failure(error)
        }
        server.shutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

/// A router with an echo endpoint at `/echo`.
func echoRouter() -> WebSocketRouter {
    var router = WebSocketRouter()
    router.webSocket("/echo") { connection in
        for try await message in connection.messages {
            try await connection.send(message)
        }
    }
    return router
}

/// The failure of a `connect` call, which must be a ``WebSocketError``.
func connectError(
    to url: String,
    configuration: WebSocketClientConfiguration = .test()
) async -> (any Error)? {
    do {
        try await WebSocketConnection.connect(to: url, configuration: configuration, logger: .test) { _ in }
        return nil
    } catch {
        return error
    }
}

/// A free TCP port on 127.0.0.1 with nothing listening on it (bound, then released), for tests
/// that stop and start servers on one port. It is below Linux's ephemeral range (32768-60999),
/// so the kernel does not hand it to another test's socket in the meantime.
func unusedPort() async throws -> Int {
    for _ in 0..<100 {
        let candidate = Int.random(in: 20_000..<32_768)
        if let port = try? await RawServer.withServer(port: candidate, handler: { _ in }, { $0.port }) { return port }
    }
    return try await RawServer.withServer(handler: { _ in }) { $0.port }
}
