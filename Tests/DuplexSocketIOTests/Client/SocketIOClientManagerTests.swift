import DuplexEngineIO
import DuplexEngineIOCore
import DuplexSocketIO
import DuplexSocketIOCore
import NIOCore
import Testing

@Suite("SocketIOClient 4.2.5–4.2.6 namespaces, events and acknowledgements", .timeLimit(.minutes(1)))
struct SocketIOClientManagerTests {
    @Test("4.2.5 CONNECT with auth, events both ways, DISCONNECT on close", arguments: TransportMode.allCases)
    func connectEmitReceive(mode: TransportMode) async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing(mode))
            let socket = try manager.socket(auth: .value(["token": "abc"]))
            let events = FakeQueue<SocketIOClientEvent>()
            socket.on("greeting") { events.push($0) }
            let transports = FakeQueue<EngineIOTransport>()
            manager.onEvent { if case .transport(let transport) = $0 { transports.push(transport) } }

            let (connection, auth) = try await connect(socket, on: server, socketID: "s1")
            #expect(auth == ["token": "abc"])
            #expect(socket.id == "s1")
            #expect(socket.isConnected)
            if mode == .upgrade { #expect(try await transports.expectNext() == .websocket) }

            try socket.emit("hello", [1, "two", ["a": [1, 2]]])
            #expect(try await connection.nextPacket() == .event("hello", [1, "two", ["a": [1, 2]]]))
            try await connection.send(.event("greeting", ["hi", 2]))
            let event = try await events.expectNext()
            #expect(event.name == "greeting")
            #expect(event.arguments == ["hi", 2])
            #expect(!event.expectsAcknowledgement)

            await manager.close()
            // socket.io-protocol v5: the client leaves with DISCONNECT, then Engine.IO closes.
            #expect(try await connection.nextPacket() == .disconnect())
            await connection.socket.waitUntilClosed()
            #expect(!socket.isConnected)
            #expect(connection.errors.isEmpty)
        }
    }

    @Test("4.2.5 several namespaces share one Engine.IO session; packets are routed by namespace")
    func multiplexing() async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let root = try manager.socket()
            let admin = try manager.socket(namespace: "/admin", auth: .provider { ["role": "admin"] })
            #expect(try manager.socket(namespace: "/admin") == admin)
            let rootEvents = FakeQueue<SocketIOClientEvent>()
            let adminEvents = FakeQueue<SocketIOClientEvent>()
            root.on("news") { rootEvents.push($0) }
            admin.on("news") { adminEvents.push($0) }

            let (connection, _) = try await connect(root, on: server)
            async let adminConnecting: Void = admin.connect()
            #expect(try await connection.accept(namespace: "/admin", socketID: "a1") == ["role": "admin"])
            try await adminConnecting
            #expect(!server.hasPendingConnection)
            #expect(admin.id == "a1")

            try await connection.send(.event("news", ["for admin"], namespace: "/admin"))
            try await connection.send(.event("news", ["for root"]))
            #expect(try await adminEvents.expectNext().arguments == ["for admin"])
            #expect(try await rootEvents.expectNext().arguments == ["for root"])
            try admin.emit("report", [true])
            #expect(try await connection.nextPacket() == .event("report", [true], namespace: "/admin"))

            // Leaving one namespace keeps the session for the other.
            admin.disconnect()
            #expect(try await connection.nextPacket() == .disconnect(namespace: "/admin"))
            try root.emit("still-here")
            #expect(try await connection.nextPacket() == .event("still-here"))
            #expect(manager.isOpen)
            await manager.close()
        }
    }

    @Test(
        "4.2.5 CONNECT_ERROR becomes a typed error with the server's message and data",
        arguments: [
            (JSONValue.object(["message": "Unauthorized", "data": ["code": 401]]), "namespaceRefused", "Unauthorized"),
            (JSONValue.object(["message": "Invalid namespace"]), "namespaceNotFound", "Invalid namespace"),
            (JSONValue.string("Unable to connect"), "namespaceRefused", "Unable to connect"),
        ]
    )
    func refusal(payload: JSONValue, code: String, message: String) async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let socket = try manager.socket(namespace: "/private")
            let errors = FakeQueue<SocketIOError>()
            socket.onConnectError { errors.push($0) }
            let connecting = Task { try await socket.connect() }
            let connection = try await server.nextConnection()
            _ = try await connection.nextPacket { $0.type == .connect }
            try await connection.send(SocketIOPacket(type: .connectError, namespace: "/private", data: payload))
            let error = await #expect(throws: SocketIOError.self) { try await connecting.value }
            #expect(error?.code.description == code)
            #expect(error?.message == message)
            #expect(error?.data == payload)
            #expect(try await errors.expectNext().code.description == code)
            #expect(!socket.isActive)
            // No namespace left: the client closes the session and does not reconnect.
            await connection.socket.waitUntilClosed()
            await manager.close()
        }
    }

    @Test("events sent before the CONNECT reply (python-socketio) are delivered after connect, in order")
    func eventsBeforeConnectReply() async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let socket = try manager.socket()
            let seen = FakeQueue<String>()
            socket.onConnect { seen.push("connect") }
            socket.onAny { seen.push($0.name) }
            let connecting = Task { try await socket.connect() }
            let connection = try await server.nextConnection()
            _ = try await connection.nextPacket { $0.type == .connect }
            try await connection.send(.event("auth", [[:]]))
            try await connection.send(.event("second"))
            try await connection.send(.connect(data: ["sid": "s1"]))
            try await connecting.value
            var order: [String] = []
            for _ in 0..<3 { order.append(try await seen.expectNext()) }
            #expect(order == ["connect", "auth", "second"])
            await manager.close()
        }
    }

    @Test("4.2.6 emitWithAck returns the reply; incoming ack requests are answered once")
    func acknowledgements() async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let socket = try manager.socket()
            socket.on("question") { event in
                event.acknowledge(["answer", binary([1, 2])])
                event.acknowledge(["ignored second reply"])
            }
            let (connection, _) = try await connect(socket, on: server)

            async let reply = socket.emitWithAck("ping", [1], timeout: .seconds(5))
            let ping = try await connection.nextPacket()
            let ackID = try #require(ping?.ackID)
            #expect(ping == .event("ping", [1], ackID: ackID))
            try await connection.send(.ack(["pong", binary([9])], ackID: ackID))
            let replied = try await reply
            #expect(replied == ["pong", binary([9])])

            // protocol.md 4.2.6: ack id 0 is valid.
            try await connection.send(.event("question", [], ackID: 0))
            let answer = try await connection.nextPacket()
            #expect(answer == .ack(["answer", binary([1, 2])], ackID: 0))
            try socket.emit("after")
            #expect(try await connection.nextPacket() == .event("after"))
            await manager.close()
        }
    }

    @Test("4.2.6 typed emitWithAck and typed handlers decode Codable values")
    func typedEvents() async throws {
        struct Point: Codable, Equatable, Sendable { var x: Int; var y: Int }
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let socket = try manager.socket()
            let points = FakeQueue<Point>()
            socket.on("point", as: Point.self) { point, _ in points.push(point) }
            let (connection, _) = try await connect(socket, on: server)

            async let reply = socket.emitWithAck("move", encoding: Point(x: 1, y: 2), as: Point.self)
            let move = try #require(try await connection.nextPacket())
            #expect(move.arguments == [["x": 1, "y": 2]])
            try await connection.send(.ack([["x": 3, "y": 4]], ackID: try #require(move.ackID)))
            let replied = try await reply
            #expect(replied == Point(x: 3, y: 4))

            try await connection.send(.event("point", ["not a point"]))
            try await connection.send(.event("point", [["x": 5, "y": 6]]))
            #expect(try await points.expectNext() == Point(x: 5, y: 6))
            await manager.close()
        }
    }

    @Test("4.2.6 ack timeout is ackTimedOut; a late reply is ignored")
    func ackTimeout() async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let socket = try manager.socket()
            let (connection, _) = try await connect(socket, on: server)
            let error = await #expect(throws: SocketIOError.self) {
                try await socket.emitWithAck("slow", [], timeout: .milliseconds(100))
            }
            #expect(error?.code == .ackTimedOut)
            #expect(error?.isRetryable == true)
            let slow = try #require(try await connection.nextPacket())
            try await connection.send(.ack(["late"], ackID: try #require(slow.ackID)))
            try socket.emit("next")
            #expect(try await connection.nextPacket() == .event("next"))
            #expect(socket.isConnected)
            await manager.close()
        }
    }

    @Test("4.2.4 binary attachments anywhere in the arguments, both ways", arguments: [TransportMode.polling, .websocket])
    func binaryAttachments(mode: TransportMode) async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing(mode))
            let socket = try manager.socket(namespace: "/files")
            let events = FakeQueue<SocketIOClientEvent>()
            socket.on("file") { events.push($0) }
            let (connection, _) = try await connect(socket, on: server)
            let arguments: [JSONValue] = [
                binary([0, 1, 2]), ["nested": [binary([]), "text", binary([0xFF])]], 3,
            ]
            try socket.emit("upload", arguments)
            let upload = try await connection.nextPacket()
            #expect(upload == .event("upload", arguments, namespace: "/files"))
            #expect(upload?.attachmentCount == 3)

            try await connection.send(.event("file", arguments, namespace: "/files"))
            #expect(try await events.expectNext().arguments == arguments)
            await manager.close()
        }
    }

    @Test("handlers: once runs once, off removes, onAny runs first, onAnyOutgoing sees sent events")
    func handlerRegistry() async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing())
            let socket = try manager.socket()
            let calls = FakeQueue<String>()
            socket.onAny { calls.push("any:\($0.name)") }
            socket.once("tick") { _ in calls.push("once") }
            let removed = socket.on("tick") { _ in calls.push("removed") }
            socket.on("tick") { _ in calls.push("on") }
            socket.off(removed)
            socket.onAnyOutgoing { calls.push("out:\($0.name)") }
            let (connection, _) = try await connect(socket, on: server)

            try await connection.send(.event("tick"))
            try await connection.send(.event("tick"))
            var seen: [String] = []
            for _ in 0..<5 { seen.append(try await calls.expectNext()) }
            #expect(seen == ["any:tick", "once", "on", "any:tick", "on"])
            try socket.emit("tock")
            #expect(try await calls.expectNext() == "out:tock")
            #expect(throws: SocketIOError.self) { try socket.emit("disconnect") }
            await manager.close()
        }
    }

    @Test("4.2.3 strict decoding: a malformed packet closes the connection with \"parse error\"",
        arguments: ["2{}", "9", "2[\"connect\"]", "3", "0", "51-[\"x\",{\"_placeholder\":true,\"num\":4}]"])
    func malformedPacket(text: String) async throws {
        try await FakeSocketIOServer.with { server, url in
            let manager = try SocketIOClientManager(url: url, configuration: .testing(reconnection: false))
            let socket = try manager.socket()
            let reasons = FakeQueue<SocketIOClientDisconnectReason>()
            socket.onDisconnect { reasons.push($0) }
            let (connection, _) = try await connect(socket, on: server)
            try await connection.send(raw: .text(text))
            if text.hasPrefix("51-") { try await connection.send(raw: .binary(ByteBuffer(bytes: [1]))) }
            #expect(try await reasons.expectNext() == .parseError)
            await connection.socket.waitUntilClosed()
            #expect(!socket.isActive)
            await manager.close()
        }
    }
}
