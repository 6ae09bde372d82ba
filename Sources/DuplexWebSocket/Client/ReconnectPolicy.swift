import DuplexWebSocketCore

/// When and how often to reconnect: exponential backoff with full jitter
/// (each delay is random in `0...min(maxDelay, initialDelay × factor^attempt)`).
public struct ReconnectPolicy: Sendable, Hashable {
    /// The delay bound before the first retry. Default 0.5 s.
    public var initialDelay: Duration
    /// The growth of the bound per attempt. Default 1.618 (as Python `websockets`).
    public var factor: Double
    /// The largest delay. Default 30 s.
    public var maxDelay: Duration
    /// Give up after this many consecutive failed attempts; nil retries forever. Default nil.
    public var maxAttempts: Int?

    /// Creates a policy.
    public init(initialDelay: Duration = .milliseconds(500), factor: Double = 1.618, maxDelay: Duration = .seconds(30), maxAttempts: Int? = nil) {
        self.initialDelay = initialDelay
        self.factor = factor
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// The default policy.
    public static let `default` = ReconnectPolicy()

    /// The delay before retry number `attempt` (0-based), with jitter.
    public func delay(attempt: Int) -> Duration {
        let bound = min(
            Double(maxDelay.components.seconds) + Double(maxDelay.components.attoseconds) / 1e18,
            (Double(initialDelay.components.seconds) + Double(initialDelay.components.attoseconds) / 1e18) * pow(factor, Double(min(attempt, 64)))
        )
        return .nanoseconds(Int64(Double.random(in: 0...max(bound, 0)) * 1e9))
    }

    /// Whether a failure is worth another attempt: connection failures, timeouts, 5xx/429
    /// rejections, servers that close before answering, abnormal closures — not 4xx, protocol
    /// errors or usage errors (``WebSocketError/isRetryable``).
    public func shouldRetry(_ error: WebSocketError) -> Bool { error.isRetryable }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    for _ in 0..<Int(exponent) { result *= base }
    return result
}
