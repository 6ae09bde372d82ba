import DuplexEngineIO
import DuplexEngineIOCore
import DuplexSocketIOCore
import DuplexWebSocket
import Logging
import NIOCore
import Synchronization

/// A scripted Socket.IO peer for the client tests: a real ``EngineIOServer`` (polling,
/// upgrade, WebSocket) at `/socket.io/` whose sessions are handed to the test as
/// ``FakeSocketIOConnection``s, which decode what the client sends and send whatever packets
/// (or raw text) the test asks for. Nothing is automatic, so refusals, acks, malformed input,
/// reconnections and recovery can all be scripted.
struct FakeSocketIOServer: Sendable {
    let engine: EngineIOServer
    private let connectionQueue: FakeQueue<FakeSocketIOConnection>

    /// Runs `body` with a server on 127.0.0.1 and its URL (`http://127.0.0.1:PORT`).
    static func with<Result: Sendable>(
        _ configuration: EngineIOServerConfiguration = EngineIOServerConfiguration(),
        _ body: (FakeSocketIOServer, String) async throws -> Result
    ) async throws -> Result {
        let logger = Logger(label: "fake-sio", factory: { _ in SwiftLogNoOpLogHandler() })
        let engine = try EngineIOServer(configuration: configuration, logger: logger)
        var router = WebSocketRouter()
        engine.mount(on: &router, path: "/socket.io/")
        let server = WebSocketServer(
            configuration: WebSocketServerConfiguration(
                port: 0,
                compression: nil,
                shutdownGracePeriod: .seconds(1)
            ),
            router: router,
            logger: logger
        )
        let fake = FakeSocketIOServer(engine: engine, connectionQueue: FakeQueue())
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask {
                await withDiscardingTaskGroup { sessions in
                    for await socket in engine.sessions {
                        let connection = FakeSocketIOConnection(socket: socket)
                        fake.connectionQueue.push(connection)
                        sessions.addTask { await connection.readLoop() }
                    }
                }
            }
            let address = try await server.waitUntilListening()
            let url = "http://127.0.0.1:\(address.port ?? 0)"
            func stop() async {
                await engine.shutdown()
                server.shutdown()
            }
            do {
                let result = try await body(fake, url)
                await stop()
                try await group.waitForAll()
                return result
            } catch {
                await stop()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    /// The next Engine.IO session a client opens.
    func nextConnection(within limit: Duration = .seconds(10), line: Int = #line) async throws -> FakeSocketIOConnection {
        guard let connection = try await connectionQueue.next(within: limit, line: line) else {
            throw BoundedWaitTimeout(description: "no connection within \(limit) (line \(line))")
        }
        return connection
    }

    /// Whether a new session was opened (without waiting).
    var hasPendingConnection: Bool { connectionQueue.count > 0 }
}

/// One client session on the ``FakeSocketIOServer``.
final class FakeSocketIOConnection: Sendable {
    let socket: EngineIOSocket
    private let packets = FakeQueue<SocketIOPacket>()
    private let decodeErrors = Mutex<[SocketIOError]>([])
    private let encoder = SocketIOPacketEncoder()

    init(socket: EngineIOSocket) {
        self.socket = socket
    }

    func readLoop() async {
        var decoder = SocketIOPacketDecoder()
        for await message in socket.messages {
            do {
                let output: SocketIOPacketDecoder.Output
                switch message {
                case .text(let text): output = try decoder.textReceived(text)
                case .binary(let bytes): output = try decoder.binaryReceived(bytes)
                }
                if case .packet(let packet) = output { packets.push(packet) }
            } catch {
                decodeErrors.withLock { $0.append(error) }
            }
        }
        packets.finish()
    }

    /// Decode errors met so far (the client must never send an invalid packet).
    var errors: [SocketIOError] { decodeErrors.withLock { $0 } }

    /// The next packet the client sent; nil when the session ended first.
    func nextPacket(within limit: Duration = .seconds(10), line: Int = #line) async throws -> SocketIOPacket? {
        try await packets.next(within: limit, line: line)
    }

    /// Reads packets until one satisfies `predicate` (failing after `limit`).
    func nextPacket(
        within limit: Duration = .seconds(10),
        line: Int = #line,
        where predicate: (SocketIOPacket) -> Bool
    ) async throws -> SocketIOPacket {
        while true {
            guard let packet = try await packets.next(within: limit, line: line) else {
                throw BoundedWaitTimeout(description: "the session ended before the expected packet")
            }
            if predicate(packet) { return packet }
        }
    }

    /// Whether a packet is waiting (without waiting).
    var hasPendingPacket: Bool { packets.count > 0 }

    /// Sends a packet (text, then attachments).
    func send(_ packet: SocketIOPacket) async throws {
        let encoded = encoder.encode(packet)
        try await socket.send(text: encoded.text)
        for attachment in encoded.attachments { try await socket.send(binary: attachment) }
    }

    /// Sends a raw Engine.IO message.
    func send(raw message: EngineIOMessage) async throws {
        try await socket.send(message)
    }

    /// Reads the client's CONNECT for `namespace` and accepts it with socket id `socketID` (and
    /// `pid` for connection state recovery); returns the CONNECT payload.
    @discardableResult
    func accept(
        namespace: String = "/",
        socketID: String = "sid-1",
        pid: String? = nil,
        line: Int = #line
    ) async throws -> JSONValue? {
        let connect = try await nextPacket(line: line) { $0.type == .connect && $0.namespace == namespace }
        var reply: JSONObject = ["sid": .string(socketID)]
        if let pid { reply["pid"] = .string(pid) }
        try await send(.connect(namespace: namespace, data: .object(reply)))
        return connect.data
    }

    /// Closes the Engine.IO session.
    func close() async {
        await socket.close()
    }
}

/// A FIFO that one task reads with a bounded wait.
final class FakeQueue<Element: Sendable>: Sendable {
    /// Resumed with `.some(item)`, `.some(nil)` when finished, or `nil` when the wait expired.
    private typealias Waiter = CheckedContinuation<Element??, Never>

    private struct State {
        var items: [Element] = []
        var isFinished = false
        var waiter: Waiter?
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.items.count } }

    func push(_ item: Element) {
        let waiter = state.withLock { state -> Waiter? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.items.append(item)
            return nil
        }
        waiter?.resume(returning: .some(item))
    }

    func finish() {
        let waiter = state.withLock { state -> Waiter? in
            state.isFinished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: .some(nil))
    }

    /// The next item, nil once finished; throws ``BoundedWaitTimeout`` after `limit`.
    func next(within limit: Duration, line: Int = #line) async throws -> Element? {
        let timer = Task {
            do { try await Task.sleep(for: limit) } catch { return }
            let waiter = self.state.withLock { state -> Waiter? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
        defer { timer.cancel() }
        let result = await withCheckedContinuation { (continuation: Waiter) in
            let immediate = state.withLock { state -> Element?? in
                if !state.items.isEmpty { return .some(state.items.removeFirst()) }
                if state.isFinished { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
        guard let result else { throw BoundedWaitTimeout(description: "nothing arrived within \(limit) (line \(line))") }
        return result
    }
}
