import NIOCore
import Testing

@testable import DuplexWebSocketCore

/// A client machine and a server machine wired back to back.
private struct Link {
    var client: MachineHarness
    var server: MachineHarness
    /// Non-write actions each side produced, in order.
    var clientEvents: [Event] = []
    var serverEvents: [Event] = []
    var random: SeededRandom

    init(seed: UInt64, deflate: Bool) throws {
        random = SeededRandom(seed: seed)
        let configuration = PerMessageDeflateConfiguration(minimumMessageSize: 100)
        client = MachineHarness(
            .client,
            deflate: deflate ? try PerMessageDeflate(parameters: .init(), isClient: true, configuration: configuration) : nil
        )
        server = MachineHarness(
            .server,
            deflate: deflate ? try PerMessageDeflate(parameters: .init(), isClient: false, configuration: configuration) : nil
        )
    }

    /// Moves bytes both ways, in random chunks, until neither side has anything to do.
    mutating func pump() {
        var progressed = true
        while progressed {
            progressed = false
            for fromClient in [true, false] {
                let actions = fromClient ? client.actions() : server.actions()
                guard !actions.isEmpty else { continue }
                progressed = true
                var bytes: [UInt8] = []
                for action in actions {
                    if case .write(let buffer) = action {
                        bytes += buffer.bytes
                    } else if fromClient {
                        clientEvents += Event.from([action], writtenBy: .client)
                    } else {
                        serverEvents += Event.from([action], writtenBy: .server)
                    }
                }
                var index = 0
                while index < bytes.count {
                    let chunk = Int.random(in: 1...max(1, bytes.count / 3 + 1), using: &random)
                    let piece = Array(bytes[index..<min(index + chunk, bytes.count)])
                    if fromClient {
                        server.machine.bytesReceived(ByteBuffer(bytes: piece), now: at(0))
                    } else {
                        client.machine.bytesReceived(ByteBuffer(bytes: piece), now: at(0))
                    }
                    index += chunk
                }
            }
        }
    }

    mutating func randomMessage() -> WebSocketMessage {
        let length = [0, 1, 125, 126, 1000, 1025, 70_000][Int.random(in: 0..<7, using: &random)]
        if Bool.random(using: &random) {
            return .binary(random.bytes(length))
        }
        var scalars = String.UnicodeScalarView()
        let planes: [ClosedRange<UInt32>] = [0x20...0x7E, 0x80...0x7FF, 0x800...0xD7FF, 0x10000...0x10FFFF]
        for _ in 0..<length / 2 {
            if let scalar = Unicode.Scalar(UInt32.random(in: planes[Int.random(in: 0..<4, using: &random)], using: &random)) {
                scalars.append(scalar)
            }
        }
        return .text(String(scalars))
    }

    /// Sends `message` from one side, whole or in random fragments.
    mutating func send(_ message: WebSocketMessage, fromClient: Bool) throws {
        let fragmented = Bool.random(using: &random)
        var sender = fromClient ? client : server
        defer { if fromClient { client = sender } else { server = sender } }
        guard fragmented else {
            try sender.machine.sendRequested(message)
            return
        }
        var remaining = message.data
        repeat {
            let size = Int.random(in: 0...max(0, remaining.readableBytes), using: &random)
            let piece = remaining.readSlice(length: size) ?? ByteBuffer()
            try sender.machine.sendFragmentRequested(kind: message.kind, piece, isFinal: remaining.readableBytes == 0)
        } while remaining.readableBytes > 0
    }
}

@Suite("Round trips: serialize, then parse")
struct RoundTripTests {
    @Test("§5.2: random frames survive FrameSerializer → FrameParser in both directions", arguments: 0..<10)
    func frames(seed: Int) throws {
        var random = SeededRandom(seed: UInt64(seed))
        for _ in 0..<200 {
            let sender: Role = Bool.random(using: &random) ? .client : .server
            let opcode = [Opcode.continuation, .text, .binary, .close, .ping, .pong][Int.random(in: 0..<6, using: &random)]
            let length =
                opcode.isControl
                ? Int.random(in: 0...125, using: &random)
                : [0, 1, 125, 126, 127, 1024, 1025, 65535, 65536, 70_000][Int.random(in: 0..<10, using: &random)]
            let frame = Frame(
                fin: opcode.isControl || Bool.random(using: &random),
                rsv1: !opcode.isControl && Bool.random(using: &random),
                opcode: opcode,
                payload: ByteBuffer(bytes: random.bytes(length))
            )
            let key: UInt32? = sender == .client ? UInt32.random(in: 0...UInt32.max, using: &random) : nil
            let (header, body) = FrameSerializer.serialize(
                opcode: frame.opcode, fin: frame.fin, rsv1: frame.rsv1, payload: frame.payload, maskKey: key,
                allocator: ByteBufferAllocator()
            )
            var wire = header
            if var body { wire.writeBuffer(&body) }
            let parser = FrameParser(role: sender.peer, maxFrameSize: 1 << 20, allowsRSV1: true)
            #expect(try parser.nextFrame(from: &wire) == frame)
            #expect(wire.readableBytes == 0)
        }
    }

    @Test("§5-§7: messages between a client and a server machine arrive intact, then both close normally", arguments: [false, true], 0..<4)
    func machines(deflate: Bool, seed: Int) throws {
        var link = try Link(seed: UInt64(seed), deflate: deflate)
        var sentByClient: [Event] = []
        var sentByServer: [Event] = []
        for _ in 0..<30 {
            let message = link.randomMessage()
            let fromClient = Bool.random(using: &link.random)
            try link.send(message, fromClient: fromClient)
            if fromClient { sentByClient.append(.deliver(message)) } else { sentByServer.append(.deliver(message)) }
            if Int.random(in: 0..<5, using: &link.random) == 0 {
                try link.client.machine.pingRequested(ByteBuffer(string: "ping"))
            }
            link.pump()
        }
        #expect(link.serverEvents == sentByClient)
        #expect(link.clientEvents.filter { $0 != .pongReceived(Array("ping".utf8)) } == sentByServer)

        // The closing handshake, started by the client.
        try link.client.machine.closeRequested(code: .normalClosure, reason: "bye", now: at(0))
        link.pump()
        #expect(link.serverEvents.last == .closeTransport)
        #expect(link.clientEvents.last == .scheduleTimer(at(10)))
        let bye = CloseFrame(code: .normalClosure, reason: "bye")
        #expect(link.server.transportClosed() == [.closed(CloseInfo(received: bye, sent: bye, receivedThenSent: true), error: nil)])
        #expect(link.client.transportClosed() == [.closed(CloseInfo(received: bye, sent: bye, receivedThenSent: false), error: nil)])
    }
}
