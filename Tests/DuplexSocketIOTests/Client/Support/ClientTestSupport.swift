import DuplexEngineIO
import DuplexEngineIOCore
import DuplexSocketIO
import DuplexSocketIOCore
import NIOCore
import Testing

/// How the test client opens its Engine.IO session.
enum TransportMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case polling, websocket, upgrade

    var transports: [EngineIOTransport] {
        switch self {
        case .polling: return [.polling]
        case .websocket: return [.websocket]
        case .upgrade: return [.polling, .websocket]
        }
    }

    var testDescription: String { rawValue }
}

extension SocketIOClientConfiguration {
    /// Fast, deterministic reconnection (no jitter) for loopback tests.
    static func testing(
        _ mode: TransportMode = .polling,
        reconnection: Bool = true,
        configure: (inout SocketIOClientConfiguration) -> Void = { _ in }
    ) -> SocketIOClientConfiguration {
        var configuration = SocketIOClientConfiguration(
            reconnection: reconnection,
            reconnectionDelay: .milliseconds(20),
            reconnectionDelayMax: .milliseconds(100),
            randomizationFactor: 0
        )
        configuration.engineIO.transports = mode.transports
        configure(&configuration)
        return configuration
    }
}

extension FakeQueue {
    /// The next item, failing the test when the queue finished.
    func expectNext(within limit: Duration = .seconds(10), line: Int = #line) async throws -> Element {
        try #require(try await next(within: limit, line: line))
    }
}

/// Bytes as a binary JSON value.
func binary(_ bytes: [UInt8]) -> JSONValue {
    .binary(ByteBuffer(bytes: bytes))
}

/// Connects `socket` while `connection` accepts it; returns the CONNECT payload.
@discardableResult
func connect(
    _ socket: SocketIOClientSocket,
    on server: FakeSocketIOServer,
    socketID: String = "sid-1",
    pid: String? = nil,
    line: Int = #line
) async throws -> (FakeSocketIOConnection, JSONValue?) {
    let connecting = Task { try await socket.connect() }
    let connection = try await server.nextConnection(line: line)
    let payload = try await connection.accept(namespace: socket.namespace, socketID: socketID, pid: pid, line: line)
    try await connecting.value
    return (connection, payload)
}
