import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import NIOCore
import Testing

/// Socket.IO protocol v4 (Socket.IO 2.x on Engine.IO v3) with allowEIO3 (protocol.md 4.1.9, 4.2.9).
@Suite("Socket.IO server: protocol v4 compatibility")
struct SocketIOServerCompatibilityTests {
    /// Splits an Engine.IO v3 text polling payload (`<length>:<packet>`…; ASCII only here).
    private static func packets(_ payload: String) -> [String] {
        var packets: [String] = []
        var rest = Substring(payload)
        while let colon = rest.firstIndex(of: ":"), let length = Int(rest[..<colon]) {
            let start = rest.index(after: colon)
            let end = rest.index(start, offsetBy: length)
            packets.append(String(rest[start..<end]))
            rest = rest[end...]
        }
        return packets
    }

    private static func frame(_ packets: [String]) -> String {
        packets.map { "\($0.count):\($0)" }.joined()
    }

    @Test("4.1.9: the server connects an EIO=3 client to / unprompted; v4 CONNECT_ERROR is a string; auth comes from the namespace query")
    func protocolV4() async throws {
        var configuration = SocketIOServerConfiguration()
        configuration.allowEIO3 = true
        let handshakes = Recorder<(id: String, auth: JSONValue?, version: SocketIOProtocolVersion)>()
        try await SocketIOServerFixture.run(
            configuration,
            configure: { io in
                for name in ["/", "/custom"] {
                    io.namespace(name).onConnection { socket in
                        handshakes.append((socket.id, socket.handshake.auth, socket.handshake.protocolVersion))
                        socket.on("message") { event in event.socket.emit("message-back", arguments: event.arguments) }
                    }
                }
            }
        ) { fixture in
            let base = "/socket.io/?EIO=3&transport=polling"
            let open = try await RawHTTP.request("GET", base, port: fixture.port)
            #expect(open.status == 200)
            var received = Self.packets(open.body)
            let handshake = try JSONValue(parsing: String(try #require(received.first).dropFirst()))
            let sid = try #require(handshake["sid"]?.stringValue)
            let session = "\(base)&sid=\(sid)"
            if received.count == 1 { received += Self.packets(try await RawHTTP.request("GET", session, port: fixture.port).body) }
            // `40` without a sid payload.
            #expect(received.dropFirst().first == "40")

            let post = try await RawHTTP.request(
                "POST",
                session,
                port: fixture.port,
                body: Self.frame(["42[\"message\",\"hi\"]", "40/custom?token=abc,", "40/nope,"])
            )
            #expect(post.status == 200)
            var replies: [String] = []
            while replies.count < 3 {
                replies += Self.packets(try await RawHTTP.request("GET", session, port: fixture.port).body)
                    .filter { $0 != "6" }
            }
            // The event's reply comes from the socket's handler task, the others from the reader:
            // their relative order is not fixed.
            #expect(Set(replies) == ["42[\"message-back\",\"hi\"]", "40/custom,", "44/nope,\"Invalid namespace\""])
            #expect((replies.firstIndex(of: "40/custom,") ?? 9) < (replies.firstIndex(of: "44/nope,\"Invalid namespace\"") ?? -1))
            #expect(handshakes.all.map(\.id) == [sid, "/custom#\(sid)"])
            #expect(handshakes.all.map(\.auth) == [nil, ["token": "abc"]])
            #expect(handshakes.all.allSatisfy { $0.version == .v4 })
        }
    }
}
