import DuplexEngineIO
import DuplexEngineIOCore
import DuplexWebSocket
import Synchronization
import Testing

@Suite("EngineIOClient reconnection", .timeLimit(.minutes(1)))
struct EngineIOClientReconnectTests {
    @Test("a retryable end (ping timeout) opens a new session; a normal return ends the loop")
    func reconnectsAfterPingTimeout() async throws {
        var script = FakeEngineIOServer.Script()
        script.pingInterval = .milliseconds(150)
        script.pingTimeout = .milliseconds(150)
        try await FakeEngineIOServer.with(script) { _, url in
            let configuration = EngineIOClientConfiguration(
                transports: [.polling],
                reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(10), maxDelay: .milliseconds(50))
            )
            let attempts = Atomic<Int>(0)
            try await EngineIOClient.connectReconnecting(to: url, configuration: configuration) { socket in
                let attempt = attempts.add(1, ordering: .relaxed).newValue
                // The fake server never pings: the first session dies of a ping timeout.
                if attempt == 1 { for try await _ in socket.messages {} }
            }
            #expect(attempts.load(ordering: .relaxed) == 2)
        }
    }

    @Test("a non-retryable failure (handshake rejected with 400) is thrown at once")
    func doesNotRetryRejections() async throws {
        var script = FakeEngineIOServer.Script()
        script.handshakeRejection = (400, #"{"code":3,"message":"Bad request"}"#)
        try await FakeEngineIOServer.with(script) { _, url in
            let attempts = Atomic<Int>(0)
            await #expect(throws: EngineIOError.self) {
                try await EngineIOClient.connectReconnecting(to: url) { _ in
                    attempts.add(1, ordering: .relaxed)
                }
            }
            #expect(attempts.load(ordering: .relaxed) == 0)
        }
    }

    @Test("maxAttempts bounds the retries of a refused connection")
    func boundedRetries() async throws {
        let configuration = EngineIOClientConfiguration(
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(1), maxDelay: .milliseconds(5), maxAttempts: 3)
        )
        let started = ContinuousClock.now
        do {
            try await EngineIOClient.connectReconnecting(to: "http://127.0.0.1:1/engine.io/", configuration: configuration) { _ in }
            Issue.record("connecting to a closed port succeeded")
        } catch let error as EngineIOError {
            #expect(error.code == .connectionFailed)
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
