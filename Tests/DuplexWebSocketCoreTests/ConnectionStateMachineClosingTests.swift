import NIOCore
import Testing

@testable import DuplexWebSocketCore

private let bothRoles: [Role] = [.client, .server]

private func closeFrame(_ code: UInt16, _ reason: String = "") -> CloseFrame {
    CloseFrame(code: CloseCode(code), reason: reason)
}

/// The code of the error `body` throws, or nil.
private func thrownCode(_ body: () throws(WebSocketError) -> Void) -> WebSocketError.Code? {
    do {
        try body()
        return nil
    } catch {
        return error.code
    }
}

@Suite("RFC 6455 §5.5.1, §7: the closing handshake")
struct ConnectionClosingTests {
    @Test("§5.5.1: a server echoes the peer's close frame, then closes TCP first (§7.1.1)")
    func peerClosesServer() {
        var server = MachineHarness(.server)
        #expect(server.receiveClose(1000, "bye") == [.writeClose(1000, "bye"), .closeTransport])
        #expect(!server.machine.canSend)
        #expect(!server.machine.isClosed)
        let info = CloseInfo(received: closeFrame(1000, "bye"), sent: closeFrame(1000, "bye"), receivedThenSent: true)
        #expect(server.transportClosed() == [.closed(info, error: nil)])
        #expect(server.machine.isClosed)
    }

    @Test("§5.5.1: the server's exact close echo bytes")
    func exactEcho() {
        var server = MachineHarness(.server)
        server.machine.bytesReceived(
            ByteBuffer(bytes: WireFrame.bytes(opcode: 0x8, payload: [0x03, 0xE9, 0x61], maskKey: [5, 6, 7, 8])), now: at(0))
        #expect(server.machine.nextAction() == .write(ByteBuffer(bytes: [0x88, 0x03, 0x03, 0xE9, 0x61])))
        #expect(server.machine.nextAction() == .closeTransport)
        #expect(server.machine.nextAction() == nil)
    }

    @Test("§7.1.1: a client echoes, then waits for the server to close TCP")
    func peerClosesClient() {
        var client = MachineHarness(.client, closeTimeout: .seconds(10))
        #expect(client.receiveClose(1001, "restart", now: at(5)) == [.writeClose(1001, "restart"), .scheduleTimer(at(15))])
        let info = CloseInfo(received: closeFrame(1001, "restart"), sent: closeFrame(1001, "restart"), receivedThenSent: true)
        #expect(client.transportClosed() == [.closed(info, error: nil)])
    }

    @Test("§7.1.1: a client closes TCP itself when the server does not within the close timeout")
    func clientClosesOnTimeout() {
        var client = MachineHarness(.client, closeTimeout: .seconds(10))
        #expect(client.receiveClose(1000, now: at(5)) == [.writeClose(1000), .scheduleTimer(at(15))])
        // A timer firing early changes nothing but is rescheduled.
        client.machine.timerFired(now: at(14))
        #expect(client.events() == [.scheduleTimer(at(15))])
        client.machine.timerFired(now: at(15))
        #expect(client.events() == [.closeTransport])
        client.machine.timerFired(now: at(16))
        #expect(client.events() == [])
        let info = CloseInfo(received: closeFrame(1000), sent: closeFrame(1000), receivedThenSent: true)
        #expect(client.transportClosed() == [.closed(info, error: nil)])
    }

    @Test(
        "§5.5.1: the echo carries the peer's status code",
        arguments: bothRoles,
        [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as [UInt16]
    )
    func echoesTheCode(role: Role, code: UInt16) {
        var machine = MachineHarness(role)
        let events = machine.receiveClose(code, "r")
        #expect(events.writtenCloseFrames == [.close(code, "r")])
        // Only 1000 and 1001 end without an error.
        guard case .closed(let info, let error) = machine.transportClosed().first else {
            Issue.record("no closed action")
            return
        }
        #expect(info.code == CloseCode(code))
        #expect(info.receivedThenSent)
        #expect(error == (code == 1000 || code == 1001 ? nil : .connectionClosed))
    }

    @Test("§7.1.5: an empty close frame (1005) is echoed empty and ends normally", arguments: bothRoles)
    func emptyCloseFrame(role: Role) {
        var machine = MachineHarness(role)
        let events = machine.receive(.close, [])
        #expect(events.first == .write(.close, []))
        let info = CloseInfo(received: closeFrame(1005), sent: closeFrame(1005), receivedThenSent: true)
        #expect(machine.transportClosed() == [.closed(info, error: nil)])
    }

    @Test("§7.1.2: we start the handshake; a server closes TCP when the echo arrives")
    func weCloseServer() throws {
        var server = MachineHarness(.server, closeTimeout: .seconds(10))
        try server.machine.closeRequested(code: .normalClosure, reason: "done", now: at(0))
        #expect(server.machine.nextAction() == .write(ByteBuffer(bytes: [0x88, 0x06, 0x03, 0xE8] + Array("done".utf8))))
        #expect(server.machine.nextAction() == .scheduleTimer(at(10)))
        #expect(server.machine.nextAction() == nil)
        #expect(!server.machine.canSend)
        #expect(server.receiveClose(1000, now: at(1)) == [.closeTransport])
        let info = CloseInfo(received: closeFrame(1000), sent: closeFrame(1000, "done"), receivedThenSent: false)
        #expect(server.transportClosed() == [.closed(info, error: nil)])
    }

    @Test("§7.1.2: we start the handshake; a client waits for the server to close TCP")
    func weCloseClient() throws {
        var client = MachineHarness(.client, closeTimeout: .seconds(10))
        try client.machine.closeRequested(code: .goingAway, reason: "", now: at(0))
        #expect(client.events() == [.writeClose(1001), .scheduleTimer(at(10))])
        #expect(client.receiveClose(1001, now: at(1)) == [.scheduleTimer(at(11))])
        // The server closes TCP after the handshake while the client waits.
        let info = CloseInfo(received: closeFrame(1001), sent: closeFrame(1001), receivedThenSent: false)
        #expect(client.transportClosed() == [.closed(info, error: nil)])
    }

    @Test("§7.1.2: data still arriving after our close frame is delivered until the peer's close", arguments: bothRoles)
    func dataAfterOurClose(role: Role) throws {
        var machine = MachineHarness(role)
        try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(0))
        _ = machine.events()
        #expect(machine.receive(text: "late") == [.deliverText("late")])
        #expect(machine.receive(.binary, [1], fin: false) == [])
        #expect(machine.receive(.continuation, [2]) == [.deliverBinary([1, 2])])
    }

    @Test("§1.4: nothing is delivered after the peer's close frame", arguments: bothRoles)
    func nothingAfterPeerClose(role: Role) {
        var machine = MachineHarness(role)
        let bytes =
            WireFrame.bytes(from: role.peer, opcode: .close, payload: WireFrame.closeBody(1000))
            + WireFrame.bytes(from: role.peer, opcode: .text, payload: Array("x".utf8))
        let events = machine.receive(bytes)
        #expect(!events.contains(.deliverText("x")))
        #expect(machine.receive(text: "y") == [])
        #expect(machine.receive([0xFF, 0xFF, 0xFF]) == [])  // not even parsed
    }

    @Test("§7.1.2: the peer never answers our close frame: TCP is closed at the timeout, closure is abnormal", arguments: bothRoles)
    func peerNeverAnswers(role: Role) throws {
        var machine = MachineHarness(role, closeTimeout: .seconds(3))
        try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(1))
        #expect(machine.events() == [.writeClose(1000), .scheduleTimer(at(4))])
        machine.machine.timerFired(now: at(4))
        #expect(machine.events() == [.closeTransport])
        let info = CloseInfo(received: nil, sent: closeFrame(1000), receivedThenSent: false)
        #expect(machine.transportClosed() == [.closed(info, error: .connectionClosed)])
        #expect(info.code == .abnormalClosure)
    }

    @Test("§7.1.5: the transport closing without any close frame is an abnormal closure (1006)", arguments: bothRoles)
    func abruptEOF(role: Role) {
        var machine = MachineHarness(role)
        #expect(machine.receive(text: "a") == [.deliverText("a")])
        machine.machine.transportClosed()
        let actions = machine.actions()
        #expect(actions.count == 1)
        guard case .closed(let info, let error) = actions.first else {
            Issue.record("expected closed, got \(actions)")
            return
        }
        #expect(info == CloseInfo(received: nil, sent: nil, receivedThenSent: false))
        #expect(info.code == .abnormalClosure)
        #expect(error?.code == .connectionClosed)
        #expect(error?.closeInfo == info)
        #expect(error?.isRetryable == true)
        // Once closed, the machine does nothing more.
        #expect(machine.transportClosed() == [])
        #expect(machine.receive(text: "b") == [])
        machine.machine.timerFired(now: at(100))
        #expect(machine.events() == [])
        #expect(machine.machine.isClosed)
    }

    @Test("a stale timer firing after the transport closed does nothing", arguments: bothRoles)
    func staleTimerAfterClose(role: Role) throws {
        var machine = MachineHarness(role, keepAlive: .enabled(interval: .seconds(3), timeout: .seconds(1)), closeTimeout: .seconds(10))
        _ = machine.events()
        try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(0))
        #expect(machine.events() == [.writeClose(1000), .scheduleTimer(at(10))])
        _ = machine.transportClosed()
        for time in [2.0, 5, 10, 11] {
            machine.machine.timerFired(now: at(time))
            #expect(machine.events() == [], "at \(time)")
        }
    }

    @Test("§7.1.5: our close frame answered by TCP closing (no close frame back) is abnormal", arguments: bothRoles)
    func closeAnsweredByEOF(role: Role) throws {
        var machine = MachineHarness(role)
        try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(0))
        _ = machine.events()
        let info = CloseInfo(received: nil, sent: closeFrame(1000), receivedThenSent: false)
        #expect(machine.transportClosed() == [.closed(info, error: .connectionClosed)])
    }

    @Test("§5.5.1: closeRequested twice, or after the peer's close, is sendAfterClose", arguments: bothRoles)
    func closeTwice(role: Role) throws {
        var machine = MachineHarness(role)
        try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(0))
        _ = machine.events()
        #expect(
            thrownCode { () throws(WebSocketError) in try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(0)) }
                == .sendAfterClose)
        #expect(machine.events() == [])

        var other = MachineHarness(role)
        _ = other.receiveClose(1000)
        #expect(
            thrownCode { () throws(WebSocketError) in try other.machine.closeRequested(code: .normalClosure, reason: "", now: at(0)) }
                == .sendAfterClose)
        #expect(other.events() == [])
    }

    @Test("§5.5.1: \"MUST NOT send any more data frames after sending a Close frame\": sendAfterClose", arguments: bothRoles)
    func sendAfterClose(role: Role) throws {
        var machine = MachineHarness(role)
        try machine.machine.sendFragmentRequested(kind: .text, ByteBuffer(string: "a"), isFinal: false)
        try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(0))
        _ = machine.events()
        #expect(thrownCode { () throws(WebSocketError) in try machine.machine.sendRequested(.text("x")) } == .sendAfterClose)
        #expect(
            thrownCode { () throws(WebSocketError) in try machine.machine.sendFragmentRequested(kind: .text, ByteBuffer(), isFinal: true) }
                == .sendAfterClose)
        #expect(thrownCode { () throws(WebSocketError) in try machine.machine.pingRequested(ByteBuffer()) } == .sendAfterClose)
        #expect(machine.events() == [])
        // After the transport closed as well.
        _ = machine.transportClosed()
        #expect(thrownCode { () throws(WebSocketError) in try machine.machine.sendRequested(.binary([1])) } == .sendAfterClose)
        #expect(
            thrownCode { () throws(WebSocketError) in try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(0)) }
                == .sendAfterClose)
    }

    @Test("§7.4: closeRequested refuses codes that may not be sent, and reasons over 123 bytes")
    func closeRequestValidation() {
        for raw in [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535] as [UInt16] {
            var machine = MachineHarness(.server)
            #expect(
                thrownCode { () throws(WebSocketError) in try machine.machine.closeRequested(code: CloseCode(raw), reason: "", now: at(0)) }
                    == .invalidCloseCode)
            #expect(machine.events() == [])
            #expect(machine.machine.canSend)
        }
        for (reason, valid) in [
            (String(repeating: "a", count: 123), true), (String(repeating: "a", count: 124), false),
            (String(repeating: "é", count: 62), false), (String(repeating: "é", count: 61), true),
        ] {
            var machine = MachineHarness(.server)
            let code = thrownCode { () throws(WebSocketError) in
                try machine.machine.closeRequested(code: .normalClosure, reason: reason, now: at(0))
            }
            #expect(code == (valid ? nil : .invalidCloseCode))
            if valid { #expect(machine.events().writtenCloseFrames == [.close(1000, reason)]) }
        }
    }
}

/// A peer input that fails the connection, and the error it must produce.
struct FailureCase: Sendable, CustomStringConvertible {
    var description: String
    var code: WebSocketError.Code
    var limits = WebSocketLimits.default
    var bytes: @Sendable (Role) -> [UInt8]

    static let all: [FailureCase] = [
        FailureCase(description: "reserved opcode 3", code: .protocolViolation) {
            WireFrame.bytes(from: $0.peer, opcode: Opcode(rawValue: 3), payload: [])
        },
        FailureCase(description: "reserved opcode 0xB", code: .protocolViolation) {
            WireFrame.bytes(from: $0.peer, opcode: Opcode(rawValue: 0xB), payload: [1])
        },
        FailureCase(description: "RSV2 set", code: .protocolViolation) {
            WireFrame.bytes(from: $0.peer, rsv: 0x20, opcode: .text, payload: [])
        },
        FailureCase(description: "wrong masking", code: .protocolViolation) { receiver in
            WireFrame.bytes(opcode: 0x1, payload: [0x61], maskKey: receiver == .client ? [1, 2, 3, 4] : nil)
        },
        FailureCase(description: "ping of 126 bytes", code: .protocolViolation) {
            WireFrame.bytes(from: $0.peer, opcode: .ping, payload: [UInt8](repeating: 0, count: 126))
        },
        FailureCase(description: "fragmented ping", code: .protocolViolation) {
            WireFrame.bytes(from: $0.peer, fin: false, opcode: .ping, payload: [])
        },
        FailureCase(description: "orphan continuation", code: .protocolViolation) {
            WireFrame.bytes(from: $0.peer, opcode: .continuation, payload: [])
        },
        FailureCase(description: "close code 1005 on the wire", code: .protocolViolation) {
            WireFrame.bytes(from: $0.peer, opcode: .close, payload: WireFrame.closeBody(1005))
        },
        FailureCase(description: "close code 999", code: .protocolViolation) {
            WireFrame.bytes(from: $0.peer, opcode: .close, payload: WireFrame.closeBody(999))
        },
        FailureCase(description: "1-byte close body", code: .protocolViolation) {
            WireFrame.bytes(from: $0.peer, opcode: .close, payload: [0x03])
        },
        FailureCase(description: "64-bit length with the MSB set", code: .protocolViolation) { receiver in
            [0x82, (receiver == .server ? 0x80 : 0) | 127, 0x80, 0, 0, 0, 0, 0, 0, 1]
        },
        FailureCase(description: "invalid UTF-8 text", code: .invalidUTF8) {
            WireFrame.bytes(from: $0.peer, opcode: .text, payload: [0xED, 0xA0, 0x80])
        },
        FailureCase(description: "invalid UTF-8 close reason", code: .invalidUTF8) {
            WireFrame.bytes(from: $0.peer, opcode: .close, payload: WireFrame.closeBody(1000, [0xFF]))
        },
        FailureCase(
            description: "frame over the limit", code: .messageTooLarge, limits: WebSocketLimits(maxFrameSize: 16, maxMessageSize: 100)
        ) {
            WireFrame.bytes(from: $0.peer, opcode: .binary, payload: [UInt8](repeating: 0, count: 17))
        },
        FailureCase(
            description: "message over the limit", code: .messageTooLarge, limits: WebSocketLimits(maxFrameSize: 100, maxMessageSize: 16)
        ) {
            WireFrame.bytes(from: $0.peer, opcode: .text, payload: [UInt8](repeating: 0x61, count: 17))
        },
    ]
}

@Suite("RFC 6455 §7.1.7: failing the connection")
struct ConnectionFailureTests {
    @Test("§7.1.7: the server sends the error's close code, reports the failure, closes TCP", arguments: FailureCase.all)
    func server(failure: FailureCase) {
        var server = MachineHarness(.server, limits: failure.limits)
        let events = server.receive(failure.bytes(.server))
        #expect(events.ignoringCloseReasons == [.writeClose(failure.code.expectedCloseCode), .failed(failure.code), .closeTransport])
        checkCloseReason(events)
        checkClosed(&server, failure: failure)
    }

    @Test("§7.1.7: the client sends the error's close code, reports the failure, waits for the server", arguments: FailureCase.all)
    func client(failure: FailureCase) {
        var client = MachineHarness(.client, limits: failure.limits, closeTimeout: .seconds(10))
        let events = client.receive(failure.bytes(.client), now: at(2))
        #expect(
            events.ignoringCloseReasons == [.writeClose(failure.code.expectedCloseCode), .failed(failure.code), .scheduleTimer(at(12))])
        checkCloseReason(events)
        client.machine.timerFired(now: at(12))
        #expect(client.events() == [.closeTransport])
        checkClosed(&client, failure: failure)
    }

    /// The reason of a failure's close frame is for humans but must fit a control frame and be UTF-8.
    private func checkCloseReason(_ events: [Event]) {
        for frame in events.writtenCloseFrames {
            #expect(frame.payload.count <= 125)
            #expect(String(validating: frame.payload.dropFirst(2), as: UTF8.self) != nil)
        }
    }

    private func checkClosed(_ machine: inout MachineHarness, failure: FailureCase) {
        // Nothing more is delivered or answered once failed.
        #expect(machine.receive(text: "after") == [])
        #expect(machine.receive(.ping, [1]) == [])
        #expect(thrownCode { () throws(WebSocketError) in try machine.machine.sendRequested(.text("x")) } == .sendAfterClose)
        machine.machine.transportClosed()
        let actions = machine.actions()
        guard actions.count == 1, case .closed(let info, let error) = actions[0] else {
            Issue.record("expected one closed action, got \(actions)")
            return
        }
        #expect(info.received == nil)
        #expect(info.sent?.code == CloseCode(failure.code.expectedCloseCode))
        #expect(error?.code == failure.code)
        #expect(error?.closeInfo == info)
        #expect(error?.closeCode == CloseCode(failure.code.expectedCloseCode))
    }

    @Test("§7.1.7: messages before the bad frame are delivered, nothing after it", arguments: bothRoles)
    func noDeliveriesAfterFailure(role: Role) {
        var machine = MachineHarness(role)
        let bytes =
            WireFrame.bytes(from: role.peer, opcode: .text, payload: Array("before".utf8))
            + WireFrame.bytes(from: role.peer, opcode: Opcode(rawValue: 0x5), payload: [])
            + WireFrame.bytes(from: role.peer, opcode: .text, payload: Array("after".utf8))
            + WireFrame.bytes(from: role.peer, opcode: .ping, payload: [])
        let events = machine.receive(bytes).ignoringCloseReasons
        #expect(events.prefix(3) == [.deliverText("before"), .writeClose(1002), .failed(.protocolViolation)])
        #expect(!events.contains(.deliverText("after")))
        #expect(!events.contains(.write(.pong, [])))
    }

    @Test("§7.1.7: failing after our close frame was sent sends no second close frame")
    func failureAfterCloseSent() throws {
        var server = MachineHarness(.server)
        try server.machine.closeRequested(code: .normalClosure, reason: "", now: at(0))
        _ = server.events()
        #expect(server.receive(.text, [0xFF]) == [.failed(.invalidUTF8), .closeTransport])
        let info = CloseInfo(received: nil, sent: closeFrame(1000), receivedThenSent: false)
        #expect(server.transportClosed() == [.closed(info, error: .invalidUTF8)])
    }

    @Test("the error of a failed connection says why sends are refused")
    func sendAfterFailure() {
        var server = MachineHarness(.server)
        _ = server.receive(.text, [0xFF])
        do {
            try server.machine.sendRequested(.text("x"))
            Issue.record("send after a failure did not throw")
        } catch {
            #expect(error.code == .sendAfterClose)
            #expect((error.cause as? WebSocketError)?.code == .invalidUTF8)
        }
    }
}
