import NIOCore
import Testing

@testable import DuplexWebSocketCore

/// A random peer conversation: mostly well-formed, with a mistake now and then, so that the
/// machine gets deep into its states before (sometimes) failing.
private struct PeerGenerator {
    var random: SeededRandom
    var receiver: Role
    var fragmentedMessageOpen = false
    var fragmentedIsText = false

    /// One chance in `odds`.
    mutating func oneIn(_ odds: Int) -> Bool { Int.random(in: 0..<odds, using: &random) == 0 }

    mutating func textPayload() -> [UInt8] {
        var payload = Array(["a", "κό", "σμε", "𝄞", "", "Hello"][Int.random(in: 0..<6, using: &random)].utf8)
        if oneIn(100) { payload.append(0xFF) }
        return payload
    }

    mutating func nextFrame() -> [UInt8] {
        var opcode: UInt8
        var fin = true
        var payload: [UInt8]
        var roll = Int.random(in: 0..<100, using: &random)
        if roll >= 80 && fragmentedMessageOpen { roll = 0 }
        switch roll {
        case 0..<40:
            // A data frame: continue the open message, or start one.
            if fragmentedMessageOpen && !oneIn(100) {
                opcode = 0x0
                payload = fragmentedIsText ? textPayload() : random.bytes(Int.random(in: 0...120, using: &random))
            } else {
                fragmentedIsText = Bool.random(using: &random)
                opcode = fragmentedIsText ? 0x1 : 0x2
                payload = fragmentedIsText ? textPayload() : random.bytes(Int.random(in: 0...260, using: &random))
            }
            fin = Bool.random(using: &random)
            fragmentedMessageOpen = !fin
        case 40..<60:
            opcode = 0x9
            payload = random.bytes(Int.random(in: 0...(oneIn(100) ? 130 : 125), using: &random))
        case 60..<75:
            opcode = 0xA
            payload = random.bytes(Int.random(in: 0...20, using: &random))
        case 75..<77:
            opcode = 0x8
            let codes: [UInt16] = [1000, 1001, 1003, 3000, 4999, oneIn(3) ? 1005 : 1000, oneIn(3) ? 999 : 1002]
            payload = oneIn(5) ? [] : WireFrame.closeBody(codes[Int.random(in: 0..<codes.count, using: &random)])
        case 78..<79:
            opcode = UInt8.random(in: 0...15, using: &random)
            payload = random.bytes(Int.random(in: 0...10, using: &random))
        default:
            // A text message split across frames at a random byte, possibly mid-character.
            let text = Array("κόσμε 𝄞 Hello".utf8)
            let cut = Int.random(in: 0...text.count, using: &random)
            return WireFrame.bytes(fin: false, opcode: 0x1, payload: Array(text[..<cut]), maskKey: mask())
                + WireFrame.bytes(opcode: 0x0, payload: Array(text[cut...]), maskKey: mask())
        }
        if opcode & 0x8 != 0 && oneIn(100) { fin = false }
        let rsv: UInt8 = oneIn(150) ? [0x40, 0x20, 0x10][Int.random(in: 0..<3, using: &random)] : 0
        return WireFrame.bytes(fin: fin, rsv: rsv, opcode: opcode, payload: payload, maskKey: mask())
    }

    mutating func mask() -> [UInt8]? {
        let masked = (receiver == .server) != oneIn(200)
        return masked ? random.bytes(4) : nil
    }
}

@Suite("Fuzzing the connection: invariants under random peer input")
struct ConnectionStateMachineFuzzTests {
    @Test(
        "every input leads to deliveries, answers, or one documented failure with its close code", arguments: [Role.client, .server],
        0..<100)
    func randomPeer(role: Role, seed: Int) {
        var peer = PeerGenerator(random: SeededRandom(seed: UInt64(seed) &* 31 &+ (role == .server ? 1 : 0)), receiver: role)
        var machine = MachineHarness(role, limits: WebSocketLimits(maxFrameSize: 250, maxMessageSize: 1000))
        var events: [Event] = []
        var stream: [UInt8] = []
        for _ in 0..<Int.random(in: 1...60, using: &peer.random) { stream += peer.nextFrame() }
        var random = peer.random
        var index = 0
        while index < stream.count {
            let chunk = Int.random(in: 1...64, using: &random)
            events += machine.receive(Array(stream[index..<min(index + chunk, stream.count)]))
            index += chunk
        }
        if Bool.random(using: &random) { events += machine.receive(random.bytes(Int.random(in: 0...20, using: &random))) }
        events += machine.transportClosed()

        #expect(!events.contains { if case .malformedWrite = $0 { return true } else { return false } }, "\(events)")
        let failures = events.compactMap { event -> WebSocketError.Code? in
            if case .failed(let code) = event { return code }
            return nil
        }
        #expect(failures.count <= 1)
        if let failure = failures.first {
            #expect([.protocolViolation, .invalidUTF8, .messageTooLarge].contains(failure))
        }
        // At most one close frame, written before the end; nothing delivered or answered after it.
        let closes = events.writtenCloseFrames
        #expect(closes.count <= 1)
        if let failure = failures.first,
            events.firstIndex(of: .failed(failure)).map({ index in
                !events[..<index].contains { if case .frame(let frame) = $0 { return frame.opcode == .close } else { return false } }
            }) == true
        {
            // The close frame that failed the connection carries the error's code.
            #expect(closes.first.map { Array($0.payload.prefix(2)) } == WireFrame.closeBody(failure.expectedCloseCode))
        }
        if let closeIndex = events.firstIndex(where: {
            if case .frame(let frame) = $0 { return frame.opcode == .close } else { return false }
        }) {
            for event in events[(closeIndex + 1)...] {
                switch event {
                case .deliver: Issue.record("delivery after the close frame: \(events)")
                case .frame(let frame): Issue.record("frame written after the close frame: \(frame)")
                default: break
                }
            }
        }
        // Every delivered text is valid UTF-8, every frame within the limits.
        for case .deliver(let message) in events {
            #expect(message.data.readableBytes <= 1000)
            if message.kind == .text { #expect(String(validating: message.bytes, as: UTF8.self) != nil) }
        }
        // The connection ends with exactly one closed action, last.
        #expect(events.filter { if case .closed = $0 { return true } else { return false } }.count == 1)
        if case .closed = events.last {} else { Issue.record("the last event is not closed: \(events)") }
    }
}
