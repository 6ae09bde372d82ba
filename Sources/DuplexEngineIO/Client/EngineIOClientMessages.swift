import DuplexEngineIOCore
import NIOCore

/// The incoming messages of an ``EngineIOClientSocket``.
///
/// It ends when the session closes normally (the client or the server closed it) and throws
/// ``EngineIOError`` otherwise: ``EngineIOError/Code/pingTimeout`` (the server went silent),
/// ``EngineIOError/Code/transportClosed``, ``EngineIOError/Code/transportError`` (with the
/// failure as cause), ``EngineIOError/Code/invalidPacket`` (the server sent garbage), or
/// ``EngineIOError/Code/cancelled``. Only one task may iterate it.
public struct EngineIOClientMessages: AsyncSequence, Sendable {
    public typealias Element = EngineIOPacketData
    public typealias Failure = EngineIOError

    typealias Producer = NIOThrowingAsyncSequenceProducer<
        EngineIOPacketData,
        any Error,
        NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark,
        ClientMessagesDelegate
    >

    let producer: Producer
    let state: ClientSocketState

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: state.claimIteration() ? producer.makeAsyncIterator() : nil)
    }

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Producer.AsyncIterator?

        public mutating func next() async throws(EngineIOError) -> EngineIOPacketData? {
            guard let base else {
                throw EngineIOError(.internalError, "the messages of a session can be iterated by one task only")
            }
            do {
                return try await base.next()
            } catch let error as EngineIOError {
                throw error
            } catch {
                throw EngineIOError(.cancelled, "receiving was cancelled", cause: error)
            }
        }
    }
}

/// Tells the driver when the application catches up or stops reading.
struct ClientMessagesDelegate: NIOAsyncSequenceProducerDelegate {
    let events: AsyncStream<ClientDriverEvent>.Continuation

    func produceMore() { events.yield(.readResumed) }
    func didTerminate() { events.yield(.readerGone) }
}
