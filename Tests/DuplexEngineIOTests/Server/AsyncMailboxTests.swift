import DuplexEngineIOCore
import NIOCore
import Synchronization
import Testing

@_spi(DuplexInternal) @testable import DuplexEngineIO

/// The single-consumer queue of a session's delivery to the application and a socket's jobs
/// (`AsyncMailbox`; the WebSocket's writes: `WebSocketOutboxTests`).
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
}
