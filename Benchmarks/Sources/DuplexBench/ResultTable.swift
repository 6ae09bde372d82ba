/// The benchmark's figures, one row per (metric, connections, message size), one column per
/// server, then the ratios of Duplex to bare NIO and to Python websockets.
struct ResultTable {
    enum Outcome<Value: Sendable>: Sendable {
        case measured(Value)
        case failed(String)
    }

    enum CellKind: Hashable, Sendable {
        /// One message in flight per connection; round trips recorded.
        case latency
        /// Several messages in flight per connection, pipelined.
        case throughput(inFlight: Int)
    }

    struct Cell: Hashable, Sendable {
        var kind: CellKind
        var connections: Int
        var payloadSize: Int
    }

    let targets: [BenchTarget]
    /// How many idle connections the memory rows are about.
    let idleConnections: Int
    private(set) var cells: [Cell] = []
    private var cellOutcomes: [Cell: [String: Outcome<CellMeasurement>]] = [:]
    private var idleOutcomes: [String: Outcome<IdleMeasurement>] = [:]
    private(set) var failures: [String] = []

    init(targets: [BenchTarget], idleConnections: Int) {
        self.targets = targets
        self.idleConnections = idleConnections
    }

    mutating func record(_ outcome: Outcome<CellMeasurement>, cell: Cell, target: BenchTarget) {
        if !self.cells.contains(cell) { self.cells.append(cell) }
        self.cellOutcomes[cell, default: [:]][target.name] = outcome
        if case .failed(let reason) = outcome {
            self.failures.append("\(target.title), \(Self.describe(cell)): \(reason)")
        }
    }

    mutating func record(_ outcome: Outcome<IdleMeasurement>, target: BenchTarget) {
        self.idleOutcomes[target.name] = outcome
        if case .failed(let reason) = outcome {
            self.failures.append("\(target.title), idle connections: \(reason)")
        }
    }

    // MARK: Rendering

    /// The main table, a CPU table, and the failures if any.
    func render() -> String {
        var rows: [[String]] = []
        for cell in self.cells {
            switch cell.kind {
            case .latency:
                rows.append(self.row("round trip p50 (µs)", cell, decimals: 1) { $0.p50 })
                rows.append(self.row("round trip p99 (µs)", cell, decimals: 1) { $0.p99 })
            case .throughput(let inFlight):
                rows.append(self.row("throughput (msg/s), \(inFlight) in flight", cell, decimals: 0) { $0.echoesPerSecond })
                rows.append(self.row("throughput (MB/s), \(inFlight) in flight", cell, decimals: 1) {
                    $0.echoesPerSecond * Double(cell.payloadSize) / 1e6
                })
            }
        }
        if !self.idleOutcomes.isEmpty {
            let connections = self.idleConnections
            rows.append(self.idleRow("memory per idle connection (B)", connections, decimals: 0) { $0.bytesPerConnection })
            rows.append(self.idleRow("server RSS before (MiB)", connections, decimals: 1) { Double($0.residentBefore) / 1_048_576 })
            rows.append(self.idleRow("server RSS with them open (MiB)", connections, decimals: 1) { Double($0.residentAfter) / 1_048_576 })
            rows.append(self.idleRow("handshakes/s while opening", connections, decimals: 0) { $0.handshakesPerSecond })
        }
        var header = ["metric", "conns", "size"] + self.targets.map(\.title)
        header += self.ratioColumns.map { "Duplex/\($0.shortTitle)" }
        var output = Self.layout(header: header, rows: rows, leftAligned: 1)
        if !self.ratioColumns.isEmpty {
            output += "Ratios are Duplex's figure over the other server's: above 1 is better for throughput and\n"
            output += "handshakes, below 1 is better for round trips and memory.\n"
        }
        output += "MB/s counts echoed payload bytes one way (10^6 B). Memory is user-space RSS (VmRSS), not\n"
        output += "kernel socket buffers.\n"
        output += "\n" + self.renderCPU()
        if !self.failures.isEmpty {
            output += "\nFailures:\n" + self.failures.map { "  - \($0)" }.joined(separator: "\n") + "\n"
        }
        return output
    }

    /// CPU use in each measured window: client (one event loop thread) and server, in % of one core.
    private func renderCPU() -> String {
        let header = ["CPU % of one core (client / server)", "conns", "size"] + self.targets.map(\.title)
        let rows = self.cells.map { cell -> [String] in
            let name =
                switch cell.kind {
                case .latency: "round trip, 1 in flight"
                case .throughput(let inFlight): "throughput, \(inFlight) in flight"
                }
            let values = self.targets.map { target -> String in
                guard case .measured(let measurement) = self.cellOutcomes[cell]?[target.name] else { return "-" }
                let server = measurement.serverCPU.map { Self.format($0 * 100, decimals: 0) } ?? "?"
                return "\(Self.format(measurement.clientCPU * 100, decimals: 0)) / \(server)"
            }
            return [name, String(cell.connections), Self.size(cell.payloadSize)] + values
        }
        return Self.layout(header: header, rows: rows, leftAligned: 1)
    }

    /// The servers Duplex is compared with, when Duplex and they were both measured.
    private var ratioColumns: [BenchTarget] {
        guard self.targets.contains(where: { $0.name == "duplex" }) else { return [] }
        return self.targets.filter { $0.name == "nio" || $0.name == "python" }
    }

    private func row(
        _ metric: String,
        _ cell: Cell,
        decimals: Int,
        _ value: (CellMeasurement) -> Double?
    ) -> [String] {
        let values = self.targets.map { target -> Double? in
            guard case .measured(let measurement) = self.cellOutcomes[cell]?[target.name] else { return nil }
            return value(measurement)
        }
        return [metric, String(cell.connections), Self.size(cell.payloadSize)] + self.columns(values, decimals: decimals)
    }

    private func idleRow(
        _ metric: String,
        _ connections: Int,
        decimals: Int,
        _ value: (IdleMeasurement) -> Double
    ) -> [String] {
        let values = self.targets.map { target -> Double? in
            guard case .measured(let measurement) = self.idleOutcomes[target.name] else { return nil }
            return value(measurement)
        }
        return [metric, String(connections), "idle"] + self.columns(values, decimals: decimals)
    }

    /// The servers' values, then Duplex's value over each compared server's.
    private func columns(_ values: [Double?], decimals: Int) -> [String] {
        var columns = values.map { $0.map { Self.format($0, decimals: decimals) } ?? "-" }
        let duplex = self.targets.firstIndex(where: { $0.name == "duplex" }).flatMap { values[$0] }
        for other in self.ratioColumns {
            let otherValue = self.targets.firstIndex(where: { $0.name == other.name }).flatMap { values[$0] }
            if let duplex, let otherValue, otherValue != 0 {
                columns.append(Self.format(duplex / otherValue, decimals: 2) + "x")
            } else {
                columns.append("-")
            }
        }
        return columns
    }

    // MARK: Formatting

    static func describe(_ cell: Cell) -> String {
        let kind =
            switch cell.kind {
            case .latency: "round trip"
            case .throughput(let inFlight): "throughput (\(inFlight) in flight)"
            }
        return "\(kind), \(cell.connections) conn × \(Self.size(cell.payloadSize))"
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1024 && bytes % 1024 == 0 ? "\(bytes / 1024) KiB" : "\(bytes) B"
    }

    /// `value` with `decimals` decimals and thousands separators, without Foundation.
    static func format(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        var digits = String(whole)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits.removeLast(3)
        }
        grouped = (value < 0 && scaled != 0 ? "-" : "") + digits + grouped
        guard decimals > 0 else { return grouped }
        let fraction = String(scaled % Int64(scale))
        return grouped + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// Columns padded to their widest cell; the first `leftAligned` columns left-aligned, the rest right.
    static func layout(header: [String], rows: [[String]], leftAligned: Int) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return index < leftAligned ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
