import DuplexWebSocket
import DuplexWebSocketCore
import NIOCore
import NIOSSL
import Testing

/// `wss://` (RFC 6455 §3, §4.1 "If /secure/ is true, the client MUST perform a TLS handshake")
/// with the committed test CA.
@Suite("TLS (wss://)", .timeLimit(.minutes(1)))
struct TLSTests {
    @Test("A client trusting the test CA talks to a TLS server", arguments: ["127.0.0.1", "localhost"])
    func echoOverTLS(host: String) async throws {
        try await withTimeout {
            let tls = try TestCertificates.serverTLS()
            try await withServer(.test { $0.tls = tls }, router: echoRouter()) { server in
                let configuration = WebSocketClientConfiguration.test { $0.tls = (try? TestCertificates.clientTLS()) ?? $0.tls }
                try await WebSocketConnection.connect(to: "wss://\(host):\(server.port)/echo", configuration: configuration, logger: .test)
                {
                    connection in
                    var messages = connection.messages.makeAsyncIterator()
                    for size in [0, 10, 100_000] {
                        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                        try await connection.send(.binary(bytes))
                        #expect(try await messages.next()?.bytes == bytes)
                    }
                    try await connection.send(text: "secure")
                    #expect(try await messages.next()?.text == "secure")
                }
            }
        }
    }

    @Test("A client that does not trust the certificate → tlsHandshakeFailed, and the server carries on")
    func untrustedCertificate() async throws {
        try await withTimeout {
            let tls = try TestCertificates.serverTLS()
            try await withServer(.test { $0.tls = tls }, router: echoRouter()) { server in
                let error = await connectError(to: server.url("/echo", secure: true))
                try expectError(error, ErrorContract(.tlsHandshakeFailed, .connection, retryable: true, cause: NIOSSLError.self))

                // A plain-text client on the TLS port fails without harming the server.
                let plain = await connectError(to: server.url("/echo"))
                #expect((plain as? WebSocketError)?.code == .invalidHandshakeResponse)

                let configuration = WebSocketClientConfiguration.test { $0.tls = (try? TestCertificates.clientTLS()) ?? $0.tls }
                try await WebSocketConnection.connect(to: server.url("/echo", secure: true), configuration: configuration, logger: .test) {
                    _ in
                }
            }
        }
    }
}
