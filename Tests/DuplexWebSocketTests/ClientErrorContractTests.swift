import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// The client-side rows of `Docs/Errors.md`: each way an opening handshake can fail produces one
/// documented code, category, retryability and cause type. Changing a row is a breaking change.
@Suite("Client error contract (Docs/Errors.md)", .timeLimit(.minutes(1)))
struct ClientErrorContractTests {
    // MARK: Transport

    @Test("Server not listening → connectionFailed")
    func serverNotListening() async throws {
        try await withTimeout {
            let port = try await unusedPort()
            let error = await connectError(to: "ws://127.0.0.1:\(port)/")
            try expectError(error, ErrorContract(.connectionFailed, .connection, retryable: true, cause: NIOConnectionError.self))
        }
    }

    @Test("DNS failure → connectionFailed")
    func dnsFailure() async throws {
        try await withTimeout {
            // RFC 6761 §6.4: names under .invalid never resolve.
            let error = await connectError(to: "ws://duplex-test.invalid/", configuration: .test { $0.openTimeout = .seconds(25) })
            try expectError(error, ErrorContract(.connectionFailed, .connection, retryable: true, cause: NIOConnectionError.self))
        }
    }

    @Test("Connection reset before the response → invalidHandshakeResponse (the same code as a close)")
    func connectionReset() async throws {
        try await withTimeout {
            let error = try await connectError(againstRawServer: { connection in
                _ = try await connection.readHead()
                try await connection.reset()
            })
            let failure = try expectError(error, ErrorContract(.invalidHandshakeResponse, .handshake, retryable: true, cause: IOError.self))
            #expect(failure.response == nil)
        }
    }

    @Test("Server accepts TCP and closes before sending anything → invalidHandshakeResponse")
    func closedBeforeStatusLine() async throws {
        try await withTimeout {
            let error = try await connectError(againstRawServer: { connection in
                _ = try await connection.readHead()
            })
            let failure = try expectError(
                error, ErrorContract(.invalidHandshakeResponse, .handshake, retryable: true, cause: EndOfStream.self))
            #expect(failure.message.contains("closed before the status line"))
            #expect(failure.response == nil)
        }
    }

    @Test("Server closes in the middle of the status line → invalidHandshakeResponse")
    func closedWhileReadingStatusLine() async throws {
        try await withTimeout {
            let error = try await connectError(againstRawServer: { connection in
                _ = try await connection.readHead()
                try await connection.write("HTTP/1.1 10")
            })
            let failure = try expectError(
                error, ErrorContract(.invalidHandshakeResponse, .handshake, retryable: true, cause: EndOfStream.self))
            #expect(failure.message.contains("while reading the status line"))
        }
    }

    @Test("Server closes in the middle of the headers → invalidHandshakeResponse")
    func closedWhileReadingHeaders() async throws {
        try await withTimeout {
            let error = try await connectError(againstRawServer: { connection in
                _ = try await connection.readHead()
                try await connection.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: webs")
            })
            let failure = try expectError(
                error, ErrorContract(.invalidHandshakeResponse, .handshake, retryable: true, cause: EndOfStream.self))
            #expect(failure.message.contains("while reading the response headers"))
        }
    }

    @Test("Server answers with something that is not HTTP → invalidHandshakeResponse")
    func nonHTTPGarbage() async throws {
        try await withTimeout {
            let error = try await connectError(againstRawServer: { connection in
                _ = try await connection.readHead()
                try await connection.write("SSH-2.0-OpenSSH_9.6\r\n")
                _ = await connection.readToEnd()
            })
            let failure = try expectError(error, ErrorContract(.invalidHandshakeResponse, .handshake, retryable: true))
            #expect(failure.response == nil)
        }
    }

    // MARK: Status

    @Test(
        "Server answers a status other than 101 → handshakeRejected with the response",
        arguments: [(200, false), (403, false), (404, false), (429, true), (503, true)]
    )
    func nonSwitchingStatus(status: Int, retryable: Bool) async throws {
        try await withTimeout {
            let error = try await connectError(againstRawServer: { connection in
                _ = try await connection.readHead()
                try await connection.write("HTTP/1.1 \(status) Status \(status)\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello")
                _ = await connection.readToEnd()
            })
            let failure = try expectError(error, ErrorContract(.handshakeRejected, .handshake, retryable: retryable))
            #expect(failure.response?.status.code == status)
            #expect(failure.response?.headerFields[HTTPField.Name("X-Test")!] == "yes")
        }
    }

    // MARK: Handshake headers

    @Test(
        "RFC 6455 §4.1: a 101 without a valid Sec-WebSocket-Accept, Upgrade or Connection → invalidHandshakeResponse",
        arguments: [
            ("missing Sec-WebSocket-Accept", ["Sec-WebSocket-Accept"], nil),
            ("wrong Sec-WebSocket-Accept", [], "dGhlIHNhbXBsZSBub25jZQ=="),
            ("missing Upgrade", ["Upgrade"], nil),
            ("missing Connection", ["Connection"], nil),
        ] as [(String, Set<String>, String?)]
    )
    func invalidSwitchingResponse(name: String, omitting: Set<String>, acceptOverride: String?) async throws {
        try await withTimeout {
            let error = try await connectError(againstRawServer: { connection in
                try await connection.acceptUpgrade(omitting: omitting, acceptOverride: acceptOverride)
                _ = await connection.readToEnd()
            })
            let failure = try expectError(error, ErrorContract(.invalidHandshakeResponse, .handshake, retryable: false))
            #expect(failure.response?.status.code == 101, "\(name)")
        }
    }

    @Test(
        "RFC 6455 §4.1: an extension or subprotocol the client did not offer → negotiationFailed",
        arguments: [
            ("subprotocol not offered", "Sec-WebSocket-Protocol: chat\r\n", true),
            ("permessage-deflate not offered", "Sec-WebSocket-Extensions: permessage-deflate\r\n", false),
            ("unknown extension", "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n", true),
        ]
    )
    func unrequestedNegotiation(name: String, header: String, clientOffersCompression: Bool) async throws {
        try await withTimeout {
            let error = try await connectError(
                againstRawServer: { connection in
                    try await connection.acceptUpgrade(extraHeaders: header)
                    _ = await connection.readToEnd()
                },
                configuration: .test { $0.compression = clientOffersCompression ? .default : nil }
            )
            let failure = try expectError(error, ErrorContract(.negotiationFailed, .handshake, retryable: false))
            #expect(failure.response?.status.code == 101, "\(name)")
        }
    }

    @Test(
        "Response head over the configured limits → headersTooLarge",
        arguments: [
            ("20 KiB header", "X-Big: " + String(repeating: "a", count: 20 * 1024) + "\r\n"),
            ("200 header fields", (0..<200).map { "X-Field-\($0): v\r\n" }.joined()),
        ]
    )
    func responseHeadersTooLarge(name: String, headers: String) async throws {
        try await withTimeout {
            let error = try await connectError(againstRawServer: { connection in
                try await connection.acceptUpgrade(extraHeaders: headers)
                _ = await connection.readToEnd()
            })
            try expectError(error, ErrorContract(.headersTooLarge, .handshake, retryable: false))
        }
    }

    // MARK: Time, cancellation, URL

    @Test("Server accepts and never answers → openingTimedOut within the open timeout")
    func openTimeout() async throws {
        try await withTimeout {
            let start = ContinuousClock.now
            let error = try await connectError(
                againstRawServer: { connection in _ = await connection.readToEnd() },
                configuration: .test { $0.openTimeout = .milliseconds(300) }
            )
            let elapsed = ContinuousClock.now - start
            try expectError(error, ErrorContract(.openingTimedOut, .connection, retryable: true))
            // The upper bound is the suite's time limit: the raw server never answers, so only the
            // open timeout ends the attempt (a loaded machine may take seconds past 300 ms).
            #expect(elapsed >= .milliseconds(300))
        }
    }

    @Test("Task cancelled while connecting → cancelled")
    func cancelledWhileConnecting() async throws {
        try await withTimeout {
            let (requestReceived, signal) = AsyncStream<Void>.makeStream()
            let error = try await RawServer.withServer(handler: { connection in
                _ = try await connection.readHead()
                signal.yield()
                _ = await connection.readToEnd()
            }) { server in
                let task = Task { await connectError(to: server.url()) }
                for await _ in requestReceived { break }
                task.cancel()
                return await task.value
            }
            try expectError(error, ErrorContract(.cancelled, .connection, retryable: false, cause: CancellationError.self))
        }
    }

    @Test(
        "RFC 6455 §3: an invalid URL → invalidURL, before any I/O",
        arguments: [
            "http://127.0.0.1/", "127.0.0.1:80", "ws://", "ws://:80/", "ws://host:0/", "ws://host:65536/",
            "ws://host:port/", "ws://host/#fragment", "ws://[::1/", "ws://ho st/", "wss://host/pa th",
        ]
    )
    func invalidURL(url: String) async throws {
        try await withTimeout {
            var bodyRan = false
            do {
                try await WebSocketConnection.connect(to: url, configuration: .test(), logger: .test) { _ in bodyRan = true }
                Issue.record("connected to \(url)")
            } catch {
                try expectError(error, ErrorContract(.invalidURL, .connection, retryable: false))
            }
            #expect(!bodyRan)
            // The same error from the parser alone shows that no I/O was needed to produce it.
            #expect(throws: WebSocketError.self) { try WebSocketURL(url) }
        }
    }

    // MARK: TLS

    @Test("TLS: a server certificate the client does not trust → tlsHandshakeFailed")
    func untrustedCertificate() async throws {
        try await withTimeout {
            try await withServer(.test { $0.tls = try? TestCertificates.serverTLS() }, router: echoRouter()) { server in
                // Default trust roots: the test CA is not among them.
                let error = await connectError(to: server.url("/echo", secure: true))
                try expectError(error, ErrorContract(.tlsHandshakeFailed, .connection, retryable: true, cause: NIOSSLError.self))
            }
        }
    }

    @Test("TLS: wss:// to a plain-text server → tlsHandshakeFailed")
    func tlsToPlainServer() async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                let error = await connectError(
                    to: server.url("/echo", secure: true),
                    configuration: .test { $0.tls = (try? TestCertificates.clientTLS()) ?? .makeClientConfiguration() }
                )
                try expectError(error, ErrorContract(.tlsHandshakeFailed, .connection, retryable: true, cause: NIOSSLError.self))
            }
        }
    }

    // MARK: After the handshake

    @Test("Server drops TCP without a close frame → connectionClosed with code 1006")
    func abnormalClosure() async throws {
        try await withTimeout {
            try await RawServer.withServer(handler: { connection in
                try await connection.acceptUpgrade()
                try await connection.writeFrame(.text, ByteBuffer(string: "bye"))
                // Drop TCP once the client has answered.
                _ = try await connection.readFrame()
            }) { server in
                let error = await Self.errorAfterOpening(server.url()) { connection in
                    var messages = connection.messages.makeAsyncIterator()
                    #expect(try await messages.next()?.text == "bye")
                    try await connection.send(text: "ack")
                    _ = try await messages.next()
                }
                let failure = try expectError(error, ErrorContract(.connectionClosed, .closed, retryable: true))
                #expect(failure.closeInfo?.code == .abnormalClosure)
                #expect(failure.closeInfo?.received == nil)
            }
        }
    }

    @Test("Server closes TCP right after its 101 → connectionClosed with code 1006, whatever the timing")
    func closedRightAfterSwitching() async throws {
        try await withTimeout {
            try await RawServer.withServer(handler: { connection in
                try await connection.acceptUpgrade()
                try await connection.writeFrame(.text, ByteBuffer(string: "bye"))
            }) { server in
                for _ in 0..<20 {
                    // Before the body runs (the pipeline is gone) or after: the same error.
                    let error = await Self.errorAfterOpening(server.url()) { connection in
                        for try await _ in connection.messages {}
                    }
                    let failure = try expectError(error, ErrorContract(.connectionClosed, .closed, retryable: true))
                    #expect(failure.closeInfo?.code == .abnormalClosure)
                }
            }
        }
    }

    /// The error of a connection whose `body` runs until the connection fails.
    static func errorAfterOpening(_ url: String, _ body: (WebSocketConnection) async throws -> Void) async -> (any Error)? {
        do {
            try await WebSocketConnection.connect(to: url, configuration: .test(), logger: .test, body)
            Issue.record("the connection ended without an error")
            return nil
        } catch {
            return error
        }
    }
}
