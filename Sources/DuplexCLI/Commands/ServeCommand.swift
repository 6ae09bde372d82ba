import ArgumentParser
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore

/// `duplex serve`: the demo server a person can open in a browser.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the demo server: a chat page at / over a WebSocket at /ws."
    )

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free one).") var port = 8080
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.makeLogger(label: "duplex.serve")
        let room = ChatRoom()
        var router = WebSocketRouter()
        router.http("/") { _ in
            HTTPServerResponse(status: .ok, contentType: "text/html; charset=utf-8", text: DemoPage.html)
        }
        router.http("/health") { _ in HTTPServerResponse(status: .ok, text: "ok") }
        router.webSocket("/ws") { connection in
            try await room.serve(connection)
        }
        let server = WebSocketServer(
            configuration: WebSocketServerConfiguration(host: host, port: port, limits: WebSocketLimits(maxFrameSize: 64 * 1024, maxMessageSize: 64 * 1024)),
            router: router,
            logger: logger
        )
        try await runUntilSignal(server, logger: logger) { address in
            printLine("listening on http://\(host):\(address.port ?? port) (open it in a browser)")
        }
    }
}
