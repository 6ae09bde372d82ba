import DuplexEngineIOCore
import NIOCore
import Testing

@Suite("EngineIOServerSession 4.1.3 Handshake")
struct ServerSessionHandshakeTests {
    @Test("4.1.3 over polling, the handshake GET is answered with the open packet")
    func pollingHandshake() throws {
        var session = EngineIOServerSession(id: testSessionID, transport: .polling, now: at(0))
        #expect(session.drain() == [.scheduleTimer(at(25))])
        #expect(try session.get(at: 0) == [poll(openJSON())])
        #expect(session.transport == .polling)
        #expect(session.handshake.upgrades == [.websocket])
        #expect(session.protocolVersion == .v4)
    }

    @Test("4.1.3 over WebSocket, open is the first message and upgrades is []")
    func webSocketHandshake() {
        var session = EngineIOServerSession(id: testSessionID, transport: .websocket, now: at(0))
        #expect(session.drain() == [ws(openJSON(upgrades: "[]")), .scheduleTimer(at(25))])
        #expect(session.transport == .websocket)
    }

    @Test("4.1.3 upgrades follows the configuration; 4.1.9 v3 handshakes have no maxPayload")
    func handshakeVariants() throws {
        var noUpgrades = EngineIOServerSession(
            id: testSessionID,
            transport: .polling,
            configuration: .init(upgrades: []),
            now: at(0)
        )
        _ = noUpgrades.drain()
        #expect(try noUpgrades.get(at: 0) == [poll(openJSON(upgrades: "[]"))])
        var v3 = EngineIOServerSession(id: testSessionID, transport: .polling, pollingFormat: .v3Base64, now: at(0))
        #expect(v3.drain() == [.scheduleTimer(at(45))])
        let open = openJSON(maxPayload: nil)
        #expect(
            try v3.get(at: 0) == [
                .answerPoll(
                    EngineIOPollingBody(bytes: ByteBuffer(string: "\(open.utf16.count):\(open)"), contentType: .text)
                )
            ]
        )
    }

    @Test("Configuration validation")
    func configuration() {
        #expect(throws: Never.self) { try EngineIOServerSession.Configuration().validate() }
        expectCode(.invalidConfiguration) { try EngineIOServerSession.Configuration(pingInterval: .zero).validate() }
        expectCode(.invalidConfiguration) {
            try EngineIOServerSession.Configuration(maxPacketsPerResponse: 0).validate()
        }
    }
}

@Suite("EngineIOServerSession 4.1.4 HTTP long-polling")
struct ServerSessionPollingTests {
    @Test("4.1.4 a GET is held until there is something to send; sends before a drain share one response")
    func heldPoll() throws {
        var session = EngineIOServerSession.openedOverPolling()
        #expect(try session.get(at: 1) == [])
        try session.sendRequested(.text("a"))
        try session.sendRequested(.binary(ByteBuffer(bytes: [1, 2, 3, 4])))
        #expect(session.drain() == [poll(payload("4a", "bAQIDBA=="))])
        // Nothing pending now: later sends wait for the next GET.
        try session.sendRequested(.text("b"))
        #expect(session.drain() == [])
        #expect(session.bufferedPacketCount == 1)
        #expect(try session.get(at: 2) == [poll("4b")])
    }

    @Test("4.1.4 a second concurrent GET gets 400, the earlier GET gets `1`, the session closes")
    func concurrentGet() throws {
        var session = EngineIOServerSession.openedOverPolling()
        _ = try session.get(at: 1)
        expectCode(.badRequest) { try session.pollRequested(now: at(2)) }
        #expect(session.drain() == [poll("1"), .cancelTimer, .closeSession(.transportError)])
        // "every later request with that sid gets 400"
        expectCode(.sessionClosed) { try session.pollRequested(now: at(3)) }
        expectCode(.sessionClosed) { try session.postReceived(ByteBuffer(string: "4a"), now: at(3)) }
        expectCode(.sessionClosed) { try session.sendRequested(.text("late")) }
        #expect(session.isClosed)
        #expect(EngineIOError(.sessionClosed, "").httpStatus == 400)
    }

    @Test("4.1.4 a GET whose connection dropped is not pending any more")
    func abortedPoll() throws {
        var session = EngineIOServerSession.openedOverPolling()
        _ = try session.get(at: 1)
        session.pollAborted()
        #expect(try session.get(at: 2) == [])
        try session.sendRequested(.text("x"))
        #expect(session.drain() == [poll("4x")])
    }

    @Test("4.1.4 a POST delivers its packets in order and is answered ok")
    func post() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.postStarted()
        #expect(
            try session.post(payload("4hello", "bAQIDBA==", "6", "4world"), at: 1) == [
                .deliver(.text("hello")), .deliver(.binary(ByteBuffer(bytes: [1, 2, 3, 4]))), .deliver(.text("world")),
            ]
        )
        // A second POST after the first completed is fine.
        try session.postStarted()
        #expect(try session.post("4again", at: 2) == [.deliver(.text("again"))])
    }

    @Test("4.1.4 a concurrent POST gets 400 and closes the session")
    func concurrentPost() throws {
        var session = EngineIOServerSession.openedOverPolling()
        _ = try session.get(at: 1)
        try session.postStarted()
        expectCode(.badRequest) { try session.postStarted() }
        #expect(session.drain() == [poll("1"), .cancelTimer, .closeSession(.transportError)])
        // The first POST's body then finds the session closed.
        expectCode(.sessionClosed) { try session.postReceived(ByteBuffer(string: "4a"), now: at(2)) }
    }

    @Test("4.1.4 an aborted POST does not count as outstanding")
    func abortedPost() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.postStarted()
        session.postAborted()
        try session.postStarted()
        #expect(!session.isClosed)
    }

    @Test(
        "4.1.4 an invalid payload gets 400 and closes the session (parse error)",
        arguments: ["abc", "", "4a\u{1E}", "0{}"]
    )
    func invalidPayload(_ body: String) throws {
        var session = EngineIOServerSession.openedOverPolling()
        _ = try session.get(at: 1)
        do {
            try session.postReceived(ByteBuffer(string: body), now: at(1))
            // `0{}` decodes, but an open packet from a client is a parse error.
            #expect(body == "0{}")
        } catch {
            #expect(error.code == .invalidPacket || error.code == .invalidPayload)
            #expect(error.httpStatus == 400)
        }
        #expect(session.drain() == [poll("1"), .cancelTimer, .closeSession(.parseError)])
    }

    @Test("4.1.4 (python-engineio) more than 16 packets in a POST is an invalid payload")
    func tooManyPackets() {
        var session = EngineIOServerSession.openedOverPolling()
        let body = Array(repeating: "4x", count: 17).joined(separator: "\u{1E}")
        expectCode(.invalidPayload) { try session.postReceived(ByteBuffer(string: body), now: at(1)) }
        #expect(session.isClosed)
    }

    @Test("4.1.4 (ref impl) a body over maxPayload gets 413")
    func payloadTooLarge() {
        var session = EngineIOServerSession.openedOverPolling(configuration: .init(maxPayload: 8))
        do {
            try session.postReceived(ByteBuffer(string: "4123456789"), now: at(1))
            Issue.record("accepted")
        } catch {
            #expect(error.code == .payloadTooLarge)
            #expect(error.httpStatus == 413)
        }
        #expect(session.drain() == [.cancelTimer, .closeSession(.transportError)])
    }

    @Test("4.1.4 (ref impl, v4) a POST declared application/octet-stream gets 400")
    func binaryContentType() {
        var session = EngineIOServerSession.openedOverPolling()
        expectCode(.badRequest) {
            try session.postReceived(ByteBuffer(string: "4a"), contentType: "application/octet-stream", now: at(1))
        }
        #expect(session.drain() == [.cancelTimer, .closeSession(.transportError)])
    }

    @Test("4.1.4 responses carry at most 16 packets and maxPayload bytes; the rest waits for the next GET")
    func responseCaps() throws {
        var session = EngineIOServerSession.openedOverPolling()
        for index in 0..<20 { try session.sendRequested(.text("\(index % 10)")) }
        let first = try session.get(at: 1)
        #expect(first == [poll((0..<16).map { "4\($0 % 10)" }.joined(separator: "\u{1E}"))])
        #expect(try session.get(at: 1) == [poll(payload("46", "47", "48", "49"))])

        var small = EngineIOServerSession.openedOverPolling(configuration: .init(maxPayload: 10))
        for text in ["aaaa", "bbbb", "cc"] { try small.sendRequested(.text(text)) }
        // "4aaaa" (5) + sep + "4bbbb" (5) = 11 > 10
        #expect(try small.get(at: 1) == [poll("4aaaa")])
        #expect(try small.get(at: 1) == [poll(payload("4bbbb", "4cc"))])
    }

    @Test("Payload: a v4 text containing U+001E (the separator) is refused on polling, sent over WebSocket and v3")
    func recordSeparatorInText() throws {
        var polling = EngineIOServerSession.openedOverPolling()
        expectCode(.invalidPacket) { try polling.sendRequested(.text("a\u{1E}b")) }
        try polling.sendRequested(.binary(ByteBuffer(bytes: [0x1E])))
        #expect(try polling.get(at: 1) == [poll("bHg==")])  // binary is base64: no separator byte

        var v3 = EngineIOServerSession.openedOverPolling(format: .v3Binary)
        try v3.sendRequested(.text("a\u{1E}b"))  // v3 payloads are length-prefixed

        var upgraded = EngineIOServerSession.upgraded()
        try upgraded.sendRequested(.text("a\u{1E}b"))
        #expect(upgraded.drain().contains(.writeWebSocket(.text("4a\u{1E}b"))))
    }
}

@Suite("EngineIOServerSession 4.1.5 WebSocket transport")
struct ServerSessionWebSocketTests {
    @Test("4.1.5 one packet per message: messages are delivered, sends are written at once")
    func messages() throws {
        var session = EngineIOServerSession.openedOverWebSocket()
        #expect(session.receive("4hello", at: 1) == [.deliver(.text("hello"))])
        session.webSocketMessageReceived(.binary(ByteBuffer(bytes: [9])), now: at(1))
        #expect(session.drain() == [.deliver(.binary(ByteBuffer(bytes: [9])))])
        try session.sendRequested(.text("hi"))
        try session.sendRequested(.binary(ByteBuffer(bytes: [1])))
        #expect(session.drain() == [ws("4hi"), .writeWebSocket(.binary(ByteBuffer(bytes: [1])))])
        // Polling a WebSocket session is a bad request, and does not close it.
        expectCode(.badRequest) { try session.pollRequested(now: at(2)) }
        expectCode(.badRequest) { try session.postStarted() }
        #expect(!session.isClosed)
    }

    @Test("4.1.5 (ref impl) maxPayload limits WebSocket messages")
    func oversizedMessage() {
        var session = EngineIOServerSession(
            id: testSessionID,
            transport: .websocket,
            configuration: .init(maxPayload: 4),
            now: at(0)
        )
        _ = session.drain()
        #expect(session.receive("4hello", at: 1) == [.closeWebSocket, .cancelTimer, .closeSession(.transportError)])
    }

    @Test("4.1.5 a malformed message closes the session (parse error)")
    func malformedMessage() {
        var session = EngineIOServerSession.openedOverWebSocket()
        #expect(session.receive("x", at: 1) == [.closeWebSocket, .cancelTimer, .closeSession(.parseError)])
    }

    @Test("4.1.5 noop and a late upgrade packet are ignored; open from a client is a parse error")
    func harmlessPackets() {
        var session = EngineIOServerSession.openedOverWebSocket()
        #expect(session.receive("6", at: 1) == [])
        #expect(session.receive("5", at: 1) == [])
        #expect(session.receive("0", at: 1) == [.closeWebSocket, .cancelTimer, .closeSession(.parseError)])
    }
}
