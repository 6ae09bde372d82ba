import DuplexEngineIO
import NIOCore
import Synchronization
import Testing

/// protocol.md 4.1.4 HTTP long-polling transport, 4.1.8 closing over polling.
@Suite("protocol.md 4.1.4 HTTP long-polling", .timeLimit(.minutes(1)))
struct EngineIOServerPollingTests {
    @Test("a GET is held until the session has data")
    func getIsHeldUntilData() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            let answered = Atomic<Bool>(false)
            async let held = {
                let response = try await server.poll(sid)
                answered.store(true, ordering: .sequentiallyConsistent)
                return response
            }()
            // Bounded observation that the GET is still waiting (it only returns with data).
            try await Task.sleep(for: .milliseconds(200))
            let answeredEarly = answered.load(ordering: .sequentiallyConsistent)
            #expect(!answeredEarly)
            try await socket.send(text: "hi")
            let response = try await held
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/plain; charset=UTF-8")
            #expect(response.packets == ["4hi"])
        }
    }

    @Test("a POST carries a batch; messages arrive in order and the answer is ok")
    func postBatch() async throws {
        try await EngineIOServerFixture.run { server in
            let (sid, _) = try await server.openPollingSession()
            let response = try await server.send(sid, ["4one", "4two", "4three", "4€ unicode"])
            #expect(response.status == 200)
            #expect(response.text == "ok")
            #expect(response.header("Content-Type") == "text/html")
            #expect(try await server.collect(sid, count: 4) == ["4one", "4two", "4three", "4€ unicode"])
        }
    }

    @Test("binary travels as b + base64 both ways and arrives as binary")
    func binary() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            #expect(try await server.send(sid, ["bAQIDBA==", "4text"]).status == 200)
            var messages = socket.messages.makeAsyncIterator()
            #expect(await messages.next() == .binary(ByteBuffer(bytes: [1, 2, 3, 4])))
            #expect(await messages.next() == .text("text"))
            try await socket.send(binary: [0xFF, 0x00, 0x7F])
            try await socket.send(text: "after")
            #expect(try await server.collect(sid, count: 2) == ["b/wB/", "4after"])
        }
    }

    @Test("a text containing U+001E (the v4 payload separator) is refused, queueing nothing; the session goes on")
    func recordSeparatorRefused() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            let error = await #expect(throws: EngineIOError.self) { try await socket.send(text: "a\u{1E}b") }
            #expect(error?.code == .invalidPacket)
            #expect(socket.enqueue([.text("ok"), .text("\u{1E}")]) == .unframeable)
            #expect(socket.bufferedMessageCount == 0)
            try await socket.send(text: "after")
            #expect(try await server.collect(sid, count: 1) == ["4after"])
        }
    }

    @Test("a poll response carries at most maxPacketsPerPoll packets; the rest come next")
    func packetCapPerPoll() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            for index in 0..<40 { try await socket.send(text: "m\(index)") }
            var counts: [Int] = []
            var received: [String] = []
            while received.count < 40 {
                let response = try await server.poll(sid)
                #expect(response.status == 200)
                counts.append(response.packets.count)
                received += response.packets
            }
            #expect(counts == [16, 16, 8])
            #expect(received == (0..<40).map { "4m\($0)" })
        }
    }

    @Test("a second concurrent GET gets 400; the first gets close; the session is gone")
    func concurrentGet() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            async let first = server.poll(sid)
            try await server.waitUntilPollIsPending(sid)
            let second = try await server.poll(sid)
            #expect(second.status == 400)
            #expect(second.text == #"{"code":3,"message":"Bad request"}"#)
            let firstResponse = try await first
            #expect(firstResponse.status == 200)
            #expect(firstResponse.packets == ["1"])
            #expect(await socket.waitUntilClosed() == .transportError)
            #expect(try await server.poll(sid).status == 400)
        }
    }

    @Test("the client closes with a POSTed 1: a pending GET gets noop, later requests 400")
    func clientClose() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            async let pending = server.poll(sid)
            try await server.waitUntilPollIsPending(sid)
            #expect(try await server.send(sid, ["1"]).status == 200)
            #expect(try await pending.packets == ["6"])
            #expect(await socket.waitUntilClosed() == .clientDisconnect)
            var messages = socket.messages.makeAsyncIterator()
            #expect(await messages.next() == nil)
            #expect(try await server.poll(sid).text == #"{"code":1,"message":"Session ID unknown"}"#)
        }
    }

    @Test("the server closes: the close packet goes out after the queued messages")
    func serverClose() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            try await socket.send(text: "last words")
            async let closed: Void = socket.close()
            var packets: [String] = []
            for _ in 0..<10 where packets.last != "1" {
                packets += try await server.poll(sid).packets
            }
            #expect(packets == ["4last words", "1"])
            await closed
            #expect(socket.closeReason == .serverDisconnect)
            await #expect(throws: EngineIOError.self) { try await socket.send(text: "too late") }
            #expect(try await server.poll(sid).status == 400)
        }
    }

    @Test(
        "large responses are compressed when the client accepts it",
        arguments: [
            ("gzip, deflate", "gzip", [UInt8]([0x1F, 0x8B])),
            ("deflate", "deflate", [UInt8]([0x78])),
            ("gzip;q=0, deflate;q=0.5", "deflate", [UInt8]([0x78])),
        ])
    func httpCompression(_ acceptEncoding: String, _ expected: String, _ magic: [UInt8]) async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            let large = String(repeating: "abcdefgh", count: 512)
            try await socket.send(text: large)
            let response = try await server.get(
                "EIO=4&transport=polling&sid=\(sid)",
                headers: [("Accept-Encoding", acceptEncoding)]
            )
            #expect(response.status == 200)
            #expect(response.header("Content-Encoding") == expected)
            #expect(Array(response.body.prefix(magic.count)) == magic)
            #expect(response.body.count < large.utf8.count / 4)
        }
    }

    @Test("small responses, or clients that do not accept compression, get identity")
    func noCompression() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            try await socket.send(text: "small")
            let small = try await server.get("EIO=4&transport=polling&sid=\(sid)", headers: [("Accept-Encoding", "gzip")])
            #expect(small.header("Content-Encoding") == nil)
            #expect(small.packets == ["4small"])
            let large = String(repeating: "x", count: 4096)
            try await socket.send(text: large)
            let identity = try await server.poll(sid)
            #expect(identity.header("Content-Encoding") == nil)
            #expect(identity.packets == ["4" + large])
        }
    }
}
