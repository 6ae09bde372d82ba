import DuplexEngineIO
import DuplexEngineIOCore
import NIOCore
import Testing

/// protocol.md 4.1.7, and DESIGN.md "What users were bitten by" 2: when an upgrade fails, the
/// client stays on polling and loses nothing.
@Suite("EngineIOClient 4.1.7 Upgrade from polling to WebSocket", .timeLimit(.minutes(1)))
struct EngineIOClientUpgradeTests {
    /// Sends `outgoing` from the client and `incoming` from the server while the upgrade runs,
    /// and checks that both arrive complete and in order.
    private static func exchangeDuringUpgrade(
        server: FakeEngineIOServer,
        socket: EngineIOClientSocket,
        inbox: inout EngineIOClientMessages.AsyncIterator,
        count: Int
    ) async throws {
        let outgoing = numberedMessages("up", count: count)
        let incoming = numberedMessages("down", count: count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for (index, message) in outgoing.enumerated() {
                    try await socket.send(message)
                    if index % 10 == 0 { await Task.yield() }
                }
            }
            group.addTask {
                for (index, message) in incoming.enumerated() {
                    await server.send(message)
                    if index % 10 == 0 { await Task.yield() }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await inbox.next(incoming.count) == incoming)
        await server.waitForMessages(outgoing.count)
        #expect(await server.received == outgoing)
    }

    @Test("4.1.7 the probe succeeds: the session moves to WebSocket and nothing is lost or reordered")
    func upgrades() async throws {
        try await FakeEngineIOServer.with { server, url in
            try await EngineIOClient.connect(to: url) { socket in
                var inbox = socket.messages.makeAsyncIterator()
                try await Self.exchangeDuringUpgrade(server: server, socket: socket, inbox: &inbox, count: 200)
                #expect(await waitForTransport(.websocket, on: socket))
                #expect(socket.transport == .websocket)
                // After the upgrade, traffic flows over the WebSocket only.
                let postsBefore = await server.postBodies.count
                try await socket.send(text: "over-websocket")
                await server.send(.text("back"))
                #expect(try await inbox.next() == .text("back"))
                await server.waitForMessages(201)
                #expect(await server.received.last == .text("over-websocket"))
                #expect(await server.transport == .websocket)
                #expect(await server.postBodies.count == postsBefore)
            }
            await server.waitForClose()
        }
    }

    @Test(
        "4.1.7 the WebSocket request is refused (400, 403): the session stays on polling and delivers everything in order",
        arguments: [400, 403]
    )
    func refusedUpgradeFallsBackToPolling(status: Int) async throws {
        var script = FakeEngineIOServer.Script()
        script.upgrade = .reject(status: status)
        try await FakeEngineIOServer.with(script) { server, url in
            try await EngineIOClient.connect(to: url) { socket in
                var inbox = socket.messages.makeAsyncIterator()
                try await Self.exchangeDuringUpgrade(server: server, socket: socket, inbox: &inbox, count: 200)
                #expect(socket.transport == .polling)
                #expect(await server.transport == .polling)
                // One attempt, never retried within the session. On a loaded machine the
                // messages can all be exchanged before the attempt arrives: wait for it.
                try await Self.waitForWebSocketRequest(server)
                #expect(await server.webSocketRequests.count == 1)
                #expect(await server.webSocketRequests.first?.contains("sid=") == true)
            }
            await server.waitForClose()
            #expect(await server.receivedClose)
        }
    }

    @Test("4.1.7 the probe is never answered: after upgradeTimeout the session stays on polling")
    func probeTimeout() async throws {
        var script = FakeEngineIOServer.Script()
        script.upgrade = .ignoreProbe
        try await FakeEngineIOServer.with(script) { server, url in
            let configuration = EngineIOClientConfiguration(upgradeTimeout: .milliseconds(300))
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                var inbox = socket.messages.makeAsyncIterator()
                try await Self.exchangeDuringUpgrade(server: server, socket: socket, inbox: &inbox, count: 50)
                // Well past the upgrade timeout: still polling, still working.
                try await Task.sleep(for: .milliseconds(600))
                #expect(socket.transport == .polling)
                try await socket.send(text: "after-timeout")
                await server.waitForMessages(51)
                #expect(await server.received.last == .text("after-timeout"))
                #expect(await server.transport == .polling)
            }
        }
    }

    @Test("4.1.7 the server closes the probe WebSocket: the session stays on polling")
    func probeClosed() async throws {
        var script = FakeEngineIOServer.Script()
        script.upgrade = .closeProbe
        try await FakeEngineIOServer.with(script) { server, url in
            try await EngineIOClient.connect(to: url) { socket in
                var inbox = socket.messages.makeAsyncIterator()
                try await Self.exchangeDuringUpgrade(server: server, socket: socket, inbox: &inbox, count: 100)
                try await Self.waitForWebSocketRequest(server)
                #expect(socket.transport == .polling)
                #expect(await server.webSocketRequests.count == 1)
            }
            await server.waitForClose()
        }
    }

    /// Waits (at most 10 s) until the fake server has seen the client's WebSocket request.
    static func waitForWebSocketRequest(_ server: FakeEngineIOServer) async throws {
        for _ in 0..<200 where await server.webSocketRequests.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test("4.1.7 upgrades off: no WebSocket request at all")
    func upgradeDisabled() async throws {
        try await FakeEngineIOServer.with { server, url in
            let configuration = EngineIOClientConfiguration(allowsUpgrade: false)
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                var inbox = socket.messages.makeAsyncIterator()
                try await Self.exchangeDuringUpgrade(server: server, socket: socket, inbox: &inbox, count: 10)
                #expect(socket.transport == .polling)
            }
            #expect(await server.webSocketRequests.isEmpty)
        }
    }
}
