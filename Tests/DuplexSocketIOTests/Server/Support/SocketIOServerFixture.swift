import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import DuplexWebSocket
import Logging
import NIOCore
import Synchronization
import Testing

/// A ``SocketIOServer`` mounted at `/socket.io/` on a ``WebSocketServer`` at 127.0.0.1:0.
struct SocketIOServerFixture: Sendable {
    let io: SocketIOServer
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/socket.io/" }

    /// Runs `body` against a fresh server that `configure` set up.
    static func run(
        _ configuration: SocketIOServerConfiguration = SocketIOServerConfiguration(),
        configure: (SocketIOServer) -> Void = { _ in },
        _ body: (SocketIOServerFixture) async throws -> Void
    ) async throws {
        let logger = Logger(label: "duplex.sio.tests") { _ in SwiftLogNoOpLogHandler() }
        let io = try SocketIOServer(configuration: configuration, logger: logger)
        configure(io)
        var router = WebSocketRouter()
        io.mount(on: &router)
        let server = WebSocketServer(
            configuration: WebSocketServerConfiguration(
                host: "127.0.0.1",
                port: 0,
                compression: nil,
                shutdownGracePeriod: .milliseconds(200),
                backlog: 1024
            ),
            router: router,
            logger: logger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask { await io.run() }
            let address = try await server.waitUntilListening()
            let fixture = SocketIOServerFixture(io: io, port: address.port ?? 0)
            defer {
                server.shutdown()
                group.cancelAll()
            }
            try await body(fixture)
        }
    }

    /// Opens an Engine.IO session to the server and runs `body` with a raw Socket.IO client on it.
    func withClient<Result: Sendable>(
        transport: EngineIOTransport = .websocket,
        _ body: (RawSocketIOClient) async throws -> Result
    ) async throws -> Result {
        let transports: [EngineIOTransport] = transport == .websocket ? [.websocket] : [.polling]
        return try await EngineIOClient.connect(
            to: url,
            configuration: EngineIOClientConfiguration(transports: transports, allowsUpgrade: false)
        ) { socket in
            let client = RawSocketIOClient(socket: socket)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.pump() }
                defer { group.cancelAll() }
                return try await body(client)
            }
        }
    }

    /// Waits (bounded) until `condition` holds.
    func eventually(_ what: String, within limit: Duration = .seconds(5), _ condition: @Sendable () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while !condition() {
            guard clock.now < deadline else { throw BoundedWaitTimeout(description: "\(what) did not happen within \(limit)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// A Socket.IO client written by hand on an Engine.IO client: sends packets encoded with the
/// core encoder and decodes what the server sends.
final class RawSocketIOClient: Sendable {
    let socket: EngineIOClientSocket
    private let inbox = Mutex<Inbox>(Inbox())

    private struct Inbox {
        var packets: [SocketIOPacket] = []
        var ended = false
        var decodeError: SocketIOError?
    }

    init(socket: EngineIOClientSocket) {
        self.socket = socket
    }

    /// Reads and decodes the session's messages until it ends.
    func pump() async {
        var decoder = SocketIOPacketDecoder(maxAttachments: 100)
        do {
            for try await message in socket.messages {
                let output: SocketIOPacketDecoder.Output
                switch message {
                case .text(let text): output = try decoder.textReceived(text)
                case .binary(let bytes): output = try decoder.binaryReceived(bytes)
                }
                if case .packet(let packet) = output { inbox.withLock { $0.packets.append(packet) } }
            }
        } catch let error as SocketIOError {
            inbox.withLock { $0.decodeError = error }
        } catch {}
        inbox.withLock { $0.ended = true }
    }

    /// Sends a packet (text, then its attachments).
    func send(_ packet: SocketIOPacket) async throws {
        let encoded = SocketIOPacketEncoder().encode(packet)
        try await socket.send(text: encoded.text)
        for attachment in encoded.attachments { try await socket.send(binary: attachment) }
    }

    /// Sends a raw text message.
    func send(text: String) async throws {
        try await socket.send(text: text)
    }

    /// The next packet, waiting at most `limit`.
    func next(within limit: Duration = .seconds(5)) async throws -> SocketIOPacket {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while true {
            let (packet, ended): (SocketIOPacket?, Bool) = inbox.withLock { inbox in
                if !inbox.packets.isEmpty { return (inbox.packets.removeFirst(), false) }
                return (nil, inbox.ended)
            }
            if let packet { return packet }
            if ended { throw BoundedWaitTimeout(description: "the session ended while waiting for a packet") }
            guard clock.now < deadline else { throw BoundedWaitTimeout(description: "no packet within \(limit)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// The next event packet (skipping nothing: fails if another type comes first).
    func nextEvent(within limit: Duration = .seconds(5)) async throws -> (name: String, arguments: [JSONValue], packet: SocketIOPacket) {
        let packet = try await next(within: limit)
        guard packet.type == .event, let elements = packet.data?.arrayValue, let name = elements.first?.stringValue else {
            throw BoundedWaitTimeout(description: "expected an event, got \(packet)")
        }
        return (name, Array(elements.dropFirst()), packet)
    }

    /// Whether no packet arrives within `limit`.
    func expectNothing(within limit: Duration = .milliseconds(200)) async throws -> Bool {
        do {
            let packet = try await next(within: limit)
            Issue.record("unexpected packet \(packet)")
            return false
        } catch {
            return true
        }
    }

    /// Waits until the session has ended (the server closed it).
    func waitUntilEnded(within limit: Duration = .seconds(5)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while !inbox.withLock({ $0.ended }) {
            guard clock.now < deadline else { throw BoundedWaitTimeout(description: "the session did not end within \(limit)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Whether the session has ended.
    var hasEnded: Bool { inbox.withLock { $0.ended } }

    /// Connects to `namespace` and returns the server's reply (CONNECT or CONNECT_ERROR).
    @discardableResult
    func connect(_ namespace: String = "/", auth: JSONValue? = nil) async throws -> SocketIOPacket {
        try await send(.connect(namespace: namespace, data: auth))
        return try await next()
    }
}

/// Collects values from handlers running on other tasks.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
    var count: Int { values.withLock { $0.count } }
}
