/// The sessions an ``EngineIOServer`` opens, each as soon as its handshake succeeds. One task
/// should iterate it; the sequence ends when the server shuts down.
public struct EngineIOServerSessions: AsyncSequence, Sendable {
    public typealias Element = EngineIOSocket
    public typealias Failure = Never

    let stream: AsyncStream<EngineIOSocket>

    /// Creates the iterator (one per sequence).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator())
    }

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<EngineIOSocket>.AsyncIterator

        /// The next element, or nil once the sequence ended.
        public mutating func next() async -> EngineIOSocket? {
            await base.next()
        }

        /// The next element, or nil once the sequence ended, without leaving `actor`.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> EngineIOSocket? {
            await base.next(isolation: actor)
        }
    }
}
