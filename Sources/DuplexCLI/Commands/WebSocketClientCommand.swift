import ArgumentParser
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import NIOSSL

/// `duplex ws URL`: an interactive WebSocket client, or with `--echo` an echo client for
/// conformance servers.
struct WebSocketClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ws",
        abstract: "Connect to a WebSocket server: send standard input lines, print what arrives.",
        discussion: """
            Exit codes: 0 closed normally (1000/1001); 2 usage or configuration; 3 connection
            failed; 4 handshake failed; 5 protocol violation; 6 closed abnormally or with another code.
            """
    )

    @Argument(help: "ws:// or wss:// URL.") var url: String
    @Flag(help: "Echo every message back (same type, same payload) instead of reading standard input.") var echo = false
    @Option(name: .long, help: "An extra request header, \"Name: value\" (repeatable).") var header: [String] = []
    @Option(help: "A subprotocol to offer (repeatable).") var subprotocol: [String] = []
    @Flag(help: "Do not offer permessage-deflate.") var noCompression = false
    @Option(help: "Largest message accepted, in bytes.") var maxMessageSize = 64 * 1024 * 1024
    @Option(help: "Seconds allowed to connect (TCP, TLS, proxy, upgrade).") var openTimeout: Double = 10
    @Flag(help: "Accept any TLS certificate (testing only).") var insecure = false
    @Flag(help: "Use the proxy named by http_proxy / https_proxy (honouring no_proxy).") var proxyFromEnvironment = false
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.makeLogger(label: "duplex.ws")
        var headers = HTTPFields()
        for line in header {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon]).trimmingSpaces()) else {
                throw ValidationError("invalid header \"\(line)\": expected \"Name: value\"")
            }
            headers.append(HTTPField(name: name, value: String(line[line.index(after: colon)...]).trimmingSpaces()))
        }
        var configuration = WebSocketClientConfiguration(
            headers: headers,
            subprotocols: subprotocol,
            compression: noCompression ? nil : .default,
            limits: WebSocketLimits(maxFrameSize: maxMessageSize, maxMessageSize: maxMessageSize),
            openTimeout: .milliseconds(Int64(openTimeout * 1000)),
            keepAlive: .disabled
        )
        if insecure { configuration.tls.certificateVerification = .none }
        if proxyFromEnvironment, let parsed = try? WebSocketURL(url) {
            configuration.proxy = WebSocketProxy.fromEnvironment(ProcessInfoEnvironment.current, for: parsed)
        }
        let echo = self.echo
        let info: CloseInfo?
        do {
            info = try await WebSocketConnection.connect(to: url, configuration: configuration, logger: logger) { connection in
                printError("connected subprotocol=\(connection.subprotocol ?? "-") extensions=\(connection.extensions ?? "-")")
                if echo {
                    for try await message in connection.messages {
                        try await connection.send(message)
                    }
                } else {
                    try await Self.interact(connection)
                }
                return connection.closeInfo
            }
        } catch let error as WebSocketError {
            if error.code == .connectionClosed {
                throw Self.reportClose(error.closeInfo)
            }
            throw ExitStatus.report(error)
        }
        throw Self.reportClose(info)
    }

    /// Prints `closed code=N reason=R` (1006 when no close frame arrived) and returns the exit
    /// code: 0 for 1000/1001, 6 otherwise.
    static func reportClose(_ info: CloseInfo?) -> ExitCode {
        printError("closed code=\(info?.code.rawValue ?? 1006) reason=\(info?.reason ?? "")")
        guard let info, info.isNormal else { return ExitCode(ExitStatus.closed) }
        return ExitCode(ExitStatus.normalClose)
    }

    /// Sends standard input lines; prints incoming messages until either side closes.
    static func interact(_ connection: WebSocketConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await message in connection.messages {
                    printLine("< " + describe(message))
                }
            }
            group.addTask {
                for await line in StandardInputLines() {
                    try await connection.send(text: line)
                }
                try await connection.close(code: .normalClosure)
            }
            try await group.next()
            // The server closed: stop reading standard input.
            group.cancelAll()
        }
    }

    /// `text` with control characters escaped, or `[binary N bytes] hex`.
    static func describe(_ message: WebSocketMessage) -> String {
        guard let text = message.text else {
            let hex = message.data.readableBytesView.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined()
            return "[binary \(message.data.readableBytes) bytes] \(hex)"
        }
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let digits = String(scalar.value, radix: 16)
                escaped += "\\x" + (digits.count == 1 ? "0" + digits : digits)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}

extension String {
    func trimmingSpaces() -> String {
        var result = Substring(self)
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return String(result)
    }
}
