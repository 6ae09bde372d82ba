import DuplexEngineIOCore
import NIOCore
import Testing

@Suite("EngineIOServerSession 4.1.6 Heartbeat (v4)")
struct ServerSessionHeartbeatTests {
    @Test("4.1.6 the server pings every pingInterval; over polling the ping is a GET response `2`")
    func pingOverPolling() throws {
        var session = EngineIOServerSession.openedOverPolling()
        _ = try session.get(at: 1)
        session.timerFired(now: at(24.999))
        #expect(session.drain() == [])
        session.timerFired(now: at(25))
        #expect(session.drain() == [.scheduleTimer(at(45)), poll("2")])
    }

    @Test("4.1.6 (ref impl) the next ping is scheduled pingInterval after the pong")
    func pongReschedules() throws {
        var session = EngineIOServerSession.openedOverPolling()
        session.timerFired(now: at(25))
        _ = session.drain()
        #expect(try session.get(at: 26) == [poll("2")])
        #expect(try session.post("3", at: 30) == [.scheduleTimer(at(55))])
        session.timerFired(now: at(55))
        #expect(session.drain() == [.scheduleTimer(at(75))])
        #expect(session.bufferedPacketCount == 1)
    }

    @Test("4.1.6 an unsolicited pong changes nothing")
    func unsolicitedPong() throws {
        var session = EngineIOServerSession.openedOverPolling()
        #expect(try session.post("3", at: 5) == [])
    }

    @Test("4.1.6 no pong within pingTimeout closes the session (ping timeout); the pending GET gets `1`")
    func pingTimeout() throws {
        var session = EngineIOServerSession.openedOverPolling()
        session.timerFired(now: at(25))
        _ = session.drain()
        #expect(try session.get(at: 26) == [poll("2")])
        _ = try session.get(at: 27)
        session.timerFired(now: at(44.9))
        #expect(session.drain() == [])
        session.timerFired(now: at(45))
        #expect(session.drain() == [poll("1"), .cancelTimer, .closeSession(.pingTimeout)])
        // "the session is gone and the next GET gets 400"
        expectCode(.sessionClosed) { try session.pollRequested(now: at(46)) }
    }

    @Test("4.1.6 (ref impl) a ping from a v4 client closes the session")
    func pingFromClient() throws {
        var session = EngineIOServerSession.openedOverPolling()
        #expect(try session.post("2", at: 1) == [.cancelTimer, .closeSession(.transportError)])
        var overWebSocket = EngineIOServerSession.openedOverWebSocket()
        #expect(overWebSocket.receive("2", at: 1) == [.closeWebSocket, .cancelTimer, .closeSession(.transportError)])
    }

    @Test("4.1.6 over WebSocket the ping is a message; the pong keeps the session alive")
    func pingOverWebSocket() {
        var session = EngineIOServerSession.openedOverWebSocket()
        session.timerFired(now: at(25))
        #expect(session.drain() == [ws("2"), .scheduleTimer(at(45))])
        #expect(session.receive("3", at: 26) == [.scheduleTimer(at(51))])
        session.timerFired(now: at(51))
        session.timerFired(now: at(71))
        #expect(
            session.drain() == [
                ws("2"), .scheduleTimer(at(71)), .closeWebSocket, .cancelTimer, .closeSession(.pingTimeout),
            ]
        )
    }
}

@Suite("EngineIOServerSession 4.1.9 v3 compatibility")
struct ServerSessionV3Tests {
    static func text(_ body: String) -> EngineIOServerSessionAction {
        .answerPoll(EngineIOPollingBody(bytes: ByteBuffer(string: body), contentType: .text))
    }

    @Test("4.1.9 v3 heartbeat: the client pings `2`, the server answers `3`")
    func clientPing() throws {
        var session = EngineIOServerSession.openedOverPolling(format: .v3Binary)
        _ = try session.get(at: 1)
        #expect(try session.post("1:2", at: 10) == [.scheduleTimer(at(55)), Self.text("1:3")])
        session.webSocketMessageReceived(.text("2"), now: at(11))
        #expect(session.drain() == [])  // no WebSocket attached: ignored
        #expect(try session.post("6:2probe", at: 12) == [.scheduleTimer(at(57))])
        #expect(try session.get(at: 12) == [Self.text("6:3probe")])
    }

    @Test("4.1.9 v3 times out after pingInterval + pingTimeout of silence; any packet resets it")
    func silenceTimeout() throws {
        var session = EngineIOServerSession.openedOverPolling(format: .v3Binary)
        #expect(try session.post("6:4hello", at: 40) == [.deliver(.text("hello")), .scheduleTimer(at(85))])
        session.timerFired(now: at(45))
        #expect(session.drain() == [])
        session.timerFired(now: at(85))
        #expect(session.drain() == [.cancelTimer, .closeSession(.pingTimeout)])
    }

    @Test("4.1.9 a pong from a v3 client is a protocol error")
    func pongFromV3Client() throws {
        var session = EngineIOServerSession.openedOverPolling(format: .v3Binary)
        #expect(try session.post("1:3", at: 1) == [.cancelTimer, .closeSession(.transportError)])
    }

    @Test("4.1.9 v3 responses with binary use the XHR2 format; b64=1 clients get base64; JSONP is wrapped")
    func v3Framing() throws {
        var binary = EngineIOServerSession.openedOverPolling(format: .v3Binary)
        try binary.sendRequested(.binary(ByteBuffer(bytes: [7])))
        #expect(
            try binary.get(at: 1) == [
                .answerPoll(EngineIOPollingBody(bytes: ByteBuffer(bytes: [1, 2, 0xFF, 4, 7]), contentType: .binary))
            ]
        )
        var base64 = EngineIOServerSession.openedOverPolling(format: .v3Base64)
        try base64.sendRequested(.binary(ByteBuffer(bytes: [7])))
        #expect(try base64.get(at: 1) == [Self.text("6:b4Bw==")])
        var jsonp = EngineIOServerSession.openedOverPolling(format: .v3JSONP(index: 1))
        try jsonp.sendRequested(.text("a"))
        #expect(
            try jsonp.get(at: 1) == [
                .answerPoll(
                    EngineIOPollingBody(bytes: ByteBuffer(string: #"___eio[1]("2:4a");"#), contentType: .javascript)
                )
            ]
        )
        #expect(try jsonp.post("d=2%3A4b", at: 2) == [.deliver(.text("b")), .scheduleTimer(at(47))])
    }

    @Test("4.1.9 v3 over WebSocket: binary messages carry a type byte")
    func v3WebSocket() throws {
        var session = EngineIOServerSession.openedOverWebSocket(format: .v3Binary)
        session.webSocketMessageReceived(.binary(ByteBuffer(bytes: [4, 1, 2])), now: at(1))
        #expect(session.drain() == [.deliver(.binary(ByteBuffer(bytes: [1, 2]))), .scheduleTimer(at(46))])
        try session.sendRequested(.binary(ByteBuffer(bytes: [3])))
        #expect(session.drain() == [.writeWebSocket(.binary(ByteBuffer(bytes: [4, 3])))])
        #expect(session.receive("2", at: 2) == [ws("3"), .scheduleTimer(at(47))])
    }
}
