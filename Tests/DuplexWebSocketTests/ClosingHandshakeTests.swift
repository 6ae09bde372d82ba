import DuplexWebSocket
import DuplexWebSocketCore
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing

/// The closing handshake over loopback (RFC 6455 §7), graceful shutdown, and the close-code
/// table of `Docs/Errors.md` (which close code each failure sends).
@Suite("Closing handshake and close codes", .timeLimit(.minutes(1)))
struct ClosingHandshakeTests {
    /// Where a server handler reports how its connection ended.
    final class Outcome: Sendable {
        private let stream: AsyncStream<Result<CloseInfo?, WebSocketError>>
        private let continuation: AsyncStream<Result<CloseInfo?, WebSocketError>>.Continuation
        init() { (stream, continuation) = AsyncStream.makeStream() }

        /// Iterates the connection's messages to the end and reports how it ended.
        func record(_ connection: WebSocketConnection) async {
            do {
                for try await _ in connection.messages {}
                continuation.yield(.success(connection.closeInfo))
            } catch {
                continuation.yield(.failure(error))
            }
        }

        func next() async -> Result<CloseInfo?, WebSocketError>? {
            for await outcome in stream { return outcome }
            return nil
        }
    }

    @Test("RFC 6455 §5.5.1: the server echoes the client's close code; both sides see it")
    func clientInitiatedClose() async throws {
        try await withTimeout {
            let outcome = Outcome()
            var router = WebSocketRouter()
            router.webSocket("/ws") { connection in await outcome.record(connection) }
            try await withServer(router: router) { server in
                let info = try await WebSocketConnection.connect(to: server.url("/ws"), configuration: .test(), logger: .test) {
                    connection in
                    try await connection.close(code: CloseCode(4000), reason: "bye")
                    #expect(!connection.isOpen)
                    return connection.closeInfo
                }
                #expect(info?.sent == CloseFrame(code: CloseCode(4000), reason: "bye"))
                #expect(info?.received == CloseFrame(code: CloseCode(4000), reason: "bye"))
                #expect(info?.receivedThenSent == false)

                // 4000 is not a normal closure: the server's message loop ends with connectionClosed.
                let serverSide = await outcome.next()
                guard case .failure(let error) = serverSide else {
                    Issue.record("the server saw \(String(describing: serverSide))")
                    return
                }
                #expect(error.code == .connectionClosed)
                #expect(error.closeInfo?.received == CloseFrame(code: CloseCode(4000), reason: "bye"))
                #expect(error.closeInfo?.receivedThenSent == true)
            }
        }
    }

    @Test("A normal closure (1000) ends the message sequence without an error")
    func normalClosure() async throws {
        try await withTimeout {
            let outcome = Outcome()
            var router = WebSocketRouter()
            router.webSocket("/ws") { connection in await outcome.record(connection) }
            try await withServer(router: router) { server in
                try await WebSocketConnection.connect(to: server.url("/ws"), configuration: .test(), logger: .test) { _ in }
                let serverSide = await outcome.next()
                guard case .success(let info) = serverSide else {
                    Issue.record("the server saw \(String(describing: serverSide))")
                    return
                }
                #expect(info?.code == .normalClosure)
                #expect(info?.isNormal == true)
            }
        }
    }

    @Test("A server-initiated close reaches the client with its code and reason")
    func serverInitiatedClose() async throws {
        try await withTimeout {
            var router = WebSocketRouter()
            router.webSocket("/ws") { connection in try await connection.close(code: CloseCode(4001), reason: "server bye") }
            try await withServer(router: router) { server in
                let error = try await WebSocketConnection.connect(to: server.url("/ws"), configuration: .test(), logger: .test) {
                    connection -> WebSocketError? in
                    do {
                        for try await _ in connection.messages {}
                        return nil
                    } catch let error as WebSocketError {
                        return error
                    }
                }
                let failure = try expectError(error, ErrorContract(.connectionClosed, .closed, retryable: true))
                #expect(failure.closeInfo?.received == CloseFrame(code: CloseCode(4001), reason: "server bye"))
                #expect(failure.closeInfo?.sent?.code == CloseCode(4001))
                #expect(failure.closeInfo?.receivedThenSent == true)
            }
        }
    }

    @Test(
        "Close codes RFC 6455 §7.4 forbids on the wire are refused locally → invalidCloseCode",
        arguments: [1005, 1006, 1015, 999, 2000, 5000])
    func unsendableCloseCode(code: Int) async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: .test(), logger: .test) { connection in
                    let error = await #expect(throws: WebSocketError.self) {
                        try await connection.close(code: CloseCode(UInt16(code)))
                    }
                    #expect(error?.code == .invalidCloseCode)
                    #expect(error?.code.category == .usage)
                    #expect(connection.isOpen)
                }
            }
        }
    }

    @Test("Sending after close → sendAfterClose")
    func sendAfterClose() async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: .test(), logger: .test) { connection in
                    try await connection.close()
                    let error = await #expect(throws: WebSocketError.self) { try await connection.send(text: "late") }
                    #expect(error?.code == .sendAfterClose)
                    #expect(error?.isRetryable == false)
                    // Closing again waits for the same closure and does not throw.
                    try await connection.close()
                }
            }
        }
    }

    @Test("Iterating the messages from two tasks → concurrentReceive")
    func concurrentReceive() async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: .test(), logger: .test) { connection in
                    var first = connection.messages.makeAsyncIterator()
                    var second = connection.messages.makeAsyncIterator()
                    let error = await #expect(throws: WebSocketError.self) { _ = try await second.next() }
                    #expect(error?.code == .concurrentReceive)
                    try await connection.send(text: "still works")
                    #expect(try await first.next()?.text == "still works")
                }
            }
        }
    }

    @Test(
        "RFC 6455 §7.1.2: the closing handshake completes after the server handler stopped reading",
        arguments: [false, true]
    )
    func closeAfterServerStoppedReading(secure: Bool) async throws {
        try await withTimeout(.seconds(40)) {
            // Close timeouts longer than the test's: only a completed handshake ends it in time.
            let configuration = WebSocketServerConfiguration.test {
                $0.closeTimeout = .seconds(120)
                $0.tls = secure ? try? TestCertificates.serverTLS() : nil
                $0.tls?.shutdownTimeout = .seconds(120)
            }
            var router = WebSocketRouter()
            router.webSocket("/one") { connection in
                // Reads one message, then returns: its iterator is gone, nothing reads any more.
                var messages = connection.messages.makeAsyncIterator()
                _ = try await messages.next()
            }
            try await withServer(configuration, router: router) { server in
                let client = WebSocketClientConfiguration.test {
                    $0.closeTimeout = .seconds(120)
                    if secure, var tls = try? TestCertificates.clientTLS() {
                        tls.shutdownTimeout = .seconds(120)
                        $0.tls = tls
                    }
                }
                let info = try await WebSocketConnection.connect(
                    to: server.url("/one", secure: secure), configuration: client, logger: .test
                ) {
                    connection in
                    try await connection.send(text: "one")
                    for try await _ in connection.messages {}
                    return connection.closeInfo
                }
                #expect(info?.received?.code == .normalClosure)
                #expect(info?.isNormal == true)
            }
        }
    }

    @Test(
        "RFC 6455 §7.1.2: the closing handshake completes after the client body stopped reading",
        arguments: [false, true]
    )
    func closeAfterClientStoppedReading(secure: Bool) async throws {
        try await withTimeout(.seconds(40)) {
            let configuration = WebSocketServerConfiguration.test {
                $0.closeTimeout = .seconds(120)
                $0.tls = secure ? try? TestCertificates.serverTLS() : nil
                // NIOSSL waits this long for the client's close_notify before closing TCP.
                $0.tls?.shutdownTimeout = .seconds(120)
            }
            try await withServer(configuration, router: echoRouter()) { server in
                let client = WebSocketClientConfiguration.test {
                    $0.closeTimeout = .seconds(120)
                    if secure, var tls = try? TestCertificates.clientTLS() {
                        tls.shutdownTimeout = .seconds(120)
                        $0.tls = tls
                    }
                }
                for _ in 0..<5 {
                    let info = try await WebSocketConnection.connect(
                        to: server.url("/echo", secure: secure), configuration: client, logger: .test
                    ) {
                        connection in
                        // A few replies read; the iterator is dropped when the body returns.
                        var messages = connection.messages.makeAsyncIterator()
                        for size in [10, 100_000, 10] {
                            try await connection.send(.binary(randomBytes(size)))
                            _ = try await messages.next()
                        }
                        return connection
                    }.closeInfo
                    #expect(info?.received?.code == .normalClosure)
                }
            }
        }
    }

    // MARK: The close-code table

    @Test("A server handler that throws closes the connection with 1011")
    func handlerThrows() async throws {
        struct HandlerFailure: Error {}
        try await withTimeout {
            var router = WebSocketRouter()
            router.webSocket("/ws") { _ in throw HandlerFailure() }
            try await withServer(router: router) { server in
                let info = try await Self.closeReceived(at: server.url("/ws"))
                #expect(info?.received?.code == .internalError)
            }
        }
    }

    @Test("A client body that throws closes the connection with 1011 and rethrows the error unchanged")
    func clientBodyThrows() async throws {
        struct BodyFailure: Error {}
        try await withTimeout {
            let outcome = Outcome()
            var router = WebSocketRouter()
            router.webSocket("/ws") { connection in await outcome.record(connection) }
            try await withServer(router: router) { server in
                await #expect(throws: BodyFailure.self) {
                    try await WebSocketConnection.connect(to: server.url("/ws"), configuration: .test(), logger: .test) { _ in
                        throw BodyFailure()
                    }
                }
                guard case .failure(let error) = await outcome.next() else {
                    Issue.record("the server saw a normal closure")
                    return
                }
                #expect(error.closeInfo?.received?.code == .internalError)
            }
        }
    }

    /// Ways a raw client breaks RFC 6455, and the close code the server must answer with.
    enum Violation: String, CaseIterable, Sendable {
        case unmaskedFrame, reservedOpcode, invalidUTF8, messageTooBig

        var closeCode: CloseCode {
            switch self {
            case .unmaskedFrame, .reservedOpcode: .protocolError
            case .invalidUTF8: .invalidPayloadData
            case .messageTooBig: .messageTooBig
            }
        }

        func commit(on connection: RawConnection) async throws {
            switch self {
            case .unmaskedFrame:
                // RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server".
                try await connection.writeFrame(.text, ByteBuffer(string: "hi"), masked: false)
            case .reservedOpcode:
                try await connection.writeFrame(Opcode(rawValue: 0x3), ByteBuffer())
            case .invalidUTF8:
                try await connection.writeFrame(.text, ByteBuffer(bytes: [0xC3, 0x28]))
            case .messageTooBig:
                try await connection.writeFrame(.binary, ByteBuffer(repeating: 0, count: 2048))
            }
        }
    }

    @Test("RFC 6455 §7.4.1: a peer breaking the protocol is failed with the matching close code", arguments: Violation.allCases)
    func protocolFailureCloseCodes(violation: Violation) async throws {
        try await withTimeout {
            let configuration = WebSocketServerConfiguration.test { $0.limits = WebSocketLimits(maxFrameSize: 1024, maxMessageSize: 1024) }
            try await withServer(configuration, router: echoRouter()) { server in
                let close = try await RawClient.withConnection(port: server.port) { connection -> Frame? in
                    #expect(try await connection.sendUpgradeRequest(path: "/echo")?.status == 101)
                    try await violation.commit(on: connection)
                    while let frame = try await connection.readFrame() {
                        if frame.opcode == .close { return frame }
                    }
                    return nil
                }
                let frame = try #require(close, "no close frame")
                #expect(try ConnectionStateMachine.parseClosePayload(frame.payload).code == violation.closeCode)
            }
        }
    }

    @Test("The client fails a server message over its maxMessageSize with 1009 → messageTooLarge")
    func clientMessageTooLarge() async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                let configuration = WebSocketClientConfiguration.test {
                    $0.limits = WebSocketLimits(maxFrameSize: 1 << 20, maxMessageSize: 1000)
                    $0.compression = nil
                }
                let error = try await WebSocketConnection.connect(to: server.url("/echo"), configuration: configuration, logger: .test) {
                    connection -> WebSocketError? in
                    // The echo of a message the client may send but not receive.
                    try await connection.send(.binary([UInt8](repeating: 1, count: 2000)))
                    do {
                        for try await _ in connection.messages {}
                        return nil
                    } catch let error as WebSocketError {
                        return error
                    }
                }
                let failure = try expectError(error, ErrorContract(.messageTooLarge, .protocolViolation, retryable: false))
                #expect(failure.closeInfo?.sent?.code == .messageTooBig)
            }
        }
    }

    @Test("RFC 6455 §7.4.1: graceful shutdown closes every connection with 1001 and run() returns")
    func gracefulShutdown() async throws {
        try await withTimeout {
            let server = WebSocketServer(configuration: .test(), router: echoRouter(), logger: .test)
            let running = Task { try await server.run() }
            let port = try await server.waitUntilListening().port ?? 0
            let (connected, signal) = AsyncStream<Void>.makeStream()
            let clients = Task {
                try await withThrowingTaskGroup(of: CloseInfo?.self) { group in
                    for _ in 0..<3 {
                        group.addTask {
                            try await WebSocketConnection.connect(to: "ws://127.0.0.1:\(port)/echo", configuration: .test(), logger: .test)
                            {
                                connection in
                                signal.yield()
                                // 1001 is a normal closure: the sequence ends without an error.
                                for try await _ in connection.messages {}
                                return connection.closeInfo
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            var count = 0
            for await _ in connected {
                count += 1
                if count == 3 { break }
            }
            try await waitUntil { server.connections.count == 3 }
            server.shutdown()
            let infos = try await clients.value
            #expect(infos.count == 3)
            for info in infos {
                #expect(info?.received?.code == .goingAway)
            }
            try await running.value
            #expect(server.connections.isEmpty)
            // No longer listening.
            let error = await connectError(to: "ws://127.0.0.1:\(port)/echo")
            try expectError(error, ErrorContract(.connectionFailed, .connection, retryable: true, cause: NIOConnectionError.self))
        }
    }

    /// Connects, reads until the end, and returns the close information.
    static func closeReceived(at url: String) async throws -> CloseInfo? {
        try await WebSocketConnection.connect(to: url, configuration: .test(), logger: .test) { connection in
            do {
                for try await _ in connection.messages {}
            } catch {}
            return connection.closeInfo
        }
    }
}
