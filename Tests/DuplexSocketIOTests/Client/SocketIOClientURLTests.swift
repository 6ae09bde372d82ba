import DuplexSocketIOCore
import Testing

@testable import DuplexSocketIO

@Suite("SocketIOClientURL: io(url) splits origin, namespace and query")
struct SocketIOClientURLTests {
    @Test(
        "origin, namespace (the path) and the query for Engine.IO",
        arguments: [
            ("http://localhost:3000", "http://localhost:3000/socket.io/", "/"),
            ("http://localhost:3000/", "http://localhost:3000/socket.io/", "/"),
            ("https://example.com/admin", "https://example.com/socket.io/", "/admin"),
            ("ws://[::1]:8080/chat?token=a%20b", "ws://[::1]:8080/socket.io/?token=a%20b", "/chat"),
            ("HTTP://h:1?x=1#frag", "http://h:1/socket.io/?x=1", "/"),
        ]
    )
    func parsing(url: String, engineIOURL: String, namespace: String) throws {
        let parsed = try SocketIOClientURL(url)
        #expect(parsed.engineIOURL(path: "/socket.io/") == engineIOURL)
        #expect(parsed.namespace == namespace)
    }

    @Test("invalid URLs are invalidConfiguration", arguments: ["localhost:3000", "ftp://h/", "http:///x", "http://h/a,b"])
    func invalid(url: String) {
        #expect(#expect(throws: SocketIOError.self) { try SocketIOClientURL(url) }?.code == .invalidConfiguration)
    }
}
