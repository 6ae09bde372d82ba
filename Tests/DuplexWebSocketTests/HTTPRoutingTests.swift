import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import Testing

/// Plain HTTP next to WebSocket endpoints: routes, keep-alive, pipelining, 404 and 426.
@Suite("Server HTTP routes", .timeLimit(.minutes(1)))
struct HTTPRoutingTests {
    static func router() -> WebSocketRouter {
        var router = echoRouter()
        router.http("/health") { request in
            HTTPServerResponse(status: .ok, text: "ok \(request.query)")
        }
        router.http("/upload") { request in
            HTTPServerResponse(status: .ok, text: "\(request.body.readableBytes) bytes")
        }
        return router
    }

    @Test("RFC 9112 §9.3: two requests on one keep-alive connection get two responses")
    func keepAlive() async throws {
        try await withTimeout {
            try await withServer(router: Self.router()) { server in
                try await RawClient.withConnection(port: server.port) { connection in
                    for index in 0..<2 {
                        try await connection.write("GET /health?n=\(index) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        let response = try #require(try await connection.readResponse())
                        #expect(response.status == 200)
                        #expect(response.body == "ok n=\(index)")
                        #expect(response.header("Connection")?.lowercased() != "close")
                    }
                }
            }
        }
    }

    @Test("RFC 9112 §9.3.2: pipelined requests are answered in order")
    func pipelining() async throws {
        try await withTimeout {
            try await withServer(router: Self.router()) { server in
                try await RawClient.withConnection(port: server.port) { connection in
                    let body = "0123456789"
                    try await connection.write(
                        "GET /health?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                            + "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                            + "GET /health?n=3 HTTP/1.1\r\nHost: x\r\n\r\n"
                    )
                    #expect(try await connection.readResponse()?.body == "ok n=1")
                    #expect(try await connection.readResponse()?.body == "10 bytes")
                    #expect(try await connection.readResponse()?.body == "ok n=3")
                }
            }
        }
    }

    @Test("RFC 9110 §15.5.5: an unknown path gets 404, over plain HTTP and as an upgrade")
    func notFound() async throws {
        try await withTimeout {
            try await withServer(router: Self.router()) { server in
                let response = try await RawClient.exchange(port: server.port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(response?.status == 404)
                let error = await connectError(to: server.url("/nope"))
                let failure = try expectError(error, ErrorContract(.handshakeRejected, .handshake, retryable: false))
                #expect(failure.response?.status == .notFound)
            }
        }
    }

    @Test("RFC 9110 §15.5.22: a WebSocket path asked without Upgrade gets 426 naming the protocol")
    func upgradeRequired() async throws {
        try await withTimeout {
            try await withServer(router: Self.router()) { server in
                let response = try #require(try await RawClient.exchange(port: server.port, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"))
                #expect(response.status == 426)
                #expect(response.header("Upgrade")?.lowercased() == "websocket")
                #expect(response.header("Sec-WebSocket-Version") == "13")
            }
        }
    }

    @Test("A responder that throws gets 500")
    func responderThrows() async throws {
        struct Boom: Error {}
        try await withTimeout {
            var router = WebSocketRouter()
            router.http("/boom") { _ in throw Boom() }
            try await withServer(router: router) { server in
                let response = try await RawClient.exchange(port: server.port, "GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(response?.status == 500)
            }
        }
    }
}
