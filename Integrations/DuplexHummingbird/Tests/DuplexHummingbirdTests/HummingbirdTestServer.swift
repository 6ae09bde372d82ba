import DuplexEngineIO
import DuplexHummingbird
import DuplexIntegrationTesting
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// A Hummingbird application on 127.0.0.1:0 serving ``EngineIOEcho`` at `path`, for the length
/// of `body`.
enum HummingbirdTestServer {
    static let logger = Logger(label: "duplex.hummingbird.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func run(
        path: String,
        configuration: EngineIOServerConfiguration = EngineIOServerConfiguration(),
        _ body: @Sendable (_ port: Int, _ engine: EngineIOServer) async throws -> Void
    ) async throws {
        let engine = try EngineIOServer(configuration: configuration, logger: logger)
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.engineIO(engine, path: RouterPath(path))
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(ws: .engineIO(engine.configuration))),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let services = ServiceGroup(configuration: .init(services: [app, engine], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            group.addTask { await EngineIOEcho.serve(engine) }
            var result: Result<Void, any Error> = .success(())
            var iterator = ports.makeAsyncIterator()
            if let port = await iterator.next(), port > 0 {
                do { try await body(port, engine) } catch { result = .failure(error) }
            } else {
                result = .failure(DeploymentCheckError("the Hummingbird application did not start"))
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            try result.get()
        }
    }
}

struct DeploymentCheckError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
