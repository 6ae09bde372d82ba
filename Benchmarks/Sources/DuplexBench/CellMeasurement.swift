/// What one measured window against one server produced.
struct CellMeasurement: Sendable {
    /// Echoes received inside the window.
    var echoes: Int
    var seconds: Double
    /// Round-trip percentiles in microseconds, when round trips were recorded.
    var p50: Double?
    var p99: Double?
    /// CPU time over wall time in the window (1.0 = one core busy).
    var clientCPU: Double
    var serverCPU: Double?

    var echoesPerSecond: Double { Double(self.echoes) / self.seconds }

    /// Each figure's median over several windows (rounds) of the same cell; nil for none.
    static func median(of measurements: [CellMeasurement]) -> CellMeasurement? {
        guard let first = measurements.first else { return nil }
        guard measurements.count > 1 else { return first }
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            let middle = sorted.count / 2
            return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
        }
        func median(_ values: [Double?]) -> Double? {
            let present = values.compactMap { $0 }
            return present.isEmpty ? nil : median(present)
        }
        // The rate's median, expressed over the first window's length.
        let rate = median(measurements.map(\.echoesPerSecond))
        return CellMeasurement(
            echoes: Int((rate * first.seconds).rounded()),
            seconds: first.seconds,
            p50: median(measurements.map(\.p50)),
            p99: median(measurements.map(\.p99)),
            clientCPU: median(measurements.map(\.clientCPU)),
            serverCPU: median(measurements.map(\.serverCPU))
        )
    }
}
