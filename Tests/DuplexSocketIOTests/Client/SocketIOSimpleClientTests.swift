import DuplexEngineIOCore
import DuplexSocketIO
import DuplexSocketIOCore
import Testing

@Suite("SocketIOSimpleClient: connect, emit, call, receive", .timeLimit(.minutes(1)))
struct SocketIOSimpleClientTests {
    @Test("straight-line use: receive in order, call returns the reply, receive times out with nil")
    func simpleUse() async throws {
        try await FakeSocketIOServer.with { server, url in
            async let connecting = SocketIOSimpleClient.connect(
                to: url + "/chat",
                auth: .value(["user": "ada"]),
                configuration: .testing()
            )
            let connection = try await server.nextConnection()
            #expect(try await connection.accept(namespace: "/chat", socketID: "c1") == ["user": "ada"])
            let client = try await connecting
            #expect(client.id == "c1")
            #expect(client.transport == .polling)

            try await connection.send(.event("one", [1], namespace: "/chat"))
            try await connection.send(.event("two", [2], namespace: "/chat", ackID: 4))
            let one = try #require(try await client.receive(timeout: .seconds(5)))
            #expect(one.name == "one" && one.arguments == [1])
            let two = try #require(try await client.receive(timeout: .seconds(5)))
            #expect(two.name == "two" && two.expectsAcknowledgement)
            two.acknowledge(["thanks"])
            #expect(try await connection.nextPacket() == .ack(["thanks"], namespace: "/chat", ackID: 4))

            try client.emit("say", ["hi"])
            #expect(try await connection.nextPacket() == .event("say", ["hi"], namespace: "/chat"))
            async let reply = client.call("sum", [1, 2], timeout: .seconds(5))
            let sum = try #require(try await connection.nextPacket())
            try await connection.send(.ack([3], namespace: "/chat", ackID: try #require(sum.ackID)))
            let replied = try await reply
            #expect(replied == [3])

            #expect(try await client.receive(timeout: .milliseconds(50)) == nil)
            await client.disconnect()
            #expect(#expect(throws: SocketIOError.self) { try client.emit("late") }?.code == .notConnected)
            let error = await #expect(throws: SocketIOError.self) { try await client.receive() }
            #expect(error?.code == .disconnected)
        }
    }

    @Test("a server disconnect ends receive with disconnected after the queued events")
    func serverDisconnect() async throws {
        try await FakeSocketIOServer.with { server, url in
            async let connecting = SocketIOSimpleClient.connect(to: url, configuration: .testing())
            let connection = try await server.nextConnection()
            try await connection.accept()
            let client = try await connecting
            try await connection.send(.event("last"))
            try await connection.send(.disconnect())
            #expect(try await client.receive(timeout: .seconds(5))?.name == "last")
            let error = await #expect(throws: SocketIOError.self) { try await client.receive(timeout: .seconds(5)) }
            #expect(error?.code == .disconnected)
            await client.disconnect()
        }
    }
}
