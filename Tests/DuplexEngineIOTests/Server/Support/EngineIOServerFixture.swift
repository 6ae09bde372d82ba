import DuplexWebSocket
import DuplexWebSocketCore
import Logging
import NIOCore
import Synchronization
import Testing

@testable import DuplexEngineIO

/// An ``EngineIOServer`` mounted on a ``WebSocketServer`` at 127.0.0.1:0. In `.echo` mode every
/// session's messages are sent back as they came; in `.manual` mode the test drives the sockets.
final class EngineIOServerFixture: Sendable {
    enum Mode: Sendable, Equatable {
        case echo
        case manual
        /// Sends this text the moment the application receives the session, then echoes.
        case greetThenEcho(String)
    }

    let engine: EngineIOServer
    let port: Int
    let path: String
    private let recorder: SocketRecorder

    private init(engine: EngineIOServer, port: Int, path: String, recorder: SocketRecorder) {
        self.engine = engine
        self.port = port
        self.path = path
        self.recorder = recorder
    }

    /// Runs `body` against a fresh server.
    ///
    /// - Parameter validatesUpgrades: false mounts the WebSocket route without
    ///   ``EngineIOServer/shouldUpgrade(_:)``, as a framework integration that skips it would.
    static func run(
        _ configuration: EngineIOServerConfiguration = EngineIOServerConfiguration(),
        mode: Mode = .echo,
        validatesUpgrades: Bool = true,
        path: String = "/engine.io/",
        _ body: (EngineIOServerFixture) async throws -> Void
    ) async throws {
        let logger = Logger(label: "duplex.eio.tests") { _ in SwiftLogNoOpLogHandler() }
        let engine = try EngineIOServer(configuration: configuration, logger: logger)
        var router = WebSocketRouter()
        if validatesUpgrades {
            engine.mount(on: &router, path: path)
        } else {
            router.http(path) { request in await engine.handle(request) }
            router.webSocket(path) { connection in await engine.accept(connection) }
        }
        let server = WebSocketServer(
            configuration: WebSocketServerConfiguration(
                host: "127.0.0.1",
                port: 0,
                keepAlive: .disabled,
                compression: nil,
                shutdownGracePeriod: .milliseconds(200),
                backlog: 2048
            ),
            router: router,
            logger: logger
        )
        let recorder = SocketRecorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask {
                await withDiscardingTaskGroup { sessions in
                    for await socket in engine.sessions {
                        recorder.record(socket)
                        if case .greetThenEcho(let greeting) = mode {
                            try? await socket.send(text: greeting)
                        }
                        if mode != .manual {
                            sessions.addTask {
                                for await message in socket.messages {
                                    try? await socket.send(message)
                                }
                            }
                        }
                    }
                }
            }
            let address = try await server.waitUntilListening()
            let fixture = EngineIOServerFixture(engine: engine, port: address.port ?? 0, path: path, recorder: recorder)
            defer {
                server.shutdown()
                group.cancelAll()
            }
            try await body(fixture)
        }
    }

    /// The server-side socket of session `sid` (waits for the application to have received it).
    func socket(_ sid: String) async throws -> EngineIOSocket {
        for _ in 0..<2000 {
            if let socket = recorder.socket(sid) { return socket }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw FixtureError("the application never received session \(sid)")
    }

    /// Waits until session `sid` holds a polling GET (so that the next request is concurrent).
    func waitUntilPollIsPending(_ sid: String) async throws {
        let socket = try await socket(sid)
        for _ in 0..<2000 {
            if socket.session.hasPendingPoll { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw FixtureError("no polling GET became pending for \(sid)")
    }

    // MARK: - Polling client

    /// `GET <path>?<query>`.
    func get(_ query: String, headers: [(String, String)] = []) async throws -> LoopbackHTTPResponse {
        try await LoopbackHTTP.request("GET", "\(path)?\(query)", port: port, headers: headers)
    }

    /// `POST <path>?<query>` with `body`.
    func post(_ query: String, body: [UInt8], headers: [(String, String)] = []) async throws -> LoopbackHTTPResponse {
        try await LoopbackHTTP.request("POST", "\(path)?\(query)", port: port, headers: headers, body: body)
    }

    /// Opens a polling session (protocol.md 4.1.3) and returns its id and handshake.
    func openPollingSession(query: String = "EIO=4&transport=polling", headers: [(String, String)] = []) async throws
        -> (sid: String, handshake: EngineIOHandshake)
    {
        let response = try await get(query, headers: headers)
        guard response.status == 200, response.text.first == "0" else {
            throw FixtureError("handshake failed: \(response.status) \(response.text)")
        }
        let handshake = try EngineIOHandshake(json: String(response.text.dropFirst()))
        return (handshake.sid, handshake)
    }

    /// A polling GET for session `sid`.
    func poll(_ sid: String) async throws -> LoopbackHTTPResponse {
        try await get("EIO=4&transport=polling&sid=\(sid)")
    }

    /// A polling POST of `packets` (joined with 0x1E) for session `sid`.
    func send(_ sid: String, _ packets: [String]) async throws -> LoopbackHTTPResponse {
        try await post("EIO=4&transport=polling&sid=\(sid)", body: Array(packets.joined(separator: "\u{1E}").utf8))
    }

    /// Polls until `count` packets that are not pings/noops arrived (answering pings), bounded.
    func collect(_ sid: String, count: Int, maxPolls: Int = 200) async throws -> [String] {
        var packets: [String] = []
        for _ in 0..<maxPolls where packets.count < count {
            let response = try await poll(sid)
            guard response.status == 200 else { throw FixtureError("poll failed: \(response.status) \(response.text)") }
            for packet in response.packets {
                if packet == "2" {
                    _ = try await send(sid, ["3"])
                } else if packet != "6" {
                    packets.append(packet)
                }
            }
        }
        return packets
    }

    // MARK: - WebSocket client

    /// A raw WebSocket opening handshake that the server is expected to refuse (RFC 6455 §4.1):
    /// returns the refusal, body included.
    func refusedUpgrade(_ query: String, headers: [(String, String)] = []) async throws -> LoopbackHTTPResponse {
        try await LoopbackHTTP.request(
            "GET",
            "\(path)?\(query)",
            port: port,
            headers: [
                ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ] + headers,
            closesConnection: false
        )
    }

    /// The WebSocket URL of the endpoint with `query`.
    func webSocketURL(_ query: String) -> String {
        "ws://127.0.0.1:\(port)\(path)?\(query)"
    }

    /// Connects a WebSocket to the endpoint and runs `body` with it.
    func withWebSocket<Result: Sendable>(
        _ query: String,
        _ body: (WebSocketConnection) async throws -> Result
    ) async throws -> Result {
        try await WebSocketConnection.connect(
            to: webSocketURL(query),
            configuration: WebSocketClientConfiguration(compression: nil, keepAlive: .disabled),
            body
        )
    }
}

/// The sessions the application received, by id.
private final class SocketRecorder: Sendable {
    private let sockets = Mutex<[String: EngineIOSocket]>([:])

    func record(_ socket: EngineIOSocket) {
        sockets.withLock { $0[socket.id.rawValue] = socket }
    }

    func socket(_ sid: String) -> EngineIOSocket? {
        sockets.withLock { $0[sid] }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension WebSocketInboundMessages.AsyncIterator {
    /// The next message as text (binary messages are reported as `<binary n>`).
    mutating func nextText() async throws -> String? {
        guard let message = try await next() else { return nil }
        return message.text ?? "<binary \(message.data.readableBytes)>"
    }
}
