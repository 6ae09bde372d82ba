import DuplexEngineIO
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore

/// The checks every deployment mode of an Engine.IO server must pass (DESIGN.md, "What users
/// were bitten by" 2: a legitimate upgrade is never refused), run over loopback against a server
/// that serves ``EngineIOEcho`` at ``path``, wherever it is mounted.
///
/// Each check throws ``DeploymentCheckFailure`` (or the client's `EngineIOError`) when the
/// server does not behave as protocol.md 4.1 requires; every wait is bounded.
public struct EngineIODeploymentChecks: Sendable {
    /// The server's address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// Where Engine.IO is mounted, with a trailing slash (`/engine.io/`, `/api/realtime/engine.io/`).
    public var path: String
    /// The longest any single check may take.
    public var timeLimit: Duration

    /// Checks the server at `http://host:port` + `path`.
    public init(host: String = "127.0.0.1", port: Int, path: String = "/engine.io/", timeLimit: Duration = .seconds(45)) {
        self.host = host
        self.port = port
        self.path = path
        self.timeLimit = timeLimit
    }

    /// The endpoint URL the Engine.IO client connects to.
    public var url: String { "http://\(host):\(port)\(path)" }

    // MARK: - Polling

    /// protocol.md 4.1.3/4.1.4: a session opened over polling (never upgrading) carries text and
    /// binary messages both ways, in order.
    public func pollingSessionExchangesMessages() async throws {
        let url = self.url
        try await withDeadline(timeLimit, "polling session at \(url)") {
            let configuration = EngineIOClientConfiguration(transports: [.polling], allowsUpgrade: false)
            try await EngineIOClient.connect(to: url, configuration: configuration) { socket in
                var messages = socket.messages.makeAsyncIterator()
                let sent: [EngineIOPacketData] = [
                    .text("hello"), .text("unicode: é € 😀"), .binary(ByteBuffer(bytes: [0, 1, 2, 0x7F, 0x80, 0xFF])),
                    .text("last"),
                ]
                for message in sent { try await socket.send(message) }
                for message in sent {
                    let echoed = try await messages.next()
                    try check(echoed == message, "expected the echo \(message), got \(String(describing: echoed))")
                }
                try check(socket.transport == .polling, "a polling-only session ended on \(socket.transport)")
            }
        }
    }

    // MARK: - Upgrade

    /// protocol.md 4.1.7, step by step over raw HTTP and a WebSocket, with a polling GET in
    /// flight: the handshake offers `websocket`; the pending GET ends with `noop` once the probe is
    /// answered; after `5` messages flow over the WebSocket and polling requests get 400.
    public func upgradeWithPendingPollSucceeds() async throws {
        let checks = self
        try await withDeadline(timeLimit, "upgrade with a pending GET at \(url)") {
            try await checks.runUpgradeWithPendingPoll()
        }
    }

    private func runUpgradeWithPendingPoll() async throws {
        let handshake = try await get("EIO=4&transport=polling&t=\(Self.cacheBuster())")
        try check(handshake.status == 200, "handshake: expected 200, got \(handshake)")
        let open = try EngineIOHandshake(json: String(handshake.packets.first?.dropFirst() ?? ""))
        try check(open.upgrades == [.websocket], "handshake offers \(open.upgrades), expected [websocket]")
        let sid = open.sid
        // The GET in flight: the server has nothing to send, so it holds it (protocol.md 4.1.4).
        let checks = self
        let pending = Task { try await checks.get("EIO=4&transport=polling&sid=\(sid)&t=\(Self.cacheBuster())") }
        defer { pending.cancel() }
        let webSocketURL = "ws://\(host):\(port)\(path)?EIO=4&transport=websocket&sid=\(sid)&t=\(Self.cacheBuster())"
        try await WebSocketConnection.connect(
            to: webSocketURL,
            configuration: WebSocketClientConfiguration(compression: nil, keepAlive: .disabled)
        ) { webSocket in
            var frames = webSocket.messages.makeAsyncIterator()
            try await webSocket.send(text: "2probe")
            let probe = try await frames.next()
            try check(probe?.text == "3probe", "expected 3probe, got \(String(describing: probe))")
            // Step 3: the pending GET ends with `noop`, whether it reached the server before the
            // probe (held, then answered) or after it (answered at once). A client pauses
            // polling until it has, then sends `5` (step 4).
            let polled = try await pending.value
            try check(polled.status == 200 && polled.packets == ["6"], "pending GET: expected noop `6`, got \(polled)")
            try await webSocket.send(text: "5")
            try await webSocket.send(text: "4over websocket")
            let echo = try await frames.next()
            try check(echo?.text == "4over websocket", "expected the echo over WebSocket, got \(String(describing: echo))")
            // Step 4: "From then on, polling requests with that sid get 400."
            let late = try await get("EIO=4&transport=polling&sid=\(sid)&t=\(Self.cacheBuster())")
            try check(late.status == 400, "polling GET after the upgrade: expected 400, got \(late)")
            try await webSocket.send(text: "1")
        }
    }

    /// `count` Engine.IO clients open polling sessions at once and every one upgrades to
    /// WebSocket and exchanges a message; returns how many failed (with the first failures).
    public func concurrentUpgrades(_ count: Int) async -> (failures: Int, firstErrors: [String]) {
        let url = self.url
        let limit = timeLimit
        return await withTaskGroup(of: String?.self) { group in
            for index in 0..<count {
                group.addTask {
                    do {
                        try await withDeadline(limit, "client \(index)") {
                            try await EngineIOClient.connect(to: url) { socket in
                                try await Self.waitForWebSocket(socket)
                                var messages = socket.messages.makeAsyncIterator()
                                try await socket.send(text: "client-\(index)")
                                let echo = try await messages.next()
                                try check(echo == .text("client-\(index)"), "client \(index): echo \(String(describing: echo))")
                                try check(socket.transport == .websocket, "client \(index) fell back to \(socket.transport)")
                            }
                        }
                        return nil
                    } catch {
                        return "client \(index): \(error)"
                    }
                }
            }
            var errors: [String] = []
            for await error in group {
                if let error { errors.append(error) }
            }
            return (errors.count, Array(errors.prefix(5)))
        }
    }

    /// Waits until the client's session runs over WebSocket.
    static func waitForWebSocket(_ socket: EngineIOClientSocket) async throws {
        for await transport in socket.transportUpdates where transport == .websocket { return }
        throw DeploymentCheckFailure("the session closed before upgrading")
    }

    // MARK: - Refused abuse

    /// protocol.md 4.1.1/4.1.7: a WebSocket upgrade for a session that does not exist is refused
    /// before the 101; returns the refusal's status and body as the WebSocket client saw them.
    public func upgradeOfUnknownSessionIsRefused() async throws -> (status: Int, body: String) {
        let url = "ws://\(host):\(port)\(path)?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA"
        return try await withDeadline(timeLimit, "upgrade of an unknown sid at \(url)") {
            do {
                try await WebSocketConnection.connect(to: url, configuration: WebSocketClientConfiguration(compression: nil)) { _ in }
            } catch let error as WebSocketError {
                guard let response = error.response else {
                    throw DeploymentCheckFailure("expected an HTTP refusal, got \(error)")
                }
                return (response.status.code, String(decoding: error.responseBody ?? [], as: UTF8.self))
            }
            throw DeploymentCheckFailure("the upgrade of an unknown sid was accepted")
        }
    }

    /// protocol.md 4.1.4: a polling request for an unknown session gets 400 with
    /// `{"code":1,"message":"Session ID unknown"}`.
    public func pollOfUnknownSessionIsRefused() async throws -> LoopbackHTTPResponse {
        let response = try await get("EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA")
        try check(response.status == 400, "polling GET of an unknown sid: expected 400, got \(response)")
        try check(response.text.contains("\"code\":1"), "expected Engine.IO error code 1, got \(response)")
        return response
    }

    // MARK: - Helpers

    /// `GET <path>?<query>` over raw HTTP.
    public func get(_ query: String) async throws -> LoopbackHTTPResponse {
        try await LoopbackHTTP.request("GET", "\(path)?\(query)", host: host, port: port)
    }

    private static func cacheBuster() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }
}
