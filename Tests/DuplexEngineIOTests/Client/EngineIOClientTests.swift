import DuplexEngineIO
import DuplexEngineIOCore
import NIOCore
import Testing

@Suite("EngineIOClient 4.1.3–4.1.5 sessions over polling and WebSocket", .timeLimit(.minutes(1)))
struct EngineIOClientSessionTests {
    @Test("4.1.3/4.1.4 polling only: handshake, text and binary both ways in order, close POSTs 1")
    func pollingOnly() async throws {
        try await FakeEngineIOServer.with { server, url in
            let configuration = EngineIOClientConfiguration(transports: [.polling])
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                #expect(socket.id.hasPrefix("fake-sid-"))
                #expect(socket.transport == .polling)
                let outgoing = numberedMessages("up", count: 30)
                let incoming = numberedMessages("down", count: 30)
                var inbox = socket.messages.makeAsyncIterator()
                for message in outgoing { try await socket.send(message) }
                for message in incoming { await server.send(message) }
                #expect(try await inbox.next(incoming.count) == incoming)
                await server.waitForMessages(outgoing.count)
                #expect(await server.received == outgoing)
            }
            await server.waitForClose()
            #expect(await server.receivedClose)
            #expect(await server.webSocketRequests.isEmpty)
        }
    }

    @Test("4.1.4 batching: queued messages share POSTs of at most maxPayload bytes")
    func batching() async throws {
        var script = FakeEngineIOServer.Script()
        script.maxPayload = 64
        try await FakeEngineIOServer.with(script) { server, url in
            let configuration = EngineIOClientConfiguration(transports: [.polling])
            let outgoing = (0..<40).map { EngineIOPacketData.text("message-\($0)") }
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                for message in outgoing { try await socket.send(message) }
                await server.waitForMessages(outgoing.count)
            }
            #expect(await server.received == outgoing)
            let bodies = await server.postBodies
            #expect(bodies.allSatisfy { $0.utf8.count <= 64 })
            // 40 messages of 11-12 bytes, at most 64 bytes per POST: more than one per POST.
            #expect(bodies.count < outgoing.count)
        }
    }

    @Test("4.1.4 at most 16 packets per POST: python-engineio drops larger payloads")
    func packetsPerPost() async throws {
        try await FakeEngineIOServer.with { server, url in
            let configuration = EngineIOClientConfiguration(transports: [.polling])
            let outgoing = (0..<100).map { EngineIOPacketData.text("m\($0)") }
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                for message in outgoing { try await socket.send(message) }
                await server.waitForMessages(outgoing.count)
            }
            #expect(await server.received == outgoing)
            let packetCounts = await server.postBodies.map { $0.split(separator: "\u{1E}").count }
            #expect(packetCounts.allSatisfy { $0 <= 16 })
            #expect(packetCounts.contains(16))
        }
    }

    @Test("4.1.5 WebSocket only: open packet first, messages both ways, close sends 1")
    func webSocketOnly() async throws {
        try await FakeEngineIOServer.with { server, url in
            let configuration = EngineIOClientConfiguration(transports: [.websocket])
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                #expect(socket.transport == .websocket)
                #expect(socket.handshake.upgrades.isEmpty)
                let outgoing = numberedMessages("up", count: 20)
                let incoming = numberedMessages("down", count: 20)
                var inbox = socket.messages.makeAsyncIterator()
                for message in outgoing { try await socket.send(message) }
                for message in incoming { await server.send(message) }
                #expect(try await inbox.next(incoming.count) == incoming)
                await server.waitForMessages(outgoing.count)
                #expect(await server.received == outgoing)
            }
            await server.waitForClose()
            #expect(await server.receivedClose)
            #expect(await server.postBodies.isEmpty)
        }
    }

    @Test("4.1.8 the server closes: the messages end without error; sending then fails", arguments: [false, true])
    func serverCloses(overWebSocket: Bool) async throws {
        try await FakeEngineIOServer.with { server, url in
            let configuration = EngineIOClientConfiguration(transports: overWebSocket ? [.websocket] : [.polling])
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                await server.send(.text("bye"))
                await server.closeSession()
                var received: [EngineIOPacketData] = []
                for try await message in socket.messages { received.append(message) }
                #expect(received == [.text("bye")])
                await #expect(throws: EngineIOError.self) { try await socket.send(text: "late") }
                #expect(socket.isClosed)
            }
        }
    }

    @Test("4.1.8 closing twice, and from the body, is harmless")
    func closeIsIdempotent() async throws {
        try await FakeEngineIOServer.with { server, url in
            try await EngineIOClient.connect(to: url, configuration: .init(transports: [.polling])) { socket in
                try await socket.send(text: "last")
                await socket.close()
                await socket.close()
                #expect(socket.isClosed)
                do {
                    try await socket.send(text: "after")
                    Issue.record("send after close succeeded")
                } catch let error as EngineIOError {
                    #expect(error.code == .sessionClosed)
                }
            }
            await server.waitForClose()
            #expect(await server.received == [.text("last")])
        }
    }
}

@Suite("EngineIOClient backpressure", .timeLimit(.minutes(1)))
struct EngineIOClientBackpressureTests {
    @Test(
        "a reader that falls behind loses nothing: polling and reads pause, then resume in order",
        arguments: [
            [EngineIOTransport.polling], [.websocket], [.polling, .websocket],
        ])
    func slowReader(transports: [EngineIOTransport]) async throws {
        try await FakeEngineIOServer.with { server, url in
            let configuration = EngineIOClientConfiguration(transports: transports)
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                // Well over the 256-message high watermark, sent while nobody reads.
                let incoming = (0..<1500).map { EngineIOPacketData.text("m\($0)") }
                for message in incoming { await server.send(message) }
                try await Task.sleep(for: .milliseconds(200))
                var inbox = socket.messages.makeAsyncIterator()
                #expect(try await inbox.next(incoming.count) == incoming)
                try await socket.send(text: "done")
                await server.waitForMessages(1)
            }
        }
    }
}

@Suite("EngineIOClient 4.1.6 Heartbeat", .timeLimit(.minutes(1)))
struct EngineIOClientHeartbeatTests {
    @Test("4.1.6 each ping is answered with a pong, over polling and WebSocket", arguments: [false, true])
    func answersPings(overWebSocket: Bool) async throws {
        var script = FakeEngineIOServer.Script()
        script.pingInterval = .milliseconds(100)
        // Generous: the test checks that pongs are sent, not how fast a loaded machine sends them.
        script.pingTimeout = .seconds(10)
        script.sendsPings = true
        try await FakeEngineIOServer.with(script) { server, url in
            let configuration = EngineIOClientConfiguration(transports: overWebSocket ? [.websocket] : [.polling])
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                // Five heartbeats (plus the slack of a busy machine) without the session dying.
                while await server.pongCount < 5 { try await Task.sleep(for: .milliseconds(50)) }
                try await socket.send(text: "alive")
                await server.waitForMessages(1)
            }
        }
    }

    @Test("4.1.6 no ping within pingInterval + pingTimeout: the messages throw pingTimeout", arguments: [false, true])
    func deadServer(overWebSocket: Bool) async throws {
        var script = FakeEngineIOServer.Script()
        script.pingInterval = .milliseconds(200)
        script.pingTimeout = .milliseconds(200)
        try await FakeEngineIOServer.with(script) { server, url in
            let configuration = EngineIOClientConfiguration(transports: overWebSocket ? [.websocket] : [.polling])
            let started = ContinuousClock.now
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                do {
                    for try await _ in socket.messages {}
                    Issue.record("the messages ended without error")
                } catch let error as EngineIOError {
                    #expect(error.code == .pingTimeout)
                    #expect(error.isRetryable)
                }
            }
            #expect(ContinuousClock.now - started >= .milliseconds(400))
        }
    }
}
