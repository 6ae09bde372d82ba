import DuplexEngineIOCore
import NIOCore
import Testing

@Suite("EngineIOServerSession 4.1.7 Upgrade from polling to WebSocket")
struct ServerSessionUpgradeTests {
    @Test("4.1.7 the full sequence: probe, noop to the pending GET, upgrade, buffered packets flushed in order")
    func fullSequence() throws {
        var session = EngineIOServerSession.openedOverPolling()
        _ = try session.get(at: 1)
        try session.upgradeRequested(now: at(2))
        #expect(session.drain() == [.scheduleTimer(at(12))])  // upgradeTimeout
        #expect(session.isUpgrading)
        // Step 3: `3probe` on the WebSocket, then the pending GET ends with `6`.
        #expect(session.receive("2probe", at: 3) == [ws("3probe"), poll("6")])
        // Sent between probe and upgrade: buffered (no GET pending).
        try session.sendRequested(.text("a"))
        try session.sendRequested(.text("b"))
        #expect(session.drain() == [])
        // Step 4: switch, flush in order.
        #expect(session.receive("5", at: 4) == [ws("4a"), ws("4b"), .upgradeCompleted, .scheduleTimer(at(25))])
        #expect(session.transport == .websocket)
        #expect(!session.isUpgrading)
        // "From then on, polling requests with that sid get 400."
        expectCode(.badRequest) { try session.pollRequested(now: at(5)) }
        expectCode(.badRequest) { try session.postReceived(ByteBuffer(string: "4x"), now: at(5)) }
        #expect(session.receive("4over ws", at: 5) == [.deliver(.text("over ws"))])
        try session.sendRequested(.text("c"))
        #expect(session.drain() == [ws("4c")])
        // The heartbeat goes on over the WebSocket.
        session.timerFired(now: at(25))
        #expect(session.drain() == [ws("2"), .scheduleTimer(at(45))])
    }

    @Test("4.1.7 a client may send `2probe` and `5` back to back")
    func backToBack() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.sendRequested(.text("queued"))
        try session.upgradeRequested(now: at(1))
        session.webSocketMessageReceived(.text("2probe"), now: at(1))
        session.webSocketMessageReceived(.text("5"), now: at(1))
        #expect(
            session.drain() == [
                .scheduleTimer(at(11)), ws("3probe"), ws("4queued"), .upgradeCompleted, .scheduleTimer(at(25)),
            ]
        )
    }

    @Test("4.1.7 a GET during the upgrade is answered at once: buffered packets, else `6`")
    func pollDuringUpgrade() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.upgradeRequested(now: at(1))
        _ = session.receive("2probe", at: 1)
        #expect(try session.get(at: 2) == [poll("6")])
        try session.sendRequested(.text("x"))
        #expect(try session.get(at: 3) == [poll("4x")])
    }

    @Test("4.1.7 before the probe, polling carries data as usual")
    func pollingBeforeProbe() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.upgradeRequested(now: at(1))
        #expect(try session.get(at: 2) == [.scheduleTimer(at(11))])
        try session.sendRequested(.text("x"))
        #expect(session.drain() == [poll("4x")])
        #expect(try session.post("4y", at: 2) == [.deliver(.text("y"))])
    }

    @Test("4.1.7 (ref impl) no `5` within upgradeTimeout: the probe is closed, the session stays on polling")
    func upgradeTimeout() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.upgradeRequested(now: at(20))
        #expect(session.drain() == [])
        _ = session.receive("2probe", at: 21)
        session.timerFired(now: at(25))  // ping, over polling
        #expect(session.drain() == [.scheduleTimer(at(30))])
        session.timerFired(now: at(30))
        #expect(
            session.drain() == [
                .closeWebSocket,
                .upgradeFailed(EngineIOError(.upgradeTimedOut, "The client did not complete the upgrade in time")),
                .scheduleTimer(at(45)),
            ]
        )
        #expect(session.transport == .polling)
        #expect(try session.get(at: 31) == [poll("2")])
        // A new attempt is allowed.
        try session.upgradeRequested(now: at(32))
        #expect(session.isUpgrading)
    }

    static let unexpectedProbeMessages: [String] = ["4hello", "5", "2", "3probe", "1", "x"]

    @Test(
        "4.1.7 (ref impl) an unexpected packet on the probe closes the probe, not the session",
        arguments: unexpectedProbeMessages
    )
    func unexpectedProbePacket(_ message: String) throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.upgradeRequested(now: at(1))
        #expect(session.drain() == [.scheduleTimer(at(11))])
        let actions = session.receive(message, at: 2)
        #expect(actions.last == .scheduleTimer(at(25)))
        #expect(actions.first == .closeWebSocket)
        #expect(
            actions.contains {
                if case .upgradeFailed(let error) = $0 { return error.code == .upgradeFailed } else { return false }
            }
        )
        #expect(!actions.contains { if case .deliver = $0 { return true } else { return false } })
        #expect(!session.isClosed)
        #expect(session.transport == .polling)
        #expect(!session.isUpgrading)
        // Late messages from the detached probe are ignored.
        #expect(session.receive("5", at: 3) == [])
    }

    @Test("4.1.7 an unexpected packet after the probe also aborts the upgrade")
    func unexpectedAfterProbe() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.upgradeRequested(now: at(1))
        _ = session.receive("2probe", at: 1)
        let actions = session.receive("4data", at: 2)
        #expect(actions.prefix(1) == [.closeWebSocket])
        #expect(session.transport == .polling)
    }

    @Test("4.1.7 the probe WebSocket closing aborts the upgrade; a repeated `2probe` is answered again")
    func probeClosed() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.upgradeRequested(now: at(1))
        #expect(session.receive("2probe", at: 1) == [.scheduleTimer(at(11)), ws("3probe")])
        #expect(session.receive("2probe", at: 1) == [ws("3probe")])
        session.webSocketClosed()
        #expect(
            session.drain() == [
                .upgradeFailed(EngineIOError(.upgradeFailed, "The probe WebSocket closed")), .scheduleTimer(at(25)),
            ]
        )
        #expect(!session.isClosed)
        session.webSocketFailed()
        #expect(session.drain() == [])
    }

    @Test("Abuse: upgrades refused for sessions not on polling, already upgrading, closed, or with upgrades off")
    func refusedUpgrades() throws {
        // Already upgraded: a second WebSocket is refused (protocol.md 4.1.5, "At most one WebSocket").
        var upgraded = EngineIOServerSession.upgraded()
        expectCode(.badRequest) { try upgraded.upgradeRequested(now: at(2)) }
        #expect(upgraded.drain() == [])
        #expect(!upgraded.isClosed)
        // Opened over WebSocket.
        var webSocketOnly = EngineIOServerSession.openedOverWebSocket()
        expectCode(.badRequest) { try webSocketOnly.upgradeRequested(now: at(1)) }
        // A second WebSocket while the first probe is in progress.
        var upgrading = EngineIOServerSession.openedOverPolling()
        try upgrading.upgradeRequested(now: at(1))
        _ = upgrading.drain()
        expectCode(.badRequest) { try upgrading.upgradeRequested(now: at(1)) }
        #expect(upgrading.isUpgrading)
        #expect(upgrading.receive("2probe", at: 1) == [ws("3probe")])
        // Closed and closing.
        var closed = EngineIOServerSession.openedOverPolling()
        _ = try closed.post("1", at: 1)
        expectCode(.sessionClosed) { try closed.upgradeRequested(now: at(2)) }
        var closing = EngineIOServerSession.openedOverPolling()
        closing.closeRequested(now: at(1))
        expectCode(.badRequest) { try closing.upgradeRequested(now: at(2)) }
        // Upgrades disabled.
        var noUpgrades = EngineIOServerSession.openedOverPolling(configuration: .init(upgrades: []))
        expectCode(.badRequest) { try noUpgrades.upgradeRequested(now: at(1)) }
    }

    @Test("Abuse: an upgrade for an unknown or malformed sid never reaches a session")
    func unknownSid() throws {
        let malformed = try EngineIORequest(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=websocket&sid=../x",
            headers: [("Upgrade", "websocket")]
        )
        expectCode(.sessionIdUnknown) { _ = try malformed.classify() }
    }

    @Test("4.1.7 WebSocket messages with no WebSocket attached are ignored")
    func strayMessages() {
        var session = EngineIOServerSession.openedOverPolling()
        #expect(session.receive("5", at: 1) == [])
        session.webSocketClosed()
        #expect(session.drain() == [])
    }
}

@Suite("EngineIOServerSession 4.1.8 Closing")
struct ServerSessionCloseTests {
    @Test("4.1.8 the client POSTs `1`: the pending GET gets `6`, later requests get 400")
    func clientCloseOverPolling() throws {
        var session = EngineIOServerSession.openedOverPolling()
        _ = try session.get(at: 1)
        #expect(
            try session.post(payload("4last", "1", "4ignored"), at: 2) == [
                .deliver(.text("last")), poll("6"), .cancelTimer, .closeSession(.clientDisconnect),
            ]
        )
        expectCode(.sessionClosed) { try session.pollRequested(now: at(3)) }
    }

    @Test("4.1.8 the server closes over polling: `1` follows the buffered packets in the next GET response")
    func serverCloseOverPolling() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.sendRequested(.text("bye"))
        session.closeRequested(now: at(1))
        // The heartbeat stops; closeTimeout (30 s) is the only deadline.
        #expect(session.drain() == [.scheduleTimer(at(31))])
        expectCode(.sessionClosed) { try session.sendRequested(.text("late")) }
        #expect(try session.post("4ignored", at: 2) == [])
        #expect(try session.get(at: 3) == [poll(payload("4bye", "1")), .cancelTimer, .closeSession(.serverDisconnect)])
    }

    @Test("4.1.8 the server closes with a GET pending: answered at once")
    func serverCloseWithPendingPoll() throws {
        var session = EngineIOServerSession.openedOverPolling()
        _ = try session.get(at: 1)
        session.closeRequested(now: at(2))
        #expect(session.drain() == [poll("1"), .cancelTimer, .closeSession(.serverDisconnect)])
        session.closeRequested(now: at(3))
        #expect(session.drain() == [])
    }

    @Test("4.1.8 (ref impl closeTimeout) a close nobody polls for ends after closeTimeout")
    func closeTimeout() {
        var session = EngineIOServerSession.openedOverPolling(configuration: .init(closeTimeout: .seconds(5)))
        session.closeRequested(now: at(1))
        #expect(session.drain() == [.scheduleTimer(at(6))])
        session.timerFired(now: at(5))
        #expect(session.drain() == [])
        session.timerFired(now: at(6))
        #expect(session.drain() == [.cancelTimer, .closeSession(.serverDisconnect)])
    }

    @Test("4.1.8 a second GET while closing is still a protocol error")
    func concurrentGetWhileClosing() throws {
        var session = EngineIOServerSession.openedOverPolling(configuration: .init(maxPacketsPerResponse: 1))
        try session.sendRequested(.text("a"))
        session.closeRequested(now: at(1))
        _ = session.drain()
        #expect(try session.get(at: 2) == [poll("4a")])
        _ = try session.get(at: 3)  // carries `1`, closes
        #expect(session.isClosed)
    }

    @Test("4.1.8 the server closes during an upgrade: the probe is closed too")
    func serverCloseDuringUpgrade() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.upgradeRequested(now: at(1))
        _ = try session.get(at: 1)
        session.closeRequested(now: at(2))
        #expect(session.drain() == [.closeWebSocket, poll("1"), .cancelTimer, .closeSession(.serverDisconnect)])
    }

    @Test("4.1.8 over WebSocket: the server sends `1`, then closes the WebSocket")
    func serverCloseOverWebSocket() {
        var session = EngineIOServerSession.upgraded()
        session.closeRequested(now: at(2))
        #expect(session.drain() == [ws("1"), .closeWebSocket, .cancelTimer, .closeSession(.serverDisconnect)])
    }

    @Test("4.1.8 over WebSocket: the client sends `1`")
    func clientCloseOverWebSocket() {
        var session = EngineIOServerSession.upgraded()
        #expect(session.receive("1", at: 2) == [.closeWebSocket, .cancelTimer, .closeSession(.clientDisconnect)])
    }

    @Test("4.1.8 the client closes during an upgrade: the probe is closed too")
    func clientCloseDuringUpgrade() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.upgradeRequested(now: at(1))
        _ = session.drain()
        #expect(try session.post("1", at: 2) == [.closeWebSocket, .cancelTimer, .closeSession(.clientDisconnect)])
    }

    @Test("4.1.8 (ref impl) the WebSocket transport closing or failing ends the session")
    func transportClose() {
        var closed = EngineIOServerSession.upgraded()
        closed.webSocketClosed()
        #expect(closed.drain() == [.cancelTimer, .closeSession(.transportClose)])
        var failed = EngineIOServerSession.openedOverWebSocket()
        failed.webSocketFailed()
        #expect(failed.drain() == [.cancelTimer, .closeSession(.transportError)])
        failed.timerFired(now: at(100))
        failed.webSocketMessageReceived(.text("4x"), now: at(100))
        #expect(failed.drain() == [])
    }
}
