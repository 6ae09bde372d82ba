import DuplexEngineIOCore
import NIOCore
import Testing

private let handshakeJSON =
    #"{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":12}"#
private let handshake = try! EngineIOHandshake(json: handshakeJSON)

private func post(_ text: String) -> EngineIOClientSessionAction {
    .sendPost(EngineIOPollingBody(bytes: ByteBuffer(string: text), contentType: .text))
}

private func write(_ text: String) -> EngineIOClientSessionAction { .writeWebSocket(.text(text)) }

extension EngineIOClientSession {
    mutating func drain() -> [EngineIOClientSessionAction] {
        var result: [EngineIOClientSessionAction] = []
        while let action = nextAction() { result.append(action) }
        return result
    }

    mutating func pollAnswered(_ text: String, at time: Double) -> [EngineIOClientSessionAction] {
        pollResponseReceived(ByteBuffer(string: text), now: at(time))
        return drain()
    }

    mutating func received(_ text: String, at time: Double) -> [EngineIOClientSessionAction] {
        webSocketMessageReceived(.text(text), now: at(time))
        return drain()
    }

    /// A session open over polling (GET in flight, probe WebSocket being opened).
    static func openOverPolling(json: String = handshakeJSON, transports: [EngineIOTransport] = [.polling, .websocket])
        -> EngineIOClientSession
    {
        var session = EngineIOClientSession(configuration: .init(transports: transports))
        _ = session.drain()
        _ = session.pollAnswered("0" + json, at: 0)
        return session
    }
}

@Suite("EngineIOClientSession 4.1.3–4.1.4 opening and polling")
struct ClientSessionPollingTests {
    @Test("4.1.3 opening over polling: handshake GET, then the poll loop and the probe")
    func openOverPolling() {
        var session = EngineIOClientSession()
        #expect(session.drain() == [.sendHandshake(.polling)])
        #expect(session.transport == .polling)
        #expect(
            session.pollAnswered("0" + handshakeJSON + "\u{1E}4hi", at: 0) == [
                .opened(handshake), .openWebSocket, .deliver(.text("hi")), .sendPoll, .scheduleTimer(at(10)),
            ]
        )
        #expect(session.handshake == handshake)
    }

    @Test("4.1.3 a rejected handshake fails the opening with the server's code")
    func rejectedHandshake() {
        var session = EngineIOClientSession()
        _ = session.drain()
        let error = EngineIOError.rejection(
            status: 400,
            body: ByteBuffer(string: #"{"code":5,"message":"Unsupported protocol version"}"#)
        )
        #expect(error.code == .handshakeRejected)
        #expect(error.wireCode == 5)
        #expect(error.response?.message == "Unsupported protocol version")
        session.pollFailed(error)
        #expect(session.drain() == [.openFailed(error)])
        #expect(session.isClosed)
        #expect(EngineIOError.rejection(status: 502, body: ByteBuffer(string: "<html>")).isRetryable)
    }

    @Test("4.1.3 a response that is not an open packet fails the opening", arguments: ["4hello", "0{}", "", "x"])
    func invalidHandshake(_ body: String) {
        var session = EngineIOClientSession()
        _ = session.drain()
        let actions = session.pollAnswered(body, at: 0)
        #expect(actions.count == 1)
        guard case .openFailed(let error) = actions.first else {
            Issue.record("expected openFailed, got \(actions)")
            return
        }
        #expect(error.code == .invalidPacket || error.code == .invalidPayload)
    }

    @Test("4.1.4 sends queue before open, POSTs go one at a time, batched up to maxPayload")
    func batching() throws {
        var session = EngineIOClientSession(configuration: .init(transports: [.polling]))
        _ = session.drain()
        try session.sendRequested(.text("early"))
        #expect(
            session.pollAnswered("0" + handshakeJSON, at: 0) == [
                .opened(handshake), .sendPoll, .scheduleTimer(at(45)), post("4early"),
            ]
        )
        try session.sendRequested(.text("a"))
        try session.sendRequested(.text("b"))
        try session.sendRequested(.text("cc"))
        try session.sendRequested(.text("d"))
        #expect(session.drain() == [])  // a POST is in flight
        session.postResponseReceived()
        // maxPayload 12: "4a␞4b␞4cc" is 9 bytes; adding "␞4d" makes 12.
        #expect(session.drain() == [post(payload("4a", "4b", "4cc", "4d"))])
        try session.sendRequested(.text("0123456789"))
        try session.sendRequested(.text("x"))
        session.postResponseReceived()
        #expect(session.drain() == [post("40123456789")])
        session.postResponseReceived()
        #expect(session.drain() == [post("4x")])
    }

    @Test("4.1.3 maxPayload may be absent: the configured default applies")
    func missingMaxPayload() throws {
        let json = #"{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
        var session = EngineIOClientSession.openOverPolling(json: json)
        _ = session.drain()
        for _ in 0..<3 { try session.sendRequested(.text("0123456789")) }
        #expect(session.drain() == [post(payload("40123456789", "40123456789", "40123456789"))])
    }

    @Test("4.1.4 each poll response is processed and the next GET issued")
    func pollLoop() {
        var session = EngineIOClientSession.openOverPolling(transports: [.polling])
        #expect(
            session.pollAnswered(payload("4a", "bAQ==", "6"), at: 1) == [
                .deliver(.text("a")), .deliver(.binary(ByteBuffer(bytes: [1]))), .sendPoll,
            ]
        )
        #expect(session.pollAnswered("x", at: 2) == [.cancelTimer, .closeSession(.parseError)])
        session.pollResponseReceived(ByteBuffer(string: "4late"), now: at(3))
        #expect(session.drain() == [])
    }

    @Test("4.1.4 a failed GET or POST closes the session (transport error)")
    func requestFailures() throws {
        var session = EngineIOClientSession.openOverPolling(transports: [.polling])
        session.pollFailed(EngineIOError.rejection(status: 400, body: nil))
        #expect(session.drain() == [.cancelTimer, .closeSession(.transportError)])
        var posting = EngineIOClientSession.openOverPolling(transports: [.polling])
        try posting.sendRequested(.text("a"))
        _ = posting.drain()
        posting.postFailed(EngineIOError(.connectionFailed, "reset"))
        #expect(posting.drain() == [.cancelTimer, .closeSession(.transportError)])
        expectCode(.sessionClosed) { try posting.sendRequested(.text("late")) }
    }

    @Test("Payload: a text containing U+001E (the v4 separator) is refused while on polling")
    func recordSeparatorOverPolling() throws {
        var session = EngineIOClientSession.openOverPolling(transports: [.polling])
        expectCode(.invalidPacket) { try session.sendRequested(.text("a\u{1E}b")) }
        try session.sendRequested(.text("ok"))
        #expect(session.drain() == [post("4ok")])
    }
}

@Suite("EngineIOClientSession 4.1.6 Heartbeat")
struct ClientSessionHeartbeatTests {
    @Test("4.1.6 each ping is answered with a pong at once")
    func answersPings() {
        var session = EngineIOClientSession.openOverPolling(transports: [.polling])
        #expect(session.pollAnswered("2", at: 25) == [.sendPoll, .scheduleTimer(at(70)), post("3")])
    }

    @Test("4.1.6 no ping within pingInterval + pingTimeout: the server is dead")
    func deadServer() {
        var session = EngineIOClientSession.openOverPolling(transports: [.polling])
        session.timerFired(now: at(44.9))
        #expect(session.drain() == [])
        session.timerFired(now: at(45))
        #expect(session.drain() == [.cancelTimer, .closeSession(.pingTimeout)])
    }
}

@Suite("EngineIOClientSession 4.1.7 Upgrade")
struct ClientSessionUpgradeTests {
    @Test("4.1.7 probe, pause polling, upgrade; packets queued meanwhile go over the WebSocket in order")
    func fullUpgrade() throws {
        var session = EngineIOClientSession.openOverPolling()  // GET in flight
        session.webSocketOpened(now: at(1))
        #expect(session.drain() == [write("2probe")])
        #expect(session.received("3probe", at: 2) == [])  // paused: waiting for the GET
        try session.sendRequested(.text("a"))
        try session.sendRequested(.text("b"))
        #expect(session.drain() == [])  // no POST while paused
        // The server ends the pending GET with `noop` (step 3).
        #expect(
            session.pollAnswered("6", at: 3) == [
                write("5"), write("4a"), write("4b"), .upgradeCompleted, .scheduleTimer(at(45)),
            ]
        )
        #expect(session.transport == .websocket)
        try session.sendRequested(.text("c"))
        #expect(session.drain() == [write("4c")])
        #expect(session.received("2", at: 25) == [write("3"), .scheduleTimer(at(70))])
        #expect(session.received("4srv", at: 26) == [.deliver(.text("srv"))])
    }

    @Test("4.1.7 the upgrade waits for an in-flight POST too")
    func waitsForPost() throws {
        var session = EngineIOClientSession.openOverPolling()
        try session.sendRequested(.text("a"))
        #expect(session.drain() == [post("4a")])
        session.webSocketOpened(now: at(1))
        _ = session.received("3probe", at: 2)
        _ = session.pollAnswered("6", at: 3)
        #expect(session.transport == .polling)
        session.postResponseReceived()
        #expect(session.drain() == [write("5"), .upgradeCompleted])
    }

    @Test("4.1.7 fallback: a probe that fails to open leaves the session on polling, nothing lost")
    func probeFailsToOpen() throws {
        var session = EngineIOClientSession.openOverPolling()
        session.webSocketFailed(EngineIOError(.connectionFailed, "refused"))
        let actions = session.drain()
        #expect(actions.count == 2)
        #expect(actions.last == .scheduleTimer(at(45)))
        try session.sendRequested(.text("a"))
        #expect(session.drain() == [post("4a")])
    }

    @Test("4.1.7 fallback: a wrong probe answer closes the probe; queued packets are POSTed in order")
    func wrongProbeAnswer() throws {
        var session = EngineIOClientSession.openOverPolling()
        _ = session.pollAnswered("6", at: 0.5)  // GET answered and re-issued
        session.webSocketOpened(now: at(1))
        _ = session.drain()
        try session.sendRequested(.text("a"))
        #expect(session.drain() == [post("4a")])  // before 3probe, polling carries sends
        try session.sendRequested(.text("b"))
        #expect(
            session.received("4nope", at: 2) == [
                .closeWebSocket,
                .upgradeFailed(EngineIOError(.upgradeFailed, "The server did not answer the probe with 3probe")),
                .scheduleTimer(at(45)),
            ]
        )
        session.postResponseReceived()
        #expect(session.drain() == [post("4b")])
        #expect(session.transport == .polling)
    }

    @Test("4.1.7 fallback after the pause: the probe dies, polling resumes with the queued packets")
    func probeDiesWhilePaused() throws {
        var session = EngineIOClientSession.openOverPolling()  // GET in flight
        session.webSocketOpened(now: at(1))
        _ = session.received("3probe", at: 2)
        _ = session.drain()
        try session.sendRequested(.text("a"))
        #expect(session.drain() == [])
        session.webSocketClosed()
        let actions = session.drain()
        #expect(actions.first == .upgradeFailed(EngineIOError(.upgradeFailed, "The probe WebSocket closed")))
        #expect(actions.last == post("4a"))
        #expect(session.pollAnswered("4x", at: 3) == [.deliver(.text("x")), .sendPoll])
    }

    @Test("4.1.7 an upgrade that does not finish within upgradeTimeout is abandoned")
    func upgradeTimeout() {
        var session = EngineIOClientSession.openOverPolling()
        session.webSocketOpened(now: at(1))
        _ = session.drain()
        session.timerFired(now: at(10))
        #expect(
            session.drain() == [
                .closeWebSocket,
                .upgradeFailed(EngineIOError(.upgradeTimedOut, "The upgrade did not complete in time")),
                .scheduleTimer(at(45)),
            ]
        )
    }

    @Test("4.1.7 no upgrade when the server does not offer websocket or the client disabled it")
    func noUpgrade() {
        let json = #"{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
        var session = EngineIOClientSession()
        _ = session.drain()
        #expect(!session.pollAnswered("0" + json, at: 0).contains(.openWebSocket))
        var pollingOnly = EngineIOClientSession(configuration: .init(transports: [.polling]))
        _ = pollingOnly.drain()
        #expect(!pollingOnly.pollAnswered("0" + handshakeJSON, at: 0).contains(.openWebSocket))
    }
}

@Suite("EngineIOClientSession 4.1.5 WebSocket-only and 4.1.8 Closing")
struct ClientSessionWebSocketTests {
    static func openOverWebSocket() -> EngineIOClientSession {
        var session = EngineIOClientSession(configuration: .init(transports: [.websocket]))
        _ = session.drain()
        session.webSocketOpened(now: at(0))
        _ = session.received("0" + handshakeJSON, at: 0)
        return session
    }

    @Test("4.1.3 a WebSocket-only session opens with the first message")
    func webSocketOnly() throws {
        var session = EngineIOClientSession(configuration: .init(transports: [.websocket]))
        #expect(session.drain() == [.sendHandshake(.websocket)])
        try session.sendRequested(.text("early"))
        session.webSocketOpened(now: at(0))
        #expect(
            session.received("0" + handshakeJSON, at: 0) == [
                .opened(handshake), write("4early"), .scheduleTimer(at(45)),
            ]
        )
        #expect(session.transport == .websocket)
    }

    @Test("4.1.3 a WebSocket-only session fails to open on a bad first message or a closed socket")
    func webSocketOnlyFailures() {
        var bad = EngineIOClientSession(configuration: .init(transports: [.websocket]))
        _ = bad.drain()
        let actions = bad.received("4hello", at: 0)
        #expect(actions.first == .closeWebSocket)
        var refused = EngineIOClientSession(configuration: .init(transports: [.websocket]))
        _ = refused.drain()
        refused.webSocketFailed(EngineIOError(.connectionFailed, "refused"))
        guard case .openFailed(let error)? = refused.drain().first else {
            Issue.record("expected openFailed")
            return
        }
        #expect(error.code == .connectionFailed)
    }

    @Test("4.1.8 the client closes over polling: queued packets, then `1`, are POSTed")
    func closeOverPolling() throws {
        var session = EngineIOClientSession.openOverPolling(transports: [.polling])
        try session.sendRequested(.text("a"))
        session.closeRequested()
        #expect(session.drain() == [post(payload("4a", "1")), .cancelTimer, .closeSession(.clientDisconnect)])
        expectCode(.sessionClosed) { try session.sendRequested(.text("late")) }
    }

    @Test("4.1.8 closing waits for the in-flight POST, and closes the probe")
    func closeWaitsForPost() throws {
        var session = EngineIOClientSession.openOverPolling()
        try session.sendRequested(.text("a"))
        _ = session.drain()
        session.closeRequested()
        #expect(session.drain() == [.closeWebSocket])
        expectCode(.sessionClosed) { try session.sendRequested(.text("b")) }
        session.postResponseReceived()
        #expect(session.drain() == [post("1"), .cancelTimer, .closeSession(.clientDisconnect)])
    }

    @Test("4.1.8 over WebSocket: send `1`, then close")
    func closeOverWebSocket() {
        var session = Self.openOverWebSocket()
        session.closeRequested()
        #expect(session.drain() == [write("1"), .closeWebSocket, .cancelTimer, .closeSession(.clientDisconnect)])
    }

    @Test("4.1.8 the server closes: `1` over either transport, or the WebSocket closing")
    func serverCloses() {
        var polling = EngineIOClientSession.openOverPolling(transports: [.polling])
        #expect(polling.pollAnswered("1", at: 1) == [.cancelTimer, .closeSession(.serverDisconnect)])
        var webSocket = Self.openOverWebSocket()
        #expect(webSocket.received("1", at: 1) == [.closeWebSocket, .cancelTimer, .closeSession(.serverDisconnect)])
        var dropped = Self.openOverWebSocket()
        dropped.webSocketClosed()
        #expect(dropped.drain() == [.cancelTimer, .closeSession(.transportClose)])
        var garbage = Self.openOverWebSocket()
        #expect(garbage.received("", at: 1) == [.closeWebSocket, .cancelTimer, .closeSession(.parseError)])
    }

    @Test("Configuration validation")
    func configuration() {
        #expect(throws: Never.self) { try EngineIOClientSession.Configuration().validate() }
        expectCode(.invalidConfiguration) { try EngineIOClientSession.Configuration(transports: []).validate() }
        expectCode(.invalidConfiguration) {
            try EngineIOClientSession.Configuration(transports: [.polling, .polling]).validate()
        }
        expectCode(.invalidConfiguration) { try EngineIOClientSession.Configuration(upgradeTimeout: .zero).validate() }
    }
}
