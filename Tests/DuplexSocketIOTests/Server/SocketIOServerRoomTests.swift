import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import NIOCore
import Testing

/// Rooms, broadcasting, broadcast acknowledgements and bulk operations.
@Suite("Socket.IO server: rooms and broadcasting")
struct SocketIOServerRoomTests {
    /// Sets up `/` so that a client can join rooms with `join` and ack-reports its socket id.
    private static func configure(_ io: SocketIOServer) {
        io.sockets.onConnection { socket in
            socket.on("join") { event in
                for room in event.arguments.compactMap(\.stringValue) { event.socket.join(room) }
                event.ack()
            }
            socket.on("leave") { event in
                for room in event.arguments.compactMap(\.stringValue) { event.socket.leave(room) }
                event.ack()
            }
        }
    }

    /// Connects and joins `rooms`; returns the socket id.
    private static func join(_ client: RawSocketIOClient, _ rooms: [String]) async throws -> String {
        let reply = try await client.connect()
        try await client.send(.event("join", rooms.map(JSONValue.string), ackID: 0))
        _ = try await client.next()
        return reply.data?["sid"]?.stringValue ?? ""
    }

    @Test("to/in/except select recipients; every socket is in its own room; socket.broadcast skips the sender")
    func roomSelection() async throws {
        try await SocketIOServerFixture.run(configure: Self.configure) { fixture in
            try await fixture.withClient { a in
                try await fixture.withClient { b in
                    try await fixture.withClient { c in
                        let idA = try await Self.join(a, ["red"])
                        let idB = try await Self.join(b, ["red", "blue"])
                        _ = try await Self.join(c, ["blue"])
                        let io = fixture.io

                        io.to("red").emit("e", "1")
                        #expect(try await a.nextEvent().arguments == ["1"])
                        #expect(try await b.nextEvent().arguments == ["1"])

                        io.sockets.in("red", "blue").except("blue").emit("e", "2")
                        #expect(try await a.nextEvent().arguments == ["2"])

                        io.to(idB).emit("e", "3")
                        #expect(try await b.nextEvent().arguments == ["3"])

                        let socketA = try #require(io.sockets.socket(id: idA))
                        #expect(socketA.rooms == [idA, "red"])
                        socketA.broadcast.emit("e", "4")
                        #expect(try await b.nextEvent().arguments == ["4"])
                        #expect(try await c.nextEvent().arguments == ["4"])

                        socketA.to("red").emit("e", "5")
                        #expect(try await b.nextEvent().arguments == ["5"])

                        io.emit("e", "6")
                        for client in [a, b, c] { #expect(try await client.nextEvent().arguments == ["6"]) }
                        for client in [a, b, c] { #expect(try await client.expectNothing(within: .milliseconds(100))) }
                    }
                }
            }
        }
    }

    @Test("fetchSockets, socketsJoin, socketsLeave, disconnectSockets, per-socket data")
    func bulkOperations() async throws {
        try await SocketIOServerFixture.run(configure: { io in
            Self.configure(io)
            io.sockets.onConnection { socket in socket.data = ["user": .string(socket.id)] }
        }) { fixture in
            try await fixture.withClient { a in
                try await fixture.withClient { b in
                    let idA = try await Self.join(a, ["red"])
                    let idB = try await Self.join(b, [])
                    let io = fixture.io.sockets

                    let all = try await io.fetchSockets()
                    #expect(Set(all.map(\.id)) == [idA, idB])
                    #expect(all.first { $0.id == idA }?.data == ["user": .string(idA)])
                    #expect(try await io.to("red").fetchSockets().map(\.id) == [idA])

                    try await io.broadcast.except("red").socketsJoin("green")
                    #expect(try await io.to("green").fetchSockets().map(\.id) == [idB])
                    try await io.socketsLeave("green")
                    #expect(try await io.to("green").fetchSockets().isEmpty)

                    let remote = try #require(all.first { $0.id == idB })
                    remote.emit("direct", "hi")
                    #expect(try await b.nextEvent().arguments == ["hi"])

                    try await io.to("red").disconnectSockets()
                    #expect(try await a.next() == .disconnect())
                    #expect(try await io.fetchSockets().map(\.id) == [idB])
                    try await io.disconnectSockets(close: true)
                    try await b.waitUntilEnded()
                }
            }
        }
    }

    @Test("Broadcast acks: one reply per recipient, and ackTimedOut with the replies that arrived")
    func broadcastAcks() async throws {
        try await SocketIOServerFixture.run(configure: Self.configure) { fixture in
            try await fixture.withClient { a in
                try await fixture.withClient { b in
                    _ = try await Self.join(a, ["red"])
                    _ = try await Self.join(b, [])
                    let io = fixture.io
                    async let replies = io.sockets.broadcast.timeout(.seconds(5)).emitWithAck("q", "?")
                    for (client, answer) in [(a, "A"), (b, "B")] {
                        let event = try await client.nextEvent()
                        try await client.send(.ack([.string(answer)], ackID: try #require(event.packet.ackID)))
                    }
                    #expect(Set(try await replies) == [["A"], ["B"]])

                    // Long enough for A to answer on a loaded machine; B never does.
                    async let partial = io.sockets.broadcast.timeout(.seconds(2)).emitWithAck("q")
                    let event = try await a.nextEvent()
                    try await a.send(.ack(["only A"], ackID: try #require(event.packet.ackID)))
                    _ = try await b.nextEvent()  // b never answers
                    do {
                        _ = try await partial
                        Issue.record("expected ackTimedOut")
                    } catch let error as SocketIOError {
                        #expect(error.code == .ackTimedOut)
                        #expect(error.data == [["only A"]])
                    }

                    // No recipient: resolves at once with no replies.
                    #expect(try await io.to("nobody").timeout(.seconds(5)).emitWithAck("q").isEmpty)
                }
            }
        }
    }

    @Test("A client that does not read does not delay the others; past maxBufferedMessages it is disconnected")
    func slowClient() async throws {
        let reasons = Recorder<SocketIODisconnectReason>()
        try await SocketIOServerFixture.run(
            SocketIOServerConfiguration(maxBufferedMessages: 100),
            configure: { io in
                io.sockets.onConnection { socket in socket.onDisconnect { reasons.append($0) } }
            }
        ) { fixture in
            // The slow client: a polling session that connects, then never polls again.
            let open = try await RawHTTP.request("GET", "/socket.io/?EIO=4&transport=polling", port: fixture.port)
            let handshake = try JSONValue(parsing: String(open.body.dropFirst()))
            let sid = try #require(handshake["sid"]?.stringValue)
            let post = try await RawHTTP.request("POST", "/socket.io/?EIO=4&transport=polling&sid=\(sid)", port: fixture.port, body: "40")
            #expect(post.status == 200)
            try await fixture.eventually("slow client connected") { fixture.io.sockets.localSockets.count == 1 }

            try await fixture.withClient { fast in
                _ = try await fast.connect()
                // Bursts of 30: the fast client's queue stays under the limit, the slow one's grows.
                for burst in 0..<5 {
                    for index in 0..<30 { fixture.io.emit("tick", .int(Int64(burst * 30 + index))) }
                    for index in 0..<30 {
                        #expect(try await fast.nextEvent().arguments == [.int(Int64(burst * 30 + index))])
                    }
                }
                try await fixture.eventually("slow client dropped") { reasons.count == 1 }
                #expect(reasons.all == [.forcedServerClose])
                #expect(fixture.io.sockets.localSockets.count == 1)
            }
        }
    }

    @Test("volatile: dropped for a client whose transport cannot write at once")
    func volatileBroadcast() async throws {
        try await SocketIOServerFixture.run { fixture in
            let open = try await RawHTTP.request("GET", "/socket.io/?EIO=4&transport=polling", port: fixture.port)
            let sid = try #require(try JSONValue(parsing: String(open.body.dropFirst()))["sid"]?.stringValue)
            _ = try await RawHTTP.request("POST", "/socket.io/?EIO=4&transport=polling&sid=\(sid)", port: fixture.port, body: "40")
            try await fixture.eventually("polling client connected") { fixture.io.sockets.localSockets.count == 1 }
            let polling = try #require(fixture.io.sockets.localSockets.first)
            let buffered = polling.engineIOSocket.bufferedMessageCount
            #expect(!polling.engineIOSocket.isWritable)

            try await fixture.withClient { client in
                _ = try await client.connect()
                fixture.io.sockets.broadcast.volatile.emit("v", 1)
                #expect(try await client.nextEvent().arguments == [1])
                #expect(polling.engineIOSocket.bufferedMessageCount == buffered)
                fixture.io.sockets.broadcast.compress(false).emit("n", 2)
                #expect(try await client.nextEvent().arguments == [2])
                #expect(polling.engineIOSocket.bufferedMessageCount == buffered + 1)
            }
        }
    }
}
