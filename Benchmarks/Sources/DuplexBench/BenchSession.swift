import NIOCore
import NIOPosix

/// What a ``BenchSession`` asks of its client connections.
protocol BenchClient: ChannelInboundHandler {
    /// Puts `count` messages in flight.
    func startSending(count: Int)
    /// Starts the closing handshake, or drops TCP before the connection is open.
    func beginClose()
    /// Drops TCP.
    func forceClose()
}

/// The clients of one measurement against one server, and the counters they report to: the
/// phases and counting shared by the WebSocket (`LoadSession`) and Socket.IO (`SocketIOSession`)
/// load generators.
///
/// Everything here runs on the client's single event loop: the connections call in
/// synchronously, so counting costs no lock and no allocation. The phases (`open`, `measure`,
/// `close`, and those of subclasses) are driven one at a time from async code through the
/// futures they return.
class BenchSession<Client: BenchClient> {
    let loop: any EventLoop
    let target: BenchTarget
    /// Record round trips in the histogram (one message in flight per connection).
    private let recordsLatency: Bool
    /// Makes the handler of a new connection; set by the subclass's initializer.
    var makeClient: (ByteBufferAllocator) -> Client = { _ in preconditionFailure("a BenchSession subclass sets makeClient") }
    private var bootstrap: ClientBootstrap?
    /// The first failure, kept for phases that have no promise pending (idle connections).
    private(set) var firstFailure: String?

    /// Every connection that became active, open or not.
    private(set) var connections: [Client] = []
    private var activeConnections = 0
    /// Connections that are ready for messages (WebSocket open, or Socket.IO namespace joined).
    private(set) var openConnections: [Client] = []

    enum Phase {
        /// Nothing pending: between phases, or after a failure.
        case idle
        case opening
        /// Messages flow; the measured window is inside this phase.
        case measuring
        /// The window has ended; waiting for the last echoes.
        case draining
        /// A phase of a subclass (Socket.IO broadcasts).
        case custom
        case closing
    }

    private(set) var phase = Phase.idle
    /// Completed when the current phase ends, failed when a connection fails during it.
    private var pending: EventLoopPromise<Void>?
    /// Set by `close`, never reset: a connect that completes later is closed at once.
    private(set) var closeRequested = false

    // Opening.
    private var connectionsWanted = 0
    private var connectsLaunched = 0
    private var connectsOutstanding = 0
    private var connectWindow = 1

    // Measuring.
    private var sending = false
    private var measuringWindow = false
    private var inFlight = 0
    private var echoes = 0
    var histogram = LatencyHistogram()
    var windowStart: Snapshot?
    var windowEnd: Snapshot?

    struct Snapshot {
        var time: UInt64
        var echoes: Int
        var clientCPU: UInt64
        var serverCPU: UInt64?
    }

    /// Must be created on `loop`.
    init(loop: any EventLoop, target: BenchTarget, recordsLatency: Bool) {
        self.loop = loop
        self.target = target
        self.recordsLatency = recordsLatency
    }

    // MARK: Phases

    /// Opens `count` connections, at most `window` at a time, all ready within `timeout`.
    func open(count: Int, window: Int, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let promise = self.begin(.opening)
        self.connectionsWanted = count
        self.connectWindow = max(window, 1)
        let deadline = self.loop.assumeIsolated().scheduleTask(in: timeout) {
            guard self.phase == .opening else { return }
            self.connectionFailed(BenchFailure("\(self.openConnections.count) of \(count) connections were ready in \(timeout)"))
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        self.launchConnects()
        return promise.futureResult
    }

    /// Keeps `inFlight` messages in flight on every connection for `warmup` plus `duration`,
    /// counting only the last `duration`, then waits (within `drainTimeout`) for the last echoes.
    func measure(inFlight: Int, warmup: TimeAmount, duration: TimeAmount, drainTimeout: TimeAmount) -> EventLoopFuture<CellMeasurement> {
        let promise = self.begin(.measuring)
        let loop = self.loop.assumeIsolated()
        self.sending = true
        for connection in self.openConnections {
            connection.startSending(count: inFlight)
            self.inFlight += inFlight
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
            if self.inFlight == 0 {
                self.completePending()
            }
        }
        let drainDeadline = loop.scheduleTask(in: warmup + duration + drainTimeout) {
            guard self.phase == .draining else { return }
            self.connectionFailed(BenchFailure("\(self.inFlight) messages still unanswered \(drainTimeout) after the end"))
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

    /// Closes every connection with the closing handshake, forcing those still open after `timeout`.
    func close(timeout: TimeAmount) -> EventLoopFuture<Void> {
        self.closeRequested = true
        self.sending = false
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

    func connectionActive(_ connection: Client) {
        self.connections.append(connection)
        self.activeConnections += 1
        if self.closeRequested {
            // A connect that completed after the session began closing.
            connection.beginClose()
        }
    }

    /// The connection is ready for messages.
    func connectionReady(_ connection: Client) {
        self.openConnections.append(connection)
        self.connectsOutstanding -= 1
        if self.phase == .opening && self.openConnections.count == self.connectionsWanted {
            self.completePending()
        } else {
            self.launchConnects()
        }
    }

    /// Counts an echo; returns whether the connection should send the next message.
    func echoReceived(roundTrip: UInt64) -> Bool {
        self.echoes += 1
        if self.measuringWindow && self.recordsLatency {
            self.histogram.record(roundTrip)
        }
        if self.sending {
            return true
        }
        self.inFlight -= 1
        if self.inFlight == 0 && self.phase == .draining {
            self.completePending()
        }
        return false
    }

    func connectionInactive(_ connection: Client, expected: Bool) {
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
        self.phase = .idle
        self.pending?.fail(error)
        self.pending = nil
    }

    // MARK: For subclasses

    /// Starts a phase; a phase still pending (after a failure, say) fails first.
    func begin(_ phase: Phase) -> EventLoopPromise<Void> {
        self.pending?.fail(BenchFailure("superseded by the next phase"))
        let promise = self.loop.makePromise(of: Void.self)
        self.pending = promise
        self.phase = phase
        return promise
    }

    func completePending() {
        self.phase = .idle
        self.pending?.succeed()
        self.pending = nil
    }

    func snapshot() -> Snapshot {
        Snapshot(
            time: ProcessStats.monotonicNanoseconds(),
            echoes: self.echoes,
            clientCPU: ProcessStats.ownCPUNanoseconds(),
            serverCPU: try? ProcessStats.cpuNanoseconds(pid: self.target.pid)
        )
    }

    /// Client and server CPU time over the window's wall time.
    func cpuShares(_ start: Snapshot, _ end: Snapshot) -> (client: Double, server: Double?) {
        let elapsed = Double(end.time - start.time)
        var server: Double?
        if let startCPU = start.serverCPU, let endCPU = end.serverCPU {
            server = Double(endCPU - startCPU) / elapsed
        }
        return (Double(end.clientCPU - start.clientCPU) / elapsed, server)
    }

    // MARK: Helpers

    private func makeBootstrap() -> ClientBootstrap {
        let session = NIOLoopBound(self, eventLoop: self.loop)
        return ClientBootstrap(group: self.loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = session.value.makeClient(channel.allocator)
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
}
