import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import Testing

/// Graceful shutdown.
@Suite("Socket.IO server: shutdown")
struct SocketIOServerShutdownTests {
    @Test("shutdown disconnects every socket with \"server shutting down\" and closes the sessions")
    func shutdown() async throws {
        let reasons = Recorder<SocketIODisconnectReason>()
        try await SocketIOServerFixture.run(configure: { io in
            for name in ["/", "/custom"] {
                io.namespace(name).onConnection { socket in socket.onDisconnect { reasons.append($0) } }
            }
        }) { fixture in
            try await fixture.withClient { client in
                _ = try await client.connect("/")
                _ = try await client.connect("/custom")
                await fixture.io.shutdown()
                try await client.waitUntilEnded()
                try await fixture.eventually("disconnect handlers") { reasons.count == 2 }
                #expect(reasons.all == [.serverShuttingDown, .serverShuttingDown])
            }
        }
    }
}
