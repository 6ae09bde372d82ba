import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import Testing

/// Routes whose messages are handled on the event loop (`webSocket(_:shouldUpgrade:onMessage:)`).
@Suite("Event-loop message handlers", .timeLimit(.minutes(1)))
struct EventLoopHandlerTests {
    static func router() -> WebSocketRouter {
        var router = WebSocketRouter()
        router.webSocket("/echo") { message, connection in
            if message.text == "bye" {
                try? connection.close(code: CloseCode(4002), reason: "loop bye")
            } else {
                try? connection.send(message)
            }
        }
        router.webSocket("/guarded", shouldUpgrade: { _ in .reject(status: .forbidden) }) { _, _ in
            Issue.record("a message reached a rejected route")
        }
        return router
    }

    @Test("Messages are echoed in order, fragmented and compressed ones included", arguments: [false, true])
    func echo(compressed: Bool) async throws {
        try await withTimeout {
            try await withServer(router: Self.router()) { server in
                let configuration = WebSocketClientConfiguration.test { $0.compression = compressed ? .default : nil }
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: configuration, logger: .test) { connection in
                    var replies = connection.messages.makeAsyncIterator()
                    for index in 0..<200 {
                        try await connection.send(text: "message \(index)")
                    }
                    for index in 0..<200 {
                        let reply = try await replies.next()
                        #expect(reply?.text == "message \(index)")
                    }
                    let bytes = randomBytes(100_000)
                    try await connection.send(.binary(bytes), fragmentSize: 4096)
                    let reply = try await replies.next()
                    #expect(reply?.bytes == bytes)
                }
            }
        }
    }

    @Test("A loop handler closes the connection with its code")
    func loopHandlerCloses() async throws {
        try await withTimeout {
            try await withServer(router: Self.router()) { server in
                let error = try await WebSocketConnection.connect(to: server.url("/echo"), configuration: .test(), logger: .test) {
                    connection -> WebSocketError? in
                    try await connection.send(text: "bye")
                    do {
                        for try await _ in connection.messages {}
                        return nil
                    } catch let error as WebSocketError {
                        return error
                    }
                }
                let failure = try expectError(error, ErrorContract(.connectionClosed, .closed, retryable: true))
                #expect(failure.closeInfo?.received == CloseFrame(code: CloseCode(4002), reason: "loop bye"))
            }
        }
    }

    @Test("The upgrade hook applies to loop routes")
    func hookRejects() async throws {
        try await withTimeout {
            try await withServer(router: Self.router()) { server in
                let error = await connectError(to: server.url("/guarded"))
                let failure = try expectError(error, ErrorContract(.handshakeRejected, .handshake, retryable: false))
                #expect(failure.response?.status == .forbidden)
            }
        }
    }
}
