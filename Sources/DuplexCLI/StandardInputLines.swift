import Foundation

/// Lines of standard input as an async sequence, read on a dedicated thread so that a blocking
/// `readLine` never holds up the concurrency pool.
struct StandardInputLines: AsyncSequence, Sendable {
    typealias Element = String

    func makeAsyncIterator() -> AsyncStream<String>.Iterator {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(1024))
        let thread = Thread {
            while let line = readLine(strippingNewline: true) {
                continuation.yield(line)
            }
            continuation.finish()
        }
        thread.start()
        return stream.makeAsyncIterator()
    }
}

/// The process environment, read only by the CLI (the libraries never read it).
enum ProcessInfoEnvironment {
    static var current: [String: String] { ProcessInfo.processInfo.environment }
}
