import DuplexEngineIO
import DuplexEngineIOCore
import DuplexSocketIOCore
import DuplexWebSocket
import Logging
import NIOCore
import Synchronization

/// The Socket.IO side of one Engine.IO session (socket.io `Client`): reads its messages,
/// feeds the sans-I/O ``SocketIOServerConnection`` and executes what it decides — connecting
/// sockets to namespaces, handing them events, resolving acknowledgements, closing the session
/// on a protocol violation.
///
/// One task reads the session (``run()``) and never runs application code except connection
/// middlewares (a CONNECT is processed in full before the next packet, so a namespace's
/// packets never overtake its connection); each socket runs its handlers in its own child task
/// of this one.
final class SocketIOEngineConnection: Sendable {
    let engine: EngineIOSocket
    let server: SocketIOServer
    let eventLoop: any EventLoop
    let protocolVersion: SocketIOProtocolVersion
    private let encoder: SocketIOPacketEncoder
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var machine: SocketIOServerConnection
        var sockets: [String: SocketIOSocket] = [:]
        var closeReason: SocketIODisconnectReason?
        var connectTimer: Scheduled<Void>?
    }

    init(engine: EngineIOSocket, server: SocketIOServer, eventLoop: any EventLoop) {
        self.engine = engine
        self.server = server
        self.eventLoop = eventLoop
        let version: SocketIOProtocolVersion = engine.protocolVersion == .v3 ? .v4 : .v5
        self.protocolVersion = version
        self.encoder = SocketIOPacketEncoder(protocolVersion: version)
        let configuration = server.configuration
        self.state = Mutex(
            State(
                machine: SocketIOServerConnection(
                    protocolVersion: version,
                    maxAttachments: configuration.maxAttachments,
                    maxDepth: configuration.maxJSONDepth
                )
            )
        )
    }

    /// The sockets connected now, one per namespace.
    var sockets: [SocketIOSocket] { state.withLock { Array($0.sockets.values) } }

    // MARK: - Reading

    /// Serves the session until it closes.
    func run() async {
        let timeout = server.configuration.connectTimeout
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) { [weak self] in
            guard let self, !self.state.withLock({ $0.machine.hasConnected }) else { return }
            self.engine.logger.debug("no namespace joined within connectTimeout, closing the session")
            self.close(reason: .forcedServerClose)
        }
        state.withLock { $0.connectTimer = timer }
        await withDiscardingTaskGroup { group in
            if let action = state.withLock({ $0.machine.start() }) {
                await perform(action, group: &group)
            }
            for await message in engine.messages {
                let action: SocketIOServerConnection.Action? = state.withLock { state in
                    switch message {
                    case .text(let text): return state.machine.textReceived(text)
                    case .binary(let bytes): return state.machine.binaryReceived(bytes)
                    }
                }
                guard let action else { continue }
                await perform(action, group: &group)
            }
            // The session closed: every socket left for the Engine.IO reason, unless one was
            // already recorded.
            let reason = Self.reason(for: engine.closeReason)
            close(reason: reason, closeEngine: false)
        }
        state.withLock { $0.connectTimer?.cancel() }
    }

    private func perform(_ action: SocketIOServerConnection.Action, group: inout DiscardingTaskGroup) async {
        switch action {
        case .connect(let namespace, let auth):
            // In a task of its own: the reader lives as long as the session, and a task keeps
            // the stack memory of its deepest call (middlewares, recovery) until it ends.
            let connecting = Task(executorPreference: EventLoopTaskExecutor(eventLoop)) {
                await self.connect(namespace, auth: auth)
            }
            let socket = await withTaskCancellationHandler {
                await connecting.value
            } onCancel: {
                connecting.cancel()
            }
            if let socket {
                let concurrent = server.configuration.concurrentEventHandlers
                group.addTask { await socket.runJobs(concurrentEvents: concurrent) }
            }
        case .event(let packet):
            socket(for: packet.namespace)?.received(event: packet)
        case .ack(let packet):
            socket(for: packet.namespace)?.received(ack: packet)
        case .disconnect(let namespace):
            socket(for: namespace)?.closed(reason: .clientNamespaceDisconnect)
        case .close(let error):
            engine.logger.debug(
                "invalid packet, closing the session",
                metadata: ["code": "\(error.code)", "reason": "\(error.message)"]
            )
            server.metrics.invalidPacket(error.code)
            close(reason: .parseError)
        }
    }

    private func socket(for namespace: String) -> SocketIOSocket? {
        state.withLock { $0.sockets[namespace] }
    }

    // MARK: - Connecting (protocol.md 4.2.5)

    /// Connects the socket, or refuses it; returns the socket whose jobs the caller must run
    /// (also a socket that disconnected meanwhile: its jobs persist its session).
    private func connect(_ name: String, auth: JSONValue?) async -> SocketIOSocket? {
        var logger = engine.logger
        logger[metadataKey: "sio.nsp"] = "\(name)"
        guard let namespace = await server.namespaceForConnection(name, auth: auth) else {
            logger.debug("connection to an unknown namespace refused")
            refuse(name, message: "Invalid namespace", data: nil)
            return nil
        }
        let configuration = server.configuration
        let handshake = SocketIOHandshake(request: engine.request, auth: auth)

        var restored: (session: SocketIOPersistedSession, missed: [JSONValue])? = nil
        if configuration.connectionStateRecovery != nil, namespace.adapter.supportsRecovery, protocolVersion == .v5,
            let pid = auth?["pid"]?.stringValue, let offset = auth?["offset"]?.stringValue
        {
            restored = await namespace.adapter.restoreSession(pid: pid, offset: offset)
            server.metrics.recovery(restored: restored != nil)
            logger.debug(restored == nil ? "connection state not recovered" : "connection state recovered")
        }
        let socket = SocketIOSocket(
            id: restored?.session.sid ?? newSocketID(namespace: name),
            pid: configuration.connectionStateRecovery == nil ? nil : (restored?.session.pid ?? Self.randomID()),
            namespace: namespace,
            connection: self,
            handshake: handshake,
            data: restored?.session.data ?? .null,
            recovered: restored != nil
        )

        if restored == nil || configuration.connectionStateRecovery?.skipMiddlewares == false {
            for middleware in server.middlewares(for: namespace) {
                do {
                    try await middleware(socket)
                } catch let refusal as SocketIOConnectionRefusal {
                    logger.debug("connection refused by a middleware", metadata: ["message": "\(refusal.message)"])
                    server.metrics.connectionRefused(.middleware)
                    refuse(name, message: refusal.message, data: refusal.data)
                    return nil
                } catch {
                    logger.debug("connection middleware failed", metadata: ["error": "\(error)"])
                    server.metrics.connectionRefused(.middleware)
                    refuse(name, message: "Connection refused", data: nil)
                    return nil
                }
            }
        }

        let accepted: Bool = state.withLock { state in
            guard state.closeReason == nil, !engine.isClosed else { return false }
            state.machine.namespaceConnected(name)
            state.sockets[name] = socket
            state.connectTimer?.cancel()
            state.connectTimer = nil
            return true
        }
        guard accepted else { return nil }
        namespace.add(socket)
        var rooms: Set<String> = [socket.id]
        if let restored { rooms.formUnion(restored.session.rooms) }
        namespace.adapter.addAll(socket.id, rooms: rooms)
        guard socket.markConnected() else {
            // The session closed after the socket was registered above and before this point:
            // `closed` already ran and may have missed these registrations.
            namespace.remove(socket)
            namespace.adapter.delAll(socket.id)
            return socket
        }
        // protocol.md 4.2.5 (and 4.2.8 for `pid`); protocol v4 answers CONNECT without payload.
        var reply: SocketIOPacket = .connect(namespace: name)
        if protocolVersion == .v5 {
            var payload: JSONObject = ["sid": .string(socket.id)]
            if let pid = socket.pid { payload["pid"] = .string(pid) }
            reply.data = .object(payload)
        }
        write(encode(reply), volatile: false)
        if let restored {
            for data in restored.missed {
                let packet = SocketIOPacket(type: .event, namespace: name, data: data)
                socket.deliver(SocketIOOutgoingPacket(packet), volatile: false)
            }
        }
        logger.debug(
            "socket connected",
            metadata: ["sio.sid": "\(socket.id)", "recovered": "\(socket.recovered)"]
        )
        return socket
    }

    private func refuse(_ namespace: String, message: String, data: JSONValue?) {
        state.withLock { $0.machine.namespaceRefused(namespace) }
        write(encode(.connectError(namespace: namespace, message: message, data: data)), volatile: false)
    }

    private func newSocketID(namespace: String) -> String {
        guard protocolVersion == .v4 else { return Self.randomID() }
        // Socket.IO 2.x: the Engine.IO id on `/`, "/nsp#" + id elsewhere.
        return namespace == "/" ? engine.id.rawValue : "\(namespace)#\(engine.id.rawValue)"
    }

    static func randomID() -> String {
        EngineIOSessionID.random().rawValue
    }

    // MARK: - Writing

    /// Encodes a packet addressed to this session only (CONNECT, CONNECT_ERROR, DISCONNECT in
    /// this session's protocol revision).
    func encode(_ packet: SocketIOPacket) -> [EngineIOMessage] {
        SocketIOOutgoingPacket.messages(encoder.encode(packet))
    }

    /// Queues messages without waiting; a client whose buffer is full is disconnected.
    @discardableResult
    func write(_ messages: [EngineIOMessage], volatile: Bool) -> Bool {
        switch engine.enqueue(messages, volatile: volatile, bufferLimit: server.configuration.maxBufferedMessages) {
        case .enqueued:
            return true
        case .notWritable, .closed:
            return false
        case .unframeable:
            engine.logger.debug("packet contains U+001E, which v4 long-polling cannot frame; dropped")
            return false
        case .bufferFull:
            engine.logger.debug("outgoing buffer full, closing the session")
            close(reason: .forcedServerClose)
            return false
        }
    }

    // MARK: - Closing

    /// A socket left its namespace.
    func socketLeft(_ socket: SocketIOSocket) {
        state.withLock { state in
            guard state.sockets[socket.namespace.name] === socket else { return }
            state.sockets[socket.namespace.name] = nil
            state.machine.namespaceDisconnected(socket.namespace.name)
        }
    }

    /// Disconnects every socket with `reason` and (unless it is already closing) closes the
    /// Engine.IO session.
    func close(reason: SocketIODisconnectReason, closeEngine: Bool = true) {
        let sockets: [SocketIOSocket] = state.withLock { state in
            if state.closeReason == nil { state.closeReason = reason }
            state.connectTimer?.cancel()
            state.connectTimer = nil
            return Array(state.sockets.values)
        }
        for socket in sockets { socket.closed(reason: reason) }
        if closeEngine { engine.startClosing() }
    }

    static func reason(for engineReason: EngineIOCloseReason?) -> SocketIODisconnectReason {
        switch engineReason {
        case .pingTimeout?: return .pingTimeout
        case .transportError?: return .transportError
        case .parseError?: return .parseError
        case .serverDisconnect?: return .forcedClose
        default: return .transportClose
        }
    }
}
