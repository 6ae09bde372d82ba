import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The scenario that broke retry loops elsewhere (DESIGN.md, "What users were bitten by" #1): a
/// server that is not ready yet. Every failure along the way is a retryable ``WebSocketError``, so
/// a loop that catches only `WebSocketError` survives it.
@Suite("Retrying a server that starts late", .timeLimit(.minutes(1)))
struct RetryTests {
    /// The stages of a server starting up on one port.
    enum Stage: Int, Sendable {
        /// Nothing listens: connection refused.
        case notListening
        /// Something accepts and closes at once (a process still starting, a load balancer).
        case acceptingAndClosing
        /// The WebSocket server is up.
        case up
    }

    @Test("A retry loop catching only WebSocketError gets through refused, closed, then connected")
    func retryLoopSurvivesLateServer() async throws {
        try await withTimeout {
            let port = try await unusedPort()
            let url = "ws://127.0.0.1:\(port)/echo"
            var failures: [WebSocketError] = []
            var stage = Stage.notListening
            var reply: String?
            // Each failed attempt advances the server by one stage, so the sequence is exact.
            while reply == nil {
                switch try await Self.attempt(url, port: port, at: stage) {
                case .success(let text):
                    reply = text ?? ""
                case .failure(let error) where error.isRetryable && failures.count < 5:
                    failures.append(error)
                    stage = Stage(rawValue: stage.rawValue + 1) ?? .up
                case .failure(let error):
                    throw error
                }
            }
            #expect(reply == "hello")
            #expect(failures.count == 2)
            #expect(failures.first?.code == .connectionFailed)
            // A server that accepts and closes: a close or a reset (depending on timing) before
            // the status line, which is one code whatever the timing.
            #expect(failures.dropFirst().first?.code == .invalidHandshakeResponse)
            #expect(failures.allSatisfy { $0.isRetryable })
        }
    }

    /// Runs one attempt against the server in `stage`.
    static func attempt(_ url: String, port: Int, at stage: Stage) async throws -> Result<String?, WebSocketError> {
        switch stage {
        case .notListening:
            return await attempt(url)
        case .acceptingAndClosing:
            return try await RawServer.withServer(port: port, handler: { _ in }) { _ in await attempt(url) }
        case .up:
            return try await withServer(.test { $0.port = port }, router: echoRouter()) { _ in await attempt(url) }
        }
    }

    /// One attempt of the retry loop: connect, exchange one message. Catches only WebSocketError.
    static func attempt(_ url: String) async -> Result<String?, WebSocketError> {
        do {
            let reply = try await WebSocketConnection.connect(to: url, configuration: .test(), logger: .test) { connection in
                try await connection.send(text: "hello")
                var messages = connection.messages.makeAsyncIterator()
                return try await messages.next()?.text
            }
            return .success(reply)
        } catch let error as WebSocketError {
            return .failure(error)
        } catch {
            Issue.record("connect threw \(type(of: error)), not WebSocketError: \(error)")
            return .failure(WebSocketError(.internalError, "not a WebSocketError", cause: error))
        }
    }

    @Test("connectReconnecting waits out a late server and ends up exchanging a message")
    func connectReconnectingWaitsForLateServer() async throws {
        try await withTimeout {
            let port = try await unusedPort()
            let url = "ws://127.0.0.1:\(port)/echo"
            let policy = ReconnectPolicy(initialDelay: .milliseconds(20), factor: 1.5, maxDelay: .milliseconds(100), maxAttempts: 200)
            let bodyRuns = Counter()
            let client = Task {
                try await WebSocketConnection.connectReconnecting(to: url, configuration: .test(), policy: policy, logger: .test) {
                    connection in
                    bodyRuns.increment()
                    try await connection.send(text: "finally")
                    var messages = connection.messages.makeAsyncIterator()
                    #expect(try await messages.next()?.text == "finally")
                }
            }
            // Refused for a while, then a server that accepts and closes at once, then the real one.
            try await RawServer.withServer(port: port, handler: { _ in }) { raw in
                try await waitUntil { raw.accepted.current >= 3 }
            }
            try await withServer(.test { $0.port = port }, router: echoRouter()) { _ in
                try await client.value
            }
            #expect(bodyRuns.current == 1)
        }
    }

    @Test("connectReconnecting reconnects after the connection drops abnormally")
    func connectReconnectingAfterDrop() async throws {
        try await withTimeout {
            let accepted = Counter()
            var router = WebSocketRouter()
            router.webSocket("/flaky") { connection in
                if accepted.increment() == 1 {
                    // The first connection fails: the client sees 1011, a retryable closure.
                    throw WebSocketError(.internalError, "first connection fails")
                }
                try await connection.send(text: "welcome")
                for try await message in connection.messages { try await connection.send(message) }
            }
            try await withServer(router: router) { server in
                let policy = ReconnectPolicy(initialDelay: .milliseconds(10), maxDelay: .milliseconds(50), maxAttempts: 5)
                let runs = Counter()
                try await WebSocketConnection.connectReconnecting(
                    to: server.url("/flaky"), configuration: .test(), policy: policy, logger: .test
                ) {
                    connection in
                    runs.increment()
                    var messages = connection.messages.makeAsyncIterator()
                    #expect(try await messages.next()?.text == "welcome")
                    try await connection.send(text: "ping")
                    #expect(try await messages.next()?.text == "ping")
                }
                #expect(runs.current == 2)
            }
            #expect(accepted.current == 2)
        }
    }

    @Test("connectReconnecting gives up on non-retryable errors and after maxAttempts")
    func connectReconnectingGivesUp() async throws {
        try await withTimeout {
            // 403 is not retryable: one attempt.
            var router = WebSocketRouter()
            let attempts = Counter()
            router.webSocket(
                "/forbidden",
                shouldUpgrade: { _ in
                    attempts.increment()
                    return .reject(status: .forbidden)
                }
            ) { _ in }
            try await withServer(router: router) { server in
                let policy = ReconnectPolicy(initialDelay: .milliseconds(1), maxDelay: .milliseconds(5), maxAttempts: 10)
                await #expect(throws: WebSocketError.self) {
                    try await WebSocketConnection.connectReconnecting(
                        to: server.url("/forbidden"), configuration: .test(), policy: policy, logger: .test
                    ) { _ in }
                }
                #expect(attempts.current == 1)
            }
            // Refused every time: maxAttempts attempts, then the last error.
            let port = try await unusedPort()
            let policy = ReconnectPolicy(initialDelay: .milliseconds(1), maxDelay: .milliseconds(5), maxAttempts: 3)
            do {
                try await WebSocketConnection.connectReconnecting(
                    to: "ws://127.0.0.1:\(port)/", configuration: .test(), policy: policy, logger: .test
                ) { _ in }
                Issue.record("connected to a port with nothing listening")
            } catch {
                try expectError(error, ErrorContract(.connectionFailed, .connection, retryable: true, cause: NIOConnectionError.self))
            }
        }
    }
}
