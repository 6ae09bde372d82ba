import NIOCore
import Testing

@testable import DuplexWebSocketCore

private let bothRoles: [Role] = [.client, .server]

/// "Hello" compressed as RFC 7692 §7.2.3.1 shows it.
private let compressedHello: [UInt8] = [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]

private func deflate(for role: Role) throws -> PerMessageDeflate {
    try PerMessageDeflate(
        parameters: PerMessageDeflateParameters(), isClient: role == .client, configuration: PerMessageDeflateConfiguration())
}

@Suite("RFC 6455 §5.6: data frames")
struct ConnectionDataTests {
    @Test("§5.6: a text and a binary message are delivered", arguments: bothRoles)
    func messages(role: Role) {
        var machine = MachineHarness(role)
        #expect(machine.receive(text: "Hello") == [.deliverText("Hello")])
        #expect(machine.receive(.binary, [0, 1, 2, 255]) == [.deliverBinary([0, 1, 2, 255])])
        #expect(machine.receive(text: "") == [.deliverText("")])
        #expect(machine.receive(.binary, []) == [.deliverBinary([])])
    }

    @Test("§5.6: messages at every length form", arguments: bothRoles, [125, 126, 65535, 65536, 300_000])
    func lengths(role: Role, length: Int) {
        var machine = MachineHarness(role)
        var random = SeededRandom(seed: UInt64(length))
        let payload = random.bytes(length)
        #expect(machine.receive(.binary, payload) == [.deliverBinary(payload)])
    }

    @Test("server: the exact actions for a masked text frame")
    func exactActions() {
        var server = MachineHarness(.server)
        server.machine.bytesReceived(ByteBuffer(bytes: FrameExamplesTests.maskedHello), now: at(0))
        #expect(server.machine.nextAction() == .deliver(.text("Hello")))
        #expect(server.machine.nextAction() == nil)
    }

    @Test("several frames in one read are handled in order", arguments: bothRoles)
    func severalFramesInOneRead(role: Role) {
        var machine = MachineHarness(role)
        var bytes: [UInt8] = []
        bytes += WireFrame.bytes(from: role.peer, opcode: .text, payload: Array("one".utf8))
        bytes += WireFrame.bytes(from: role.peer, opcode: .ping, payload: Array("p".utf8))
        bytes += WireFrame.bytes(from: role.peer, opcode: .binary, payload: [2])
        bytes += WireFrame.bytes(from: role.peer, opcode: .pong, payload: Array("q".utf8))
        #expect(
            machine.receive(bytes) == [
                .deliverText("one"), .write(.pong, Array("p".utf8)), .deliverBinary([2]), .pongReceived(Array("q".utf8)),
            ]
        )
    }

    @Test("a conversation fed one byte at a time gives the same result", arguments: bothRoles)
    func byteAtATime(role: Role) {
        var bytes: [UInt8] = []
        bytes += WireFrame.bytes(from: role.peer, fin: false, opcode: .text, payload: Array("κό".utf8))
        bytes += WireFrame.bytes(from: role.peer, opcode: .ping, payload: [1, 2])
        bytes += WireFrame.bytes(from: role.peer, opcode: .continuation, payload: Array("σμε".utf8))
        bytes += WireFrame.bytes(from: role.peer, opcode: .binary, payload: [UInt8](repeating: 9, count: 300))
        var machine = MachineHarness(role)
        var events: [Event] = []
        for byte in bytes { events += machine.receive([byte]) }
        #expect(events == [.write(.pong, [1, 2]), .deliverText("κόσμε"), .deliverBinary([UInt8](repeating: 9, count: 300))])
    }

    @Test("§5.6: sending a whole message writes one frame", arguments: bothRoles, [0, 5, 1024, 1025, 70_000])
    func sending(role: Role, length: Int) throws {
        var machine = MachineHarness(role)
        let payload = [UInt8](repeating: 0x61, count: length)
        try machine.machine.sendRequested(.binary(payload))
        #expect(machine.events() == [.write(.binary, payload)])
        try machine.machine.sendRequested(.text(String(decoding: payload, as: UTF8.self)))
        #expect(machine.events() == [.write(.text, payload)])
    }

    @Test("server: the exact bytes written for a text message")
    func exactWrite() throws {
        var server = MachineHarness(.server)
        try server.machine.sendRequested(.text("Hello"))
        #expect(server.machine.nextAction() == .write(ByteBuffer(bytes: FrameExamplesTests.unmaskedHello)))
        #expect(server.machine.nextAction() == nil)
    }

    @Test("§5.3: a client uses a fresh masking key for every frame")
    func freshMaskKeys() throws {
        var client = MachineHarness(.client)
        var keys: Set<[UInt8]> = []
        for _ in 0..<200 {
            try client.machine.sendRequested(.binary([1, 2, 3]))
            for case .write(let buffer) in client.actions() { keys.insert(Array(buffer.bytes[2..<6])) }
        }
        // 200 random 32-bit keys: a collision is possible but (200²/2)/2³² ≈ 5e-6 unlikely.
        #expect(keys.count >= 199)
    }

    @Test("§5.6: the text of an invalid UTF-8 message is delivered untouched when validation is off")
    func validationOff() {
        var machine = MachineHarness(.server, validatesUTF8: false)
        #expect(
            machine.receive(.text, [0xFF, 0xC0, 0x80]) == [
                .deliver(WebSocketMessage(kind: .text, data: ByteBuffer(bytes: [0xFF, 0xC0, 0x80])))
            ])
        #expect(machine.receive(.text, [0xED], fin: false) == [])
        #expect(machine.receive(.continuation, [0xA0]) == [.deliver(WebSocketMessage(kind: .text, data: ByteBuffer(bytes: [0xED, 0xA0])))])
    }

    @Test("§10.4: a message over the message limit fails with 1009", arguments: bothRoles)
    func messageLimit(role: Role) {
        var machine = MachineHarness(role, limits: WebSocketLimits(maxFrameSize: 100, maxMessageSize: 10))
        #expect(machine.receive(.binary, [UInt8](repeating: 1, count: 10)) == [.deliverBinary([UInt8](repeating: 1, count: 10))])
        let events = machine.receive(.binary, [UInt8](repeating: 1, count: 11)).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1009), .failed(.messageTooLarge)])
    }

    @Test("§10.4: a frame over the frame limit fails with 1009 before its payload arrives", arguments: bothRoles)
    func frameLimit(role: Role) {
        var machine = MachineHarness(role, limits: WebSocketLimits(maxFrameSize: 1000, maxMessageSize: 1 << 20))
        let frame = WireFrame.bytes(from: role.peer, opcode: .binary, payload: [UInt8](repeating: 1, count: 1001))
        let events = machine.receive(Array(frame.prefix(4))).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1009), .failed(.messageTooLarge)])
    }
}

@Suite("RFC 6455 §5.4: fragmentation")
struct ConnectionFragmentationTests {
    @Test("§5.4: fragments are reassembled; nothing is delivered before the final one", arguments: bothRoles)
    func reassembly(role: Role) {
        var machine = MachineHarness(role)
        #expect(machine.receive(.text, Array("Hel".utf8), fin: false) == [])
        #expect(machine.receive(.continuation, Array("lo".utf8)) == [.deliverText("Hello")])
        #expect(machine.receive(.binary, [1], fin: false) == [])
        #expect(machine.receive(.continuation, [], fin: false) == [])
        #expect(machine.receive(.continuation, [2, 3], fin: false) == [])
        #expect(machine.receive(.continuation, []) == [.deliverBinary([1, 2, 3])])
        // A message after a fragmented one starts afresh.
        #expect(machine.receive(text: "next") == [.deliverText("next")])
    }

    @Test("§5.4: empty fragments, and a message of 100 one-byte fragments", arguments: bothRoles)
    func manyFragments(role: Role) {
        var machine = MachineHarness(role)
        #expect(machine.receive(.text, [], fin: false) == [])
        #expect(machine.receive(.continuation, []) == [.deliverText("")])
        var events: [Event] = []
        let text = String(repeating: "ab", count: 50)
        for (index, byte) in text.utf8.enumerated() {
            events += machine.receive(index == 0 ? .text : .continuation, [byte], fin: index == 99)
        }
        #expect(events == [.deliverText(text)])
    }

    @Test("§5.4: control frames in the middle of a fragmented message are handled at once", arguments: bothRoles)
    func controlFramesBetweenFragments(role: Role) {
        var machine = MachineHarness(role)
        #expect(machine.receive(.text, Array("Hel".utf8), fin: false) == [])
        #expect(machine.receive(.ping, Array("ping".utf8)) == [.write(.pong, Array("ping".utf8))])
        #expect(machine.receive(.pong, Array("pong".utf8)) == [.pongReceived(Array("pong".utf8))])
        #expect(machine.receive(.continuation, Array("lo".utf8)) == [.deliverText("Hello")])
    }

    @Test("§5.4: a close frame in the middle of a fragmented message drops the partial message", arguments: bothRoles)
    func closeBetweenFragments(role: Role) {
        var machine = MachineHarness(role)
        #expect(machine.receive(.text, Array("Hel".utf8), fin: false) == [])
        let events = machine.receiveClose(1000)
        #expect(events.first == .writeClose(1000))
        #expect(!events.contains { if case .deliver = $0 { return true } else { return false } })
        #expect(machine.receive(.continuation, Array("lo".utf8)) == [])
    }

    @Test("§5.4: a continuation frame without a message to continue fails with 1002", arguments: bothRoles, [true, false])
    func continuationWithoutStart(role: Role, fin: Bool) {
        var machine = MachineHarness(role)
        #expect(MachineHarness.failure(in: machine.receive(.continuation, Array("x".utf8), fin: fin)) == .protocolViolation)
        // Also right after a complete message.
        var other = MachineHarness(role)
        #expect(other.receive(text: "done") == [.deliverText("done")])
        #expect(MachineHarness.failure(in: other.receive(.continuation, [], fin: fin)) == .protocolViolation)
    }

    @Test(
        "§5.4: a new data frame inside a fragmented message fails with 1002",
        arguments: bothRoles,
        [(Opcode.text, true), (.text, false), (.binary, true), (.binary, false)]
    )
    func newMessageInsideFragmentedOne(role: Role, frame: (Opcode, Bool)) {
        var machine = MachineHarness(role)
        #expect(machine.receive(.binary, [1], fin: false) == [])
        let events = machine.receive(frame.0, [2], fin: frame.1).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1002), .failed(.protocolViolation)])
    }

    @Test("§10.4: the message limit counts every fragment (1009 at the fragment that crosses it)", arguments: bothRoles)
    func limitAcrossFragments(role: Role) {
        let limits = WebSocketLimits(maxFrameSize: 8, maxMessageSize: 10)
        var machine = MachineHarness(role, limits: limits)
        #expect(machine.receive(.binary, [UInt8](repeating: 1, count: 6), fin: false) == [])
        #expect(machine.receive(.continuation, [1, 1, 1, 1]) == [.deliverBinary([UInt8](repeating: 1, count: 10))])
        #expect(machine.receive(.text, Array("abcdef".utf8), fin: false) == [])
        let events = machine.receive(.continuation, Array("ghijk".utf8), fin: false).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1009), .failed(.messageTooLarge)])
    }

    @Test("§5.4: sending a fragmented message: its opcode first, then continuations, FIN on the last", arguments: bothRoles)
    func sendingFragments(role: Role) throws {
        var machine = MachineHarness(role)
        try machine.machine.sendFragmentRequested(kind: .text, ByteBuffer(string: "Hel"), isFinal: false)
        try machine.machine.sendFragmentRequested(kind: .text, ByteBuffer(string: ""), isFinal: false)
        // Control frames may be sent between fragments (§5.4).
        try machine.machine.pingRequested(ByteBuffer(string: "p"))
        try machine.machine.sendFragmentRequested(kind: .text, ByteBuffer(string: "lo"), isFinal: true)
        try machine.machine.sendFragmentRequested(kind: .binary, ByteBuffer(bytes: [1]), isFinal: true)
        #expect(
            machine.events() == [
                .write(.text, Array("Hel".utf8), fin: false),
                .write(.continuation, [], fin: false),
                .write(.ping, Array("p".utf8)),
                .write(.continuation, Array("lo".utf8)),
                .write(.binary, [1]),
            ]
        )
    }

    @Test("§5.4: a fragmented message being sent must be finished before another message", arguments: bothRoles)
    func interleavedSendsAreRefused(role: Role) throws {
        var machine = MachineHarness(role)
        try machine.machine.sendFragmentRequested(kind: .binary, ByteBuffer(bytes: [1]), isFinal: false)
        #expect(machine.events() == [.write(.binary, [1], fin: false)])
        #expect(throws: WebSocketError.self) { try machine.machine.sendRequested(.text("x")) }
        #expect(throws: WebSocketError.self) { try machine.machine.sendFragmentRequested(kind: .text, ByteBuffer(), isFinal: true) }
        #expect(machine.events() == [])
        try machine.machine.sendFragmentRequested(kind: .binary, ByteBuffer(bytes: [2]), isFinal: true)
        try machine.machine.sendRequested(.text("x"))
        #expect(machine.events() == [.write(.continuation, [2]), .write(.text, Array("x".utf8))])
    }
}

@Suite("RFC 6455 §5.5: control frames")
struct ConnectionControlFrameTests {
    @Test("§5.5.2-3: a ping is answered with a pong with identical application data", arguments: bothRoles, [0, 1, 8, 125])
    func pingPong(role: Role, length: Int) {
        var machine = MachineHarness(role)
        var random = SeededRandom(seed: UInt64(length))
        let payload = random.bytes(length)
        #expect(machine.receive(.ping, payload) == [.write(.pong, payload)])
    }

    @Test("server: the exact pong bytes")
    func exactPong() {
        var server = MachineHarness(.server)
        server.machine.bytesReceived(ByteBuffer(bytes: WireFrame.bytes(opcode: 0x9, payload: [7, 8], maskKey: [1, 2, 3, 4])), now: at(0))
        #expect(server.machine.nextAction() == .write(ByteBuffer(bytes: [0x8A, 0x02, 7, 8])))
        #expect(server.machine.nextAction() == nil)
    }

    @Test("§5.5: a control frame over 125 bytes fails with 1002", arguments: bothRoles, [Opcode.ping, .pong, .close])
    func tooLong(role: Role, opcode: Opcode) {
        var machine = MachineHarness(role)
        let payload = opcode == .close ? WireFrame.closeBody(1000, [UInt8](repeating: 0x61, count: 124)) : [UInt8](repeating: 1, count: 126)
        let events = machine.receive(opcode, payload).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1002), .failed(.protocolViolation)])
        #expect(!events.contains(.write(.pong, payload)))
    }

    @Test("§5.5: a fragmented control frame fails with 1002", arguments: bothRoles, [Opcode.ping, .pong, .close])
    func fragmented(role: Role, opcode: Opcode) {
        var machine = MachineHarness(role)
        let events = machine.receive(opcode, opcode == .close ? WireFrame.closeBody(1000) : [1], fin: false).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1002), .failed(.protocolViolation)])
    }

    @Test("§5.5.3: an unsolicited pong is reported and otherwise ignored", arguments: bothRoles)
    func unsolicitedPong(role: Role) {
        var machine = MachineHarness(role)
        #expect(machine.receive(.pong, Array("hi".utf8)) == [.pongReceived(Array("hi".utf8))])
        #expect(machine.receive(.pong, []) == [.pongReceived([])])
        #expect(machine.machine.canSend)
        #expect(machine.machine.lastPingLatency == nil)
    }

    @Test("§5.5.2: the application's ping goes out as is; its pong is reported", arguments: bothRoles)
    func applicationPing(role: Role) throws {
        var machine = MachineHarness(role)
        try machine.machine.pingRequested(ByteBuffer(string: "are you there"))
        #expect(machine.events() == [.write(.ping, Array("are you there".utf8))])
        #expect(machine.receive(.pong, Array("are you there".utf8)) == [.pongReceived(Array("are you there".utf8))])
        try machine.machine.pingRequested(ByteBuffer(bytes: [UInt8](repeating: 0, count: 125)))
        #expect(machine.events() == [.write(.ping, [UInt8](repeating: 0, count: 125))])
        #expect(throws: WebSocketError.self) { try machine.machine.pingRequested(ByteBuffer(bytes: [UInt8](repeating: 0, count: 126))) }
        #expect(machine.events() == [])
    }

    @Test("§5.5.2: no pong after the peer's close frame, even in the same read", arguments: bothRoles)
    func noPongAfterCloseReceived(role: Role) {
        var machine = MachineHarness(role)
        let bytes =
            WireFrame.bytes(from: role.peer, opcode: .close, payload: WireFrame.closeBody(1000))
            + WireFrame.bytes(from: role.peer, opcode: .ping, payload: [1])
            + WireFrame.bytes(from: role.peer, opcode: .text, payload: [0x61])
        let events = machine.receive(bytes)
        #expect(events.first == .writeClose(1000))
        #expect(!events.contains(.write(.pong, [1])))
        #expect(!events.contains(.deliverText("a")))
        #expect(machine.receive(.ping, [2]) == [])
    }

    @Test("§5.5.1: no pong after our close frame was sent", arguments: bothRoles)
    func noPongAfterCloseSent(role: Role) throws {
        var machine = MachineHarness(role)
        try machine.machine.closeRequested(code: .normalClosure, reason: "", now: at(0))
        _ = machine.events()
        #expect(machine.receive(.ping, [1]) == [])
        // Pongs are still reported (they may answer an earlier ping).
        #expect(machine.receive(.pong, [1]) == [.pongReceived([1])])
    }
}

@Suite("RFC 6455 §5.2, RFC 7692 §6: reserved bits on a connection")
struct ConnectionReservedBitsTests {
    @Test("§5.2: without a negotiated extension any RSV bit fails with 1002", arguments: bothRoles, [0x40, 0x20, 0x10] as [UInt8])
    func withoutExtension(role: Role, rsv: UInt8) {
        var machine = MachineHarness(role)
        let events = machine.receive(.text, Array("Hello".utf8), rsv: rsv).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1002), .failed(.protocolViolation)])
    }

    @Test("RFC 7692 §6: with permessage-deflate an RSV1 message is inflated", arguments: bothRoles)
    func compressedMessage(role: Role) throws {
        var machine = MachineHarness(role, deflate: try deflate(for: role))
        #expect(machine.receive(.text, compressedHello, rsv: 0x40) == [.deliverText("Hello")])
        // Split over two frames, RSV1 on the first only.
        #expect(machine.receive(.text, Array(compressedHello.prefix(3)), fin: false, rsv: 0x40) == [])
        #expect(machine.receive(.continuation, Array(compressedHello.dropFirst(3))) == [.deliverText("Hello")])
        // An uncompressed message on the same connection.
        #expect(machine.receive(text: "plain") == [.deliverText("plain")])
    }

    @Test("RFC 7692 §6.1: RSV1 on a continuation frame fails with 1002", arguments: bothRoles)
    func rsv1OnContinuation(role: Role) throws {
        var machine = MachineHarness(role, deflate: try deflate(for: role))
        #expect(machine.receive(.text, Array("Hel".utf8), fin: false) == [])
        let events = machine.receive(.continuation, Array("lo".utf8), rsv: 0x40).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1002), .failed(.protocolViolation)])
    }

    @Test("RFC 7692 §6: RSV1 on a control frame, RSV2 or RSV3 fail with 1002 even with deflate", arguments: bothRoles)
    func otherBitsWithDeflate(role: Role) throws {
        for (opcode, rsv) in [(Opcode.ping, UInt8(0x40)), (.close, 0x40), (.pong, 0x40), (.text, 0x20), (.binary, 0x10)] {
            var machine = MachineHarness(role, deflate: try deflate(for: role))
            let payload = opcode == .close ? WireFrame.closeBody(1000) : [1]
            let events = machine.receive(opcode, payload, rsv: rsv).ignoringCloseReasons
            #expect(events.prefix(2) == [.writeClose(1002), .failed(.protocolViolation)], "\(opcode) rsv \(rsv)")
        }
    }

    @Test("RFC 7692 §6: compressed text is validated as UTF-8 after inflating", arguments: bothRoles)
    func compressedInvalidUTF8(role: Role) throws {
        // The raw DEFLATE of [0xFF] (a stored block would do too): compress it with the peer's codec.
        let peer = try deflate(for: role.peer)
        let compressed = peer.compress(ByteBuffer(bytes: [0x61, 0xFF]), allocator: ByteBufferAllocator())
        var machine = MachineHarness(role, deflate: try deflate(for: role))
        let events = machine.receive(.text, compressed.bytes, rsv: 0x40).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1007), .failed(.invalidUTF8)])
    }
}

@Suite("RFC 6455 §8.1: UTF-8 in text messages")
struct ConnectionUTF8Tests {
    static let kosme: [UInt8] = [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5]

    @Test(
        "§8.1: invalid UTF-8 in a single-frame text message fails with 1007",
        arguments: bothRoles,
        [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x61, 0xE2, 0x82], [0x80]] as [[UInt8]]
    )
    func singleFrame(role: Role, payload: [UInt8]) {
        var machine = MachineHarness(role)
        let events = machine.receive(.text, payload).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1007), .failed(.invalidUTF8)])
        // Binary messages are not validated.
        var binary = MachineHarness(role)
        #expect(binary.receive(.binary, payload) == [.deliverBinary(payload)])
    }

    @Test(
        "§8.1 fail fast (Autobahn 6.4.1-2): the failure comes with the bad fragment, not at the end",
        arguments: bothRoles,
        [
            [kosme, [0xF4, 0x90, 0x80, 0x80], Array("edited".utf8)],
            [kosme + [0xF4], [0x90, 0x80, 0x80], Array("edited".utf8)],
            [kosme, [0xED, 0xA0, 0x80], Array("edited".utf8)],
            [Array("valid".utf8), [0xC0], [0x80]],
        ] as [[[UInt8]]]
    )
    func failFast(role: Role, fragments: [[UInt8]]) {
        var machine = MachineHarness(role)
        #expect(machine.receive(.text, fragments[0], fin: false) == [])
        let events = machine.receive(.continuation, fragments[1], fin: false).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1007), .failed(.invalidUTF8)])
        #expect(machine.receive(.continuation, fragments[2]) == [])
    }

    @Test("§8.1: a text message ending inside a UTF-8 sequence fails with 1007 at its last fragment", arguments: bothRoles)
    func truncatedAtTheEnd(role: Role) {
        var machine = MachineHarness(role)
        #expect(machine.receive(.text, [0x61, 0xE2, 0x82], fin: false) == [])
        let events = machine.receive(.continuation, []).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1007), .failed(.invalidUTF8)])
    }

    @Test("§8.1: valid text split into two fragments at every byte position is delivered whole", arguments: bothRoles)
    func splitAtEveryPosition(role: Role) {
        let text = "Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞 \u{10FFFF}"
        let bytes = Array(text.utf8)
        for cut in 0...bytes.count {
            var machine = MachineHarness(role)
            #expect(machine.receive(.text, Array(bytes[..<cut]), fin: false) == [])
            #expect(machine.receive(.continuation, Array(bytes[cut...])) == [.deliverText(text)], "cut at \(cut)")
        }
    }

    @Test("§8.1: valid text in one-byte fragments is delivered whole", arguments: bothRoles)
    func oneByteFragments(role: Role) {
        let text = "κόσμε 𝄞"
        let bytes = Array(text.utf8)
        var machine = MachineHarness(role)
        var events: [Event] = []
        for (index, byte) in bytes.enumerated() {
            events += machine.receive(index == 0 ? .text : .continuation, [byte], fin: index == bytes.count - 1)
        }
        #expect(events == [.deliverText(text)])
    }

    @Test("§8.1: the validator starts afresh for every message", arguments: bothRoles)
    func freshPerMessage(role: Role) {
        var machine = MachineHarness(role)
        // A message that ends complete, then one that must not inherit any state.
        #expect(machine.receive(.text, [0xE2, 0x82], fin: false) == [])
        #expect(machine.receive(.continuation, [0xAC]) == [.deliverText("€")])
        #expect(machine.receive(.text, Array("ok".utf8), fin: false) == [])
        #expect(machine.receive(.continuation, []) == [.deliverText("ok")])
    }
}

/// The machine keeps its action queue (capacity 8) for the connection's life, so the width of an
/// action is memory per idle connection.
@Suite("ConnectionAction footprint")
struct ConnectionActionFootprintTests {
    @Test("an action is no wider than a message plus its tag: the rare closing cases are boxed")
    func actionsStayNarrow() {
        #expect(MemoryLayout<ConnectionAction>.stride <= MemoryLayout<WebSocketMessage>.stride + 8)
    }

    @Test("the boxed cases still compare and carry their payloads")
    func boxedCasesKeepTheirPayloads() {
        let error = WebSocketError(.protocolViolation, "bad frame")
        let info = CloseInfo(received: nil, sent: nil, receivedThenSent: false)
        #expect(ConnectionAction.failed(error) == .failed(error))
        #expect(ConnectionAction.closed(info, error: error) != .closed(info, error: nil))
        guard case .closed(let carried, let carriedError) = ConnectionAction.closed(info, error: error) else {
            Issue.record("not a closed action")
            return
        }
        #expect(carried == info)
        #expect(carriedError?.code == .protocolViolation)
    }
}
