import NIOCore
import Testing

@testable import DuplexWebSocketCore

/// Decodes a close body; the error code if it is invalid.
private func decodeClose(_ body: [UInt8]) -> Result<CloseFrame, WebSocketError> {
    do {
        return .success(try ConnectionStateMachine.parseClosePayload(ByteBuffer(bytes: body)))
    } catch {
        return .failure(error)
    }
}

private func closeErrorCode(_ body: [UInt8]) -> WebSocketError.Code? {
    if case .failure(let error) = decodeClose(body) { return error.code }
    return nil
}

@Suite("RFC 6455 §7.4: status codes")
struct CloseCodeTests {
    /// §7.4.1-2 and the IANA registry: the codes an endpoint may put in a close frame.
    static func isSendable(_ code: Int) -> Bool {
        (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
    }

    @Test(
        "§7.4: every code classified; only sendable codes are accepted in a received close frame",
        arguments: [0...999, 1000...1003, 1004...1006, 1007...1014, 1015...2999, 3000...4999, 5000...65535]
    )
    func everyCode(range: ClosedRange<Int>) {
        var wrong: [Int] = []
        for raw in range {
            let code = CloseCode(UInt16(raw))
            let expected = Self.isSendable(raw)
            if code.isSendable != expected { wrong.append(raw) }
            // Receiving: an invalid code is a protocol error (1002).
            let outcome = closeErrorCode(WireFrame.closeBody(UInt16(raw)))
            if outcome != (expected ? nil : .protocolViolation) { wrong.append(raw) }
        }
        #expect(wrong.isEmpty)
    }

    @Test("§7.4.1: 1005, 1006 and 1015 \"MUST NOT be set as a status code in a Close control frame\"")
    func neverSent() {
        for code in [CloseCode.noStatusReceived, .abnormalClosure, .tlsHandshakeFailure] {
            #expect(!code.isSendable)
            #expect(closeErrorCode(WireFrame.closeBody(code.rawValue)) == .protocolViolation)
            var machine = MachineHarness(.server)
            #expect(throws: WebSocketError.self) { try machine.machine.closeRequested(code: code, reason: "", now: at(0)) }
            #expect(machine.events() == [])
        }
    }

    @Test(
        "Autobahn 7.7.x: the valid codes are accepted and echoed",
        arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] as [UInt16]
    )
    func autobahnValidCodes(code: UInt16) throws {
        #expect(try decodeClose(WireFrame.closeBody(code)).get() == CloseFrame(code: CloseCode(code)))
        var machine = MachineHarness(.server)
        #expect(machine.receiveClose(code) == [.writeClose(code), .closeTransport])
    }

    @Test(
        "Autobahn 7.9.x: invalid codes fail the connection with 1002",
        arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16]
    )
    func autobahnInvalidCodes(code: UInt16) {
        var machine = MachineHarness(.server)
        #expect(machine.receiveClose(code).ignoringCloseReasons == [.writeClose(1002), .failed(.protocolViolation), .closeTransport])
    }

    @Test("§5.5.1: an empty close body stands for 1005 (no status)")
    func emptyBody() throws {
        #expect(try decodeClose([]).get() == CloseFrame(code: .noStatusReceived))
    }

    @Test("§5.5.1: a 1-byte close body is a protocol error", arguments: [0x00, 0x03, 0xE8, 0xFF] as [UInt8])
    func oneByteBody(byte: UInt8) {
        #expect(closeErrorCode([byte]) == .protocolViolation)
    }

    @Test("§5.5.1: the reason is UTF-8; invalid UTF-8 is 1007 (invalidUTF8)")
    func reasons() throws {
        #expect(
            try decodeClose(WireFrame.closeBody(1000, Array("bye κόσμε".utf8))).get()
                == CloseFrame(code: .normalClosure, reason: "bye κόσμε"))
        #expect(try decodeClose(WireFrame.closeBody(1000, [UInt8](repeating: 0x61, count: 123))).get().reason.utf8.count == 123)
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x61, 0xCE], [0xF4, 0x90, 0x80, 0x80]] {
            #expect(closeErrorCode(WireFrame.closeBody(1000, bad)) == .invalidUTF8)
        }
        // With validation off the reason is decoded leniently instead.
        let lenient = try? ConnectionStateMachine.parseClosePayload(
            ByteBuffer(bytes: WireFrame.closeBody(1000, [0xFF])), validatesUTF8: false)
        #expect(lenient?.code == .normalClosure)
    }

    @Test("a payload starting after the buffer's reader index")
    func sliceBody() {
        var buffer = ByteBuffer(bytes: [0xAA, 0x03, 0xE9, 0x61])
        buffer.moveReaderIndex(forwardBy: 1)
        #expect((try? ConnectionStateMachine.parseClosePayload(buffer)) == CloseFrame(code: .goingAway, reason: "a"))
    }

    @Test("CloseCode: equality by value, names, isNormal")
    func closeCodeValues() {
        #expect(CloseCode(rawValue: 1000) == .normalClosure)
        #expect(CloseCode(4000).description == "4000")
        #expect(CloseCode.normalClosure.isNormal && CloseCode.goingAway.isNormal)
        #expect(!CloseCode.protocolError.isNormal && !CloseCode.noStatusReceived.isNormal)
        let named: [CloseCode] = [
            .normalClosure, .goingAway, .protocolError, .unsupportedData, .noStatusReceived, .abnormalClosure,
            .invalidPayloadData, .policyViolation, .messageTooBig, .mandatoryExtension, .internalError,
            .serviceRestart, .tryAgainLater, .badGateway, .tlsHandshakeFailure,
        ]
        #expect(named.map(\.rawValue) == [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015])
    }

    @Test("§7.1.5: CloseInfo reports the received code, 1006 when none arrived")
    func closeInfo() {
        let bye = CloseFrame(code: .goingAway, reason: "bye")
        let info = CloseInfo(received: bye, sent: CloseFrame(code: .goingAway), receivedThenSent: true)
        #expect(info.code == .goingAway)
        #expect(info.reason == "bye")
        #expect(info.isNormal)
        #expect(info.description == "received 1001 \"bye\"; sent 1001")

        let abnormal = CloseInfo(received: nil, sent: nil, receivedThenSent: false)
        #expect(abnormal.code == .abnormalClosure)
        #expect(abnormal.reason == "")
        #expect(!abnormal.isNormal)
        #expect(abnormal.description == "no close frame received; no close frame sent")

        // Only a completed exchange is normal.
        #expect(!CloseInfo(received: bye, sent: nil, receivedThenSent: false).isNormal)
        #expect(!CloseInfo(received: nil, sent: bye, receivedThenSent: false).isNormal)
        #expect(!CloseInfo(received: CloseFrame(code: .protocolError), sent: bye, receivedThenSent: false).isNormal)
        // A close frame without a body (what browsers send for `close()`) ends normally too.
        #expect(
            CloseInfo(received: CloseFrame(code: .noStatusReceived), sent: CloseFrame(code: .noStatusReceived), receivedThenSent: true)
                .isNormal)
    }
}
