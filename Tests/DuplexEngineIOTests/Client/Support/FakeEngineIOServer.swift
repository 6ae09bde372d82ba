import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore

/// A scripted Engine.IO v4 server for the client tests, on DuplexWebSocket's server: one
/// session at a time, polling (long GETs, POSTs), the upgrade (4.1.7) with configurable
/// misbehaviour, and WebSocket-only sessions. It records everything the client sent.
actor FakeEngineIOServer {
    /// How the server behaves.
    struct Script: Sendable {
        /// What the server does with a WebSocket upgrade request carrying a `sid`.
        enum Upgrade: Sendable, Equatable {
            /// Answer `3probe`, then switch on `5`.
            case accept
            /// Refuse the WebSocket handshake with this HTTP status.
            case reject(status: Int)
            /// Open the WebSocket but never answer `2probe`.
            case ignoreProbe
            /// Close the WebSocket (1000) instead of answering `2probe`.
            case closeProbe
        }

        var upgrades: [String] = ["websocket"]
        var pingInterval: Duration = .seconds(25)
        var pingTimeout: Duration = .seconds(20)
        var maxPayload: Int? = 1_000_000
        var upgrade = Upgrade.accept
        /// Ping every `pingInterval` (otherwise the server never pings).
        var sendsPings = false
        /// Answer the polling handshake with this status and body instead.
        var handshakeRejection: (status: Int, body: String)? = nil
    }

    let script: Script
    private let sid = "fake-sid-\(Int.random(in: 1000...9999))"
    private var isOpen = false
    private var isClosed = false
    private var isUpgrading = false
    private var webSocket: WebSocketConnection?
    private var outbox: [EngineIOPacket] = []
    private var pendingPoll: CheckedContinuation<[EngineIOPacket], Never>?
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []

    /// Messages received from the client, in order.
    private(set) var received: [EngineIOPacketData] = []
    /// Pongs received.
    private(set) var pongCount = 0
    /// POST bodies received, as text.
    private(set) var postBodies: [String] = []
    /// WebSocket requests received, with their query.
    private(set) var webSocketRequests: [String] = []
    /// The transport of the session (changes on `5`).
    private(set) var transport = EngineIOTransport.polling
    /// Whether the client sent `close`.
    private(set) var receivedClose = false

    init(script: Script) {
        self.script = script
    }

    /// Runs `body` with a server listening on 127.0.0.1 and the URL of its endpoint.
    static func with<Result: Sendable>(
        _ script: Script = Script(),
        _ body: (FakeEngineIOServer, String) async throws -> Result
    ) async throws -> Result {
        let fake = FakeEngineIOServer(script: script)
        var router = WebSocketRouter()
        router.http("/engine.io/") { request in
            await fake.serveHTTP(request)
        }
        router.webSocket(
            "/engine.io/",
            shouldUpgrade: { request in await fake.decideUpgrade(request) },
            handler: { connection in await fake.serveWebSocket(connection) }
        )
        let server = WebSocketServer(
            configuration: WebSocketServerConfiguration(port: 0, keepAlive: .disabled, shutdownGracePeriod: .seconds(1)),
            router: router,
            logger: Logger(label: "fake-eio", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let address = try await server.waitUntilListening()
            let url = "http://127.0.0.1:\(address.port ?? 0)/engine.io/"
            do {
                let result = try await body(fake, url)
                await fake.shutdown()
                server.shutdown()
                try await group.waitForAll()
                return result
            } catch {
                await fake.shutdown()
                server.shutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    // MARK: - Scripting

    /// Sends a message to the client over the session's transport.
    func send(_ data: EngineIOPacketData) async {
        await send(EngineIOPacket(.message, data))
    }

    /// Sends a ping.
    func ping() async {
        await send(EngineIOPacket.ping)
    }

    /// Closes the session from the server (protocol.md 4.1.8).
    func closeSession() async {
        await send(EngineIOPacket.close)
        isClosed = true
    }

    /// Waits until `count` messages have been received.
    func waitForMessages(_ count: Int) async {
        guard received.count < count else { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }

    /// Waits until the client has sent `close`.
    func waitForClose() async {
        guard !receivedClose else { return }
        await withCheckedContinuation { closeWaiters.append($0) }
    }

    private func send(_ packet: EngineIOPacket) async {
        if transport == .websocket, let webSocket {
            try? await webSocket.send(Self.message(packet.webSocketFrame()))
            return
        }
        outbox.append(packet)
        flushPoll()
    }

    private func shutdown() {
        isClosed = true
        pendingPoll?.resume(returning: [.noop])
        pendingPoll = nil
        for waiter in waiters { waiter.continuation.resume() }
        waiters = []
        for waiter in closeWaiters { waiter.resume() }
        closeWaiters = []
    }

    // MARK: - Polling (protocol.md 4.1.4)

    private func serveHTTP(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let query = Self.parse(request.query)
        guard query["EIO"] == "4", query["transport"] == "polling" else { return Self.badRequest }
        guard let sid = query["sid"] else {
            guard request.head.method == .get else { return Self.badRequest }
            return handshake()
        }
        guard sid == self.sid, isOpen, transport == .polling else { return Self.badRequest }
        if request.head.method == .post {
            return receivePost(request.body)
        }
        guard pendingPoll == nil else { return Self.badRequest }
        let packets: [EngineIOPacket]
        if !outbox.isEmpty || isClosed || isUpgrading {
            packets = takeOutbox()
        } else {
            packets = await withCheckedContinuation { pendingPoll = $0 }
        }
        let (body, _) = EngineIOPollingFormat.v4.encodePayload(packets, maxBytes: Int.max)
        return HTTPServerResponse(status: .ok, headers: [.contentType: body.contentType.rawValue], body: body.bytes)
    }

    private func handshake() -> HTTPServerResponse {
        if let rejection = script.handshakeRejection {
            return HTTPServerResponse(
                status: HTTPResponse.Status(code: rejection.status),
                contentType: "application/json",
                text: rejection.body
            )
        }
        isOpen = true
        startPinging()
        return HTTPServerResponse(status: .ok, text: "0" + handshakeJSON(upgrades: script.upgrades))
    }

    private func receivePost(_ body: ByteBuffer) -> HTTPServerResponse {
        postBodies.append(String(buffer: body))
        guard let packets = try? EngineIOPollingFormat.v4.decodePayload(body, maxPackets: 100_000) else {
            return Self.badRequest
        }
        for packet in packets { receive(packet) }
        return HTTPServerResponse(status: .ok, contentType: "text/html", text: "ok")
    }

    private func takeOutbox() -> [EngineIOPacket] {
        // protocol.md 4.1.7 step 3: a poll during the upgrade (or after the close) gets `noop`.
        if isUpgrading || (outbox.isEmpty && isClosed) { return [.noop] }
        defer { outbox = [] }
        return outbox
    }

    private func flushPoll() {
        guard let poll = pendingPoll, !outbox.isEmpty || isUpgrading || isClosed else { return }
        pendingPoll = nil
        poll.resume(returning: takeOutbox())
    }

    // MARK: - WebSocket (protocol.md 4.1.5, 4.1.7)

    private func decideUpgrade(_ request: WebSocketUpgradeRequest) -> WebSocketUpgradeDecision {
        let query = Self.parse(Self.queryOf(request.head.path ?? ""))
        webSocketRequests.append(Self.queryOf(request.head.path ?? ""))
        guard query["EIO"] == "4", query["transport"] == "websocket" else {
            return .reject(status: .badRequest)
        }
        if query["sid"] != nil, case .reject(let status) = script.upgrade {
            return .reject(status: HTTPResponse.Status(code: status), text: "upgrade refused")
        }
        return .accept
    }

    private func serveWebSocket(_ connection: WebSocketConnection) async {
        let query = Self.parse(Self.queryOf(connection.request.path ?? ""))
        var iterator = connection.messages.makeAsyncIterator()
        if query["sid"] == nil {
            // protocol.md 4.1.3: a WebSocket-only session; `open` is the first message.
            isOpen = true
            transport = .websocket
            webSocket = connection
            try? await connection.send(.text("0" + handshakeJSON(upgrades: [])))
            startPinging()
        } else {
            guard query["sid"] == sid, isOpen, transport == .polling else { return }
            guard case .text("2probe")? = try? await iterator.next().map(Self.frame) else { return }
            if script.upgrade == .ignoreProbe {
                while (try? await iterator.next()) != nil {}
                return
            }
            if script.upgrade == .closeProbe { return }
            try? await connection.send(.text("3probe"))
            isUpgrading = true
            flushPoll()
            guard case .text("5")? = try? await iterator.next().map(Self.frame) else {
                isUpgrading = false
                flushPoll()
                return
            }
            isUpgrading = false
            transport = .websocket
            webSocket = connection
            for packet in outbox { try? await connection.send(Self.message(packet.webSocketFrame())) }
            outbox = []
        }
        while let message = try? await iterator.next() {
            guard let packet = try? EngineIOPacket(webSocketFrame: Self.frame(message)) else { return }
            receive(packet)
            if packet.type == .close { return }
        }
    }

    // MARK: - Receiving

    private func receive(_ packet: EngineIOPacket) {
        switch packet.type {
        case .message:
            received.append(packet.data)
            let ready = waiters.filter { $0.count <= received.count }
            waiters.removeAll { $0.count <= received.count }
            for waiter in ready { waiter.continuation.resume() }
        case .pong:
            pongCount += 1
        case .close:
            receivedClose = true
            isClosed = true
            flushPoll()
            for waiter in closeWaiters { waiter.resume() }
            closeWaiters = []
        default:
            break
        }
    }

    private func startPinging() {
        guard script.sendsPings else { return }
        let interval = script.pingInterval
        Task { [weak self] in
            while let self, await !self.isClosed {
                try? await Task.sleep(for: interval)
                await self.ping()
            }
        }
    }

    // MARK: - Helpers

    private func handshakeJSON(upgrades: [String]) -> String {
        EngineIOHandshake(
            sid: sid,
            upgrades: upgrades.map { EngineIOTransport(rawValue: $0) },
            pingInterval: script.pingInterval,
            pingTimeout: script.pingTimeout,
            maxPayload: script.maxPayload
        ).encodedJSON()
    }

    private static let badRequest = HTTPServerResponse(
        status: .badRequest,
        contentType: "application/json",
        text: #"{"code":3,"message":"Bad request"}"#
    )

    private static func queryOf(_ target: String) -> String {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count > 1 ? String(parts[1]) : ""
    }

    private static func parse(_ query: some StringProtocol) -> [String: String] {
        var result: [String: String] = [:]
        for item in query.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
        }
        return result
    }

    private static func frame(_ message: WebSocketMessage) -> EngineIOWebSocketFrame {
        message.kind == .text ? .text(String(buffer: message.data)) : .binary(message.data)
    }

    private static func message(_ frame: EngineIOWebSocketFrame) -> WebSocketMessage {
        switch frame {
        case .text(let text): return .text(text)
        case .binary(let bytes): return .binary(bytes)
        }
    }
}
