import ArgumentParser
import DuplexEngineIO
import DuplexWebSocket
import DuplexWebSocketCore
import Logging
import NIOCore

/// `duplex eio-echo`: a bare Engine.IO server that echoes every message, for interop tests,
/// benchmarks and client authors.
struct EngineIOEchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eio-echo",
        abstract: "Engine.IO echo server at /engine.io/: echoes every message with its type (text or binary).",
        discussion: """
            Polling and WebSocket are both enabled, with upgrades; any origin is allowed (CORS); \
            WebSocket compression is off. Prints 'listening on http://HOST:PORT' once ready and \
            exits on SIGINT/SIGTERM.
            """
    )

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free one; the chosen port is printed).") var port = 5000
    @Option(help: "Heartbeat interval in milliseconds.") var pingInterval: Int64 = 25_000
    @Option(help: "Heartbeat timeout in milliseconds.") var pingTimeout: Int64 = 20_000
    @Option(help: "Time allowed to complete a transport upgrade, in milliseconds.") var upgradeTimeout: Int64 = 10_000
    @Option(help: "Time allowed for a client to send a whole HTTP request (slowloris protection), in milliseconds.")
    var handshakeTimeout: Int64 = 10_000
    @Option(help: "Largest POST body or WebSocket message, in bytes (announced as maxPayload).")
    var maxPayload = 1_000_000
    @Flag(help: "Accept Engine.IO v3 clients (EIO=3).") var allowEIO3 = false
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard pingInterval > 0, pingTimeout > 0, upgradeTimeout > 0, handshakeTimeout > 0 else {
            throw ValidationError("--ping-interval, --ping-timeout, --upgrade-timeout and --handshake-timeout must be positive")
        }
        guard maxPayload > 0 else { throw ValidationError("--max-payload must be positive") }
    }

    func run() async throws {
        let logger = logging.makeLogger(label: "duplex.eio-echo")
        let engine = try EngineIOServer(
            configuration: EngineIOServerConfiguration(
                pingInterval: .milliseconds(pingInterval),
                pingTimeout: .milliseconds(pingTimeout),
                upgradeTimeout: .milliseconds(upgradeTimeout),
                maxHttpBufferSize: maxPayload,
                cors: .allowAll(),
                allowEIO3: allowEIO3
            ),
            logger: logger
        )
        var router = WebSocketRouter()
        engine.mount(on: &router)
        // The WebSocket layer's limits sit above Engine.IO's, so that Engine.IO answers an
        // oversized body or message itself (413, or closing the session).
        let slack = 64 * 1024
        let server = WebSocketServer(
            configuration: WebSocketServerConfiguration(
                host: host,
                port: port,
                limits: WebSocketLimits(maxFrameSize: maxPayload + slack, maxMessageSize: maxPayload + slack),
                maxRequestBodySize: maxPayload + slack,
                handshakeTimeout: .milliseconds(handshakeTimeout),
                keepAlive: .disabled,
                compression: nil,
                backlog: 1024
            ),
            router: router,
            logger: logger
        )
        let host = self.host
        let port = self.port
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                await withDiscardingTaskGroup { sessions in
                    for await socket in engine.sessions {
                        sessions.addTask { await Self.echo(socket) }
                    }
                }
            }
            try await runUntilSignal(server, logger: logger) { address in
                printLine("listening on http://\(host):\(address.port ?? port)")
            }
            // Polling sessions end with the process; stop the echo tasks.
            group.cancelAll()
        }
    }

    /// Sends every message back as it came: text as text, binary as binary.
    static func echo(_ socket: EngineIOSocket) async {
        for await message in socket.messages {
            do {
                try await socket.send(message)
            } catch {
                return
            }
        }
    }
}
