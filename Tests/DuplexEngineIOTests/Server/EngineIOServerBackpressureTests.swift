import DuplexEngineIOCore
import DuplexWebSocket
import Testing

@testable import DuplexEngineIO

/// DESIGN.md: "Backpressure is real: a slow reader stops socket reads; a slow peer makes `send`
/// wait."
@Suite("EngineIOServer backpressure (DESIGN.md)")
struct EngineIOServerBackpressureTests {
    /// 600-byte messages cost 664: two fit under a 1,000-byte high-water mark, a third waits.
    static let message = String(repeating: "m", count: 600)
    static let limits = EngineIOServerConfiguration(
        sendHighWaterMark: 1_000,
        sendLowWaterMark: 500,
        maxSendBufferSize: 3_000,
        receiveBufferLimit: 1_000
    )

    /// Polls `condition` every 5 ms, at most 10 s.
    static func eventually(_ what: String, _ condition: @Sendable () -> Bool) async throws {
        for _ in 0..<2000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw FixtureError("\(what) never happened")
    }

    @Test("send waits above sendHighWaterMark while the client does not poll, and resumes once a GET drains the queue")
    func sendWaitsForPoll() async throws {
        try await EngineIOServerFixture.run(Self.limits, mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            try await socket.send(text: Self.message)
            try await socket.send(text: Self.message)
            let third = Task { try await socket.send(text: "third") }
            try await Self.eventually("the third send waiting") { socket.session.waitingSenderCount == 1 }
            #expect(socket.bufferedMessageCount == 2)
            let first = try await server.poll(sid)
            #expect(first.packets == ["4" + Self.message, "4" + Self.message])
            try await boundedWait(.seconds(10), "the waiting send") { try await third.value }
            #expect(try await server.poll(sid).packets == ["4third"])
        }
    }

    @Test(
        "a waiting send fails with the documented error and queues nothing: cancelled, or sessionClosed when the session closes",
        arguments: [EngineIOError.Code.cancelled, .sessionClosed]
    )
    func waitingSendEnds(_ expected: EngineIOError.Code) async throws {
        try await EngineIOServerFixture.run(Self.limits, mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            try await socket.send(text: Self.message)
            try await socket.send(text: Self.message)
            let waiting = Task { try await socket.send(text: "never") }
            try await Self.eventually("the send waiting") { socket.session.waitingSenderCount == 1 }
            if expected == .cancelled {
                waiting.cancel()
            } else {
                socket.startClosing()
            }
            let error = await #expect(throws: EngineIOError.self) { try await waiting.value }
            #expect(error?.code == expected)
            #expect(socket.session.waitingSenderCount == 0)
            if expected == .cancelled {
                #expect(socket.bufferedMessageCount == 2)
                #expect(!(try await server.collect(sid, count: 2).contains("4never")))
            }
        }
    }

    @Test("enqueue past maxSendBufferSize drops the messages and closes the session (send buffer full)")
    func hardLimitCloses() async throws {
        try await EngineIOServerFixture.run(Self.limits, mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            let batch = Array(repeating: EngineIOMessage.text(Self.message), count: 4)
            #expect(socket.enqueue(batch) == .enqueued)
            #expect(socket.enqueue(batch) == .bufferFull)
            #expect(socket.closeReason == .sendBufferFull)
            #expect(try await server.poll(sid).status == 400)
        }
    }

    @Test("a polling POST is answered only once the application has taken its messages below receiveBufferLimit / 2")
    func postWaitsForApplication() async throws {
        try await EngineIOServerFixture.run(Self.limits, mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            let post = Task { try await server.send(sid, ["4" + Self.message, "4" + Self.message]) }
            try await Self.eventually("the POST held") { socket.session.isWaitingForInboundRoom }
            var messages = socket.messages.makeAsyncIterator()
            #expect(await messages.next() == .text(Self.message))
            // 664 left, above 500: still held.
            #expect(socket.session.isWaitingForInboundRoom)
            #expect(await messages.next() == .text(Self.message))
            let answer = try await boundedWait(.seconds(10), "the held POST") { try await post.value }
            #expect(answer.status == 200)
            #expect(answer.text == "ok")
        }
    }

    @Test("a WebSocket is not read while the application's unread messages exceed receiveBufferLimit")
    func webSocketReadsStop() async throws {
        try await EngineIOServerFixture.run(Self.limits, mode: .manual) { server in
            try await server.withWebSocket("EIO=4&transport=websocket") { webSocket in
                var frames = webSocket.messages.makeAsyncIterator()
                let open = try #require(try await frames.nextText())
                let sid = try EngineIOHandshake(json: String(open.dropFirst())).sid
                let socket = try await server.socket(sid)
                for index in 0..<5 { try await webSocket.send(text: "4\(index)" + Self.message) }
                try await Self.eventually("reading paused") { socket.session.isWaitingForInboundRoom }
                // Two messages read (cost 1,330 > 1,000): the read loop waits, the rest stay unread.
                #expect(socket.session.inboundCost == 2 * (601 + EngineIOServerSession.queuedMessageOverhead))
                var messages = socket.messages.makeAsyncIterator()
                for index in 0..<5 {
                    #expect(await messages.next() == .text("\(index)" + Self.message))
                }
                #expect(socket.session.inboundCost == 0)
            }
        }
    }
}
