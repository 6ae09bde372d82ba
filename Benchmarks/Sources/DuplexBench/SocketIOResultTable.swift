/// The Socket.IO benchmark's figures: one row per (metric, clients), one column per server,
/// then how many times better Duplex is than python-socketio.
struct SocketIOResultTable {
    /// A round-trip cell: `clients` each keeping `inFlight` events in flight.
    struct Cell: Hashable, Sendable {
        var clients: Int
        var inFlight: Int
    }

    /// The server Duplex is compared with.
    static let peerName = "python"
    /// `duplex-bench nio-sio`: what any server on SwiftNIO pays at least, on this machine.
    static let floorName = "nio"

    let targets: [BenchTarget]
    let payloadSize: Int
    private(set) var cells: [Cell] = []
    private var cellOutcomes: [Cell: [String: ResultTable.Outcome<CellMeasurement>]] = [:]
    private var broadcastOutcomes: [String: ResultTable.Outcome<BroadcastMeasurement>] = [:]
    private var broadcastClients = 0
    private var idleOutcomes: [String: ResultTable.Outcome<IdleMeasurement>] = [:]
    private var idleClients = 0
    private(set) var failures: [String] = []

    init(targets: [BenchTarget], payloadSize: Int) {
        self.targets = targets
        self.payloadSize = payloadSize
    }

    static func title(_ target: BenchTarget) -> String {
        switch target.name {
        case "duplex": "Duplex"
        case Self.peerName: "python-socketio"
        case Self.floorName: "bare NIO"
        default: target.name
        }
    }

    static func describe(_ cell: Cell) -> String {
        "\(cell.inFlight == 1 ? "round trips" : "throughput (\(cell.inFlight) in flight)"), \(cell.clients) client(s)"
    }

    mutating func record(_ outcome: ResultTable.Outcome<CellMeasurement>, cell: Cell, target: BenchTarget) {
        if !self.cells.contains(cell) { self.cells.append(cell) }
        self.cellOutcomes[cell, default: [:]][target.name] = outcome
        self.noteFailure(outcome, "\(Self.describe(cell))", target)
    }

    mutating func record(_ outcome: ResultTable.Outcome<BroadcastMeasurement>, clients: Int, target: BenchTarget) {
        self.broadcastClients = clients
        self.broadcastOutcomes[target.name] = outcome
        self.noteFailure(outcome, "broadcast to \(clients) clients", target)
    }

    mutating func record(_ outcome: ResultTable.Outcome<IdleMeasurement>, clients: Int, target: BenchTarget) {
        self.idleClients = clients
        self.idleOutcomes[target.name] = outcome
        self.noteFailure(outcome, "\(clients) idle clients", target)
    }

    private mutating func noteFailure<Value>(_ outcome: ResultTable.Outcome<Value>, _ what: String, _ target: BenchTarget) {
        if case .failed(let reason) = outcome {
            self.failures.append("\(Self.title(target)), \(what): \(reason)")
        }
    }

    // MARK: Rendering

    private enum Better {
        case higher
        case lower
        /// No ratio is shown (context rows such as RSS before).
        case neither
    }

    private struct Row {
        var metric: String
        var clients: Int
        var values: [Double?]
        var decimals: Int
        var better: Better
    }

    /// The main table, the target ratios, a CPU table, and the failures if any.
    func render() -> String {
        let rows = self.rows()
        var header = ["metric", "clients"] + self.targets.map(Self.title)
        if self.comparesPeer { header.append("Duplex advantage") }
        var output = ResultTable.layout(header: header, rows: rows.map(self.cells(of:)), leftAligned: 1)
        if self.comparesPeer {
            output += "Duplex advantage: how many times better Duplex's figure is than python-socketio's (its rate\n"
            output += "over python-socketio's, or python-socketio's time or memory over Duplex's); above 1 is better.\n"
        }
        output += "Events carry one \(self.payloadSize)-character string. A broadcast is timed from the emit to the last\n"
        output += "client receiving it (sender included); deliveries/s is clients × broadcasts over the summed times.\n"
        output += "Per server CPU-second: the rate over the server's CPU use in the window, which holds better than\n"
        output += "the rate itself when other work shares the machine. Memory is the server's user-space RSS\n"
        output += "(VmRSS), not kernel socket buffers.\n"
        if self.comparesPeer {
            output += "\n" + self.renderTargets(rows)
        }
        output += "\n" + self.renderCPU()
        if !self.failures.isEmpty {
            output += "\nFailures:\n" + self.failures.map { "  - \($0)" }.joined(separator: "\n") + "\n"
        }
        return output
    }

    private var comparesPeer: Bool {
        self.targets.contains { $0.name == "duplex" } && self.targets.contains { $0.name == Self.peerName }
    }

    private func rows() -> [Row] {
        var rows: [Row] = []
        for cell in self.cells where cell.inFlight == 1 {
            rows.append(self.row("event round trip p50 (µs)", cell.clients, self.cellOutcomes[cell], decimals: 1, .lower) { $0.p50 })
            rows.append(self.row("event round trip p99 (µs)", cell.clients, self.cellOutcomes[cell], decimals: 1, .lower) { $0.p99 })
        }
        for cell in self.cells where cell.inFlight > 1 {
            rows.append(
                self.row("events/s, \(cell.inFlight) in flight per client", cell.clients, self.cellOutcomes[cell], decimals: 0, .higher) {
                    $0.echoesPerSecond
                })
            rows.append(
                self.row("  events per server CPU-second", cell.clients, self.cellOutcomes[cell], decimals: 0, .higher) { measurement in
                    measurement.serverCPU.flatMap { $0 > 0 ? measurement.echoesPerSecond / $0 : nil }
                })
        }
        if !self.broadcastOutcomes.isEmpty {
            let clients = self.broadcastClients
            rows.append(
                self.row("broadcast emit→last p50 (ms)", clients, self.broadcastOutcomes, decimals: 2, .lower) { $0.p50.map { $0 / 1e3 } })
            rows.append(
                self.row("broadcast emit→last p99 (ms)", clients, self.broadcastOutcomes, decimals: 2, .lower) { $0.p99.map { $0 / 1e3 } })
            rows.append(
                self.row("broadcast deliveries/s", clients, self.broadcastOutcomes, decimals: 0, .higher) { $0.deliveriesPerSecond })
            rows.append(
                self.row("  deliveries per server CPU-second", clients, self.broadcastOutcomes, decimals: 0, .higher) { measurement in
                    measurement.serverCPU.flatMap { $0 > 0 ? measurement.deliveriesPerSecond / $0 : nil }
                })
        }
        if !self.idleOutcomes.isEmpty {
            let clients = self.idleClients
            rows.append(self.row("memory per idle client (B)", clients, self.idleOutcomes, decimals: 0, .lower) { $0.bytesPerConnection })
            rows.append(
                self.row("server RSS before (MiB)", clients, self.idleOutcomes, decimals: 1, .neither) {
                    Double($0.residentBefore) / 1_048_576
                })
            rows.append(
                self.row("server RSS with them connected (MiB)", clients, self.idleOutcomes, decimals: 1, .neither) {
                    Double($0.residentAfter) / 1_048_576
                })
            rows.append(
                self.row("clients connected/s while opening", clients, self.idleOutcomes, decimals: 0, .higher) { $0.handshakesPerSecond })
        }
        return rows
    }

    private func cells(of row: Row) -> [String] {
        var cells = [row.metric, ResultTable.format(Double(row.clients), decimals: 0)]
        cells += row.values.map { $0.map { ResultTable.format($0, decimals: row.decimals) } ?? "-" }
        if self.comparesPeer {
            cells.append(self.advantage(row).map { ResultTable.format($0, decimals: 2) + "×" } ?? "-")
        }
        return cells
    }

    /// How many times better `name` (Duplex by default) is than python-socketio on `row`, when
    /// both were measured.
    private func advantage(_ row: Row, of name: String = "duplex") -> Double? {
        guard let index = self.targets.firstIndex(where: { $0.name == name }),
            let peerIndex = self.targets.firstIndex(where: { $0.name == Self.peerName }),
            let value = row.values[index], let peer = row.values[peerIndex], value > 0, peer > 0
        else { return nil }
        switch row.better {
        case .higher: return value / peer
        case .lower: return peer / value
        case .neither: return nil
        }
    }

    /// The issue's targets: at least 10× python-socketio's event throughput and broadcast fan-out.
    private func renderTargets(_ rows: [Row]) -> String {
        var lines = ["Target: at least 10× python-socketio's event throughput and broadcast fan-out."]
        let measuresFloor = self.targets.contains { $0.name == Self.floorName }
        if measuresFloor {
            lines.append("(in brackets: the bare NIO floor's own ratio, what a SwiftNIO server that does nothing else reaches here)")
        }
        for row in rows where row.metric.hasPrefix("events") || row.metric.hasPrefix("broadcast") || row.metric.hasPrefix("  ") {
            let ratio = self.advantage(row).map { ResultTable.format($0, decimals: 2) + "×" } ?? "not measured"
            let verdict = self.advantage(row).map { $0 >= 10 ? "meets 10×" : "below 10×" } ?? ""
            let metric = row.metric.hasPrefix("  ") ? "  " + row.metric : row.metric
            var line = "  \(metric), \(row.clients) client(s): \(ratio) \(verdict)"
            if measuresFloor {
                line += " (\(self.advantage(row, of: Self.floorName).map { ResultTable.format($0, decimals: 2) + "×" } ?? "-"))"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// CPU use in each measured window: client (one event loop thread) and server, in % of one core.
    private func renderCPU() -> String {
        let header = ["CPU % of one core (client / server)", "clients"] + self.targets.map(Self.title)
        var rows = self.cells.map { cell -> [String] in
            let name = cell.inFlight == 1 ? "round trips, 1 in flight" : "throughput, \(cell.inFlight) in flight"
            return [name, String(cell.clients)]
                + self.targets.map { target in
                    guard case .measured(let measurement) = self.cellOutcomes[cell]?[target.name] else { return "-" }
                    return Self.cpu(client: measurement.clientCPU, server: measurement.serverCPU)
                }
        }
        if !self.broadcastOutcomes.isEmpty {
            rows.append(
                ["broadcasts, one at a time", String(self.broadcastClients)]
                    + self.targets.map { target in
                        guard case .measured(let measurement) = self.broadcastOutcomes[target.name] else { return "-" }
                        return Self.cpu(client: measurement.clientCPU, server: measurement.serverCPU)
                    }
            )
        }
        return ResultTable.layout(header: header, rows: rows, leftAligned: 1)
    }

    private static func cpu(client: Double, server: Double?) -> String {
        let server = server.map { ResultTable.format($0 * 100, decimals: 0) } ?? "?"
        return "\(ResultTable.format(client * 100, decimals: 0)) / \(server)"
    }

    /// A row of `outcomes` (one per target name): `value` of each measured one.
    private func row<Measurement>(
        _ metric: String,
        _ clients: Int,
        _ outcomes: [String: ResultTable.Outcome<Measurement>]?,
        decimals: Int,
        _ better: Better,
        _ value: (Measurement) -> Double?
    ) -> Row {
        let values = self.targets.map { target -> Double? in
            guard case .measured(let measurement) = outcomes?[target.name] else { return nil }
            return value(measurement)
        }
        return Row(metric: metric, clients: clients, values: values, decimals: decimals, better: better)
    }
}
