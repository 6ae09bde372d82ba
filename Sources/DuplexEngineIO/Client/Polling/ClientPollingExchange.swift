import NIOCore
import NIOHTTP1

/// One HTTP request of the polling transport and the promise of its response, written into a
/// ``ClientPollingConnection``'s channel as a single outbound message.
struct ClientPollingExchange: Sendable {
    /// The request head (method, target, headers).
    var head: HTTPRequestHead
    /// The request body, for POSTs.
    var body: ByteBuffer?
    /// When the whole exchange must be over.
    var deadline: NIODeadline
    /// Completed with the response, or failed; always completed exactly once.
    var promise: EventLoopPromise<ClientPollingResponse>
}
