import ArgumentParser
import DuplexSocketIO
import DuplexWebSocket
import DuplexWebSocketCore
import Foundation
import HTTPTypes
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `duplex serve`: the demo server a person can open in a browser: a Socket.IO chat at `/`
/// (rooms, member list, typing indicator) and a plain-WebSocket chat at `/websocket`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the demo server: a Socket.IO chat at / and a plain-WebSocket chat at /websocket.",
        discussion: """
            The chat page loads the official Socket.IO JavaScript client from --client-url \
            (default: the socket.io CDN). Offline, pass --client-file with a local \
            socket.io.min.js: Duplex serves it at /socket.io.min.js and the page uses it.
            """
    )

    static let defaultClientURL = "https://cdn.socket.io/4.8.1/socket.io.min.js"
    static let localClientPath = "/socket.io.min.js"

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free one).") var port = 8080
    @Option(help: "Where the chat page loads the Socket.IO client from.") var clientURL = defaultClientURL
    @Option(help: "A local socket.io.min.js to serve at /socket.io.min.js (overrides --client-url).")
    var clientFile: String?
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.makeLogger(label: "duplex.serve")
        var router = WebSocketRouter()

        var pageClientURL = clientURL
        if let clientFile {
            guard let script = FileManager.default.contents(atPath: clientFile) else {
                throw ValidationError("cannot read --client-file \(clientFile)")
            }
            let body = ByteBuffer(bytes: script)
            var headers = HTTPFields()
            headers[.contentType] = "text/javascript; charset=utf-8"
            router.http(Self.localClientPath) { [headers] _ in
                HTTPServerResponse(status: .ok, headers: headers, body: body)
            }
            pageClientURL = Self.localClientPath
        }
        let chatPage = SocketIOChatPage.html(clientURL: pageClientURL)
        router.http("/") { _ in
            HTTPServerResponse(status: .ok, contentType: "text/html; charset=utf-8", text: chatPage)
        }
        router.http("/websocket") { _ in
            HTTPServerResponse(status: .ok, contentType: "text/html; charset=utf-8", text: WebSocketChatPage.html)
        }
        router.http("/health") { _ in HTTPServerResponse(status: .ok, text: "ok") }
        let room = WebSocketChatRoom()
        router.webSocket("/ws") { connection in
            try await room.serve(connection)
        }

        let io = try SocketIOServer(logger: logger)
        SocketIOChat.install(on: io)
        io.mount(on: &router)

        let server = WebSocketServer(
            configuration: WebSocketServerConfiguration(
                host: host,
                port: port,
                limits: WebSocketLimits(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20)
            ),
            router: router,
            logger: logger
        )
        let host = self.host
        let port = self.port
        try await runUntilSignal(server, services: [io], logger: logger, gracefulShutdownLimit: .seconds(5)) { address in
            printLine("listening on http://\(host):\(address.port ?? port) (open it in a browser)")
        }
    }
}
