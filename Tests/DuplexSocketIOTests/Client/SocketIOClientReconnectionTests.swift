import DuplexEngineIO
import DuplexEngineIOCore
import DuplexSocketIO
import DuplexSocketIOCore
import NIOCore
import Testing

@Suite("SocketIOClient reconnection, offline buffering, retries, 4.2.8 recovery", .timeLimit(.minutes(1)))
struct SocketIOClientReconnectionTests {
    @Test("a lost connection reconnects with backoff and rejoins every namespace")
    func reconnectRejoins() async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let root = try manager.socket(auth: .value(["token": "t"]))
            let chat = try manager.socket(namespace: "/chat")
            let lifecycle = FakeQueue<String>()
            root.onConnect { lifecycle.push("connect /") }
            root.onDisconnect { lifecycle.push("disconnect / \($0)") }
            manager.onEvent { event in
                switch event {
                case .reconnectAttempt(let attempt): lifecycle.push("attempt \(attempt)")
                case .reconnect(let attempts): lifecycle.push("reconnect \(attempts)")
                default: break
                }
            }
            let (first, _) = try await connect(root, on: server)
            async let chatConnecting: Void = chat.connect()
            try await first.accept(namespace: "/chat", socketID: "c1")
            try await chatConnecting
            #expect(try await lifecycle.expectNext() == "connect /")

            await first.close()
            #expect(try await lifecycle.expectNext() == "disconnect / transport close")
            #expect(try await lifecycle.expectNext() == "attempt 1")
            let second = try await server.nextConnection()
            #expect(try await lifecycle.expectNext() == "reconnect 1")
            var rejoined: [String: JSONValue?] = [:]
            for _ in 0..<2 {
                let packet = try #require(try await second.nextPacket())
                #expect(packet.type == .connect)
                rejoined[packet.namespace] = packet.data
            }
            #expect(rejoined == ["/": ["token": "t"], "/chat": nil])
            try await second.send(.connect(data: ["sid": "s2"]))
            try await second.send(.connect(namespace: "/chat", data: ["sid": "c2"]))
            #expect(try await lifecycle.expectNext() == "connect /")
            #expect(root.id == "s2")
            await manager.close()
        }
    }

    @Test("\"io server disconnect\" does not reconnect; the client closes the idle session")
    func serverDisconnect() async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let socket = try manager.socket()
            let reasons = FakeQueue<SocketIOClientDisconnectReason>()
            socket.onDisconnect { reasons.push($0) }
            let (connection, _) = try await connect(socket, on: server)
            let pending = Task { try await socket.emitWithAck("never-answered") }
            _ = try await connection.nextPacket()
            try await connection.send(.disconnect())
            #expect(try await reasons.expectNext() == .ioServerDisconnect)
            #expect(await #expect(throws: SocketIOError.self) { try await pending.value }?.code == .disconnected)
            await connection.socket.waitUntilClosed()
            #expect(!socket.isActive)
            #expect(!manager.isOpen)
            // Reconnecting again is explicit.
            let (again, _) = try await connect(socket, on: server, socketID: "s2")
            #expect(socket.id == "s2")
            _ = again
            await manager.close()
        }
    }

    @Test("emits made while disconnected are sent in order after the (re)connection; volatile ones are dropped")
    func offlineBuffer() async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let socket = try manager.socket()
            try socket.emit("before", [1])
            try socket.emit("dropped", [], options: .volatile)
            let outgoing = FakeQueue<String>()
            socket.onAnyOutgoing { outgoing.push($0.name) }
            try socket.emit("before", [2])
            let (first, _) = try await connect(socket, on: server)
            #expect(try await first.nextPacket() == .event("before", [1]))
            #expect(try await first.nextPacket() == .event("before", [2]))
            #expect(try await outgoing.expectNext() == "before")

            let reasons = FakeQueue<SocketIOClientDisconnectReason>()
            socket.onDisconnect { reasons.push($0) }
            await first.close()
            #expect(try await reasons.expectNext() == .transportClose)
            let replies = FakeQueue<Result<[JSONValue], SocketIOError>>()
            try socket.emit("while-away", [3], options: .timeout(.seconds(5))) { replies.push($0) }
            try socket.emit("while-away", [4])
            try socket.emit("dropped", [], options: .volatile)
            let second = try await server.nextConnection()
            try await second.accept(socketID: "s2")
            let buffered = try #require(try await second.nextPacket())
            #expect(buffered.eventName == "while-away")
            #expect(buffered.arguments == [3])
            try await second.send(.ack(["ok"], ackID: try #require(buffered.ackID)))
            #expect(try await second.nextPacket() == .event("while-away", [4]))
            #expect(try await replies.expectNext().get() == ["ok"])
            try socket.emit("live")
            #expect(try await second.nextPacket() == .event("live"))
            await manager.close()
        }
    }

    @Test("the offline buffer is bounded: past maxBufferedEmits emits fail with notConnected")
    func boundedBuffer() throws {
        let configuration = SocketIOClientConfiguration.testing { $0.maxBufferedEmits = 2 }
        let manager = try SocketIOClientManager(url: "http://127.0.0.1:9", configuration: configuration)
        let socket = try manager.socket()
        try socket.emit("one")
        try socket.emit("two")
        let error = #expect(throws: SocketIOError.self) { try socket.emit("three") }
        #expect(error?.code == .notConnected)
        try socket.emit("volatile", options: .volatile)
    }

    @Test("retries: one emit in flight at a time, re-sent with the same ack id until acknowledged")
    func retries() async throws {
        try await FakeSocketIOServer.with { server, url in
            // A loaded machine may answer an attempt after its timeout: the retransmission that
            // crosses the ack is skipped below, and the ack of any attempt still counts.
            let configuration = SocketIOClientConfiguration.testing {
                $0.retries = 2
                $0.ackTimeout = .seconds(3)
            }
            let manager = try SocketIOClientManager(url: url, configuration: configuration)
            let socket = try manager.socket()
            let (connection, _) = try await connect(socket, on: server)
            let results = FakeQueue<Result<[JSONValue], SocketIOError>>()
            try socket.emit("first", [1]) { results.push($0) }
            try socket.emit("second", [2])

            let attempt1 = try #require(try await connection.nextPacket())
            let id = try #require(attempt1.ackID)
            #expect(attempt1.eventName == "first")
            // No reply: the same packet comes again, with the same id, before "second".
            let attempt2 = try await connection.nextPacket()
            #expect(attempt2 == attempt1)
            try await connection.send(.ack(["done"], ackID: id))
            #expect(try await results.expectNext().get() == ["done"])
            var next = try #require(try await connection.nextPacket())
            while next == attempt1 { next = try #require(try await connection.nextPacket()) }
            let second = next
            #expect(second.eventName == "second")
            #expect(second.ackID != nil && second.ackID != id)
            try await connection.send(.ack([], ackID: try #require(second.ackID)))

            // Never acknowledged: 1 + retries attempts, then ackTimedOut (nothing races here).
            try socket.emit("doomed", [], options: .timeout(.milliseconds(300))) { results.push($0) }
            for _ in 0..<3 {
                #expect(try await connection.nextPacket()?.eventName == "doomed")
            }
            let failure = try await results.expectNext()
            #expect(#expect(throws: SocketIOError.self) { try failure.get() }?.code == .ackTimedOut)
            #expect(!connection.hasPendingPacket)
            await manager.close()
        }
    }

    @Test("4.2.8 recovery: pid and last offset go into the reconnection CONNECT; recovered is set")
    func connectionStateRecovery() async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let socket = try manager.socket(auth: .value(["token": "t", "offset": "mine"]))
            let events = FakeQueue<SocketIOClientEvent>()
            socket.onAny { events.push($0) }
            let connects = FakeQueue<Bool>()
            socket.onConnect { connects.push(socket.recovered) }
            let (first, initial) = try await connect(socket, on: server, pid: "pid-1")
            #expect(initial == ["token": "t", "offset": "mine"])
            #expect(!socket.recovered)
            try await first.send(.event("news", ["a", "offset-1"]))
            try await first.send(.event("news", ["b", "offset-2"]))
            try await first.send(.event("with-ack", ["not-an-offset"], ackID: 1))
            for _ in 0..<3 { _ = try await events.expectNext() }

            await first.close()
            let second = try await server.nextConnection()
            // socket.io-client `_sendConnectPacket`: {pid, offset} then the auth (which wins).
            let payload = try await second.accept(socketID: "sid-1", pid: "pid-1")
            #expect(payload == ["pid": "pid-1", "offset": "mine", "token": "t"])
            #expect(try await connects.expectNext() == false)  // the first connection
            #expect(try await connects.expectNext() == true)

            socket.setAuth(.none)
            await second.close()
            let third = try await server.nextConnection()
            #expect(try await third.accept(socketID: "sid-3", pid: "pid-2") == ["pid": "pid-1", "offset": "offset-2"])
            #expect(try await connects.expectNext() == false)
            await manager.close()
        }
    }

    @Test("reconnectionAttempts: gives up with reconnect_failed; the initial failure is connectFailed")
    func givingUp() async throws {
        // A port nobody listens on: bind and close a server first.
        let url = try await FakeSocketIOServer.with { _, url in url }
        let plain = try SocketIOClientManager(url: url, configuration: .testing())
        let error = await #expect(throws: SocketIOError.self) { try await plain.socket().connect() }
        #expect(error?.code == .connectFailed)
        #expect(error?.underlyingError(as: EngineIOError.self)?.code == .connectionFailed)

        let configuration = SocketIOClientConfiguration.testing {
            $0.retriesInitialConnection = true
            $0.reconnectionAttempts = 2
        }
        let retrying = try SocketIOClientManager(url: url, configuration: configuration)
        let events = FakeQueue<String>()
        retrying.onEvent { event in
            switch event {
            case .error: events.push("error")
            case .reconnectAttempt(let attempt): events.push("attempt \(attempt)")
            case .reconnectFailed: events.push("failed")
            default: break
            }
        }
        let retryError = await #expect(throws: SocketIOError.self) { try await retrying.socket().connect() }
        #expect(retryError?.code == .connectFailed)
        var seen: [String] = []
        for _ in 0..<6 { seen.append(try await events.expectNext()) }
        #expect(seen == ["error", "attempt 1", "error", "attempt 2", "error", "failed"])
    }
}
