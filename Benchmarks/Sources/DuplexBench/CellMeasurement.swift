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
}
