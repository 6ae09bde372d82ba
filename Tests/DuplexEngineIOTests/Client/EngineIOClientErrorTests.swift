import DuplexEngineIO
import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import Testing

/// DESIGN.md "Errors": which code each client-side opening failure produces.
@Suite("EngineIOClient error contract", .timeLimit(.minutes(1)))
struct EngineIOClientErrorTests {
    /// A port nobody listens on: bind one, then close it.
    private static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port ?? 1
        try await channel.close()
        return port
    }

    private static func openingError(
        _ url: String,
        configuration: EngineIOClientConfiguration = EngineIOClientConfiguration()
    ) async -> EngineIOError? {
        do {
            try await EngineIOClient.connect(to: url, configuration: configuration) { _ in }
            return nil
        } catch {
            return error as? EngineIOError
        }
    }

    @Test("connection refused: connectionFailed (retryable), with the I/O error as cause", arguments: [false, true])
    func refused(overWebSocket: Bool) async throws {
        let url = "http://127.0.0.1:\(try await Self.closedPort())/engine.io/"
        let configuration = EngineIOClientConfiguration(transports: overWebSocket ? [.websocket] : [.polling])
        let error = try #require(await Self.openingError(url, configuration: configuration))
        #expect(error.code == .connectionFailed)
        #expect(error.isRetryable)
        #expect(error.cause != nil)
        if overWebSocket { #expect(error.underlyingError(as: WebSocketError.self) != nil) }
    }

    @Test("4.1.1 the polling handshake is answered 400 with a JSON error: handshakeRejected with the wire code")
    func pollingHandshakeRejected() async throws {
        var script = FakeEngineIOServer.Script()
        script.handshakeRejection = (400, #"{"code":5,"message":"Unsupported protocol version"}"#)
        try await FakeEngineIOServer.with(script) { _, url in
            let error = try #require(await Self.openingError(url))
            #expect(error.code == .handshakeRejected)
            #expect(error.response?.status == 400)
            #expect(error.wireCode == 5)
            #expect(!error.isRetryable)
        }
    }

    @Test("a WebSocket-only handshake answered 403: handshakeRejected, with the WebSocketError as cause")
    func webSocketHandshakeRejected() async throws {
        try await FakeEngineIOServer.with { _, url in
            // The fake server refuses WebSocket requests without EIO=4 and transport=websocket:
            // point the client at a path the WebSocket route does not serve.
            let wrongPath = url.replacing("/engine.io/", with: "/elsewhere/")
            let error = try #require(
                await Self.openingError(wrongPath, configuration: .init(transports: [.websocket]))
            )
            #expect(error.code == .handshakeRejected)
            #expect(error.response?.status == 404)
            #expect(error.underlyingError(as: WebSocketError.self)?.code == .handshakeRejected)
        }
    }

    @Test("a server that is not Engine.IO v4: invalidPayload or invalidPacket, not retryable")
    func notEngineIO() async throws {
        var router = WebSocketRouter()
        router.http("/engine.io/") { _ in HTTPServerResponse(status: .ok, text: "hello") }
        let server = WebSocketServer(
            configuration: .init(port: 0, shutdownGracePeriod: .seconds(1)),
            router: router,
            logger: .init(label: "plain", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.waitUntilListening().port ?? 0
            let error = try #require(await Self.openingError("http://127.0.0.1:\(port)/engine.io/"))
            #expect(error.code == .invalidPacket || error.code == .invalidPayload)
            #expect(!error.isRetryable)
            server.shutdown()
            try await group.waitForAll()
        }
    }

    @Test(
        "an invalid URL or configuration: invalidConfiguration before any I/O",
        arguments: [
            "ftp://example.com/", "http://", "http://host:99999/",
        ])
    func invalidURL(_ url: String) async {
        let error = await Self.openingError(url)
        #expect(error?.code == .invalidConfiguration)
    }

    @Test("reserved query names are refused")
    func reservedQuery() async {
        let configuration = EngineIOClientConfiguration(query: [("sid", "x")])
        let error = await Self.openingError("http://127.0.0.1:1/", configuration: configuration)
        #expect(error?.code == .invalidConfiguration)
    }

    @Test("cancelling the task while opening: cancelled")
    func cancelledWhileOpening() async throws {
        // A listener that accepts and never answers: the handshake GET hangs.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port ?? 0
        let task = Task { await Self.openingError("http://127.0.0.1:\(port)/engine.io/") }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let error = await task.value
        #expect(error?.code == .cancelled)
        try await channel.close()
    }
}
