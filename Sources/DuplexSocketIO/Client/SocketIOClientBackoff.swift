/// The reconnection delays: exponential with a factor of 2, capped, with jitter — the
/// JavaScript client's `Backoff` (socket.io-client `contrib/backo2`).
struct SocketIOClientBackoff: Sendable, Hashable {
    var minimum: Duration
    var maximum: Duration
    var randomizationFactor: Double

    /// The delay before attempt `attempt` (0 for the first), using `random` in `0..<1` for the
    /// jitter.
    func delay(attempt: Int, random: Double) -> Duration {
        // backo2: ms = min * factor^attempts; deviation = floor(rand * jitter * ms); the parity
        // of floor(rand * 10) decides the sign; then min(ms, max).
        let minimumSeconds = Self.seconds(minimum)
        let maximumSeconds = Self.seconds(maximum)
        var seconds = minimumSeconds * Double(1 << min(attempt, 52))
        if randomizationFactor > 0 {
            let deviation = (random * randomizationFactor * seconds * 1000).rounded(.down) / 1000
            seconds = Int(random * 10) & 1 == 0 ? seconds - deviation : seconds + deviation
        }
        return .milliseconds(Int64(min(max(seconds, 0), maximumSeconds) * 1000))
    }

    /// A delay drawn with the system random generator.
    func delay(attempt: Int) -> Duration {
        delay(attempt: attempt, random: Double.random(in: 0..<1))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let components = duration.components
        return Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
