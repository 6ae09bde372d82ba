import DuplexEngineIO
import DuplexWebSocket
import Testing

/// protocol.md 4.1.9: Engine.IO v3 clients, accepted only with allowEIO3.
@Suite("protocol.md 4.1.9 Engine.IO v3", .timeLimit(.minutes(1)))
struct EngineIOServerVersionTests {
    static let allowingV3 = EngineIOServerConfiguration(allowEIO3: true)

    /// Splits a v3 text payload `<length>:<packet>…` (lengths in UTF-16 code units).
    static func v3Packets(_ text: String) -> [String] {
        var packets: [String] = []
        var rest = Substring(text)
        while let colon = rest.firstIndex(of: ":"), let length = Int(rest[..<colon]) {
            let start = rest.index(after: colon)
            let utf16 = rest[start...].utf16
            let end = utf16.index(utf16.startIndex, offsetBy: length)
            packets.append(String(rest[start..<end]))
            rest = rest[end...]
        }
        return packets
    }

    @Test("EIO=3 is refused with code 5 unless allowEIO3 is on")
    func refusedByDefault() async throws {
        try await EngineIOServerFixture.run { server in
            let response = try await server.get("EIO=3&transport=polling&b64=1")
            #expect(response.status == 400)
            #expect(response.text == #"{"code":5,"message":"Unsupported protocol version"}"#)
        }
    }

    @Test("v3 polling: length-prefixed payloads, client pings answered, no maxPayload")
    func v3Polling() async throws {
        try await EngineIOServerFixture.run(Self.allowingV3) { server in
            let response = try await server.get("EIO=3&transport=polling&b64=1")
            #expect(response.status == 200)
            let packets = Self.v3Packets(response.text)
            let open = try #require(packets.first)
            #expect(open.hasPrefix("0{"))
            let handshake = try EngineIOHandshake(json: String(open.dropFirst()))
            #expect(handshake.maxPayload == nil)
            let query = "EIO=3&transport=polling&b64=1&sid=\(handshake.sid)"
            let post = try await server.post(query, body: Array("6:4hello1:2".utf8))
            #expect(post.status == 200)
            var received: [String] = []
            for _ in 0..<5 where received.count < 2 {
                received += Self.v3Packets(try await server.get(query).text)
            }
            // The pong is queued at once; the echo follows when the application sends it.
            #expect(received.sorted() == ["3", "4hello"])
            let socket = try await server.socket(handshake.sid)
            #expect(socket.protocolVersion == .v3)
        }
    }

    @Test("v3 WebSocket-only session: open without maxPayload, ping answered with pong")
    func v3WebSocket() async throws {
        try await EngineIOServerFixture.run(Self.allowingV3) { server in
            try await server.withWebSocket("EIO=3&transport=websocket") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                let open = try #require(try await messages.nextText())
                #expect(try EngineIOHandshake(json: String(open.dropFirst())).maxPayload == nil)
                try await webSocket.send(text: "2")
                #expect(try await messages.nextText() == "3")
                try await webSocket.send(text: "4v3 text")
                #expect(try await messages.nextText() == "4v3 text")
            }
        }
    }
}
