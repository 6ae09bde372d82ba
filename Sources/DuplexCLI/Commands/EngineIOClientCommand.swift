import ArgumentParser
import DuplexEngineIO
import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import NIOSSL

/// `duplex eio URL`: an Engine.IO v4 client. With `--echo` it echoes every message back (an
/// interop peer for Engine.IO servers); otherwise it sends standard input lines and prints what
/// arrives.
struct EngineIOClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eio",
        abstract: "Connect to an Engine.IO v4 server: send standard input lines, print what arrives.",
        discussion: """
            Standard error gets `connected sid=<sid> transport=<t>` once the session is open, \
            `transport=<t>` on each transport change (an upgrade), and `closed` when the \
            session ends normally, or an `error: code=… category=…` line.
            Exit codes: 0 closed normally (by either side); 2 usage or configuration; 3 connection \
            failed; 4 handshake rejected; 5 protocol violation; 6 closed abnormally (ping timeout, \
            transport failure).
            """
    )

    enum Transport: String, ExpressibleByArgument, CaseIterable {
        case polling, websocket
    }

    @Argument(help: "http(s):// URL of the Engine.IO endpoint, e.g. http://127.0.0.1:5000/engine.io/.") var url: String
    @Option(help: "The transport to open with: polling (upgrades unless --no-upgrade) or websocket.")
    var transport: Transport = .polling
    @Flag(help: "Stay on polling: do not upgrade to WebSocket.") var noUpgrade = false
    @Flag(help: "Echo every message back (same type, same payload) instead of reading standard input.") var echo = false
    @Option(name: .long, help: "An extra request header, \"Name: value\" (repeatable).") var header: [String] = []
    @Option(help: "Seconds allowed to open the session.") var openTimeout: Double = 20
    @Flag(help: "Accept any TLS certificate (testing only).") var insecure = false
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.makeLogger(label: "duplex.eio")
        var headers = HTTPFields()
        for line in header {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon]).trimmingSpaces()) else {
                throw ValidationError("invalid header \"\(line)\": expected \"Name: value\"")
            }
            headers.append(HTTPField(name: name, value: String(line[line.index(after: colon)...]).trimmingSpaces()))
        }
        var configuration = EngineIOClientConfiguration(
            transports: transport == .websocket ? [.websocket] : [.polling, .websocket],
            allowsUpgrade: !noUpgrade,
            headers: headers,
            openTimeout: .milliseconds(Int64(openTimeout * 1000))
        )
        configuration.webSocket.limits = .init(maxFrameSize: 64 << 20, maxMessageSize: 64 << 20)
        if insecure { configuration.webSocket.tls.certificateVerification = .none }
        let echo = self.echo
        do {
            try await EngineIOClient.connect(to: url, configuration: configuration, logger: logger) { socket in
                printError("connected sid=\(socket.id) transport=\(socket.transport)")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        var updates = socket.transportUpdates.makeAsyncIterator()
                        var current = await updates.next()
                        while let next = await updates.next() {
                            guard next != current else { continue }
                            printError("transport=\(next)")
                            current = next
                        }
                    }
                    if echo {
                        for try await message in socket.messages {
                            try await socket.send(message)
                        }
                    } else {
                        try await Self.interact(socket)
                    }
                    group.cancelAll()
                }
            }
        } catch let error as EngineIOError {
            throw Self.report(error)
        }
        printError("closed")
    }

    /// Sends standard input lines; prints incoming messages until either side closes.
    static func interact(_ socket: EngineIOClientSocket) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await message in socket.messages {
                    printLine("< " + describe(message))
                }
            }
            group.addTask {
                for await line in StandardInputLines() {
                    try await socket.send(text: line)
                }
                await socket.close()
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// `text`, or `[binary N bytes] hex`.
    static func describe(_ data: EngineIOPacketData) -> String {
        switch data {
        case .text(let text):
            return WebSocketClientCommand.describe(.text(text))
        case .binary(let bytes):
            return WebSocketClientCommand.describe(.binary(bytes))
        }
    }

    /// Prints `error: code=… category=… [status=N] message=…` and returns the exit code.
    static func report(_ error: EngineIOError) -> ExitCode {
        var line = "error: code=\(error.code) category=\(error.code.category)"
        if let status = error.response?.status { line += " status=\(status)" }
        line += " message=\(error.message)"
        if let cause = error.cause { line += " (cause: \(cause))" }
        printError(line)
        switch error.code.category {
        case .connection: return ExitCode(ExitStatus.connection)
        case .handshake, .request: return ExitCode(ExitStatus.handshake)
        case .protocolViolation: return ExitCode(ExitStatus.protocolViolation)
        case .closed, .upgrade: return ExitCode(ExitStatus.closed)
        case .configuration: return ExitCode(ExitStatus.usage)
        default: return ExitCode(ExitStatus.unexpected)
        }
    }
}
