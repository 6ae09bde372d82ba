import DuplexEngineIOCore
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import DuplexEngineIO

/// A session's WebSocket writes (`WebSocketOutbox`): the event loop writes while the WebSocket
/// takes frames, the writer task when it does not, never both, and always in order.
@Suite("WebSocket outbox", .timeLimit(.minutes(1)))
struct WebSocketOutboxTests {
    /// What the loop's `send` saw, and whether it accepts more.
    final class LoopSink: Sendable {
        private let state = Mutex((written: [String](), accepts: true, calls: 0))

        var written: [String] { state.withLock { $0.written } }
        var calls: Int { state.withLock { $0.calls } }
        static func describe(_ frame: EngineIOWebSocketFrame) -> String {
            if case .text(let text) = frame { return text }
            return "<binary>"
        }

        func setAccepts(_ accepts: Bool) { state.withLock { $0.accepts = accepts } }

        func send(_ frames: [EngineIOWebSocketFrame], on eventLoop: any EventLoop) -> Bool {
            precondition(eventLoop.inEventLoop, "loop writes run on the WebSocket's event loop")
            return state.withLock { (state: inout (written: [String], accepts: Bool, calls: Int)) in
                state.calls += 1
                guard state.accepts else { return false }
                state.written += frames.map(Self.describe)
                return true
            }
        }
    }

    @Test("without loop writes, the writer takes what is queued; count and cost follow")
    func writerOnly() async throws {
        let taken = Atomic<Int>(0)
        let outbox = WebSocketOutbox { taken.add(1, ordering: .relaxed) }
        let frames: [EngineIOWebSocketFrame] = [.text("4hello"), .binary(ByteBuffer(bytes: [1, 2, 3]))]
        for frame in frames { outbox.append(frame) }
        #expect(outbox.count.load(ordering: .relaxed) == 2)
        #expect(outbox.cost.load(ordering: .relaxed) == frames.reduce(0) { $0 + WebSocketOutbox.cost(of: $1) })
        #expect(await outbox.takeAll() == frames)
        #expect(outbox.count.load(ordering: .relaxed) == 0)
        #expect(outbox.cost.load(ordering: .relaxed) == 0)
        #expect(taken.load(ordering: .relaxed) == 1)

        outbox.append(.text("4dropped"))
        outbox.discard()
        #expect(outbox.count.load(ordering: .relaxed) == 0)
        #expect(outbox.cost.load(ordering: .relaxed) == 0)
        outbox.append(.text("4after"))
        #expect(outbox.count.load(ordering: .relaxed) == 0)
        #expect(await outbox.takeAll() == nil)
    }

    @Test("with loop writes, frames are written from the loop, batched; the writer wakes only to end")
    func loopWrites() async throws {
        let taken = Atomic<Int>(0)
        try await withLoopOutbox(onTaken: { taken.add(1, ordering: .relaxed) }) { eventLoop, outbox, sink in
            // Queued from the loop itself: all three go in the one job scheduled by the first.
            try await eventLoop.submit {
                for text in ["4a", "4b", "4c"] { outbox.append(.text(text)) }
            }.get()
            try await eventually { sink.written == ["4a", "4b", "4c"] }
            #expect(sink.calls == 1)
            #expect(outbox.count.load(ordering: .relaxed) == 0)
            #expect(outbox.cost.load(ordering: .relaxed) == 0)
            #expect(taken.load(ordering: .relaxed) == 1)

            // The writer is not woken by loop writes; finishing wakes it, with nothing to send.
            let writer = Task { await outbox.takeAll() }
            outbox.append(.text("4d"))
            try await eventually { sink.written.last == "4d" }
            outbox.finish()
            #expect(await writer.value == nil)
        }
    }

    @Test("when the loop cannot write, the writer sends those frames first, then the loop resumes")
    func handOverKeepsOrder() async throws {
        try await withLoopOutbox { eventLoop, outbox, sink in
            sink.setAccepts(false)
            outbox.append(.text("4one"))
            // The loop refused: "4one" goes to the writer, and so does what follows meanwhile.
            let first = await outbox.takeAll()
            #expect(first?.map(LoopSink.describe) == ["4one"])
            outbox.append(.text("4two"))
            #expect(await outbox.takeAll()?.map(LoopSink.describe) == ["4two"])
            #expect(sink.written.isEmpty)

            // The writer sent everything and waits: the next frame goes through the loop again.
            sink.setAccepts(true)
            let writer = Task { await outbox.takeAll() }
            try await eventually { outbox.isWriterWaiting }
            outbox.append(.text("4three"))
            try await eventually { sink.written == ["4three"] }
            outbox.finish()
            #expect(await writer.value == nil)
        }
    }

    @Test("finish while a loop job is in flight: the writer ends only after the job wrote")
    func finishWaitsForTheLoop() async throws {
        try await withLoopOutbox { eventLoop, outbox, sink in
            let writer = Task { await outbox.takeAll() }
            try await eventually { outbox.isWriterWaiting }
            // The loop is busy until `released`: the job for "4last" waits behind it.
            let blocked = Atomic<Bool>(false)
            let released = Atomic<Bool>(false)
            eventLoop.execute {
                blocked.store(true, ordering: .sequentiallyConsistent)
                while !released.load(ordering: .sequentiallyConsistent) { usleep(1000) }
            }
            try await eventually { blocked.load(ordering: .sequentiallyConsistent) }
            outbox.append(.text("4last"))
            outbox.finish()
            try await Task.sleep(for: .milliseconds(50))
            #expect(sink.written.isEmpty)
            released.store(true, ordering: .sequentiallyConsistent)
            #expect(await writer.value == nil)
            #expect(sink.written == ["4last"])
        }
    }

    @Test("a cancelled writer ends, also when a loop job is in flight (once it is done)", arguments: [false, true])
    func cancelledWriter(loopBusy: Bool) async throws {
        try await withLoopOutbox { eventLoop, outbox, sink in
            let writer = Task { await outbox.takeAll() }
            try await eventually { outbox.isWriterWaiting }
            let released = Atomic<Bool>(!loopBusy)
            if loopBusy {
                eventLoop.execute { while !released.load(ordering: .sequentiallyConsistent) { usleep(1000) } }
                outbox.append(.text("4queued"))
            }
            writer.cancel()
            released.store(true, ordering: .sequentiallyConsistent)
            #expect(await writer.value == nil)
            try await eventually { sink.written == (loopBusy ? ["4queued"] : []) }
        }
    }

    @Test("frames queued before loop writes are enabled (the open packet) are written by the loop")
    func queuedBeforeLoopWrites() async throws {
        try await withLoopOutbox(queuedBefore: [.text("0open"), .text("40")]) { _, outbox, sink in
            let writer = Task { await outbox.takeAll() }
            try await eventually { sink.written == ["0open", "40"] }
            try await eventually { outbox.isWriterWaiting }
            #expect(outbox.count.load(ordering: .relaxed) == 0)
            outbox.finish()
            #expect(await writer.value == nil)
        }
    }

    @Test("frames queued before loop writes are enabled go to the writer, in order, when the loop cannot write them")
    func queuedBeforeLoopWritesNotWritable() async throws {
        try await withLoopOutbox(queuedBefore: [.text("0open")], accepting: false) { _, outbox, sink in
            try await eventually { sink.calls == 1 }
            outbox.append(.text("4next"))
            #expect(await outbox.takeAll() == [.text("0open"), .text("4next")])
            #expect(sink.written.isEmpty)
        }
    }

    /// Runs `body` with an outbox whose loop writes go to `sink` on a loop of its own, after
    /// `queuedBefore` was appended before loop writes were enabled.
    private func withLoopOutbox(
        onTaken: @escaping @Sendable () -> Void = {},
        queuedBefore: [EngineIOWebSocketFrame] = [],
        accepting: Bool = true,
        _ body: (any EventLoop, WebSocketOutbox, LoopSink) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let outbox = WebSocketOutbox(onTaken: onTaken)
        let sink = LoopSink()
        sink.setAccepts(accepting)
        for frame in queuedBefore { outbox.append(frame) }
        outbox.enableLoopWrites(on: eventLoop) { sink.send($0, on: eventLoop) }
        do {
            try await body(eventLoop, outbox, sink)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    private func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<2000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        #expect(condition())
    }
}
