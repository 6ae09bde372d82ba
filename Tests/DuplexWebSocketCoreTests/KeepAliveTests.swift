import NIOCore
import Testing

@testable import DuplexWebSocketCore

private let bothRoles: [Role] = [.client, .server]

private func pingPayload(_ counter: UInt64) -> [UInt8] {
    (0..<8).reversed().map { UInt8(truncatingIfNeeded: counter >> (UInt64($0) * 8)) }
}

private func keepAliveMachine(_ role: Role, interval: Int64 = 20, timeout: Int64 = 10) -> MachineHarness {
    MachineHarness(role, keepAlive: .enabled(interval: .seconds(interval), timeout: .seconds(timeout)), closeTimeout: .seconds(10))
}

@Suite("RFC 6455 §5.5.2: keepalive pings")
struct KeepAliveTests {
    @Test("configuration values")
    func values() {
        #expect(KeepAlive.disabled.interval == nil)
        #expect(KeepAlive.default.interval == .seconds(20))
        #expect(KeepAlive.default.timeout == .seconds(20))
        let custom = KeepAlive.enabled(interval: .seconds(5), timeout: .seconds(2))
        #expect(custom.interval == .seconds(5) && custom.timeout == .seconds(2))
        #expect(WebSocketLimits.default == WebSocketLimits(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20))
    }

    @Test("no keepalive: no timer at all", arguments: bothRoles)
    func disabled(role: Role) {
        var machine = MachineHarness(role)
        #expect(machine.events() == [])
        machine.machine.timerFired(now: at(1000))
        #expect(machine.events() == [])
    }

    @Test("§5.5.2: a ping at every interval, each answered pong recording the latency", arguments: bothRoles)
    func pingAtInterval(role: Role) {
        var machine = keepAliveMachine(role)
        #expect(machine.events() == [.scheduleTimer(at(20))])
        // A timer firing early only reschedules.
        machine.machine.timerFired(now: at(19.5))
        #expect(machine.events() == [.scheduleTimer(at(20))])

        machine.machine.timerFired(now: at(20))
        #expect(machine.events() == [.write(.ping, pingPayload(1)), .scheduleTimer(at(30))])
        #expect(machine.receive(.pong, pingPayload(1), now: at(21.5)) == [.scheduleTimer(at(40)), .pongReceived(pingPayload(1))])
        #expect(machine.machine.lastPingLatency == .milliseconds(1500))

        machine.machine.timerFired(now: at(40))
        #expect(machine.events() == [.write(.ping, pingPayload(2)), .scheduleTimer(at(50))])
        #expect(machine.receive(.pong, pingPayload(2), now: at(40.25)) == [.scheduleTimer(at(60)), .pongReceived(pingPayload(2))])
        #expect(machine.machine.lastPingLatency == .milliseconds(250))
    }

    @Test("server: the exact keepalive ping bytes")
    func exactPing() {
        var server = keepAliveMachine(.server)
        #expect(server.machine.nextAction() == .scheduleTimer(at(20)))
        server.machine.timerFired(now: at(20))
        #expect(server.machine.nextAction() == .write(ByteBuffer(bytes: [0x89, 0x08] + pingPayload(1))))
        #expect(server.machine.nextAction() == .scheduleTimer(at(30)))
        #expect(server.machine.nextAction() == nil)
    }

    @Test("a late pong schedules the next ping no earlier than now")
    func latePong() {
        var server = keepAliveMachine(.server, interval: 5, timeout: 10)
        _ = server.events()
        server.machine.timerFired(now: at(5))
        _ = server.events()
        #expect(server.receive(.pong, pingPayload(1), now: at(12)) == [.scheduleTimer(at(12)), .pongReceived(pingPayload(1))])
        #expect(server.machine.lastPingLatency == .seconds(7))
    }

    @Test("§5.5.2: no pong before the timeout fails the connection with 1011 (keepAliveTimedOut)", arguments: bothRoles)
    func missingPong(role: Role) {
        var machine = keepAliveMachine(role)
        _ = machine.events()
        machine.machine.timerFired(now: at(20))
        _ = machine.events()
        machine.machine.timerFired(now: at(29))
        #expect(machine.events() == [.scheduleTimer(at(30))])
        machine.machine.timerFired(now: at(30))
        let tail: Event = role == .server ? .closeTransport : .scheduleTimer(at(40))
        #expect(machine.events().ignoringCloseReasons == [.writeClose(1011), .failed(.keepAliveTimedOut), tail])
        guard case .closed(let info, let error) = machine.transportClosed().first else {
            Issue.record("no closed action")
            return
        }
        #expect(info.sent?.code == .internalError)
        #expect(error == .keepAliveTimedOut)
    }

    @Test("§5.5.3: a pong that does not answer the keepalive ping does not count", arguments: bothRoles)
    func wrongPong(role: Role) {
        var machine = keepAliveMachine(role)
        _ = machine.events()
        machine.machine.timerFired(now: at(20))
        _ = machine.events()
        #expect(machine.receive(.pong, pingPayload(2), now: at(21)) == [.pongReceived(pingPayload(2))])
        #expect(machine.receive(.pong, [1], now: at(21)) == [.pongReceived([1])])
        #expect(machine.machine.lastPingLatency == nil)
        machine.machine.timerFired(now: at(30))
        #expect(MachineHarness.failure(in: machine.events()) == .keepAliveTimedOut)
    }

    @Test("a peer's own pings do not stand in for the pong", arguments: bothRoles)
    func peerPingsDoNotCount(role: Role) {
        var machine = keepAliveMachine(role)
        _ = machine.events()
        machine.machine.timerFired(now: at(20))
        _ = machine.events()
        #expect(machine.receive(.ping, pingPayload(1), now: at(21)) == [.write(.pong, pingPayload(1))])
        machine.machine.timerFired(now: at(30))
        #expect(MachineHarness.failure(in: machine.events()) == .keepAliveTimedOut)
    }

    @Test("once closing, keepalive stops: a stale timer neither pings nor spins", arguments: bothRoles)
    func closingStopsKeepAlive(role: Role) throws {
        var machine = keepAliveMachine(role)
        _ = machine.events()
        try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(19))
        // Only the close timeout is left to wait for.
        #expect(machine.events() == [.writeClose(1000), .scheduleTimer(at(29))])
        machine.machine.timerFired(now: at(20))
        #expect(machine.events() == [.scheduleTimer(at(29))])
        machine.machine.timerFired(now: at(29))
        #expect(machine.events() == [.closeTransport])
    }

    @Test("a close requested while a keepalive ping is unanswered waits for the close timeout only", arguments: bothRoles)
    func closingWithPingOutstanding(role: Role) throws {
        var machine = keepAliveMachine(role)
        _ = machine.events()
        machine.machine.timerFired(now: at(20))
        _ = machine.events()
        try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(25))
        #expect(machine.events() == [.writeClose(1000), .scheduleTimer(at(35))])
        // The ping's deadline passes during the closing handshake: not a keepalive failure.
        machine.machine.timerFired(now: at(30))
        #expect(machine.events() == [.scheduleTimer(at(35))])
        #expect(machine.receiveClose(1000, now: at(31)).contains { if case .failed = $0 { return true } else { return false } } == false)
    }

    @Test("after the peer's close no keepalive ping is sent", arguments: bothRoles)
    func noPingAfterPeerClose(role: Role) {
        var machine = keepAliveMachine(role)
        _ = machine.events()
        _ = machine.receiveClose(1000, now: at(5))
        machine.machine.timerFired(now: at(20))
        #expect(!machine.events().contains { if case .frame(let frame) = $0 { return frame.opcode == .ping } else { return false } })
    }
}
