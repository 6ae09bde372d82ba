import DuplexEngineIOCore
import Testing

@testable import DuplexEngineIO

@Suite("ClientEndpoint 4.1.1 Endpoint and query string")
struct ClientEndpointTests {
    @Test(
        "4.1.1 URLs: scheme, host, port, path (default /engine.io/)",
        arguments: [
            ("http://localhost:5000/engine.io/", false, "localhost", 5000, "/engine.io/", ""),
            ("https://example.com/socket.io/", true, "example.com", 443, "/socket.io/", ""),
            ("http://example.com", false, "example.com", 80, "/engine.io/", ""),
            ("ws://[::1]:81/eio/?token=a%20b", false, "::1", 81, "/eio/", "token=a%20b"),
            ("wss://example.com:8443/x", true, "example.com", 8443, "/x", ""),
        ]
    )
    func parsing(url: String, isSecure: Bool, host: String, port: Int, path: String, query: String) throws {
        let endpoint = try ClientEndpoint(url, query: [])
        #expect(endpoint.isSecure == isSecure)
        #expect(endpoint.host == host)
        #expect(endpoint.port == port)
        #expect(endpoint.path == path)
        #expect(endpoint.extraQuery == query)
    }

    @Test("4.1.1 request targets carry EIO=4, transport, sid, t (polling only), then the extra query")
    func targets() throws {
        let endpoint = try ClientEndpoint("http://h:1/engine.io/?a=1", query: [("name", "x y/é")])
        let handshake = endpoint.target(transport: .polling, sid: nil)
        #expect(handshake.hasPrefix("/engine.io/?EIO=4&transport=polling&t="))
        #expect(handshake.hasSuffix("&a=1&name=x%20y%2F%C3%A9"))
        #expect(!handshake.contains("sid="))
        #expect(endpoint.target(transport: .polling, sid: "ab+c").contains("&sid=ab%2Bc&t="))
        #expect(
            endpoint.webSocketURL(sid: "s1") == "ws://h:1/engine.io/?EIO=4&transport=websocket&sid=s1&a=1&name=x%20y%2F%C3%A9"
        )
        // Two polls differ by their cache-buster.
        #expect(endpoint.target(transport: .polling, sid: "s") != endpoint.target(transport: .polling, sid: "s"))
    }

    @Test("invalid URLs are configuration errors", arguments: ["", "ftp://x/", "http://", "http://h:0/", "http://h/#frag"])
    func invalid(_ url: String) {
        #expect(throws: EngineIOError.self) { try ClientEndpoint(url, query: []) }
    }
}
