// eio-echo-vapor: an Engine.IO echo server mounted in a Vapor 4 application, for the interop suite
// and as an example. Prints 'listening on http://HOST:PORT' once ready; exits on SIGINT/SIGTERM.
import DuplexEngineIO
import DuplexVapor
import Logging
import UnixSignals
import Vapor

import Foundation

@main
enum EIOEchoVapor {
    static let usage = "usage: eio-echo-vapor [--host 127.0.0.1] [--port 5000] [--path /engine.io/]"

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

        let logger = Logger(label: "eio-echo-vapor")
        let engine = try EngineIOServer(configuration: EngineIOServerConfiguration(cors: .allowAll()), logger: logger)
        // Vapor must not parse our command line.
        let app = try await Application.make(Environment(name: "production", arguments: ["eio-echo-vapor"]))
        app.logger = logger
        app.engineIO(engine, at: path.pathComponents)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await app.server.start(address: .hostname(host, port: port))
        printLine("listening on http://\(host):\(app.http.server.shared.localAddress?.port ?? port)")
        await withDiscardingTaskGroup { group in
            group.addTask { await echo(engine) }
            for await _ in signals { break }
            // The engine first: open WebSockets and held polls end, then the server stops.
            await engine.shutdown()
        }
        await app.server.shutdown()
        try await app.asyncShutdown()
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
