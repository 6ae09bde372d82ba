// eio-echo-hummingbird: an Engine.IO echo server mounted in a Hummingbird 2 application, for the
// interop suite and as an example. Prints 'listening on http://HOST:PORT' once ready; exits on
// SIGINT/SIGTERM.
import DuplexEngineIO
import DuplexHummingbird
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import UnixSignals

import Foundation

@main
enum EIOEchoHummingbird {
    static let usage = "usage: eio-echo-hummingbird [--host 127.0.0.1] [--port 5000] [--path /engine.io/]"

    static func main() async throws {
        var options = ["--host": "127.0.0.1", "--port": "5000", "--path": "/engine.io/"]
        var arguments = CommandLine.arguments.dropFirst()
        while let name = arguments.popFirst() {
            guard options[name] != nil, let value = arguments.popFirst() else { fail(usage) }
            options[name] = value
        }
        guard let host = options["--host"], let port = options["--port"].flatMap(Int.init), let path = options["--path"] else {
            fail(usage)
        }

        let logger = Logger(label: "eio-echo-hummingbird")
        let engine = try EngineIOServer(configuration: EngineIOServerConfiguration(cors: .allowAll()), logger: logger)
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.engineIO(engine, path: RouterPath(path))
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(ws: .engineIO(engine.configuration))),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                printLine("listening on http://\(host):\(channel.localAddress?.port ?? port)")
            },
            logger: logger
        )
        // The engine after the application: it shuts down first, ending open WebSockets and held polls.
        let services = ServiceGroup(
            configuration: .init(services: [app, engine], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await echo(engine) }
            try await services.run()
        }
    }

    /// Sends every message back as it came (text as text, binary as binary).
    static func echo(_ engine: EngineIOServer) async {
        await withDiscardingTaskGroup { sessions in
            for await socket in engine.sessions {
                sessions.addTask {
                    for await message in socket.messages {
                        do { try await socket.send(message) } catch { return }
                    }
                }
            }
        }
    }

    /// A whole line on stdout at once, unbuffered: the interop suite reads it through a pipe.
    static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
