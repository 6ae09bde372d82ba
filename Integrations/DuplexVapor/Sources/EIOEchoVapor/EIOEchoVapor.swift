// eio-echo-vapor: an Engine.IO echo server mounted in a Vapor 4 application, for the interop suite
// and as an example. Prints 'listening on http://HOST:PORT' once ready; exits on SIGINT/SIGTERM.
import DuplexEngineIO
import DuplexIntegrationTesting
import DuplexVapor
import Logging
import UnixSignals
import Vapor

@main
enum EIOEchoVapor {
    static func main() async throws {
        let commandLine = EchoAppCommandLine.parse(CommandLine.arguments.dropFirst(), tool: "eio-echo-vapor")
        let (host, port, path) = (commandLine.host, commandLine.port, commandLine.path)

        let logger = Logger(label: "eio-echo-vapor")
        let engine = try EngineIOServer(configuration: EngineIOServerConfiguration(cors: .allowAll()), logger: logger)
        // Vapor must not parse our command line.
        let app = try await Application.make(Environment(name: "production", arguments: ["eio-echo-vapor"]))
        app.logger = logger
        app.engineIO(engine, at: path.pathComponents)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await app.server.start(address: .hostname(host, port: port))
        commandLine.announceListening(port: app.http.server.shared.localAddress?.port)
        await withDiscardingTaskGroup { group in
            group.addTask { await EngineIOEcho.serve(engine) }
            for await _ in signals { break }
            // The engine first: open WebSockets and held polls end, then the server stops.
            await engine.shutdown()
        }
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}
