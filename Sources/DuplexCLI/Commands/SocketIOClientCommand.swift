import ArgumentParser
import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import Foundation
import NIOCore
import Synchronization

/// `duplex connect URL`: an interactive Socket.IO v5 client driven by standard input, printing
/// what happens (JSON lines with `--json`); the contract is in SOCKETIO_CONTRACT.md.
struct SocketIOClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Connect to a Socket.IO server: emit and call from standard input, print what arrives.",
        discussion: """
            Standard input, one command per line: `emit EVENT [JSON…]`, `call EVENT [JSON…]` \
            (with an acknowledgement), `use NS`, `disconnect`, `quit`. JSON values are separated \
            by whitespace; {"_binary":"<base64>"} stands for a binary attachment, in input and output. \
            Incoming events that ask for an acknowledgement are acknowledged with their own arguments.
            After a lost connection the client reconnects (--reconnection-delay, \
            --randomization-factor) and rejoins its namespaces, recovered when the server has \
            connection state recovery: the `connect` line says `"recovered": true` and the events \
            missed meanwhile arrive (their last argument is the server's offset).
            Exit codes: 0 normal end; 2 usage; 3 connection failed; 4 namespace refused (the first \
            namespace); 5 disconnected by the server, or connection lost with --no-reconnect.
            """
    )

    enum Transport: String, ExpressibleByArgument, CaseIterable {
        case polling, websocket, upgrade
    }

    /// The exit codes of this command (SOCKETIO_CONTRACT.md).
    enum Exit {
        static let normal: Int32 = 0
        static let usage: Int32 = 2
        static let connectionFailed: Int32 = 3
        static let namespaceRefused: Int32 = 4
        static let disconnected: Int32 = 5
    }

    @Argument(help: "http(s)://host:port[/namespace] of the Socket.IO server.") var url: String
    @Option(name: .long, help: "Another namespace to join over the same connection (repeatable).")
    var namespace: [String] = []
    @Option(help: "JSON object sent as auth in every namespace CONNECT.") var auth: String?
    @Option(help: "polling, websocket, or upgrade (polling, then WebSocket).") var transport: Transport = .upgrade
    @Option(help: "The Engine.IO path on the server.") var path = "/socket.io/"
    @Flag(help: "Print one JSON object per line.") var json = false
    @Option(help: "Seconds to wait for the acknowledgement of a `call`.") var timeout: Double = 5
    @Flag(help: "Do not reconnect after losing the connection.") var noReconnect = false
    @Option(
        help: ArgumentHelp(
            "Delay before the first reconnection attempt, in milliseconds; it doubles at each attempt, up to max(5000, this).",
            valueName: "ms"
        )
    )
    var reconnectionDelay: Int64 = 1000
    @Option(help: "Jitter of the reconnection delays, in 0...1 (0: exact delays).")
    var randomizationFactor: Double = 0.5
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let output = SocketIOClientOutput(json: json)
        var authObject: JSONObject?
        if let auth {
            guard let value = try? JSONValue(parsing: auth), let object = SocketIOClientOutput.fromCLI(value).objectValue
            else {
                output.usageError("--auth must be a JSON object")
                throw ExitCode(Exit.usage)
            }
            authObject = object
        }
        guard timeout > 0, timeout.isFinite else {
            output.usageError("--timeout must be a positive number of seconds")
            throw ExitCode(Exit.usage)
        }
        guard reconnectionDelay >= 0, (0...1).contains(randomizationFactor) else {
            output.usageError("--reconnection-delay must not be negative and --randomization-factor must be in 0...1")
            throw ExitCode(Exit.usage)
        }
        // Connection state recovery needs nothing here: the client always offers it, and the
        // server decides (protocol.md 4.2.8); `connect` lines report `recovered`.
        var configuration = SocketIOClientConfiguration(
            path: path,
            reconnection: !noReconnect,
            reconnectionDelay: .milliseconds(reconnectionDelay),
            reconnectionDelayMax: .milliseconds(max(5000, reconnectionDelay)),
            randomizationFactor: randomizationFactor
        )
        switch transport {
        case .polling: configuration.engineIO.transports = [.polling]
        case .websocket: configuration.engineIO.transports = [.websocket]
        case .upgrade: configuration.engineIO.transports = [.polling, .websocket]
        }
        configuration.engineIO.webSocket.limits = .init(maxFrameSize: 64 << 20, maxMessageSize: 64 << 20)
        let first: SocketIOClientSocket
        do {
            first = try SocketIOClientManager.socket(
                url: url,
                configuration: configuration,
                auth: authObject.map(SocketIOClientAuth.value) ?? .none,
                logger: logging.makeLogger(label: "duplex.connect")
            )
        } catch {
            output.usageError(error.message)
            throw ExitCode(Exit.usage)
        }
        let session = SocketIOClientCommandSession(
            manager: first.manager,
            auth: authObject.map(SocketIOClientAuth.value) ?? .none,
            output: output,
            callTimeout: .milliseconds(Int64(timeout * 1000)),
            exitsWhenLost: true
        )
        let code = await session.run(first: first, more: namespace)
        throw ExitCode(code)
    }
}

/// One run of `duplex connect`: the sockets, the current namespace, and the exit decision.
final class SocketIOClientCommandSession: Sendable {
    let manager: SocketIOClientManager
    let auth: SocketIOClientAuth
    let output: SocketIOClientOutput
    let callTimeout: Duration
    let exitsWhenLost: Bool
    private let state = Mutex(State())
    private let exits: AsyncStream<Int32>
    private let exitContinuation: AsyncStream<Int32>.Continuation

    private struct State {
        var sockets: [String: SocketIOClientSocket] = [:]
        var current = "/"
        var outstandingCalls = 0
        var callsDrained: [CheckedContinuation<Void, Never>] = []
    }

    init(manager: SocketIOClientManager, auth: SocketIOClientAuth, output: SocketIOClientOutput, callTimeout: Duration, exitsWhenLost: Bool) {
        self.manager = manager
        self.auth = auth
        self.output = output
        self.callTimeout = callTimeout
        self.exitsWhenLost = exitsWhenLost
        (exits, exitContinuation) = AsyncStream.makeStream(of: Int32.self)
    }

    /// Joins `first` (its failure ends the run), then the other namespaces, then runs standard
    /// input; returns the exit code.
    func run(first: SocketIOClientSocket, more: [String]) async -> Int32 {
        manager.onEvent { [output] event in
            if case .transport(let transport) = event { output.transport(transport) }
        }
        prepare(first)
        state.withLock { $0.current = first.namespace }
        do {
            try await first.connect()
        } catch {
            await manager.close()
            switch error.code {
            case .namespaceRefused, .namespaceNotFound:
                return SocketIOClientCommand.Exit.namespaceRefused
            default:
                output.failure(error)
                return SocketIOClientCommand.Exit.connectionFailed
            }
        }
        for namespace in more where namespace != first.namespace {
            guard let socket = try? manager.socket(namespace: namespace, auth: auth) else {
                output.failure(SocketIOError(.invalidConfiguration, "invalid namespace \(namespace)"))
                continue
            }
            prepare(socket)
            Task { try? await socket.connect() }
        }
        let code = await withTaskGroup(of: Int32.self) { group in
            group.addTask {
                for await line in StandardInputLines() {
                    if await self.execute(line) == false { break }
                }
                await self.waitForCalls()
                return SocketIOClientCommand.Exit.normal
            }
            group.addTask {
                for await code in self.exits { return code }
                return SocketIOClientCommand.Exit.normal
            }
            let code = await group.next() ?? SocketIOClientCommand.Exit.normal
            group.cancelAll()
            return code
        }
        exitContinuation.finish()
        await manager.close()
        return code
    }

    /// Registers the printing (and auto-acknowledging) handlers of a namespace socket.
    private func prepare(_ socket: SocketIOClientSocket) {
        state.withLock { $0.sockets[socket.namespace] = socket }
        let namespace = socket.namespace
        socket.onConnect { [output, manager] in
            output.connected(
                namespace: namespace,
                socketID: socket.id ?? "",
                transport: manager.transport,
                recovered: socket.recovered
            )
        }
        socket.onConnectError { [output] error in
            guard error.code == .namespaceRefused || error.code == .namespaceNotFound else { return }
            output.connectError(namespace: namespace, error: error)
        }
        socket.onAny { [output] event in
            output.event(event)
            // SOCKETIO_CONTRACT.md: acknowledged automatically with the same arguments.
            event.acknowledge(event.arguments)
        }
        socket.onDisconnect { [output] reason in
            output.disconnected(namespace: namespace, reason: reason)
            guard reason != .ioClientDisconnect else { return }
            let anyActive = self.state.withLock { $0.sockets.values.contains { $0.isActive } }
            if !anyActive && self.exitsWhenLost { self.exitContinuation.yield(SocketIOClientCommand.Exit.disconnected) }
        }
    }

    /// Runs one command line; false for `quit`.
    private func execute(_ line: String) async -> Bool {
        var rest = Substring(line)
        let command = Self.nextWord(&rest)
        let current = state.withLock { $0.sockets[$0.current] }
        switch command {
        case "":
            return true
        case "quit":
            return false
        case "emit", "call":
            let event = Self.nextWord(&rest)
            guard !event.isEmpty else {
                output.notice("usage: \(command) EVENT [JSON…]")
                return true
            }
            let arguments: [JSONValue]
            do {
                arguments = try SocketIOClientOutput.parseArguments(rest)
            } catch {
                output.notice("invalid JSON arguments: \(error.message)")
                return true
            }
            guard let current, current.isActive else {
                output.notice("not connected to the current namespace")
                return true
            }
            if command == "emit" {
                do { try current.emit(event, arguments) } catch { output.notice("emit failed: \(error.message)") }
            } else {
                call(event, arguments, on: current)
            }
        case "use":
            let namespace = Self.nextWord(&rest)
            guard let socket = try? manager.socket(namespace: namespace, auth: auth) else {
                output.notice("invalid namespace \"\(namespace)\"")
                return true
            }
            let isKnown = state.withLock { $0.sockets[namespace] != nil }
            if !isKnown { prepare(socket) }
            if !socket.isConnected {
                do { try await socket.connect() } catch {
                    if error.code != .namespaceRefused && error.code != .namespaceNotFound {
                        output.notice("could not join \(namespace): \(error.message)")
                    }
                    return true
                }
            }
            state.withLock { $0.current = namespace }
        case "disconnect":
            current?.disconnect()
        default:
            output.notice("unknown command \"\(command)\" (emit, call, use, disconnect, quit)")
        }
        return true
    }

    private func call(_ event: String, _ arguments: [JSONValue], on socket: SocketIOClientSocket) {
        state.withLock { $0.outstandingCalls += 1 }
        let namespace = socket.namespace
        do {
            try socket.emit(event, arguments, options: .timeout(callTimeout)) { [output] result in
                switch result {
                case .success(let reply): output.ack(namespace: namespace, event: event, arguments: reply)
                case .failure(let error) where error.code == .ackTimedOut: output.ackTimeout(namespace: namespace, event: event)
                case .failure(let error): output.notice("call \(event) failed: \(error.message)")
                }
                self.callFinished()
            }
        } catch {
            output.notice("call failed: \(error.message)")
            callFinished()
        }
    }

    private func callFinished() {
        let waiters = state.withLock { state in
            state.outstandingCalls -= 1
            guard state.outstandingCalls == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.callsDrained.removeAll() }
            return state.callsDrained
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once every `call` has its answer (each is bounded by its timeout), so that end of
    /// input does not cut the replies off.
    private func waitForCalls() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.outstandingCalls == 0 { return true }
                state.callsDrained.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Takes the next whitespace-separated word off `text`.
    static func nextWord(_ text: inout Substring) -> String {
        text = text.drop { $0 == " " || $0 == "\t" }
        let word = text.prefix { $0 != " " && $0 != "\t" }
        text = text.dropFirst(word.count)
        return String(word)
    }
}

/// What `duplex connect` prints: JSON lines with `--json`, readable lines otherwise. Failures go
/// to standard output as `error` objects (JSON) or to standard error; notices to standard error.
struct SocketIOClientOutput: Sendable {
    let json: Bool

    func connected(namespace: String, socketID: String, transport: EngineIOTransport?, recovered: Bool) {
        let transportName = transport?.rawValue ?? "unknown"
        emit(
            [
                "type": "connect", "namespace": .string(namespace), "sid": .string(socketID),
                "transport": .string(transportName), "recovered": .bool(recovered),
            ],
            readable: "connected \(namespace) sid=\(socketID) transport=\(transportName)" + (recovered ? " (recovered)" : "")
        )
    }

    func connectError(namespace: String, error: SocketIOError) {
        var object: JSONObject = ["type": "connect_error", "namespace": .string(namespace), "message": .string(error.message)]
        if let data = error.data?["data"] { object["data"] = Self.toCLI(data) }
        emit(object, readable: "connect_error \(namespace): \(error.message)" + (object["data"].map { " data=\($0.jsonString)" } ?? ""))
    }

    func event(_ event: SocketIOClientEvent) {
        let arguments = JSONValue.array(event.arguments.map(Self.toCLI))
        emit(
            [
                "type": "event", "namespace": .string(event.namespace), "event": .string(event.name),
                "args": arguments, "ack": .bool(event.expectsAcknowledgement),
            ],
            readable: "< \(event.namespace) \(event.name) \(arguments.jsonString)" + (event.expectsAcknowledgement ? " (ack)" : "")
        )
    }

    func ack(namespace: String, event: String, arguments: [JSONValue]) {
        let arguments = JSONValue.array(arguments.map(Self.toCLI))
        emit(
            ["type": "ack", "namespace": .string(namespace), "event": .string(event), "args": arguments],
            readable: "ack \(namespace) \(event) \(arguments.jsonString)"
        )
    }

    func ackTimeout(namespace: String, event: String) {
        emit(
            ["type": "ack_timeout", "namespace": .string(namespace), "event": .string(event)],
            readable: "ack timeout \(namespace) \(event)"
        )
    }

    func transport(_ transport: EngineIOTransport) {
        emit(["type": "transport", "name": .string(transport.rawValue)], readable: "transport \(transport)")
    }

    func disconnected(namespace: String, reason: SocketIOClientDisconnectReason) {
        emit(
            ["type": "disconnect", "namespace": .string(namespace), "reason": .string(reason.rawValue)],
            readable: "disconnected \(namespace): \(reason)"
        )
    }

    /// A failure that ends the run.
    func failure(_ error: SocketIOError) {
        var message = error.message
        if let cause = error.cause { message += " (\(cause))" }
        if json {
            printLine(JSONValue.object(["type": "error", "code": .string("\(error.code)"), "message": .string(message)]).jsonString)
        } else {
            printError("error: code=\(error.code) message=\(message)")
        }
    }

    func usageError(_ message: String) {
        if json {
            printLine(JSONValue.object(["type": "error", "code": "usage", "message": .string(message)]).jsonString)
        }
        printError("error: \(message)")
    }

    /// A problem with one command; the run goes on.
    func notice(_ message: String) {
        printError(message)
    }

    private func emit(_ object: JSONObject, readable: String) {
        printLine(json ? JSONValue.object(object).jsonString : readable)
    }

    // MARK: - The `{"_binary": "<base64>"}` convention

    /// Replaces binary values with `{"_binary": "<base64>"}`.
    static func toCLI(_ value: JSONValue) -> JSONValue {
        switch value {
        case .binary(let buffer):
            return ["_binary": .string(Data(buffer.readableBytesView).base64EncodedString())]
        case .array(let elements):
            return .array(elements.map(toCLI))
        case .object(let object):
            return .object(JSONObject(object.map { JSONObject.Member(key: $0.key, value: toCLI($0.value)) }))
        default:
            return value
        }
    }

    /// Replaces `{"_binary": "<base64>"}` objects (valid base64 only) with binary values.
    static func fromCLI(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map(fromCLI))
        case .object(let object):
            if object.count == 1, let encoded = object["_binary"]?.stringValue, let data = Data(base64Encoded: encoded) {
                return .binary(ByteBuffer(bytes: data))
            }
            return .object(JSONObject(object.map { JSONObject.Member(key: $0.key, value: fromCLI($0.value)) }))
        default:
            return value
        }
    }

    /// Parses whitespace-separated JSON values (`1 "two" {"a": [1, 2]}`).
    static func parseArguments(_ text: Substring) throws(SocketIOError) -> [JSONValue] {
        var values: [JSONValue] = []
        var depth = 0
        var inString = false
        var isEscaped = false
        var start: Substring.Index?
        var index = text.startIndex
        while index <= text.endIndex {
            let character: Character? = index < text.endIndex ? text[index] : nil
            if let character, inString {
                if isEscaped {
                    isEscaped = false
                } else if character == "\\" {
                    isEscaped = true
                } else if character == "\"" {
                    inString = false
                }
            } else if let character, !(character == " " || character == "\t") || depth > 0 {
                if start == nil { start = index }
                switch character {
                case "\"": inString = true
                case "[", "{": depth += 1
                case "]", "}": depth -= 1
                default: break
                }
            } else if let tokenStart = start {
                values.append(fromCLI(try JSONValue(parsing: String(text[tokenStart..<index]))))
                start = nil
                depth = 0
            }
            guard index < text.endIndex else { break }
            index = text.index(after: index)
        }
        return values
    }
}
