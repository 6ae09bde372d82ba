import NIOCore
import NIOPosix

/// The Socket.IO clients of one measurement against one server, and the counters they report to.
///
/// Like `LoadSession`, everything runs on the client's single event loop: the connections call
/// in synchronously, so counting costs no lock and no allocation. The phases (`open`,
/// `measureRoundTrips`, `measureBroadcasts`, `close`) are driven one at a time from async code
/// through the futures they return.
final class SocketIOSession {
    private let loop: any EventLoop
    private let target: BenchTarget
    private let frames: SocketIOFrames
    /// Record round trips in the histogram (one event in flight per client).
    private let recordsLatency: Bool
    private var bootstrap: ClientBootstrap?
    /// The first failure, kept for phases that have no promise pending (idle clients).
    private(set) var firstFailure: String?

    /// Every connection that became active, connected or not.
    private var connections: [SocketIOConnection] = []
    private var activeConnections = 0
    /// Connections that joined the namespace.
    private var openConnections: [SocketIOConnection] = []

    private enum Phase {
        /// Nothing pending: between phases, or after a failure.
        case idle
        case opening
        /// Events flow; the measured window is inside this phase.
        case measuring
        /// The window has ended; waiting for the last replies.
        case draining
        case broadcasting
        case closing
    }

    private var phase = Phase.idle
    /// Completed when the current phase ends, failed when a connection fails during it.
    private var pending: EventLoopPromise<Void>?
    /// Set by `close`, never reset: a connect that completes later is closed at once.
    private var closeRequested = false

    // Opening.
    private var connectionsWanted = 0
    private var connectsLaunched = 0
    private var connectsOutstanding = 0
    private var connectWindow = 1

    // Round trips.
    private var sending = false
    private var measuringWindow = false
    private var eventsInFlight = 0
    private var echoes = 0
    private var histogram = LatencyHistogram()
    private var windowStart: Snapshot?
    private var windowEnd: Snapshot?

    // Broadcasts.
    private var broadcastSequence = 0
    private var broadcastsUnmeasured = 0
    private var broadcastsToMeasure = 0
    private var broadcastsMeasured = 0
    private var broadcastTimeout = TimeAmount.seconds(10)
    private var broadcastDeadline: Scheduled<Void>?
    private var receipts = 0
    private var emittedAt: UInt64 = 0
    private var fanOutNanoseconds: UInt64 = 0

    private struct Snapshot {
        var time: UInt64
        var echoes: Int
        var clientCPU: UInt64
        var serverCPU: UInt64?
    }

    /// Must be created on `loop`.
    init(loop: any EventLoop, target: BenchTarget, payloadSize: Int, recordsLatency: Bool) {
        self.loop = loop
        self.target = target
        self.frames = SocketIOFrames(
            host: target.host,
            port: target.port,
            payloadSize: payloadSize,
            allocator: ByteBufferAllocator()
        )
        self.recordsLatency = recordsLatency
    }

    // MARK: Phases

    /// Connects `count` clients to the namespace `/`, at most `window` at a time, all within `timeout`.
    func open(count: Int, window: Int, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let promise = self.begin(.opening)
        self.connectionsWanted = count
        self.connectWindow = max(window, 1)
        let deadline = self.loop.assumeIsolated().scheduleTask(in: timeout) {
            guard self.phase == .opening else { return }
            self.connectionFailed(
                BenchFailure("\(self.openConnections.count) of \(count) clients joined the namespace in \(timeout)")
            )
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        self.launchConnects()
        return promise.futureResult
    }

    /// Keeps `inFlight` events in flight on every client for `warmup` plus `duration`, counting
    /// only the last `duration`, then waits (within `drainTimeout`) for the last replies.
    func measureRoundTrips(
        inFlight: Int,
        warmup: TimeAmount,
        duration: TimeAmount,
        drainTimeout: TimeAmount
    ) -> EventLoopFuture<CellMeasurement> {
        let promise = self.begin(.measuring)
        let loop = self.loop.assumeIsolated()
        self.sending = true
        for connection in self.openConnections {
            connection.startSending(count: inFlight)
            self.eventsInFlight += inFlight
        }
        let windowStart = loop.scheduleTask(in: warmup) {
            guard self.phase == .measuring else { return }
            self.histogram.reset()
            self.windowStart = self.snapshot()
            self.measuringWindow = true
        }
        let windowEnd = loop.scheduleTask(in: warmup + duration) {
            guard self.phase == .measuring else { return }
            self.windowEnd = self.snapshot()
            self.measuringWindow = false
            self.sending = false
            self.phase = .draining
            if self.eventsInFlight == 0 {
                self.completePending()
            }
        }
        let drainDeadline = loop.scheduleTask(in: warmup + duration + drainTimeout) {
            guard self.phase == .draining else { return }
            self.connectionFailed(BenchFailure("\(self.eventsInFlight) events still unanswered \(drainTimeout) after the end"))
        }
        promise.futureResult.whenComplete { _ in
            windowStart.cancel()
            windowEnd.cancel()
            drainDeadline.cancel()
        }
        return promise.futureResult.assumeIsolated().flatMapThrowing { _ in
            try self.roundTripMeasurement()
        }.nonisolated()
    }

    /// Has the first client emit `broadcast` `warmup + count` times, one at a time: each is
    /// emitted once every client received the previous one. The last `count` are measured;
    /// each must reach every client within `timeout`.
    func measureBroadcasts(warmup: Int, count: Int, timeout: TimeAmount) -> EventLoopFuture<BroadcastMeasurement> {
        let promise = self.begin(.broadcasting)
        self.broadcastsUnmeasured = warmup
        self.broadcastsToMeasure = count
        self.broadcastsMeasured = 0
        self.broadcastTimeout = timeout
        self.histogram.reset()
        self.fanOutNanoseconds = 0
        self.windowStart = nil
        self.windowEnd = nil
        if warmup == 0 {
            self.windowStart = self.snapshot()
        }
        self.emitBroadcast()
        return promise.futureResult.assumeIsolated().flatMapThrowing { _ in
            try self.broadcastMeasurement()
        }.nonisolated()
    }

    /// Closes every connection with the closing handshake, forcing those still open after `timeout`.
    func close(timeout: TimeAmount) -> EventLoopFuture<Void> {
        self.closeRequested = true
        self.sending = false
        self.broadcastDeadline?.cancel()
        let promise = self.begin(.closing)
        let deadline = self.loop.assumeIsolated().scheduleTask(in: timeout) {
            guard self.phase == .closing else { return }
            for connection in self.connections {
                connection.forceClose()
            }
        }
        promise.futureResult.assumeIsolated().whenComplete { _ in
            deadline.cancel()
            // Break the references between the session and its connections.
            self.connections = []
            self.openConnections = []
        }
        if self.activeConnections == 0 {
            self.completePending()
        }
        for connection in self.connections {
            connection.beginClose()
        }
        return promise.futureResult
    }

    // MARK: Reports from the connections

    func connectionActive(_ connection: SocketIOConnection) {
        self.connections.append(connection)
        self.activeConnections += 1
        if self.closeRequested {
            // A connect that completed after the session began closing.
            connection.beginClose()
        }
    }

    func namespaceConnected(_ connection: SocketIOConnection) {
        self.openConnections.append(connection)
        self.connectsOutstanding -= 1
        if self.phase == .opening && self.openConnections.count == self.connectionsWanted {
            self.completePending()
        } else {
            self.launchConnects()
        }
    }

    /// Counts a `message-back`; returns whether the client should send the next `message`.
    func echoReceived(roundTrip: UInt64) -> Bool {
        self.echoes += 1
        if self.measuringWindow && self.recordsLatency {
            self.histogram.record(roundTrip)
        }
        if self.sending {
            return true
        }
        self.eventsInFlight -= 1
        if self.eventsInFlight == 0 && self.phase == .draining {
            self.completePending()
        }
        return false
    }

    /// A client received broadcast `sequence` (each client reports each sequence once).
    func broadcastReceived(sequence: Int) {
        guard self.phase == .broadcasting else {
            self.connectionFailed(BenchFailure("broadcast \(sequence) received outside the broadcast phase"))
            return
        }
        guard sequence == self.broadcastSequence else {
            self.connectionFailed(BenchFailure("broadcast \(sequence) received while waiting for \(self.broadcastSequence)"))
            return
        }
        self.receipts += 1
        guard self.receipts == self.openConnections.count else { return }
        let fanOut = ProcessStats.monotonicNanoseconds() &- self.emittedAt
        self.broadcastDeadline?.cancel()
        if self.broadcastsUnmeasured > 0 {
            self.broadcastsUnmeasured -= 1
            if self.broadcastsUnmeasured == 0 {
                self.windowStart = self.snapshot()
            }
        } else {
            self.histogram.record(fanOut)
            self.fanOutNanoseconds += fanOut
            self.broadcastsMeasured += 1
        }
        if self.broadcastsMeasured == self.broadcastsToMeasure {
            self.windowEnd = self.snapshot()
            self.completePending()
        } else {
            // Emitted from a fresh loop tick, not from inside the last receiver's read.
            self.loop.assumeIsolated().execute { self.emitBroadcast() }
        }
    }

    func connectionInactive(_ connection: SocketIOConnection, expected: Bool) {
        self.activeConnections -= 1
        if !expected {
            self.connectionFailed(BenchFailure("the server closed a connection"))
        }
        if self.phase == .closing && self.activeConnections == 0 {
            self.completePending()
        }
    }

    func connectionFailed(_ error: any Error) {
        guard !self.closeRequested else { return }
        if self.firstFailure == nil {
            self.firstFailure = "\(error)"
        }
        self.sending = false
        self.measuringWindow = false
        self.broadcastDeadline?.cancel()
        self.phase = .idle
        self.pending?.fail(error)
        self.pending = nil
    }

    // MARK: Helpers

    private func emitBroadcast() {
        guard self.phase == .broadcasting, let sender = self.openConnections.first else { return }
        self.broadcastSequence += 1
        self.receipts = 0
        let sequence = self.broadcastSequence
        let frame = SocketIOFrames.broadcast(sequence: sequence, allocator: ByteBufferAllocator())
        let timeout = self.broadcastTimeout
        self.broadcastDeadline = self.loop.assumeIsolated().scheduleTask(in: timeout) {
            guard self.phase == .broadcasting, self.broadcastSequence == sequence else { return }
            self.connectionFailed(
                BenchFailure("broadcast \(sequence) reached \(self.receipts) of \(self.openConnections.count) clients in \(timeout)")
            )
        }
        self.emittedAt = ProcessStats.monotonicNanoseconds()
        sender.send(frame)
    }

    private func makeBootstrap() -> ClientBootstrap {
        let session = NIOLoopBound(self, eventLoop: self.loop)
        let frames = self.frames
        return ClientBootstrap(group: self.loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = SocketIOConnection(session: session.value, frames: frames, allocator: channel.allocator)
                    try channel.pipeline.syncOperations.addHandler(connection)
                }
            }
    }

    private func launchConnects() {
        let bootstrap = self.bootstrap ?? self.makeBootstrap()
        self.bootstrap = bootstrap
        while self.connectsOutstanding < self.connectWindow && self.connectsLaunched < self.connectionsWanted
            && self.phase == .opening
        {
            self.connectsLaunched += 1
            self.connectsOutstanding += 1
            bootstrap.connect(host: self.target.host, port: self.target.port).assumeIsolated().whenFailure { error in
                self.connectionFailed(error)
            }
        }
    }

    /// Starts a phase; a phase still pending (after a failure, say) fails first.
    private func begin(_ phase: Phase) -> EventLoopPromise<Void> {
        self.pending?.fail(BenchFailure("superseded by the next phase"))
        let promise = self.loop.makePromise(of: Void.self)
        self.pending = promise
        self.phase = phase
        return promise
    }

    private func completePending() {
        self.phase = .idle
        self.pending?.succeed()
        self.pending = nil
    }

    private func snapshot() -> Snapshot {
        Snapshot(
            time: ProcessStats.monotonicNanoseconds(),
            echoes: self.echoes,
            clientCPU: ProcessStats.ownCPUNanoseconds(),
            serverCPU: try? ProcessStats.cpuNanoseconds(pid: self.target.pid)
        )
    }

    /// Client and server CPU time over the window's wall time.
    private func cpuShares(_ start: Snapshot, _ end: Snapshot) -> (client: Double, server: Double?) {
        let elapsed = Double(end.time - start.time)
        var server: Double?
        if let startCPU = start.serverCPU, let endCPU = end.serverCPU {
            server = Double(endCPU - startCPU) / elapsed
        }
        return (Double(end.clientCPU - start.clientCPU) / elapsed, server)
    }

    private func roundTripMeasurement() throws(BenchFailure) -> CellMeasurement {
        guard let start = self.windowStart, let end = self.windowEnd, end.time > start.time else {
            throw BenchFailure("the measurement window did not run")
        }
        let cpu = self.cpuShares(start, end)
        return CellMeasurement(
            echoes: end.echoes - start.echoes,
            seconds: Double(end.time - start.time) / 1e9,
            p50: self.histogram.percentile(0.50).map { $0 / 1e3 },
            p99: self.histogram.percentile(0.99).map { $0 / 1e3 },
            clientCPU: cpu.client,
            serverCPU: cpu.server
        )
    }

    private func broadcastMeasurement() throws(BenchFailure) -> BroadcastMeasurement {
        guard let start = self.windowStart, let end = self.windowEnd, end.time > start.time, self.fanOutNanoseconds > 0 else {
            throw BenchFailure("no broadcast was measured")
        }
        let cpu = self.cpuShares(start, end)
        return BroadcastMeasurement(
            clients: self.openConnections.count,
            broadcasts: self.broadcastsMeasured,
            p50: self.histogram.percentile(0.50).map { $0 / 1e3 },
            p99: self.histogram.percentile(0.99).map { $0 / 1e3 },
            fanOutSeconds: Double(self.fanOutNanoseconds) / 1e9,
            clientCPU: cpu.client,
            serverCPU: cpu.server
        )
    }
}
