import NIOCore

/// The Socket.IO clients of one measurement against one server (see ``BenchSession``), with
/// the broadcast phase on top of the shared ones: round trips are `measure`, a client's
/// `message` answered by `message-back`.
final class SocketIOSession: BenchSession<SocketIOConnection> {
    private var broadcastSequence = 0
    private var broadcastsUnmeasured = 0
    private var broadcastsToMeasure = 0
    private var broadcastsMeasured = 0
    private var broadcastTimeout = TimeAmount.seconds(10)
    private var broadcastDeadline: Scheduled<Void>?
    private var receipts = 0
    private var emittedAt: UInt64 = 0
    private var fanOutNanoseconds: UInt64 = 0

    /// Must be created on `loop`.
    init(loop: any EventLoop, target: BenchTarget, payloadSize: Int, recordsLatency: Bool) {
        let frames = SocketIOFrames(host: target.host, port: target.port, payloadSize: payloadSize, allocator: ByteBufferAllocator())
        super.init(loop: loop, target: target, recordsLatency: recordsLatency)
        self.makeClient = { [unowned self] allocator in SocketIOConnection(session: self, frames: frames, allocator: allocator) }
    }

    // MARK: Phases

    /// Has the first client emit `broadcast` `warmup + count` times, one at a time: each is
    /// emitted once every client received the previous one. The last `count` are measured;
    /// each must reach every client within `timeout`.
    func measureBroadcasts(warmup: Int, count: Int, timeout: TimeAmount) -> EventLoopFuture<BroadcastMeasurement> {
        let promise = self.begin(.custom)
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

    override func close(timeout: TimeAmount) -> EventLoopFuture<Void> {
        self.broadcastDeadline?.cancel()
        return super.close(timeout: timeout)
    }

    // MARK: Reports from the connections

    /// A client received broadcast `sequence` (each client reports each sequence once).
    func broadcastReceived(sequence: Int) {
        guard self.phase == .custom else {
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

    override func connectionFailed(_ error: any Error) {
        if !self.closeRequested {
            self.broadcastDeadline?.cancel()
        }
        super.connectionFailed(error)
    }

    // MARK: Helpers

    private func emitBroadcast() {
        guard self.phase == .custom, let sender = self.openConnections.first else { return }
        self.broadcastSequence += 1
        self.receipts = 0
        let sequence = self.broadcastSequence
        let frame = SocketIOFrames.broadcast(sequence: sequence, allocator: ByteBufferAllocator())
        let timeout = self.broadcastTimeout
        self.broadcastDeadline = self.loop.assumeIsolated().scheduleTask(in: timeout) {
            guard self.phase == .custom, self.broadcastSequence == sequence else { return }
            self.connectionFailed(
                BenchFailure("broadcast \(sequence) reached \(self.receipts) of \(self.openConnections.count) clients in \(timeout)")
            )
        }
        self.emittedAt = ProcessStats.monotonicNanoseconds()
        sender.send(frame)
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
