import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import NIOCore
import Testing

/// Connection state recovery (protocol.md 4.2.8).
@Suite("Socket.IO server: connection state recovery")
struct SocketIOServerRecoveryTests {
    private static let configuration = SocketIOServerConfiguration(
        connectionStateRecovery: SocketIOConnectionStateRecovery(maxDisconnectionDuration: .seconds(60))
    )

    @Test(
        "4.2.8: CONNECT answers {sid, pid}; events carry an offset; a reconnect with {pid, offset} restores id, rooms, data and missed packets"
    )
    func recoveryReplaysMissedPackets() async throws {
        let recovered = Recorder<(id: String, recovered: Bool, rooms: Set<String>, data: JSONValue)>()
        try await SocketIOServerFixture.run(
            Self.configuration,
            configure: { io in
                io.sockets.onConnection { socket in
                    recovered.append((socket.id, socket.recovered, socket.rooms, socket.data))
                    if !socket.recovered {
                        socket.join("red")
                        socket.data = ["name": "alice"]
                    }
                    socket.on("hello") { event in event.socket.emit("hi") }
                }
            }
        ) { fixture in
            let io = fixture.io
            let (sid, pid, offset) = try await fixture.withClient { client in
                let reply = try await client.connect()
                let sid = try #require(reply.data?["sid"]?.stringValue)
                let pid = try #require(reply.data?["pid"]?.stringValue)
                try await fixture.eventually("connected") { recovered.count == 1 }
                io.emit("e", 1)
                let event = try await client.nextEvent()
                // The offset is the last argument.
                #expect(event.arguments.count == 2)
                let offset = try #require(event.arguments.last?.stringValue)
                // socket.emit goes through the adapter too and is numbered.
                try await client.send(.event("hello"))
                let hi = try await client.nextEvent()
                #expect(hi.arguments.count == 1)
                #expect(hi.arguments.first?.stringValue != offset)
                return (sid, pid, offset)
            }
            try await fixture.eventually("disconnected") { io.sockets.localSockets.isEmpty }
            io.emit("e", 2)
            io.to("red").emit("e", 3)
            io.to("blue").emit("e", 4)

            try await fixture.withClient { client in
                let reply = try await client.connect(auth: ["pid": .string(pid), "offset": .string(offset), "token": "t"])
                #expect(reply.data?["sid"]?.stringValue == sid)
                #expect(reply.data?["pid"]?.stringValue == pid)
                // The hi packet (to the socket's own room) was after the offset too.
                #expect(try await client.nextEvent().name == "hi")
                #expect(try await client.nextEvent().arguments.first == 2)
                #expect(try await client.nextEvent().arguments.first == 3)
                #expect(try await client.expectNothing(within: .milliseconds(100)))
                try await fixture.eventually("reconnected") { recovered.count == 2 }
                let state = try #require(recovered.all.last)
                #expect(state.id == sid)
                #expect(state.recovered)
                #expect(state.rooms == [sid, "red"])
                #expect(state.data == ["name": "alice"])
            }
        }
    }

    @Test("4.2.8: an unknown pid or offset gives a new session, not recovered")
    func unknownSessionIsNotRecovered() async throws {
        try await SocketIOServerFixture.run(Self.configuration) { fixture in
            try await fixture.withClient { client in
                let reply = try await client.connect(auth: ["pid": "nope", "offset": "nope"])
                let sid = try #require(reply.data?["sid"]?.stringValue)
                let socket = try #require(fixture.io.sockets.socket(id: sid))
                #expect(!socket.recovered)
            }
        }
    }

    @Test("4.2.8: a deliberate disconnect is not recoverable")
    func deliberateDisconnectIsNotPersisted() async throws {
        try await SocketIOServerFixture.run(Self.configuration) { fixture in
            let io = fixture.io
            let (pid, offset) = try await fixture.withClient { client in
                let reply = try await client.connect()
                io.emit("e")
                let offset = try #require(try await client.nextEvent().arguments.last?.stringValue)
                try await client.send(.disconnect())
                return (try #require(reply.data?["pid"]?.stringValue), offset)
            }
            try await fixture.withClient { client in
                let reply = try await client.connect(auth: ["pid": .string(pid), "offset": .string(offset)])
                let sid = try #require(reply.data?["sid"]?.stringValue)
                let socket = try #require(io.sockets.socket(id: sid))
                #expect(!socket.recovered)
            }
        }
    }
}
