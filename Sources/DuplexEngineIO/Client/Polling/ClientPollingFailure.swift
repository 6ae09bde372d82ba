/// Failures of a polling HTTP exchange that no lower layer reports; they become the `cause` of
/// an ``EngineIOError``.
enum ClientPollingFailure: Error, Hashable, CustomStringConvertible {
    /// The response did not arrive before the exchange's deadline.
    case timedOut
    /// The server closed the connection before the response was complete.
    case closedBeforeResponse
    /// The response body is larger than the configured limit.
    case bodyTooLarge(limit: Int)
    /// A second request was written while one was pending (a bug in Duplex).
    case concurrentRequest

    var description: String {
        switch self {
        case .timedOut: return "the HTTP request timed out"
        case .closedBeforeResponse: return "the server closed the connection before the response was complete"
        case .bodyTooLarge(let limit): return "the response body exceeds \(limit) bytes"
        case .concurrentRequest: return "a request was written while another was pending"
        }
    }
}
