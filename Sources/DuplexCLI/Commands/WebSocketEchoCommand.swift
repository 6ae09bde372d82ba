import ArgumentParser
import DuplexWebSocket
import DuplexWebSocketCore
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `duplex ws-echo`: an echo server for benchmarks, conformance suites and client authors.
struct WebSocketEchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ws-echo",
        abstract: "WebSocket echo server: echoes every message with its type, on any path."
    )

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free one; the chosen port is printed).") var port = 9001
    @Option(help: "Largest message (and frame) accepted, in bytes.") var maxMessageSize = 64 * 1024 * 1024
    @Flag(help: "Decline permessage-deflate.") var noCompression = false
    @Option(help: "A subprotocol to support (repeatable); the first one the client offers is selected.")
    var subprotocol: [String] = []
    @Option(help: "Keepalive ping interval in seconds (0 disables).") var pingInterval: Double = 0
    @Option(help: "Time allowed for a client to send a whole HTTP request (slowloris protection), in seconds.")
    var handshakeTimeout: Double = 10
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard handshakeTimeout > 0 else { throw ValidationError("--handshake-timeout must be positive") }
    }

    func run() async throws {
        let logger = logging.makeLogger(label: "duplex.ws-echo")
        var router = WebSocketRouter()
        // Echo on the event loop: no task per connection, no thread hop per message.
        router.webSocket("*") { message, connection in
            do {
                if let (code, reason) = Self.closeCommand(message) {
                    try connection.close(code: code, reason: reason)
                } else {
                    try connection.send(message)
                }
            } catch {
                // The connection is already closing: nothing to echo to.
            }
        }
        let configuration = WebSocketServerConfiguration(
            host: host,
            port: port,
            limits: WebSocketLimits(maxFrameSize: maxMessageSize, maxMessageSize: maxMessageSize),
            handshakeTimeout: .milliseconds(Int64(handshakeTimeout * 1000)),
            keepAlive: pingInterval > 0 ? .enabled(interval: .milliseconds(Int64(pingInterval * 1000)), timeout: .seconds(20)) : .disabled,
            compression: noCompression ? nil : .default,
            subprotocols: subprotocol,
            // Like eio-echo and sio-echo: load and conformance suites reconnect in bursts. With
            // 256, the soak's 1,000 clients overflowed the queue, SYN cookies took over and some
            // connections were reset before the 101 (TcpExtSyncookiesFailed).
            backlog: 1024
        )
        let server = WebSocketServer(configuration: configuration, router: router, logger: logger)
        try await runUntilSignal(server, logger: logger) { address in
            printLine("listening on ws://\(host):\(address.port ?? port)")
        }
    }

    /// A text message `close:CODE:REASON` asks the server to start the closing handshake.
    static func closeCommand(_ message: WebSocketMessage) -> (CloseCode, String)? {
        guard message.kind == .text, message.data.readableBytesView.starts(with: "close:".utf8), let text = message.text else {
            return nil
        }
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let code = UInt16(parts[1]) else { return nil }
        return (CloseCode(code), parts.count == 3 ? String(parts[2]) : "")
    }
}
