/// Server memory before and after opening idle WebSocket connections to it.
struct IdleMeasurement: Sendable {
    var connections: Int
    /// Server VmRSS before the first connect and after the last handshake (plus the settle time).
    var residentBefore: Int
    var residentAfter: Int
    /// Connects plus handshakes completed per second while opening them.
    var handshakesPerSecond: Double

    var bytesPerConnection: Double {
        Double(self.residentAfter - self.residentBefore) / Double(self.connections)
    }
}
