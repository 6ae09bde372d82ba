import DuplexEngineIO
import DuplexIntegrationTesting
import Testing

/// DESIGN.md, "What users were bitten by" 2: mounted in Vapor, at the default path and under a
/// sub-path, legitimate upgrades succeed and abusive ones are refused.
@Suite("Engine.IO mounted in Vapor", .timeLimit(.minutes(2)))
struct VaporDeploymentTests {
    static let paths = ["/engine.io/", "/api/realtime/engine.io/"]

    @Test("protocol.md 4.1.3-4.1.4: handshake and messages both ways over polling", arguments: paths)
    func pollingSession(path: String) async throws {
        try await VaporTestServer.run(path: path) { port, _ in
            try await EngineIODeploymentChecks(port: port, path: path).pollingSessionExchangesMessages()
        }
    }

    @Test("protocol.md 4.1.7: upgrade to WebSocket with a polling GET in flight", arguments: paths)
    func upgradeWithPendingPoll(path: String) async throws {
        try await VaporTestServer.run(path: path) { port, engine in
            try await EngineIODeploymentChecks(port: port, path: path).upgradeWithPendingPollSucceeds()
            #expect(engine.openSessions.allSatisfy { $0.transport == .websocket })
        }
    }

    @Test("protocol.md 4.1.7: 50 concurrent clients all upgrade", arguments: paths)
    func concurrentUpgrades(path: String) async throws {
        try await VaporTestServer.run(path: path) { port, _ in
            let outcome = await EngineIODeploymentChecks(port: port, path: path).concurrentUpgrades(50)
            #expect(outcome.failures == 0, "\(outcome.firstErrors)")
        }
    }

    @Test("protocol.md 4.1.1: an upgrade for an unknown sid is refused before the 101", arguments: paths)
    func unknownSessionUpgradeRefused(path: String) async throws {
        try await VaporTestServer.run(path: path) { port, engine in
            let checks = EngineIODeploymentChecks(port: port, path: path)
            let refusal = try await checks.upgradeOfUnknownSessionIsRefused()
            // Vapor passes the Engine.IO refusal through as it is.
            #expect(refusal.status == 400)
            #expect(refusal.body == #"{"code":1,"message":"Session ID unknown"}"#)
            _ = try await checks.pollOfUnknownSessionIsRefused()
            #expect(engine.openSessions.isEmpty)
        }
    }

    @Test("protocol.md 4.1.1: without the trailing slash the endpoint works the same")
    func withoutTrailingSlash() async throws {
        try await VaporTestServer.run(path: "/engine.io/") { port, _ in
            try await EngineIODeploymentChecks(port: port, path: "/engine.io").upgradeWithPendingPollSucceeds()
        }
    }
}
