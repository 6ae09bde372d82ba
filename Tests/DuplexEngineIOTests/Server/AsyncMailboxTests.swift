import DuplexEngineIOCore
import NIOCore
import Synchronization
import Testing

@testable import DuplexEngineIO

/// The single-consumer queues of a session: delivery to the application, a socket's jobs, a
/// WebSocket's writes (`AsyncMailbox`, `WebSocketOutbox`).
@Suite("Session mailboxes", .timeLimit(.minutes(1)))
struct AsyncMailboxTests {
    @Test("takeAll takes everything queued, in order, and then waits for more")
    func takesBatchesInOrder() async throws {
        let mailbox = AsyncMailbox<Int>()
        for value in 1...3 { #expect(mailbox.append(value)) }
        #expect(await mailbox.takeAll() == [1, 2, 3])
        async let next = mailbox.takeAll()
        mailbox.append(4)
        mailbox.append(5)
        // The consumer woke for 4 and may have taken 5 with it, or later.
        var taken = try #require(await next)
        if taken == [4] { taken += try #require(await mailbox.takeAll()) }
        #expect(taken == [4, 5])
    }

    @Test("finish: what is queued is still taken, then nil; later appends are refused")
    func finishDrainsThenEnds() async {
        let mailbox = AsyncMailbox<String>()
        mailbox.append("a")
        mailbox.finish()
        #expect(!mailbox.append("b"))
        #expect(await mailbox.takeAll() == ["a"])
        #expect(await mailbox.takeAll() == nil)
    }

    @Test("finish wakes a waiting consumer with nil")
    func finishWakesConsumer() async {
        let mailbox = AsyncMailbox<Int>()
        async let next = mailbox.takeAll()
        mailbox.finish()
        #expect(await next == nil)
    }

    @Test("discard drops what is queued and returns it")
    func discardDrops() async {
        let mailbox = AsyncMailbox<Int>()
        mailbox.append(1)
        mailbox.append(2)
        #expect(mailbox.discard() == [1, 2])
        #expect(await mailbox.takeAll() == nil)
    }

    @Test("a cancelled consumer gets nil instead of waiting forever")
    func cancellationEndsTheWait() async {
        let mailbox = AsyncMailbox<Int>()
        let consumer = Task { await mailbox.takeAll() }
        consumer.cancel()
        #expect(await consumer.value == nil)
    }

    @Test("the outbox counts and costs frames until the writer takes them")
    func outboxAccounting() async throws {
        let outbox = WebSocketOutbox()
        let frames: [EngineIOWebSocketFrame] = [.text("4hello"), .binary(ByteBuffer(bytes: [1, 2, 3]))]
        for frame in frames { outbox.append(frame) }
        #expect(outbox.count.load(ordering: .relaxed) == 2)
        #expect(outbox.cost.load(ordering: .relaxed) == frames.reduce(0) { $0 + WebSocketOutbox.cost(of: $1) })
        #expect(await outbox.takeAll() == frames)
        #expect(outbox.count.load(ordering: .relaxed) == 0)
        #expect(outbox.cost.load(ordering: .relaxed) == 0)

        outbox.append(.text("4dropped"))
        outbox.discard()
        #expect(outbox.count.load(ordering: .relaxed) == 0)
        #expect(outbox.cost.load(ordering: .relaxed) == 0)
        outbox.append(.text("4after"))
        #expect(outbox.count.load(ordering: .relaxed) == 0)
        #expect(await outbox.takeAll() == nil)
    }
}
