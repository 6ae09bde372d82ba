// eio-echo-hummingbird: an Engine.IO echo server mounted in a Hummingbird 2 application, for the
// interop suite and as an example. Prints 'listening on http://HOST:PORT' once ready; exits on
// SIGINT/SIGTERM.
import DuplexEngineIO
import DuplexHummingbird
import DuplexIntegrationTesting
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import UnixSignals

@main
enum EIOEchoHummingbird {
    static func main() async throws {
        let commandLine = EchoAppCommandLine.parse(CommandLine.arguments.dropFirst(), tool: "eio-echo-hummingbird")
        let (host, port, path) = (commandLine.host, commandLine.port, commandLine.path)

        let logger = Logger(label: "eio-echo-hummingbird")
        let engine = try EngineIOServer(configuration: EngineIOServerConfiguration(cors: .allowAll()), logger: logger)
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.engineIO(engine, path: RouterPath(path))
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(ws: .engineIO(engine.configuration))),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                commandLine.announceListening(port: channel.localAddress?.port)
            },
            logger: logger
        )
        // The engine after the application: it shuts down first, ending open WebSockets and held polls.
        let services = ServiceGroup(
            configuration: .init(services: [app, engine], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await EngineIOEcho.serve(engine) }
            try await services.run()
        }
    }
}
