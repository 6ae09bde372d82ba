import ArgumentParser
import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `duplex sio-echo`: a Socket.IO test peer (helpers/SOCKETIO_CONTRACT.md) with a bare
/// Engine.IO echo beside it, for interop tests and client authors.
struct SocketIOEchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sio-echo",
        abstract: "Socket.IO echo server at /socket.io/ (namespaces / and /custom) and Engine.IO echo at /engine.io/.",
        discussion: """
            Events: message → message-back; message-with-ack → ack with the same arguments; \
            broadcast → broadcast to the whole namespace; join/leave [room]; to-room [room, …] → \
            room-message; ack-me […] → ack-request with an ack, then ack-result or ack-timeout; \
            disconnect-me. Every connection first receives 'auth' with its CONNECT payload; a \
            payload with a "reject" key is refused. Any origin is allowed (CORS); WebSocket \
            compression is off. Prints 'listening on http://HOST:PORT' once ready and exits on \
            SIGINT/SIGTERM.
            Connection state recovery (off by default): --recovery-duration enables it; with \
            --recovery-file, the state of the disconnected clients is saved at a graceful shutdown \
            (SIGINT/SIGTERM; written to a temporary file, then renamed) and restored at the next \
            start, so clients reconnecting to the new process are recovered. A file that does not \
            exist means a fresh start; a file that cannot be decoded is moved aside to PATH.corrupt \
            with a warning and the server starts fresh (recovery is best effort: clients then get \
            a new session); a file that cannot be read is an error (exit 2), one that cannot be \
            written at shutdown too (exit 1).
            """
    )

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free one; the chosen port is printed).") var port = 5000
    @Option(help: "Heartbeat interval in milliseconds.") var pingInterval: Int64 = 25_000
    @Option(help: "Heartbeat timeout in milliseconds.") var pingTimeout: Int64 = 20_000
    @Option(help: "Largest POST body or WebSocket message, in bytes (announced as maxPayload).")
    var maxPayload = 1_000_000
    @Option(help: "Time a session has to join a namespace, in milliseconds.") var connectTimeout: Int64 = 45_000
    @Flag(name: .customLong("allow-eio3"), help: "Accept Engine.IO v3 / Socket.IO 2.x clients (EIO=3).")
    var allowEIO3 = false
    @Option(
        help: ArgumentHelp(
            "Enable connection state recovery, keeping disconnected clients' state this many milliseconds.",
            valueName: "ms"
        )
    )
    var recoveryDuration: Int64?
    @Option(
        help: ArgumentHelp(
            "Recovery state file: restored at start if it exists, written at graceful shutdown (needs --recovery-duration).",
            valueName: "path"
        )
    )
    var recoveryFile: String?
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard pingInterval > 0, pingTimeout > 0, connectTimeout > 0 else {
            throw ValidationError("--ping-interval, --ping-timeout and --connect-timeout must be positive")
        }
        guard maxPayload > 0 else { throw ValidationError("--max-payload must be positive") }
        if let recoveryDuration, recoveryDuration <= 0 {
            throw ValidationError("--recovery-duration must be positive")
        }
        if recoveryFile != nil, recoveryDuration == nil {
            throw ValidationError("--recovery-file needs --recovery-duration")
        }
    }

    func run() async throws {
        let logger = logging.makeLogger(label: "duplex.sio-echo")
        let engineConfiguration = EngineIOServerConfiguration(
            pingInterval: .milliseconds(pingInterval),
            pingTimeout: .milliseconds(pingTimeout),
            maxHttpBufferSize: maxPayload,
            cors: .allowAll(),
            allowEIO3: allowEIO3
        )
        let recoveryFile = self.recoveryFile.map(SocketIORecoveryFile.init)
        var recovery: SocketIOConnectionStateRecovery?
        if let recoveryDuration {
            recovery = SocketIOConnectionStateRecovery(maxDisconnectionDuration: .milliseconds(recoveryDuration))
            do {
                recovery?.restoring = try recoveryFile?.load()
            } catch {
                printError("error: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
        let io = try SocketIOServer(
            configuration: SocketIOServerConfiguration(
                engine: engineConfiguration,
                connectTimeout: .milliseconds(connectTimeout),
                connectionStateRecovery: recovery
            ),
            logger: logger
        )
        Self.configure(io)
        let engine = try EngineIOServer(configuration: engineConfiguration, logger: logger)

        var router = WebSocketRouter()
        io.mount(on: &router, path: "/socket.io/")
        engine.mount(on: &router, path: "/engine.io/")
        // The WebSocket layer's limits sit above Engine.IO's, so that Engine.IO answers an
        // oversized body or message itself (413, or closing the session).
        let slack = 64 * 1024
        let server = WebSocketServer(
            configuration: WebSocketServerConfiguration(
                host: host,
                port: port,
                limits: WebSocketLimits(maxFrameSize: maxPayload + slack, maxMessageSize: maxPayload + slack),
                maxRequestBodySize: maxPayload + slack,
                keepAlive: .disabled,
                compression: nil,
                backlog: 1024
            ),
            router: router,
            logger: logger
        )
        let host = self.host
        let port = self.port
        // Socket.IO and Engine.IO close their sessions while the HTTP server still runs. Polling
        // clients that stopped polling would otherwise hold the shutdown for Engine.IO's
        // closeTimeout.
        try await runUntilSignal(
            server,
            services: [EngineIOEchoService(engine: engine), io],
            logger: logger,
            gracefulShutdownLimit: .seconds(3),
            cancellationLimit: .seconds(2)
        ) { address in
            printLine("listening on http://\(host):\(address.port ?? port)")
        }
        // The group ran the graceful shutdown: every socket was disconnected as recoverable.
        if let recoveryFile {
            let snapshot = await io.recoverySnapshot(timeout: .seconds(2))
            do {
                try recoveryFile.save(snapshot)
                printError(
                    "recovery state saved to \(recoveryFile.path) "
                        + "(\(snapshot.sessionCount) sessions, \(snapshot.packetCount) packets)"
                )
            } catch {
                printError("error: \(error)")
                throw ExitCode(ExitStatus.unexpected)
            }
        }
    }

    /// The contract's namespaces and events.
    static func configure(_ io: SocketIOServer) {
        // CONNECT payload with "reject": refused with {"message":"Unauthorized","data":…}.
        io.use { socket in
            if let rejection = socket.handshake.auth?["reject"] {
                throw SocketIOConnectionRefusal("Unauthorized", data: rejection)
            }
        }
        for namespace in [io.sockets, io.namespace("/custom")] {
            namespace.onConnection { socket in
                socket.emit("auth", socket.handshake.auth ?? .object([:]))
                register(on: socket)
            }
        }
    }

    static func register(on socket: SocketIOSocket) {
        socket.on("message") { event in
            event.socket.emit("message-back", arguments: event.arguments)
        }
        socket.on("message-with-ack") { event in
            event.ack(arguments: event.arguments)
        }
        socket.on("broadcast") { event in
            event.socket.namespace.broadcast.emit("broadcast", arguments: event.arguments)
        }
        socket.on("join") { event in
            guard let room = event.arguments.first?.stringValue else { return }
            event.socket.join(room)
            event.ack(.string(room))
        }
        socket.on("leave") { event in
            guard let room = event.arguments.first?.stringValue else { return }
            event.socket.leave(room)
            event.ack(.string(room))
        }
        socket.on("to-room") { event in
            guard let room = event.arguments.first?.stringValue else { return }
            event.socket.namespace.to(room).emit("room-message", arguments: Array(event.arguments.dropFirst()))
            event.ack()
        }
        socket.on("ack-me") { event in
            let socket = event.socket
            let arguments = event.arguments
            // Waiting up to 5 s must not hold the socket's later events: the wait runs apart.
            Task {
                do {
                    let reply = try await socket.emitWithAck("ack-request", arguments, timeout: .seconds(5))
                    socket.emit("ack-result", arguments: reply)
                } catch {
                    socket.emit("ack-timeout")
                }
            }
        }
        socket.on("disconnect-me") { event in
            event.socket.disconnect()
        }
    }
}

/// Runs the bare Engine.IO echo at `/engine.io/` as a service.
private struct EngineIOEchoService: Service {
    let engine: EngineIOServer

    func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { sessions in
                for await socket in engine.sessions {
                    sessions.addTask { await EngineIOEchoCommand.echo(socket) }
                }
            }
        } onGracefulShutdown: {
            Task { await engine.shutdown() }
        }
    }
}

/// The `--recovery-file` of `duplex sio-echo`: a JSON ``SocketIORecoverySnapshot``.
private struct SocketIORecoveryFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let path: String

    /// The saved snapshot; nil when there is no file, or (with a warning on standard error)
    /// when it does not decode, in which case it is moved aside to `PATH.corrupt`.
    ///
    /// - Throws: ``Failure`` when the file exists but cannot be read.
    func load() throws -> SocketIORecoverySnapshot? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Failure(description: "cannot read the recovery file \(path): \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(SocketIORecoverySnapshot.self, from: data)
        } catch {
            let aside = path + ".corrupt"
            let moved = rename(path, aside) == 0
            printError(
                "warning: ignoring the recovery file \(path), which does not decode (\(error))"
                    + (moved ? "; moved to \(aside)" : "") + "; starting without recovered sessions"
            )
            return nil
        }
    }

    /// Writes `snapshot` atomically: to a temporary file in the same directory, flushed, then
    /// renamed over `path`, so a crash never leaves a half-written file.
    ///
    /// - Throws: ``Failure``.
    func save(_ snapshot: SocketIORecoverySnapshot) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(snapshot)
        } catch {
            throw Failure(description: "cannot encode the recovery state: \(error)")
        }
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else {
            throw Failure(description: "cannot create \(temporary)")
        }
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            unlink(temporary)
            throw Failure(description: "cannot write \(temporary): \(error.localizedDescription)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot rename \(temporary) to \(path): \(reason)")
        }
    }
}
