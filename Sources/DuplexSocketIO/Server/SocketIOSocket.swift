@_spi(DuplexInternal) import DuplexEngineIO
import DuplexSocketIOCore
import Logging
import NIOCore
import Synchronization

/// A handler of incoming events; errors it throws are logged at debug level and otherwise
/// ignored.
public typealias SocketIOEventHandler = @Sendable (SocketIOEvent) async throws -> Void

/// One client's connection to one namespace (socket.io `Socket`).
///
/// ## How handlers run
///
/// The Engine.IO session's reader decodes packets and never waits for application code:
/// acknowledgements (ACK packets) resolve ``emitWithAck(_:_:timeout:)`` at once, so a handler
/// may await a client's acknowledgement without blocking anything. Everything else that runs
/// application code — the namespace's connection handlers, then each event's middlewares
/// (``use(_:)``), catch-all (``onAny(_:)``) and event handlers, then the disconnect handlers —
/// runs in the socket's own task, one job after the other in arrival order (as the reference
/// server dispatches them). With ``SocketIOServerConfiguration/concurrentEventHandlers`` each
/// event runs in a child task of that one instead.
///
/// These tasks prefer the Engine.IO session's event loop (``EngineIOSocket/eventLoop``, the
/// WebSocket's channel loop), like Node's single thread: an event travels from the socket to
/// its handler and the reply back without a thread hop. Blocking calls or long computations in
/// a handler hold up the other connections of that loop; run them elsewhere (e.g. in a
/// `Task.detached` or with another `TaskExecutor`).
public final class SocketIOSocket: Sendable, Identifiable {
    /// The socket id (distinct from the Engine.IO session id in protocol v5); also the name of
    /// the socket's own room.
    public let id: String
    /// The namespace.
    public let namespace: SocketIONamespace
    /// The Engine.IO request and the CONNECT payload.
    public let handshake: SocketIOHandshake
    /// Whether connection state recovery restored this socket's id, rooms, data and missed
    /// packets (protocol.md 4.2.8).
    public let recovered: Bool
    /// A logger with `sio.sid` and `sio.nsp` metadata.
    public let logger: Logger

    /// The private session id (connection state recovery only).
    let pid: String?
    let connection: SocketIOEngineConnection
    private let state: Mutex<State>
    /// The socket's jobs, run in order by ``runJobs(concurrentEvents:)``.
    private let jobs = AsyncMailbox<Job>()

    private enum Phase {
        case connecting
        case connected
        case disconnected
    }

    private enum Job: Sendable {
        case connected
        case event(SocketIOEvent)
        case disconnected(SocketIODisconnectReason, SocketIOPersistedSession?)
    }

    private struct PendingAck {
        var deliver: @Sendable (Result<[JSONValue], SocketIOError>) -> Void
        var timer: Scheduled<Void>?
    }

    private struct State: ~Copyable {
        var phase = Phase.connecting
        var data: JSONValue
        var handlers: [String: [SocketIOEventHandler]] = [:]
        var anyHandlers: [SocketIOEventHandler] = []
        var outgoingHandlers: [@Sendable (String, [JSONValue]) -> Void] = []
        var middlewares: [SocketIOEventHandler] = []
        var disconnectingHandlers: [@Sendable (SocketIOSocket, SocketIODisconnectReason) -> Void] = []
        var disconnectHandlers: [@Sendable (SocketIODisconnectReason) async -> Void] = []
        var pendingAcks: [UInt64: PendingAck] = [:]
    }

    init(
        id: String,
        pid: String?,
        namespace: SocketIONamespace,
        connection: SocketIOEngineConnection,
        handshake: SocketIOHandshake,
        data: JSONValue,
        recovered: Bool
    ) {
        self.id = id
        self.pid = pid
        self.namespace = namespace
        self.connection = connection
        self.handshake = handshake
        self.recovered = recovered
        var logger = connection.engine.logger
        logger[metadataKey: "sio.sid"] = "\(id)"
        logger[metadataKey: "sio.nsp"] = "\(namespace.name)"
        self.logger = logger
        self.state = Mutex(State(data: data))
    }

    // MARK: - State

    /// Whether the socket is connected to its namespace.
    public var isConnected: Bool { state.withLock { $0.phase == .connected } }

    /// The Engine.IO session carrying this socket (shared with the client's other namespaces).
    public var engineIOSocket: EngineIOSocket { connection.engine }

    /// Application data attached to the socket (socket.io `socket.data`): kept by connection
    /// state recovery and returned by ``SocketIONamespace/fetchSockets()``. Default `null`.
    public var data: JSONValue {
        get { state.withLock { $0.data } }
        set { state.withLock { $0.data = newValue } }
    }

    /// ``data`` decoded as `T`.
    public func data<T: Decodable>(as type: T.Type) throws(SocketIOError) -> T {
        try data.decode(as: T.self)
    }

    /// Sets ``data`` from an `Encodable` value.
    public func setData(encoding value: some Encodable) throws(SocketIOError) {
        data = try JSONValue(encoding: value)
    }

    /// The rooms the socket is in, its own room included.
    public var rooms: Set<String> { namespace.adapter.rooms(of: id) ?? [] }

    // MARK: - Listeners

    /// Calls `handler` for every event named `event`.
    public func on(_ event: String, _ handler: @escaping SocketIOEventHandler) {
        state.withLock { $0.handlers[event, default: []].append(handler) }
    }

    /// Calls `handler` for every event named `event` with its first argument decoded as `T`;
    /// an event whose argument does not decode is dropped (logged at debug level).
    public func on<T: Decodable & Sendable>(
        _ event: String,
        as type: T.Type,
        _ handler: @escaping @Sendable (T, SocketIOEvent) async throws -> Void
    ) {
        on(event) { event in
            let value = try event.argument(0, as: T.self)
            try await handler(value, event)
        }
    }

    /// Removes every handler of `event`.
    public func off(_ event: String) {
        state.withLock { $0.handlers[event] = nil }
    }

    /// Calls `handler` for every incoming event, before the event's own handlers.
    public func onAny(_ handler: @escaping SocketIOEventHandler) {
        state.withLock { $0.anyHandlers.append(handler) }
    }

    /// Calls `handler` with the name and arguments of every event sent to this client
    /// (emits and broadcasts), synchronously as it is queued.
    public func onAnyOutgoing(_ handler: @escaping @Sendable (String, [JSONValue]) -> Void) {
        state.withLock { $0.outgoingHandlers.append(handler) }
    }

    /// Adds a middleware run for every incoming event before the handlers; throwing drops the
    /// event (socket.io `socket.use`).
    public func use(_ middleware: @escaping SocketIOEventHandler) {
        state.withLock { $0.middlewares.append(middleware) }
    }

    /// Calls `handler` synchronously when the socket is about to leave its namespace, while it
    /// is still in its rooms (socket.io `disconnecting`).
    public func onDisconnecting(_ handler: @escaping @Sendable (SocketIOSocket, SocketIODisconnectReason) -> Void) {
        state.withLock { $0.disconnectingHandlers.append(handler) }
    }

    /// Calls `handler` once the socket has left its namespace (socket.io `disconnect`).
    public func onDisconnect(_ handler: @escaping @Sendable (SocketIODisconnectReason) async -> Void) {
        state.withLock { $0.disconnectHandlers.append(handler) }
    }

    // MARK: - Emitting

    /// Sends event `event` with `arguments` to this client. Returns false if nothing was sent:
    /// the socket is not connected, the name is reserved, or `volatile` and the transport was
    /// busy.
    @discardableResult
    public func emit(_ event: String, _ arguments: JSONValue...) -> Bool {
        emit(event, arguments: arguments)
    }

    /// Sends event `event` with `arguments` to this client; see ``emit(_:_:)``.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue], volatile: Bool = false) -> Bool {
        guard Self.checkEventName(event, logger: logger) else { return false }
        let packet = SocketIOPacket.event(event, arguments, namespace: namespace.name)
        if namespace.server.configuration.connectionStateRecovery != nil, namespace.adapter.supportsRecovery, !volatile {
            // socket.io Socket#emit: with recovery the packet goes through the adapter, which
            // stores it and appends its offset.
            guard isConnected else { return false }
            namespace.adapter.broadcast(packet, options: SocketIOBroadcastOptions(rooms: [id]))
            return true
        }
        return deliver(SocketIOOutgoingPacket(packet), volatile: volatile)
    }

    /// Sends event `event` with one argument converted from `value`.
    ///
    /// - Throws: ``SocketIOError/Code/encodingFailed``.
    @discardableResult
    public func emit(_ event: String, encoding value: some Encodable) throws(SocketIOError) -> Bool {
        emit(event, arguments: [try JSONValue(encoding: value)])
    }

    /// Sends event `event` and waits for the client's acknowledgement; returns its arguments.
    ///
    /// - Parameter timeout: default ``SocketIOServerConfiguration/ackTimeout``.
    /// - Throws: ``SocketIOError/Code/ackTimedOut``, ``SocketIOError/Code/notConnected``,
    ///   ``SocketIOError/Code/encodingFailed`` (a reserved event name),
    ///   ``SocketIOError/Code/disconnected`` (the socket left before the reply),
    ///   ``SocketIOError/Code/cancelled``.
    public func emitWithAck(
        _ event: String,
        _ arguments: [JSONValue] = [],
        timeout: Duration? = nil
    ) async throws(SocketIOError) -> [JSONValue] {
        guard Self.checkEventName(event, logger: logger) else {
            throw SocketIOError(.encodingFailed, "\"\(event)\" is a reserved event name")
        }
        let id = namespace.nextAckID()
        let packet = SocketIOPacket.event(event, arguments, namespace: namespace.name, ackID: id)
        let outgoing = SocketIOOutgoingPacket(packet)
        let timeout = timeout ?? namespace.server.configuration.ackTimeout
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<[JSONValue], SocketIOError>, Never>) in
                let outcome = send(outgoing, volatile: false, ack: (id, timeout, { continuation.resume(returning: $0) }))
                switch outcome {
                case .queued:
                    break
                case .notConnected:
                    continuation.resume(returning: .failure(SocketIOError(.notConnected, "the socket is not connected")))
                case .dropped:
                    // The session closed or refused the messages: fail now unless already failed.
                    takePendingAck(id)?.deliver(.failure(SocketIOError(.disconnected, "the packet could not be queued")))
                }
            }
        } onCancel: {
            takePendingAck(id)?.deliver(.failure(SocketIOError(.cancelled, "the wait for an acknowledgement was cancelled")))
        }
        return try result.get()
    }

    /// Sends event `event` with one argument converted from `value`, and decodes the first
    /// argument of the acknowledgement as `R`.
    ///
    /// - Throws: as ``emitWithAck(_:_:timeout:)``, plus ``SocketIOError/Code/encodingFailed``
    ///   and ``SocketIOError/Code/decodingFailed``.
    public func emitWithAck<R: Decodable>(
        _ event: String,
        encoding value: some Encodable,
        timeout: Duration? = nil,
        as type: R.Type
    ) async throws(SocketIOError) -> R {
        let reply = try await emitWithAck(event, [try JSONValue(encoding: value)], timeout: timeout)
        return try (reply.first ?? .null).decode(as: R.self)
    }

    // MARK: - Rooms and broadcasting

    /// Joins `rooms`.
    public func join(_ rooms: String...) {
        namespace.adapter.addAll(id, rooms: Set(rooms))
    }

    /// Joins `rooms`.
    public func join(_ rooms: Set<String>) {
        namespace.adapter.addAll(id, rooms: rooms)
    }

    /// Leaves `room`.
    public func leave(_ room: String) {
        namespace.adapter.del(id, room: room)
    }

    /// A broadcast to every socket of the namespace except this one.
    public var broadcast: SocketIOBroadcastOperator {
        SocketIOBroadcastOperator(namespace: namespace).except(id)
    }

    /// A broadcast to `rooms`, except this socket (socket.io `socket.to`).
    public func to(_ rooms: String...) -> SocketIOBroadcastOperator {
        broadcast.to(Set(rooms))
    }

    /// A broadcast to every socket of the namespace except this one and those in `rooms`.
    public func except(_ rooms: String...) -> SocketIOBroadcastOperator {
        broadcast.except(Set(rooms))
    }

    // MARK: - Disconnecting

    /// Disconnects the socket from its namespace (the client receives DISCONNECT and the
    /// reason "io server disconnect"); with `close`, closes the whole Engine.IO session and
    /// every namespace on it ("forced server close").
    public func disconnect(close: Bool = false) {
        guard isConnected else { return }
        if close {
            connection.close(reason: .forcedServerClose)
            return
        }
        connection.write(connection.encode(.disconnect(namespace: namespace.name)), volatile: false)
        closed(reason: .serverNamespaceDisconnect)
    }

    // MARK: - Adapter interface

    /// Queues an encoded packet to this client (for adapters): the event's outgoing listeners
    /// run, and the Engine.IO messages are queued without waiting. Returns false if nothing
    /// was queued (not connected, or `volatile` and the transport busy).
    @discardableResult
    public func deliver(_ outgoing: SocketIOOutgoingPacket, volatile: Bool) -> Bool {
        send(outgoing, volatile: volatile, ack: nil) == .queued
    }

    /// Queues an encoded packet that carries an ack id, and calls `onAck` with the reply
    /// (for adapters implementing ``SocketIOAdapter/broadcastWithAck(_:options:timeout:onClientCount:onAck:)``).
    /// Nothing is called if no reply comes within `timeout` or the socket leaves first.
    @discardableResult
    public func deliver(
        _ outgoing: SocketIOOutgoingPacket,
        volatile: Bool,
        timeout: Duration,
        onAck: @escaping @Sendable ([JSONValue]) -> Void
    ) -> Bool {
        guard let id = outgoing.packet.ackID else { return deliver(outgoing, volatile: volatile) }
        let outcome = send(
            outgoing,
            volatile: volatile,
            ack: (id, timeout, { result in if case .success(let arguments) = result { onAck(arguments) } })
        )
        if outcome == .dropped { takePendingAck(id) }
        return outcome == .queued
    }

    // MARK: - Internals

    private enum SendOutcome {
        case queued
        /// Not sent; an ack handler was not registered.
        case notConnected
        /// Not sent; an ack handler was registered.
        case dropped
    }

    private func send(
        _ outgoing: SocketIOOutgoingPacket,
        volatile: Bool,
        ack: (id: UInt64, timeout: Duration, deliver: @Sendable (Result<[JSONValue], SocketIOError>) -> Void)?
    ) -> SendOutcome {
        let outgoingHandlers: [@Sendable (String, [JSONValue]) -> Void]? = state.withLock { state in
            guard state.phase == .connected else { return nil }
            if let ack {
                let id = ack.id
                let timer = connection.eventLoop.scheduleTask(in: TimeAmount(ack.timeout)) { [weak self] () -> Void in
                    guard let self, let pending = self.takePendingAck(id) else { return }
                    self.connection.server.metrics.ackTimedOut()
                    pending.deliver(.failure(SocketIOError(.ackTimedOut, "no acknowledgement within \(ack.timeout)")))
                }
                state.pendingAcks[id] = PendingAck(deliver: ack.deliver, timer: timer)
            }
            return state.outgoingHandlers
        }
        guard let outgoingHandlers else { return .notConnected }
        if !outgoingHandlers.isEmpty, case .array(let elements)? = outgoing.packet.data,
            let name = elements.first?.stringValue
        {
            let arguments = Array(elements.dropFirst())
            for handler in outgoingHandlers { handler(name, arguments) }
        }
        guard connection.write(outgoing.messages, volatile: volatile) else { return .dropped }
        connection.server.metrics.eventSent()
        return .queued
    }

    @discardableResult
    private func takePendingAck(_ id: UInt64) -> PendingAck? {
        let pending = state.withLock { $0.pendingAcks.removeValue(forKey: id) }
        pending?.timer?.cancel()
        return pending
    }

    /// Sends the ACK packet of an incoming event.
    func sendAck(id: UInt64, arguments: [JSONValue]) {
        guard isConnected else { return }
        let packet = SocketIOPacket.ack(arguments, namespace: namespace.name, ackID: id)
        connection.write(SocketIOOutgoingPacket(packet).messages, volatile: false)
    }

    /// The socket is accepted: runs its jobs (connection handlers, events, disconnect) until
    /// it leaves its namespace. Returns false when the socket was closed in the meantime (its
    /// session closed while the connection was being set up): it stays disconnected.
    func markConnected() -> Bool {
        let isConnected: Bool = state.withLock { state in
            guard state.phase == .connecting else { return false }
            state.phase = .connected
            return true
        }
        if isConnected { jobs.append(.connected) }
        return isConnected
    }

    /// An EVENT packet for this socket arrived (from the session's reader).
    func received(event packet: SocketIOPacket) {
        guard case .array(var elements)? = packet.data, let first = elements.first else { return }
        let name: String
        switch first {
        case .string(let string): name = string
        default: name = first.jsonString
        }
        elements.removeFirst()
        connection.server.metrics.eventReceived()
        jobs.append(.event(SocketIOEvent(name: name, arguments: elements, socket: self, ackID: packet.ackID)))
    }

    /// An ACK packet for this socket arrived (from the session's reader): resolved at once.
    func received(ack packet: SocketIOPacket) {
        guard let id = packet.ackID, let pending = takePendingAck(id) else {
            logger.debug("acknowledgement with an unknown id ignored", metadata: ["sio.ack": "\(packet.ackID.map { "\($0)" } ?? "-")"])
            return
        }
        connection.server.metrics.ackReceived()
        pending.deliver(.success(packet.data?.arrayValue ?? []))
    }

    /// The socket leaves its namespace (socket.io `Socket#_onclose`).
    func closed(reason: SocketIODisconnectReason) {
        let snapshot: (disconnecting: [@Sendable (SocketIOSocket, SocketIODisconnectReason) -> Void], data: JSONValue)? =
            state.withLock { state in
                guard state.phase != .disconnected else { return nil }
                state.phase = .disconnected
                return (state.disconnectingHandlers, state.data)
            }
        guard let snapshot else { return }
        connection.server.metrics.disconnected(reason)
        logger.debug("socket disconnected", metadata: ["reason": "\(reason)"])
        for handler in snapshot.disconnecting { handler(self, reason) }
        var persisted: SocketIOPersistedSession? = nil
        if let pid, reason.isRecoverable {
            persisted = SocketIOPersistedSession(sid: id, pid: pid, rooms: rooms, data: snapshot.data)
        }
        namespace.remove(self)
        namespace.adapter.delAll(id)
        connection.socketLeft(self)
        let pending = state.withLock { state in
            let pending = state.pendingAcks
            state.pendingAcks = [:]
            return pending
        }
        for (_, ack) in pending {
            ack.timer?.cancel()
            ack.deliver(.failure(SocketIOError(.disconnected, "the socket disconnected (\(reason)) before the acknowledgement")))
        }
        jobs.append(.disconnected(reason, persisted))
        jobs.finish()
    }

    /// Runs the socket's jobs in order until it disconnects.
    func runJobs(concurrentEvents: Bool) async {
        await withDiscardingTaskGroup { group in
            while let batch = await jobs.takeAll() {
                for job in batch {
                    await run(job, concurrentEvents: concurrentEvents, group: &group)
                }
            }
        }
    }

    private func run(_ job: Job, concurrentEvents: Bool, group: inout DiscardingTaskGroup) async {
        switch job {
        case .connected:
            for handler in namespace.connectionHandlers {
                await handler(self)
            }
        case .event(let event):
            if concurrentEvents {
                group.addTask { await self.dispatch(event) }
            } else {
                await dispatch(event)
            }
        case .disconnected(let reason, let persisted):
            if let persisted { await namespace.adapter.persistSession(persisted) }
            let handlers = state.withLock { state in
                let handlers = state.disconnectHandlers
                state.handlers = [:]
                state.anyHandlers = []
                state.middlewares = []
                state.outgoingHandlers = []
                state.disconnectHandlers = []
                state.disconnectingHandlers = []
                return handlers
            }
            for handler in handlers { await handler(reason) }
        }
    }

    private func dispatch(_ event: SocketIOEvent) async {
        let (middlewares, anyHandlers, handlers) = state.withLock {
            ($0.middlewares, $0.anyHandlers, $0.handlers[event.name] ?? [])
        }
        for middleware in middlewares {
            do {
                try await middleware(event)
            } catch {
                logger.debug("event dropped by a middleware", metadata: ["sio.event": "\(event.name)", "error": "\(error)"])
                return
            }
        }
        for handler in anyHandlers { await run(handler, event) }
        for handler in handlers { await run(handler, event) }
    }

    private func run(_ handler: SocketIOEventHandler, _ event: SocketIOEvent) async {
        do {
            try await handler(event)
        } catch {
            logger.debug("event handler failed", metadata: ["sio.event": "\(event.name)", "error": "\(error)"])
        }
    }

    static func checkEventName(_ name: String, logger: Logger) -> Bool {
        guard !SocketIOPacket.isReservedEventName(name) else {
            logger.debug("emit of a reserved event name refused", metadata: ["sio.event": "\(name)"])
            return false
        }
        return true
    }
}
