import DuplexEngineIOCore
import NIOCore
import Testing

/// DESIGN.md "Backpressure is real": what the state machine offers its adapter for it.
@Suite("EngineIOServerSession backpressure (DESIGN.md)")
struct ServerSessionBackpressureTests {
    @Test("the polling outbox cost is each packet's bytes plus the per-message overhead, and drains with a GET")
    func outboxCost() throws {
        var session = EngineIOServerSession.openedOverPolling()
        #expect(session.bufferedByteCount == 0)
        try session.sendRequested(.text("hello"))
        try session.sendRequested(.binary(ByteBuffer(bytes: [1, 2, 3])))
        try session.sendRequested(.text(""))
        _ = session.drain()
        let overhead = EngineIOServerSession.queuedMessageOverhead
        #expect(session.bufferedByteCount == 5 + 3 + 0 + 3 * overhead)
        _ = try session.get(at: 1)
        #expect(session.bufferedByteCount == 0)
    }

    @Test("the outbox cost only counts what a GET did not take (maxPacketsPerResponse)")
    func partialDrain() throws {
        var session = EngineIOServerSession.openedOverPolling(
            configuration: EngineIOServerSession.Configuration(maxPacketsPerResponse: 2)
        )
        for _ in 0..<3 { try session.sendRequested(.text("abcd")) }
        _ = session.drain()
        _ = try session.get(at: 1)
        #expect(session.bufferedByteCount == 4 + EngineIOServerSession.queuedMessageOverhead)
    }

    @Test("4.1.7 step 4: an upgrade hands the outbox to the WebSocket, leaving no polling cost")
    func upgradeMovesCost() throws {
        var session = EngineIOServerSession.openedOverPolling()
        try session.upgradeRequested(now: at(1))
        session.webSocketMessageReceived(.text("2probe"), now: at(1))
        try session.sendRequested(.text("queued"))
        _ = session.drain()
        #expect(session.bufferedByteCount > 0)
        session.webSocketMessageReceived(.text("5"), now: at(2))
        #expect(session.drain().contains(ws("4queued")))
        #expect(session.bufferedByteCount == 0)
    }

    @Test("4.1.6 while the adapter does not read, an overdue pong does not time the session out")
    func pausedReceivingSuspendsPongDeadline() {
        var session = EngineIOServerSession.openedOverWebSocket()
        session.timerFired(now: at(25))
        #expect(session.drain() == [ws("2"), .scheduleTimer(at(45))])
        session.receivingPaused()
        #expect(session.drain() == [.cancelTimer])
        session.timerFired(now: at(100))
        #expect(session.drain() == [])
        // Reading again: the pong, possibly unread in the socket, has pingTimeout to arrive.
        session.receivingResumed(now: at(100))
        #expect(session.drain() == [.scheduleTimer(at(120))])
        session.timerFired(now: at(120))
        #expect(session.drain() == [.closeWebSocket, .cancelTimer, .closeSession(.pingTimeout)])
    }

    @Test("4.1.6 pings still go out while receiving is paused; a pong after resuming keeps the session")
    func pingsContinueWhilePaused() {
        var session = EngineIOServerSession.openedOverWebSocket()
        session.receivingPaused()
        #expect(session.drain() == [])
        session.timerFired(now: at(25))
        #expect(session.drain() == [ws("2"), .cancelTimer])
        session.receivingResumed(now: at(30))
        #expect(session.drain() == [.scheduleTimer(at(50))])
        #expect(session.receive("3", at: 31) == [.scheduleTimer(at(56))])
    }

    @Test("terminate closes the session with the adapter's reason; the pending GET gets `1`")
    func terminate() throws {
        var session = EngineIOServerSession.openedOverPolling()
        _ = try session.get(at: 1)
        session.terminate(.sendBufferFull)
        #expect(session.drain() == [poll("1"), .cancelTimer, .closeSession(.sendBufferFull)])
        #expect(session.bufferedByteCount == 0)
    }
}
