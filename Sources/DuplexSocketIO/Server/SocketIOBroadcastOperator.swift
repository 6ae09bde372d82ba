import DuplexSocketIOCore
import NIOCore
import Synchronization

/// A broadcast being built (socket.io `BroadcastOperator`): which rooms, which exclusions,
/// which flags; then an emit or a bulk operation. A value type: each modifier returns a copy.
///
/// ```swift
/// namespace.to("room1").except("room2").volatile.emit("news", "hello")
/// let replies = try await namespace.broadcast.timeout(.seconds(5)).emitWithAck("ping")
/// ```
public struct SocketIOBroadcastOperator: Sendable {
    /// The namespace.
    public let namespace: SocketIONamespace
    /// The rooms, exclusions and flags so far.
    public private(set) var options = SocketIOBroadcastOptions()
    /// The acknowledgement timeout of ``emitWithAck(_:_:)``; nil: the server's default.
    public private(set) var ackTimeout: Duration?

    init(namespace: SocketIONamespace) {
        self.namespace = namespace
    }

    /// Targets the sockets in `rooms` too (union with earlier `to`).
    public func to(_ rooms: String...) -> Self { to(Set(rooms)) }

    /// Targets the sockets in `rooms` too.
    public func to(_ rooms: Set<String>) -> Self {
        var copy = self
        copy.options.rooms.formUnion(rooms)
        return copy
    }

    /// Same as ``to(_:)-(String...)``.
    public func `in`(_ rooms: String...) -> Self { to(Set(rooms)) }

    /// Excludes the sockets in `rooms` (a socket id excludes that socket).
    public func except(_ rooms: String...) -> Self { except(Set(rooms)) }

    /// Excludes the sockets in `rooms`.
    public func except(_ rooms: Set<String>) -> Self {
        var copy = self
        copy.options.except.formUnion(rooms)
        return copy
    }

    /// Only the sockets connected to this server node.
    public var local: Self {
        var copy = self
        copy.options.isLocal = true
        return copy
    }

    /// Drops the packet for clients whose transport cannot write it at once.
    public var volatile: Self {
        var copy = self
        copy.options.isVolatile = true
        return copy
    }

    /// Whether to compress (a hint; see ``SocketIOBroadcastOptions/compress``).
    public func compress(_ compress: Bool) -> Self {
        var copy = self
        copy.options.compress = compress
        return copy
    }

    /// The time ``emitWithAck(_:_:)`` waits for every reply.
    public func timeout(_ timeout: Duration) -> Self {
        var copy = self
        copy.ackTimeout = timeout
        return copy
    }

    // MARK: - Emitting

    /// Sends an event to every targeted socket: encoded once, queued to each without waiting.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        emit(event, arguments: arguments)
    }

    /// Sends an event to every targeted socket.
    public func emit(_ event: String, arguments: [JSONValue]) {
        guard SocketIOSocket.checkEventName(event, logger: namespace.server.logger) else { return }
        namespace.adapter.broadcast(.event(event, arguments, namespace: namespace.name), options: options)
    }

    /// Sends an event with one argument converted from `value`.
    ///
    /// - Throws: ``SocketIOError/Code/encodingFailed``.
    public func emit(_ event: String, encoding value: some Encodable) throws(SocketIOError) {
        emit(event, arguments: [try JSONValue(encoding: value)])
    }

    /// Sends an event to every targeted socket with an acknowledgement request, and returns one
    /// reply (its arguments) per recipient, in arrival order.
    ///
    /// - Throws: ``SocketIOError/Code/ackTimedOut`` if some recipients did not reply in time;
    ///   the replies that did arrive are in the error's `data` (an array of argument arrays).
    ///   ``SocketIOError/Code/encodingFailed`` for a reserved event name.
    public func emitWithAck(_ event: String, _ arguments: JSONValue...) async throws(SocketIOError) -> [[JSONValue]] {
        try await emitWithAck(event, arguments: arguments)
    }

    /// Same as ``emitWithAck(_:_:)`` with an argument array.
    public func emitWithAck(_ event: String, arguments: [JSONValue]) async throws(SocketIOError) -> [[JSONValue]] {
        guard SocketIOSocket.checkEventName(event, logger: namespace.server.logger) else {
            throw SocketIOError(.encodingFailed, "\"\(event)\" is a reserved event name")
        }
        let timeout = ackTimeout ?? namespace.server.configuration.ackTimeout
        let packet = SocketIOPacket.event(event, arguments, namespace: namespace.name, ackID: namespace.nextAckID())
        let serverCount = await namespace.adapter.serverCount()
        let collector = BroadcastAckCollector(expectedServers: serverCount)
        let eventLoop = namespace.server.eventLoopGroup.next()
        let adapter = namespace.adapter
        let options = options
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[[JSONValue]], SocketIOError>, Never>) in
            collector.start(continuation)
            let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) { collector.timedOut(after: timeout) }
            collector.setTimer(timer)
            adapter.broadcastWithAck(
                packet,
                options: options,
                timeout: timeout,
                onClientCount: { collector.addClients($0) },
                onAck: { collector.add($0) }
            )
        }
        return try result.get()
    }

    // MARK: - Bulk operations

    /// The targeted sockets, on every node unless ``local``.
    public func fetchSockets() async throws(SocketIOError) -> [SocketIORemoteSocket] {
        try await namespace.adapter.fetchSockets(options)
    }

    /// Makes the targeted sockets join `rooms`.
    public func socketsJoin(_ rooms: String...) async throws(SocketIOError) {
        try await socketsJoin(Set(rooms))
    }

    /// Makes the targeted sockets join `rooms`.
    public func socketsJoin(_ rooms: Set<String>) async throws(SocketIOError) {
        try await namespace.adapter.addSockets(options, rooms: rooms)
    }

    /// Makes the targeted sockets leave `rooms`.
    public func socketsLeave(_ rooms: String...) async throws(SocketIOError) {
        try await socketsLeave(Set(rooms))
    }

    /// Makes the targeted sockets leave `rooms`.
    public func socketsLeave(_ rooms: Set<String>) async throws(SocketIOError) {
        try await namespace.adapter.delSockets(options, rooms: rooms)
    }

    /// Disconnects the targeted sockets; `close` also closes their Engine.IO sessions.
    public func disconnectSockets(close: Bool = false) async throws(SocketIOError) {
        try await namespace.adapter.disconnectSockets(options, close: close)
    }
}

/// Gathers the replies of a broadcast with acknowledgements (socket.io
/// `BroadcastOperator#emit` with an ack): done when every node reported its recipient count
/// and every recipient replied, or when the timeout fires.
private final class BroadcastAckCollector: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<[[JSONValue]], SocketIOError>, Never>?
        var timer: Scheduled<Void>?
        var expectedServers: Int
        var reportedServers = 0
        var expectedClients = 0
        var replies: [[JSONValue]] = []
        var done = false
    }

    private let state: Mutex<State>

    init(expectedServers: Int) {
        state = Mutex(State(expectedServers: max(1, expectedServers)))
    }

    func start(_ continuation: CheckedContinuation<Result<[[JSONValue]], SocketIOError>, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func setTimer(_ timer: Scheduled<Void>) {
        let cancel = state.withLock { state in
            if state.done { return true }
            state.timer = timer
            return false
        }
        if cancel { timer.cancel() }
    }

    func addClients(_ count: Int) {
        finish { state in
            state.reportedServers += 1
            state.expectedClients += count
            return Self.isComplete(state) ? .success(state.replies) : nil
        }
    }

    func add(_ reply: [JSONValue]) {
        finish { state in
            state.replies.append(reply)
            return Self.isComplete(state) ? .success(state.replies) : nil
        }
    }

    func timedOut(after timeout: Duration) {
        finish { state in
            .failure(
                SocketIOError(
                    .ackTimedOut,
                    "\(state.replies.count) of \(state.expectedClients) acknowledgements within \(timeout)",
                    data: .array(state.replies.map(JSONValue.array))
                )
            )
        }
    }

    private static func isComplete(_ state: State) -> Bool {
        state.reportedServers >= state.expectedServers && state.replies.count >= state.expectedClients
    }

    private func finish(_ update: (inout State) -> Result<[[JSONValue]], SocketIOError>?) {
        let outcome:
            (CheckedContinuation<Result<[[JSONValue]], SocketIOError>, Never>, Result<[[JSONValue]], SocketIOError>, Scheduled<Void>?)? =
                state.withLock { state in
                    guard !state.done, let result = update(&state), let continuation = state.continuation else { return nil }
                    state.done = true
                    state.continuation = nil
                    let timer = state.timer
                    state.timer = nil
                    return (continuation, result, timer)
                }
        guard let (continuation, result, timer) = outcome else { return }
        timer?.cancel()
        continuation.resume(returning: result)
    }
}
