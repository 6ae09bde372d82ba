/// Broadcasts measured one at a time: from the emit to the last of the clients receiving it.
struct BroadcastMeasurement: Sendable {
    /// Clients connected, each receiving every broadcast (the sender included).
    var clients: Int
    /// Broadcasts measured (after the warm-up ones).
    var broadcasts: Int
    /// Emit to last receipt, in microseconds.
    var p50: Double?
    var p99: Double?
    /// The sum of the measured emit-to-last-receipt times, in seconds.
    var fanOutSeconds: Double
    /// CPU time over wall time while the measured broadcasts ran (1.0 = one core busy).
    var clientCPU: Double
    var serverCPU: Double?

    /// Receipts per second of fan-out time: clients × broadcasts over the summed fan-out times.
    var deliveriesPerSecond: Double {
        Double(self.clients * self.broadcasts) / self.fanOutSeconds
    }
}
