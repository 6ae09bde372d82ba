import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import NIOCore
import Synchronization
import Testing

/// Events, acknowledgements, binary attachments and listeners (protocol.md 4.2.4, 4.2.6).
@Suite("Socket.IO server: events and acknowledgements")
struct SocketIOServerEventTests {
    private struct Point: Codable, Sendable, Equatable {
        var x: Int
        var y: Int
    }

    @Test("4.2.6: an event with ack id 12 is answered with ACK 12; ack id 0 is valid", arguments: [EngineIOTransport.websocket, .polling])
    func acknowledgements(transport: EngineIOTransport) async throws {
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                socket.on("foo") { event in
                    event.ack(arguments: event.arguments + ["done"])
                    event.ack("ignored: an acknowledgement is sent once")
                }
            }
        }) { fixture in
            try await fixture.withClient(transport: transport) { client in
                _ = try await client.connect()
                try await client.send(text: "212[\"foo\",1]")
                #expect(try await client.next() == .ack([1, "done"], ackID: 12))
                try await client.send(text: "20[\"foo\"]")
                #expect(try await client.next() == .ack(["done"], ackID: 0))
                try await client.send(text: "2[\"foo\"]")
                #expect(try await client.expectNothing())
            }
        }
    }

    @Test("4.2.4: binary attachments anywhere in the arguments survive both ways", arguments: [EngineIOTransport.websocket, .polling])
    func binaryRoundTrip(transport: EngineIOTransport) async throws {
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                socket.on("message") { event in event.socket.emit("message-back", arguments: event.arguments) }
            }
        }) { fixture in
            try await fixture.withClient(transport: transport) { client in
                _ = try await client.connect()
                let one = ByteBuffer(bytes: [1, 2, 3])
                let two = ByteBuffer(bytes: [0xFF])
                let arguments: [JSONValue] = [.binary(one), ["nested": ["deep": .binary(two)]], "text"]
                try await client.send(.event("message", arguments))
                let back = try await client.nextEvent()
                #expect(back.name == "message-back")
                #expect(back.arguments == arguments)
                // The spec example: 51-["message",{"_placeholder":true,"num":0}] + 01 02 03.
                try await client.send(text: "51-[\"message\",{\"_placeholder\":true,\"num\":0}]")
                try await client.socket.send(binary: one)
                #expect(try await client.nextEvent().arguments == [.binary(one)])
            }
        }
    }

    @Test("Typed payloads: Codable arguments and replies")
    func typedPayloads() async throws {
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                socket.on("move", as: Point.self) { point, event in
                    try event.ack(encoding: Point(x: point.x + 1, y: point.y + 1))
                }
            }
        }) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect()
                try await client.send(.event("move", [["x": 1, "y": 2]], ackID: 3))
                let reply = try await client.next()
                #expect(reply.ackID == 3)
                #expect(try reply.data?[0]?.decode(as: Point.self) == Point(x: 2, y: 3))
                // An argument that does not decode drops the event.
                try await client.send(.event("move", ["oops"], ackID: 4))
                #expect(try await client.expectNothing())
            }
        }
    }

    @Test("emitWithAck: the client's ACK resolves it while the handler waits, without blocking the session")
    func emitWithAckFromHandler() async throws {
        let results = Recorder<[JSONValue]>()
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                socket.on("ask") { event in
                    // Awaiting the client's acknowledgement inside a handler.
                    let reply = try await event.socket.emitWithAck("question", ["?"])
                    results.append(reply)
                    event.ack(arguments: reply)
                }
            }
        }) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect()
                try await client.send(.event("ask", ackID: 7))
                let question = try await client.nextEvent()
                #expect(question.name == "question")
                let id = try #require(question.packet.ackID)
                try await client.send(.ack(["answer", .binary(ByteBuffer(bytes: [9]))], ackID: id))
                #expect(try await client.next() == .ack(["answer", .binary(ByteBuffer(bytes: [9]))], ackID: 7))
                #expect(results.all == [["answer", .binary(ByteBuffer(bytes: [9]))]])
            }
        }
    }

    @Test("emitWithAck: no reply within the timeout throws ackTimedOut; a late ACK is ignored")
    func emitWithAckTimeout() async throws {
        let errors = Recorder<SocketIOError>()
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                socket.on("start") { event in
                    do {
                        _ = try await event.socket.emitWithAck("ping", timeout: .milliseconds(100))
                    } catch let error as SocketIOError {
                        errors.append(error)
                        event.ack("timed out")
                    }
                }
            }
        }) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect()
                try await client.send(.event("start", ackID: 1))
                let ping = try await client.nextEvent()
                #expect(try await client.next() == .ack(["timed out"], ackID: 1))
                #expect(errors.all.map(\.code) == [.ackTimedOut])
                try await client.send(.ack([], ackID: try #require(ping.packet.ackID)))
                // Still connected and working.
                try await client.send(.event("start", ackID: 2))
                _ = try await client.nextEvent()
            }
        }
    }

    @Test("emitWithAck on a socket that disconnects fails with disconnected")
    func emitWithAckDisconnected() async throws {
        let errors = Recorder<SocketIOError>()
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                Task {
                    do {
                        _ = try await socket.emitWithAck("ping", timeout: .seconds(10))
                    } catch let error as SocketIOError {
                        errors.append(error)
                    }
                }
            }
        }) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect()
                _ = try await client.nextEvent()
                try await client.send(.disconnect())
                try await fixture.eventually("ack failure") { errors.count == 1 }
                #expect(errors.all.first?.code == .disconnected)
            }
        }
    }

    @Test("onAny, onAnyOutgoing and per-event middleware (use) that drops an event")
    func listenersAndMiddleware() async throws {
        let incoming = Recorder<String>()
        let outgoing = Recorder<String>()
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                socket.use { event in
                    if event.name == "forbidden" { throw SocketIOConnectionRefusal("no") }
                }
                socket.onAny { event in incoming.append(event.name) }
                socket.onAnyOutgoing { name, _ in outgoing.append(name) }
                socket.on("forbidden") { _ in Issue.record("a dropped event reached its handler") }
                socket.on("hello") { event in event.socket.emit("world") }
            }
        }) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect()
                try await client.send(.event("forbidden"))
                try await client.send(.event("hello"))
                #expect(try await client.nextEvent().name == "world")
                #expect(incoming.all == ["hello"])
                #expect(outgoing.all == ["world"])
            }
        }
    }

    @Test("Events of one socket are handled in arrival order")
    func orderedHandlers() async throws {
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                socket.on("n") { event in
                    // The first event is the slowest; order must hold anyway.
                    if event.arguments.first == 0 { try await Task.sleep(for: .milliseconds(50)) }
                    event.socket.emit("n-back", arguments: event.arguments)
                }
            }
        }) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect()
                for index in 0..<20 { try await client.send(.event("n", [.int(Int64(index))])) }
                for index in 0..<20 { #expect(try await client.nextEvent().arguments == [.int(Int64(index))]) }
            }
        }
    }

    @Test("concurrentEventHandlers: a handler may wait for a later event of the same socket")
    func concurrentHandlers() async throws {
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        var configuration = SocketIOServerConfiguration()
        configuration.concurrentEventHandlers = true
        try await SocketIOServerFixture.run(
            configuration,
            configure: { io in
                io.sockets.onConnection { socket in
                    socket.on("wait") { event in
                        for await _ in gate { break }
                        event.ack("opened")
                    }
                    socket.on("open") { _ in opener.yield() }
                }
            }
        ) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect()
                try await client.send(.event("wait", ackID: 1))
                try await client.send(.event("open"))
                #expect(try await client.next() == .ack(["opened"], ackID: 1))
            }
        }
    }

    @Test("onDisconnecting runs while the socket is still in its rooms")
    func disconnectingSeesRooms() async throws {
        let rooms = Recorder<Set<String>>()
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                socket.join("red")
                socket.onDisconnecting { socket, _ in rooms.append(socket.rooms) }
                socket.on("ready") { event in event.ack() }
            }
        }) { fixture in
            let sid = try await fixture.withClient { client in
                let reply = try await client.connect()
                // The connection handler runs before the socket's first event.
                try await client.send(.event("ready", ackID: 0))
                _ = try await client.next()
                return try #require(reply.data?["sid"]?.stringValue)
            }
            try await fixture.eventually("disconnecting") { rooms.count == 1 }
            #expect(rooms.all == [[sid, "red"]])
            #expect(fixture.io.sockets.adapter.rooms(of: sid) == nil)
            #expect(fixture.io.sockets.adapter.allRooms.isEmpty)
        }
    }

    @Test("4.2.7: disconnect reasons: client DISCONNECT, server disconnect, disconnect(close:), transport close")
    func disconnectReasons() async throws {
        let reasons = Recorder<SocketIODisconnectReason>()
        try await SocketIOServerFixture.run(configure: { io in
            for name in ["/", "/a", "/b"] {
                io.namespace(name).onConnection { socket in
                    socket.onDisconnect { reason in reasons.append(reason) }
                    socket.on("kick") { event in event.socket.disconnect() }
                    socket.on("close") { event in event.socket.disconnect(close: true) }
                }
            }
        }) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect("/")
                try await client.send(.disconnect())
                try await fixture.eventually("client namespace disconnect") { reasons.count == 1 }
                #expect(reasons.all == [.clientNamespaceDisconnect])
                // The session survives the DISCONNECT (4.2.7).
                _ = try await client.connect("/a")
                try await client.send(.event("kick", namespace: "/a"))
                #expect(try await client.next() == .disconnect(namespace: "/a"))
                try await fixture.eventually("server namespace disconnect") { reasons.count == 2 }
                #expect(reasons.all.last == .serverNamespaceDisconnect)
                _ = try await client.connect("/a")
                _ = try await client.connect("/b")
                try await client.send(.event("close", namespace: "/b"))
                try await client.waitUntilEnded()
                try await fixture.eventually("forced server close") { reasons.count == 4 }
                #expect(reasons.all.suffix(2) == [.forcedServerClose, .forcedServerClose])
            }
            try await fixture.withClient { client in
                _ = try await client.connect("/")
            }
            try await fixture.eventually("transport close") { reasons.count == 5 }
            #expect(reasons.all.last == .transportClose)
        }
    }

    @Test("4.2.3: a malformed packet closes that client only", arguments: ["42{}", "4abc", "2[\"connect\"]", "2/nope,[\"x\"]", "0"])
    func malformedPacketClosesOnlyThatClient(text: String) async throws {
        let reasons = Recorder<SocketIODisconnectReason>()
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                socket.onDisconnect { reason in reasons.append(reason) }
                socket.on("message") { event in event.socket.emit("message-back", arguments: event.arguments) }
            }
        }) { fixture in
            try await fixture.withClient { bystander in
                _ = try await bystander.connect()
                try await fixture.withClient { client in
                    _ = try await client.connect()
                    try await client.send(text: text)
                    try await client.waitUntilEnded()
                }
                try await fixture.eventually("parse error") { reasons.count == 1 }
                #expect(reasons.all == [.parseError])
                try await bystander.send(.event("message", ["still here"]))
                #expect(try await bystander.nextEvent().arguments == ["still here"])
            }
        }
    }

    @Test("4.2.3: more attachments than maxAttachments close the session")
    func attachmentLimit() async throws {
        try await SocketIOServerFixture.run(SocketIOServerConfiguration(maxAttachments: 2)) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect()
                let binaries = (0..<3).map { JSONValue.binary(ByteBuffer(bytes: [UInt8($0)])) }
                try await client.send(.event("x", binaries))
                try await client.waitUntilEnded()
            }
        }
    }
}
