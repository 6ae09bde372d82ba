import DuplexEngineIO
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import Synchronization
import Testing

/// protocol.md 4.1.7 Upgrade from polling to WebSocket. Legitimate upgrades must always succeed
/// (DESIGN.md, "What users were bitten by", 2); abusive ones are refused.
@Suite("protocol.md 4.1.7 Upgrade", .timeLimit(.minutes(3)))
struct EngineIOServerUpgradeTests {
    /// The client side of an upgrade: `2probe` → `3probe` → `5` (step by step unless `backToBack`).
    static func upgrade(
        _ webSocket: WebSocketConnection, _ messages: inout WebSocketInboundMessages.AsyncIterator, backToBack: Bool = false
    ) async throws {
        try await webSocket.send(text: "2probe")
        if backToBack {
            try await webSocket.send(text: "5")
            let pong = try await messages.nextText()
            #expect(pong == "3probe")
        } else {
            let pong = try await messages.nextText()
            #expect(pong == "3probe")
            try await webSocket.send(text: "5")
        }
    }

    @Test("sequential upgrade: 2probe, 3probe, 5; then polling is refused")
    func sequentialUpgrade() async throws {
        try await EngineIOServerFixture.run { server in
            let (sid, _) = try await server.openPollingSession()
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await Self.upgrade(webSocket, &messages)
                try await webSocket.send(text: "4over websocket")
                #expect(try await messages.nextText() == "4over websocket")
                #expect(try await server.socket(sid).transport == .websocket)
                let poll = try await server.poll(sid)
                #expect(poll.status == 400)
                #expect(poll.text == #"{"code":3,"message":"Bad request"}"#)
            }
        }
    }

    @Test("2probe and 5 sent back to back")
    func backToBack() async throws {
        try await EngineIOServerFixture.run { server in
            let (sid, _) = try await server.openPollingSession()
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await Self.upgrade(webSocket, &messages, backToBack: true)
                try await webSocket.send(text: "4fast")
                #expect(try await messages.nextText() == "4fast")
            }
        }
    }

    @Test("a GET pending during the upgrade is ended with noop")
    func pendingGetGetsNoop() async throws {
        try await EngineIOServerFixture.run { server in
            let (sid, _) = try await server.openPollingSession()
            let pending = Task { try await server.poll(sid) }
            try await server.waitUntilPollIsPending(sid)
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await webSocket.send(text: "2probe")
                #expect(try await messages.nextText() == "3probe")
                let ended = try await pending.value
                #expect(ended.status == 200)
                #expect(ended.packets == ["6"])
                try await webSocket.send(text: "5")
                try await webSocket.send(text: "4after")
                #expect(try await messages.nextText() == "4after")
            }
        }
    }

    @Test("messages queued before and during the upgrade arrive over the WebSocket, in order")
    func queuedMessagesAreFlushed() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            try await socket.send(text: "before")
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await webSocket.send(text: "2probe")
                #expect(try await messages.nextText() == "3probe")
                try await socket.send(text: "during")
                try await webSocket.send(text: "5")
                #expect(try await messages.nextText() == "4before")
                #expect(try await messages.nextText() == "4during")
                try await socket.send(binary: [9, 8, 7])
                let binary = try #require(try await messages.next())
                #expect(binary.kind == .binary)
                #expect(binary.bytes == [9, 8, 7])
            }
        }
    }

    @Test("500 clients upgrading concurrently: zero failures")
    func concurrentUpgrades() async throws {
        let clients = 500
        try await EngineIOServerFixture.run { server in
            let failures = ConcurrentList<String>()
            let clock = ContinuousClock()
            let start = clock.now
            try await boundedWait(.seconds(150), "500 concurrent upgrades") {
                await withDiscardingTaskGroup { group in
                    for index in 0..<clients {
                        group.addTask {
                            do {
                                let (sid, _) = try await server.openPollingSession()
                                try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                                    var messages = webSocket.messages.makeAsyncIterator()
                                    try await webSocket.send(text: "2probe")
                                    guard try await messages.nextText() == "3probe" else { throw FixtureError("no 3probe") }
                                    try await webSocket.send(text: "5")
                                    try await webSocket.send(text: "4client-\(index)")
                                    guard try await messages.nextText() == "4client-\(index)" else {
                                        throw FixtureError("no echo over the upgraded WebSocket")
                                    }
                                }
                            } catch {
                                failures.append("client \(index): \(error)")
                            }
                        }
                    }
                }
            }
            let elapsed = clock.now - start
            print("500 concurrent polling→WebSocket upgrades: \(elapsed)")
            let failed = failures.all
            #expect(failed.isEmpty, "\(failed.count) upgrades failed, e.g. \(failed.prefix(3))")
        }
    }

    // MARK: - Refused upgrades

    @Test("upgrade for an unknown sid is refused before the 101 with code 1")
    func unknownSid() async throws {
        try await EngineIOServerFixture.run { server in
            let refusal = try await server.refusedUpgrade("EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA")
            #expect(refusal.status == 400)
            #expect(refusal.header("Content-Type") == "application/json")
            #expect(refusal.text == #"{"code":1,"message":"Session ID unknown"}"#)
            await #expect {
                try await server.withWebSocket("EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA") { _ in }
            } throws: { error in
                guard let error = error as? WebSocketError else { return false }
                return error.code == .handshakeRejected && error.response?.status.code == 400
            }
        }
    }

    @Test("a second WebSocket for an upgraded session is refused; the first keeps working")
    func alreadyUpgraded() async throws {
        try await EngineIOServerFixture.run { server in
            let (sid, _) = try await server.openPollingSession()
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await Self.upgrade(webSocket, &messages)
                let refusal = try await server.refusedUpgrade("EIO=4&transport=websocket&sid=\(sid)")
                #expect(refusal.status == 400)
                #expect(refusal.text == #"{"code":3,"message":"Bad request"}"#)
                await #expect {
                    try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { _ in }
                } throws: { error in
                    (error as? WebSocketError)?.response?.status.code == 400
                }
                try await webSocket.send(text: "4still here")
                #expect(try await messages.nextText() == "4still here")
            }
        }
    }

    @Test("without the pre-101 check, a second WebSocket is closed right after it opens")
    func alreadyUpgradedWithoutValidation() async throws {
        try await EngineIOServerFixture.run(validatesUpgrades: false) { server in
            let (sid, _) = try await server.openPollingSession()
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await Self.upgrade(webSocket, &messages)
                let secondGotMessages = try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { second in
                    try await boundedWait(.seconds(5), "closing the second WebSocket") {
                        var received = 0
                        do {
                            for try await _ in second.messages { received += 1 }
                        } catch {}
                        return received
                    }
                }
                #expect(secondGotMessages == 0)
                try await webSocket.send(text: "4still here")
                #expect(try await messages.nextText() == "4still here")
            }
        }
    }

    @Test("a second upgrade while one is in progress is refused")
    func alreadyUpgrading() async throws {
        try await EngineIOServerFixture.run { server in
            let (sid, _) = try await server.openPollingSession()
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await webSocket.send(text: "2probe")
                #expect(try await messages.nextText() == "3probe")
                await #expect {
                    try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { _ in }
                } throws: { error in
                    (error as? WebSocketError)?.response?.status.code == 400
                }
                try await webSocket.send(text: "5")
                try await webSocket.send(text: "4done")
                #expect(try await messages.nextText() == "4done")
            }
        }
    }

    @Test("a probe that never sends 5 is closed after upgradeTimeout; the session stays on polling")
    func probeWithoutUpgrade() async throws {
        try await EngineIOServerFixture.run(EngineIOServerConfiguration(upgradeTimeout: .milliseconds(1500))) { server in
            let (sid, _) = try await server.openPollingSession()
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                try await webSocket.send(text: "2probe")
                // The timer starts when the WebSocket arrives (as in the reference server), so on a
                // loaded machine it may close the probe before answering it: "3probe" at most,
                // then the end (bounded by the suite's time limit).
                var received: [String] = []
                do {
                    for try await message in webSocket.messages { received.append(message.text ?? "<binary>") }
                } catch {}
                #expect(received == ["3probe"] || received.isEmpty)
            }
            #expect(try await server.socket(sid).transport == .polling)
            #expect(try await server.send(sid, ["4still polling"]).status == 200)
            #expect(try await server.collect(sid, count: 1) == ["4still polling"])
        }
    }

    @Test("an unexpected packet on the probe closes it; the session stays on polling")
    func unexpectedProbePacket() async throws {
        try await EngineIOServerFixture.run { server in
            let (sid, _) = try await server.openPollingSession()
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                try await webSocket.send(text: "4not a probe")
                let ended = try await boundedWait(.seconds(5), "the server closing the probe") {
                    var received: [String] = []
                    do {
                        for try await message in webSocket.messages { received.append(message.text ?? "") }
                    } catch {}
                    return received
                }
                #expect(ended.isEmpty)
            }
            #expect(try await server.send(sid, ["4ok"]).status == 200)
            #expect(try await server.collect(sid, count: 1) == ["4ok"])
            // A new, legitimate upgrade still succeeds.
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await Self.upgrade(webSocket, &messages)
                try await webSocket.send(text: "4upgraded")
                #expect(try await messages.nextText() == "4upgraded")
            }
        }
    }

    @Test("sessions that cannot upgrade are refused: WebSocket-only, upgrades disabled, closed")
    func sessionsThatCannotUpgrade() async throws {
        try await EngineIOServerFixture.run { server in
            let sid = try await server.withWebSocket("EIO=4&transport=websocket") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                let open = try #require(try await messages.nextText())
                let sid = try EngineIOHandshake(json: String(open.dropFirst())).sid
                await #expect {
                    try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { _ in }
                } throws: { error in
                    (error as? WebSocketError)?.response?.status.code == 400
                }
                return sid
            }
            // Once its WebSocket closed, the session is gone.
            _ = try await server.socket(sid).waitUntilClosed()
            await #expect {
                try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { _ in }
            } throws: { error in
                (error as? WebSocketError)?.response?.status.code == 400
            }
        }
        try await EngineIOServerFixture.run(EngineIOServerConfiguration(allowUpgrades: false)) { server in
            let (sid, _) = try await server.openPollingSession()
            await #expect {
                try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { _ in }
            } throws: { error in
                (error as? WebSocketError)?.response?.status.code == 400
            }
            #expect(try await server.send(sid, ["4polling"]).status == 200)
        }
    }

    @Test("a WebSocket request with transport=polling is refused before the 101")
    func webSocketWithPollingTransport() async throws {
        try await EngineIOServerFixture.run { server in
            await #expect {
                try await server.withWebSocket("EIO=4&transport=polling") { _ in }
            } throws: { error in
                (error as? WebSocketError)?.response?.status.code == 400
            }
        }
    }
}
