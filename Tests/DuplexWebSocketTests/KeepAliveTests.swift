import DuplexWebSocket
import DuplexWebSocketCore
import NIOCore
import Testing

/// Keepalive pings (RFC 6455 §5.5.2-5.5.3) and ``WebSocketConnection/ping(_:)`` over loopback.
@Suite("Keepalive and ping", .timeLimit(.minutes(1)))
struct KeepAliveTests {
    @Test("RFC 6455 §5.5.2: a peer that never answers the server's pings is closed with 1011")
    func unansweredPingsCloseWith1011() async throws {
        try await withTimeout {
            let configuration = WebSocketServerConfiguration.test {
                $0.keepAlive = .enabled(interval: .milliseconds(100), timeout: .milliseconds(200))
            }
            try await withServer(configuration, router: echoRouter()) { server in
                let frames = try await RawClient.withConnection(port: server.port) { connection -> [Frame] in
                    #expect(try await connection.sendUpgradeRequest(path: "/echo")?.status == 101)
                    // Never answer: read until the server closes the TCP connection.
                    var frames: [Frame] = []
                    while let frame = try await connection.readFrame() { frames.append(frame) }
                    return frames
                }
                let opcodes = frames.map(\.opcode)
                #expect(opcodes.first == .ping, "\(opcodes)")
                #expect(opcodes.last == .close, "\(opcodes)")
                let close = try #require(frames.last)
                #expect(try ConnectionStateMachine.parseClosePayload(close.payload).code == .internalError)
            }
        }
    }

    @Test("RFC 6455 §5.5.3: a peer that answers keeps the connection open, and the latency is measured")
    func answeredPingsKeepTheConnection() async throws {
        try await withTimeout {
            let configuration = WebSocketServerConfiguration.test {
                $0.keepAlive = .enabled(interval: .milliseconds(50), timeout: .seconds(5))
            }
            var router = WebSocketRouter()
            router.webSocket("/ws") { connection in
                // Report the server's measured latency once a few keepalive rounds have passed.
                try await waitUntil { connection.latency != nil }
                try await connection.send(text: "latency measured")
                for try await _ in connection.messages {}
            }
            try await withServer(configuration, router: router) { server in
                // The client answers pings by itself (the core replies, not the application), and
                // pings the server on its own schedule too.
                let client = WebSocketClientConfiguration.test {
                    $0.keepAlive = .enabled(interval: .milliseconds(50), timeout: .seconds(5))
                }
                try await WebSocketConnection.connect(to: server.url("/ws"), configuration: client, logger: .test) { connection in
                    var messages = connection.messages.makeAsyncIterator()
                    #expect(try await messages.next()?.text == "latency measured")
                    try await waitUntil { connection.latency != nil }
                    #expect(connection.latency.map { $0 >= .zero } == true)
                    #expect(connection.isOpen)
                }
            }
        }
    }

    @Test("ping() waits for the pong and returns the round-trip time, also while nobody reads")
    func pingLatency() async throws {
        try await withTimeout {
            var router = WebSocketRouter()
            // The server never iterates its messages: pongs do not depend on the application.
            router.webSocket("/idle") { connection in
                while connection.isOpen { try await Task.sleep(for: .milliseconds(20)) }
            }
            try await withServer(router: router) { server in
                try await WebSocketConnection.connect(to: server.url("/idle"), configuration: .test(), logger: .test) { connection in
                    for payload in [[], [1, 2, 3], [UInt8](repeating: 7, count: 125)] as [[UInt8]] {
                        let rtt = try await connection.ping(payload)
                        #expect(rtt > .zero)
                        #expect(rtt < .seconds(15))
                    }
                    let error = await #expect(throws: WebSocketError.self) {
                        _ = try await connection.ping([UInt8](repeating: 0, count: 126))
                    }
                    #expect(error?.code.category == .usage || error?.code.category == .configuration)
                    #expect(connection.isOpen)
                }
            }
        }
    }
}
