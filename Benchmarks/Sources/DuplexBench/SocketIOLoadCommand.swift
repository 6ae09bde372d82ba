import ArgumentParser
import NIOCore
import NIOPosix

/// `duplex-bench sio-load`: measures running Socket.IO servers that implement `duplex sio-echo`'s
/// `message` and `broadcast` events, with the same client, and prints the figures side by side.
struct SocketIOLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sio-load",
        abstract: "Measure Socket.IO servers: event round trips, broadcast fan-out, memory per idle client.",
        discussion: """
            Each --target is NAME=HOST:PORT:PID; with the names duplex and python (python-socketio) \
            the table shows how many times better Duplex is. A single server can be given as \
            --url http://HOST:PORT --pid PID instead. Clients speak Engine.IO v4 directly over \
            WebSocket (/socket.io/?EIO=4&transport=websocket) and join the namespace /. The client \
            runs on one event loop thread; the servers' memory and CPU time are read from /proc/PID.
            """
    )

    @Option(name: .customLong("target"), help: "A server to measure, NAME=HOST:PORT:PID (repeatable).")
    var targets: [BenchTarget] = []

    @Option(help: "A single server to measure, http://HOST:PORT (with --pid).")
    var url: String?

    @Option(help: "The process ID of the --url server.")
    var pid: Int32?

    @Option(help: "The --url server's name (duplex or python get the comparison).")
    var name = "server"

    @Flag(help: "A short smoke run: 1 s per cell after 0.5 s of warm-up, 20 broadcasts, 1,000 idle clients.")
    var quick = false

    @Option(help: "Seconds measured per round-trip cell (default 3, or 1 with --quick).")
    var duration: Double?

    @Option(help: "Seconds of warm-up before each measured window.")
    var warmup: Double?

    @Option(help: "Comma-separated client counts for the round-trip cells.")
    var clients = "1,100"

    @Option(help: "Events in flight per client in the throughput cells.")
    var inFlight = 16

    @Option(help: "Characters in the string each message event carries.")
    var payloadSize = 32

    @Option(help: "Clients connected during the broadcasts; 0 skips them.")
    var broadcastClients = 1_000

    @Option(help: "Broadcasts measured, one at a time (default 50, or 20 with --quick).")
    var broadcasts: Int?

    @Option(help: "Broadcasts before the measured ones.")
    var broadcastWarmup = 5

    @Option(help: "Idle clients for the memory measurement; 0 skips it (default 10000, or 1000 with --quick).")
    var idleClients: Int?

    @Option(help: "Seconds to wait after the last idle client joined before reading the server's RSS.")
    var settle: Double = 1

    @Option(help: "Clients connecting at once while opening them.")
    var connectWindow = 100

    func validate() throws {
        guard !self.targets.isEmpty || self.url != nil else { throw ValidationError("give --target or --url") }
        if self.url != nil {
            guard self.pid != nil else { throw ValidationError("--url needs --pid") }
            guard self.urlTarget != nil else { throw ValidationError("--url takes http://HOST:PORT") }
        }
        guard LoadCommand.parsedList(self.clients) != nil else {
            throw ValidationError("--clients takes comma-separated positive integers")
        }
        guard self.inFlight > 0, self.connectWindow > 0, self.payloadSize >= 0, self.broadcastWarmup >= 0 else {
            throw ValidationError("--in-flight and --connect-window must be positive")
        }
        guard (self.broadcasts ?? 1) > 0, self.broadcastClients >= 0, (self.idleClients ?? 0) >= 0 else {
            throw ValidationError("--broadcasts must be positive, --broadcast-clients and --idle-clients not negative")
        }
    }

    func run() async throws {
        // Longer than `load`'s quick cells: python-socketio takes a while to get 1,600 events going.
        let duration = self.duration ?? (self.quick ? 1 : 3)
        let warmup = self.warmup ?? 0.5
        let broadcasts = self.broadcasts ?? (self.quick ? 20 : 50)
        let idleClients = self.idleClients ?? (self.quick ? 1_000 : 10_000)
        let targets = self.targets + (self.urlTarget.map { [$0] } ?? [])
        let clientCounts = LoadCommand.parsedList(self.clients) ?? []
        var cells: [SocketIOResultTable.Cell] = []
        for inFlight in [1, self.inFlight] {
            for clients in clientCounts {
                cells.append(SocketIOResultTable.Cell(clients: clients, inFlight: inFlight))
            }
        }
        print(
            """
            Client: one SwiftNIO event loop thread (MultiThreadedEventLoopGroup(numberOfThreads: 1)); \
            client and server share this \(System.coreCount)-core machine.
            Round trips: 42["message","<\(self.payloadSize) characters>"] answered by \
            42["message-back",…], every reply compared in full; \(warmup) s warm-up, then \(duration) s \
            measured per cell.
            Broadcasts: \(self.broadcastClients) clients; the first emits 42["broadcast",N] once the \
            previous one reached every client; \(self.broadcastWarmup) warm-up, then \(broadcasts) measured.
            Idle clients: \(idleClients), \(self.connectWindow) connecting at a time, server RSS read \
            \(self.settle) s after the last one joined.
            Servers are measured one after the other for each phase.

            """
        )

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        var table = SocketIOResultTable(targets: targets, payloadSize: self.payloadSize)

        if idleClients > 0 {
            for target in targets {
                LoadCommand.progress("idle clients: \(idleClients) to \(SocketIOResultTable.title(target))")
                let outcome = await self.measureIdle(target, count: idleClients, loop: loop)
                table.record(outcome, clients: idleClients, target: target)
                // python-socketio goes on tearing thousands of sessions down long after they closed.
                await Self.waitUntilQuiet(target, timeout: 60)
            }
        }
        for (index, cell) in cells.enumerated() {
            for target in targets {
                LoadCommand.progress(
                    "[\(index + 1)/\(cells.count)] \(SocketIOResultTable.describe(cell)): \(SocketIOResultTable.title(target))"
                )
                let outcome = await self.measure(cell, target: target, warmup: warmup, duration: duration, loop: loop)
                table.record(outcome, cell: cell, target: target)
            }
        }
        if self.broadcastClients > 0 {
            for target in targets {
                LoadCommand.progress("broadcasts to \(self.broadcastClients) clients: \(SocketIOResultTable.title(target))")
                let outcome = await self.measureBroadcasts(target, count: broadcasts, loop: loop)
                table.record(outcome, clients: self.broadcastClients, target: target)
            }
        }
        try await group.shutdownGracefully()

        print(table.render())
        if !table.failures.isEmpty {
            throw ExitCode.failure
        }
    }

    // MARK: Phases

    /// Opens a session of `clients` clients, runs `body` on it, and closes it whatever happened.
    private func withSession<Value: Sendable>(
        _ target: BenchTarget,
        clients: Int,
        recordsLatency: Bool,
        loop: any EventLoop,
        _ body: (NIOLoopBound<SocketIOSession>) async throws -> Value
    ) async -> ResultTable.Outcome<Value> {
        let outcome: ResultTable.Outcome<Value>
        do {
            let payloadSize = self.payloadSize
            let session = try await loop.submit {
                NIOLoopBound(
                    SocketIOSession(loop: loop, target: target, payloadSize: payloadSize, recordsLatency: recordsLatency),
                    eventLoop: loop
                )
            }.get()
            do {
                outcome = .measured(try await body(session))
            } catch {
                outcome = .failed("\(error)")
            }
            // Bounded: connections still open after the timeout are dropped.
            try await loop.flatSubmit { session.value.close(timeout: .seconds(15)) }.get()
        } catch {
            return .failed("\(error)")
        }
        return outcome
    }

    private func measure(
        _ cell: SocketIOResultTable.Cell,
        target: BenchTarget,
        warmup: Double,
        duration: Double,
        loop: any EventLoop
    ) async -> ResultTable.Outcome<CellMeasurement> {
        await self.withSession(target, clients: cell.clients, recordsLatency: cell.inFlight == 1, loop: loop) { session in
            let connectWindow = self.connectWindow
            try await loop.flatSubmit {
                session.value.open(count: cell.clients, window: connectWindow, timeout: Self.openTimeout(cell.clients))
            }.get()
            return try await loop.flatSubmit {
                session.value.measure(
                    inFlight: cell.inFlight,
                    warmup: LoadCommand.timeAmount(warmup),
                    duration: LoadCommand.timeAmount(duration),
                    drainTimeout: .seconds(10)
                )
            }.get()
        }
    }

    private func measureBroadcasts(_ target: BenchTarget, count: Int, loop: any EventLoop) async
        -> ResultTable.Outcome<BroadcastMeasurement>
    {
        let clients = self.broadcastClients
        let connectWindow = self.connectWindow
        let warmup = self.broadcastWarmup
        return await self.withSession(target, clients: clients, recordsLatency: false, loop: loop) { session in
            try await loop.flatSubmit {
                session.value.open(count: clients, window: connectWindow, timeout: Self.openTimeout(clients))
            }.get()
            return try await loop.flatSubmit {
                session.value.measureBroadcasts(warmup: warmup, count: count, timeout: .seconds(10))
            }.get()
        }
    }

    private func measureIdle(_ target: BenchTarget, count: Int, loop: any EventLoop) async -> ResultTable.Outcome<IdleMeasurement> {
        let connectWindow = self.connectWindow
        let settle = self.settle
        return await self.withSession(target, clients: count, recordsLatency: false, loop: loop) { session in
            let residentBefore = try ProcessStats.residentBytes(pid: target.pid)
            let start = ProcessStats.monotonicNanoseconds()
            try await loop.flatSubmit {
                session.value.open(count: count, window: connectWindow, timeout: Self.openTimeout(count))
            }.get()
            let seconds = Double(ProcessStats.monotonicNanoseconds() - start) / 1e9
            try await Task.sleep(for: .seconds(settle))
            let residentAfter = try ProcessStats.residentBytes(pid: target.pid)
            if let failure = try await loop.submit({ session.value.firstFailure }).get() {
                throw BenchFailure(failure)
            }
            return IdleMeasurement(
                connections: count,
                residentBefore: residentBefore,
                residentAfter: residentAfter,
                handshakesPerSecond: Double(count) / seconds
            )
        }
    }

    // MARK: Helpers

    /// Waits (at most `timeout` seconds) until the server uses under 10 % of a core over 0.5 s,
    /// so that one phase's clean-up does not count in the next phase.
    private static func waitUntilQuiet(_ target: BenchTarget, timeout: Double) async {
        let deadline = ProcessStats.monotonicNanoseconds() + UInt64(timeout * 1e9)
        while ProcessStats.monotonicNanoseconds() < deadline {
            guard let before = try? ProcessStats.cpuNanoseconds(pid: target.pid) else { return }
            try? await Task.sleep(for: .milliseconds(500))
            guard let after = try? ProcessStats.cpuNanoseconds(pid: target.pid) else { return }
            if after - before < 50_000_000 { return }
        }
    }

    /// Bounded: 10 s plus 40 ms per client. Joining takes a WebSocket handshake, the Engine.IO
    /// open packet and a namespace CONNECT; python-socketio manages a few hundred a second on
    /// a quiet machine, and far fewer on a busy one.
    private static func openTimeout(_ clients: Int) -> TimeAmount {
        .seconds(10) + .milliseconds(Int64(clients) * 40)
    }

    private var urlTarget: BenchTarget? {
        guard let url = self.url, let pid = self.pid, url.hasPrefix("http://") else { return nil }
        var address = url.dropFirst("http://".count)
        if address.hasSuffix("/") { address = address.dropLast() }
        // BenchTarget splits on ":": an IPv4 address or a host name, not an IPv6 address.
        guard let colon = address.firstIndex(of: ":"), !address.contains("/") else { return nil }
        let host = address[..<colon]
        return BenchTarget(argument: "\(self.name)=\(host):\(address[address.index(after: colon)...]):\(pid)")
    }
}
