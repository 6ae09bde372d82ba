import ArgumentParser
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `duplex-bench load`: measures running echo servers with the same client, one after the
/// other for each cell, and prints the figures side by side.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Measure WebSocket echo servers: round trips, throughput, memory per idle connection.",
        discussion: """
            Each --target is NAME=HOST:PORT:PID; the names duplex, nio and python get the ratio \
            columns. The client runs on one event loop thread; the servers' memory and CPU time \
            are read from /proc/PID.
            """
    )

    @Option(name: .customLong("target"), help: "A server to measure, NAME=HOST:PORT:PID (repeatable).")
    var targets: [BenchTarget]

    @Flag(help: "A short smoke run: 0.5 s per cell after 0.2 s of warm-up, 1,000 idle connections.")
    var quick = false

    @Option(help: "Seconds measured per cell (default 3, or 0.5 with --quick).")
    var duration: Double?

    @Option(help: "Seconds of warm-up before each measured window (default 0.5, or 0.2 with --quick).")
    var warmup: Double?

    @Option(help: "Idle connections for the memory measurement; 0 skips it (default 10000, or 1000 with --quick).")
    var idleConnections: Int?

    @Option(help: "Seconds to wait after the last idle handshake before reading the server's RSS.")
    var settle: Double = 1

    @Option(help: "Handshakes in progress at once while opening connections.")
    var connectWindow = 100

    @Option(help: "Messages in flight per connection in the throughput cells.")
    var inFlight = 16

    @Option(help: "Comma-separated connection counts.")
    var connections = "1,64"

    @Option(help: "Comma-separated message sizes in bytes.")
    var sizes = "32,16384"

    @Option(
        help: """
            Measurements per cell and server; the servers' order alternates from one round to the \
            next and the table shows each figure's median. Tail latency on a shared machine moves \
            a lot between windows: use 5 or more to compare p99.
            """
    )
    var rounds = 1

    func validate() throws {
        guard !self.targets.isEmpty else { throw ValidationError("give at least one --target") }
        guard Self.parsedList(self.connections) != nil, Self.parsedList(self.sizes) != nil else {
            throw ValidationError("--connections and --sizes take comma-separated positive integers")
        }
        guard self.inFlight > 0, self.connectWindow > 0, self.rounds > 0 else {
            throw ValidationError("--in-flight, --connect-window and --rounds must be positive")
        }
    }

    func run() async throws {
        let duration = self.duration ?? (self.quick ? 0.5 : 3)
        let warmup = self.warmup ?? (self.quick ? 0.2 : 0.5)
        let idleConnections = self.idleConnections ?? (self.quick ? 1_000 : 10_000)
        let connectionCounts = Self.parsedList(self.connections) ?? []
        let sizes = Self.parsedList(self.sizes) ?? []

        var cells: [ResultTable.Cell] = []
        for kind in [ResultTable.CellKind.latency, .throughput(inFlight: self.inFlight)] {
            for count in connectionCounts {
                for size in sizes {
                    cells.append(ResultTable.Cell(kind: kind, connections: count, payloadSize: size))
                }
            }
        }
        print(
            """
            Client: one SwiftNIO event loop thread (MultiThreadedEventLoopGroup(numberOfThreads: 1)); \
            client and server share this \(System.coreCount)-core machine.
            Each cell: \(warmup) s warm-up, then \(duration) s measured; servers measured one after the \
            other for each cell\(self.rounds > 1 ? ", \(self.rounds) rounds in alternating order, medians shown" : ""). \
            Every echo's length is checked, its content for 1 in 64.
            Idle connections: \(idleConnections), \(self.connectWindow) handshakes at a time, server \
            RSS read \(self.settle) s after the last one.

            """
        )

        // Servers get one core's worth of the machine between them only if the client takes one.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        var table = ResultTable(targets: self.targets, idleConnections: idleConnections)

        if idleConnections > 0 {
            for target in self.targets {
                Self.progress("idle connections: \(idleConnections) to \(target.title)")
                table.record(await self.measureIdle(target, count: idleConnections, loop: loop), target: target)
            }
        }
        for (index, cell) in cells.enumerated() {
            var measurements: [String: [CellMeasurement]] = [:]
            var failures: [String: ResultTable.Outcome<CellMeasurement>] = [:]
            for round in 0..<self.rounds {
                // Alternating order: neither server always runs right after the other's load.
                let order = round.isMultiple(of: 2) ? self.targets : self.targets.reversed()
                for target in order where failures[target.name] == nil {
                    let roundNote = self.rounds > 1 ? " (round \(round + 1)/\(self.rounds))" : ""
                    Self.progress("[\(index + 1)/\(cells.count)] \(ResultTable.describe(cell)): \(target.title)\(roundNote)")
                    let outcome = await self.measure(cell, target: target, warmup: warmup, duration: duration, loop: loop)
                    if case .measured(let measurement) = outcome {
                        measurements[target.name, default: []].append(measurement)
                    } else {
                        failures[target.name] = outcome
                    }
                }
            }
            for target in self.targets {
                if let failure = failures[target.name] {
                    table.record(failure, cell: cell, target: target)
                } else if let median = CellMeasurement.median(of: measurements[target.name] ?? []) {
                    table.record(.measured(median), cell: cell, target: target)
                }
            }
        }
        try await group.shutdownGracefully()

        print(table.render())
        if !table.failures.isEmpty {
            throw ExitCode.failure
        }
    }

    private func measure(
        _ cell: ResultTable.Cell,
        target: BenchTarget,
        warmup: Double,
        duration: Double,
        loop: any EventLoop
    ) async -> ResultTable.Outcome<CellMeasurement> {
        let recordsLatency = cell.kind == .latency
        let inFlight =
            switch cell.kind {
            case .latency: 1
            case .throughput(let inFlight): inFlight
            }
        let outcome: ResultTable.Outcome<CellMeasurement>
        do {
            let session = try await loop.submit {
                NIOLoopBound(
                    LoadSession(loop: loop, target: target, payloadSize: cell.payloadSize, recordsLatency: recordsLatency),
                    eventLoop: loop
                )
            }.get()
            do {
                try await loop.flatSubmit {
                    session.value.open(count: cell.connections, window: self.connectWindow, timeout: .seconds(10))
                }.get()
                let measurement = try await loop.flatSubmit {
                    session.value.measure(
                        inFlight: inFlight,
                        warmup: Self.timeAmount(warmup),
                        duration: Self.timeAmount(duration),
                        drainTimeout: .seconds(10)
                    )
                }.get()
                outcome = .measured(measurement)
            } catch {
                outcome = .failed("\(error)")
            }
            try await loop.flatSubmit { session.value.close(timeout: .seconds(5)) }.get()
        } catch {
            return .failed("\(error)")
        }
        return outcome
    }

    private func measureIdle(_ target: BenchTarget, count: Int, loop: any EventLoop) async -> ResultTable.Outcome<IdleMeasurement> {
        let outcome: ResultTable.Outcome<IdleMeasurement>
        do {
            let session = try await loop.submit {
                NIOLoopBound(LoadSession(loop: loop, target: target, payloadSize: 32, recordsLatency: false), eventLoop: loop)
            }.get()
            do {
                let residentBefore = try ProcessStats.residentBytes(pid: target.pid)
                let start = ProcessStats.monotonicNanoseconds()
                // Bounded: 10 s plus 5 ms per connection (the slowest server here opens over 1,000/s).
                let timeout = TimeAmount.seconds(10) + .milliseconds(Int64(count) * 5)
                try await loop.flatSubmit {
                    session.value.open(count: count, window: self.connectWindow, timeout: timeout)
                }.get()
                let seconds = Double(ProcessStats.monotonicNanoseconds() - start) / 1e9
                try await Task.sleep(for: .seconds(self.settle))
                let residentAfter = try ProcessStats.residentBytes(pid: target.pid)
                if let failure = try await loop.submit({ session.value.firstFailure }).get() {
                    outcome = .failed(failure)
                } else {
                    outcome = .measured(
                        IdleMeasurement(
                            connections: count,
                            residentBefore: residentBefore,
                            residentAfter: residentAfter,
                            handshakesPerSecond: Double(count) / seconds
                        )
                    )
                }
            } catch {
                outcome = .failed("\(error)")
            }
            try await loop.flatSubmit { session.value.close(timeout: .seconds(15)) }.get()
        } catch {
            return .failed("\(error)")
        }
        return outcome
    }

    static func parsedList(_ list: String) -> [Int]? {
        let values = list.split(separator: ",").map { Int($0.trimmingPrefix(" ")) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.compactMap { $0 }
    }

    static func timeAmount(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64(seconds * 1e9))
    }

    static func progress(_ line: String) {
        var text = "… \(line)\n"
        text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
