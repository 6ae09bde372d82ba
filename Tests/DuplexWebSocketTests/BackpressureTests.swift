import DuplexWebSocket
import DuplexWebSocketCore
import Foundation
import NIOCore
import Synchronization
import Testing

/// Backpressure (DESIGN.md "a slow reader stops socket reads; a slow peer makes send wait") and
/// broadcasting past a slow reader.
@Suite("Backpressure and broadcast", .timeLimit(.minutes(1)))
struct BackpressureTests {
    static let messageSize = 64 * 1024
    /// 8 MiB: far more than what a 64 KiB receive buffer, the sender's socket buffer (at most
    /// `wmem_max`, 4 MiB here) and NIO's write buffer hold together.
    static let floodCount = 128
    /// The receive buffer of the peer that stops reading.
    static let receiveBufferSize = 64 * 1024

    static let padding = randomBytes(messageSize - 4)

    /// What the kernel may hold for a peer that does not read: the sender's socket buffer at its
    /// largest (Linux autotunes it up to the `tcp_wmem` maximum) and the reader's receive buffer
    /// (the kernel doubles SO_RCVBUF). Nil where /proc is not available.
    static let kernelBufferBound: Int? = {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/tcp_wmem", encoding: .utf8),
            let maximum = text.split(whereSeparator: \.isWhitespace).last.flatMap({ Int($0) })
        else { return nil }
        return maximum + 2 * receiveBufferSize
    }()

    /// Checks that a stalled sender buffered at most a few messages beyond the kernel's buffers.
    static func expectBounded(stalledAt: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(stalledAt < floodCount, "send never waited", sourceLocation: sourceLocation)
        if let kernelBufferBound {
            // NIO's high watermark, the bytes queued for the event loop, the message in flight.
            let slack = 4 * messageSize
            #expect(stalledAt * messageSize <= kernelBufferBound + slack, "\(stalledAt) messages sent", sourceLocation: sourceLocation)
        }
    }

    /// A message carrying its index, padded to `size` bytes with incompressible bytes.
    static func indexed(_ index: Int, size: Int = messageSize) -> WebSocketMessage {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        buffer.writeInteger(UInt32(index))
        buffer.writeBytes(padding.prefix(size - 4))
        return .binary(buffer)
    }

    static func index(of payload: ByteBuffer) -> Int? {
        payload.getInteger(at: payload.readerIndex, as: UInt32.self).map(Int.init)
    }

    /// Waits until `value` has not changed for a while: the sender is suspended (or done).
    static func waitUntilStable(_ value: () -> Int) async throws -> Int {
        var last = value()
        var unchangedPolls = 0
        try await waitUntil(.seconds(20)) {
            let current = value()
            unchangedPolls = current == last ? unchangedPolls + 1 : 0
            last = current
            return unchangedPolls >= 60  // 60 polls of 5 ms
        }
        return last
    }

    /// Reads data frames until a text frame; returns the binary frames' indices.
    static func readIndices(_ connection: RawConnection) async throws -> [Int] {
        var indices: [Int] = []
        while let frame = try await connection.readFrame() {
            if frame.opcode == .text { break }
            if frame.opcode == .binary, let index = index(of: frame.payload) { indices.append(index) }
        }
        return indices
    }

    @Test("A client that stops reading makes the server's send wait instead of buffering without bound")
    func serverSendWaitsForSlowClient() async throws {
        try await withTimeout(.seconds(50)) {
            let sent = Counter()
            var router = WebSocketRouter()
            router.webSocket("/flood") { connection in
                for index in 0..<Self.floodCount {
                    try await connection.send(Self.indexed(index))
                    sent.increment()
                }
                try await connection.send(text: "done")
                for try await _ in connection.messages {}
            }
            try await withServer(.test(compression: nil), router: router) { server in
                try await RawClient.withConnection(port: server.port, receiveBufferSize: Self.receiveBufferSize) { connection in
                    #expect(try await connection.sendUpgradeRequest(path: "/flood")?.status == 101)
                    // Not reading: the server must stall well before the end of its loop.
                    Self.expectBounded(stalledAt: try await Self.waitUntilStable { sent.current })

                    // Reading again resumes the sender; every message arrives, in order.
                    #expect(try await Self.readIndices(connection) == Array(0..<Self.floodCount))
                    #expect(sent.current == Self.floodCount)
                    try await connection.writeClose(.normalClosure)
                }
            }
        }
    }

    @Test("A client that stops reading makes the server's send(contentsOf:) wait too; every message arrives in order")
    func serverBatchedSendWaitsForSlowClient() async throws {
        try await withTimeout(.seconds(50)) {
            let sent = Counter()
            let batchSize = 8
            var router = WebSocketRouter()
            router.webSocket("/flood") { connection in
                for start in stride(from: 0, to: Self.floodCount, by: batchSize) {
                    try await connection.send(contentsOf: (start..<start + batchSize).map { Self.indexed($0) })
                    for _ in 0..<batchSize { sent.increment() }
                }
                try await connection.send(text: "done")
                for try await _ in connection.messages {}
            }
            try await withServer(.test(compression: nil), router: router) { server in
                try await RawClient.withConnection(port: server.port, receiveBufferSize: Self.receiveBufferSize) { connection in
                    #expect(try await connection.sendUpgradeRequest(path: "/flood")?.status == 101)
                    // A batch is bounded like one message of its size.
                    let stalledAt = try await Self.waitUntilStable { sent.current }
                    #expect(stalledAt < Self.floodCount, "send(contentsOf:) never waited")
                    if let kernelBufferBound = Self.kernelBufferBound {
                        #expect(stalledAt * Self.messageSize <= kernelBufferBound + (4 + batchSize) * Self.messageSize)
                    }
                    #expect(try await Self.readIndices(connection) == Array(0..<Self.floodCount))
                    #expect(sent.current == Self.floodCount)
                    try await connection.writeClose(.normalClosure)
                }
            }
        }
    }

    @Test("trySend(contentsOf:) refuses once a client stops reading, within the same bound; nothing is lost")
    func serverTrySendRefusesForSlowClient() async throws {
        try await withTimeout(.seconds(50)) {
            let accepted = Counter()
            let refused = Counter()
            var router = WebSocketRouter()
            router.webSocket("/flood") { connection in
                for index in 0..<Self.floodCount {
                    if connection.trySend(contentsOf: [Self.indexed(index)]) {
                        accepted.increment()
                        continue
                    }
                    // Refused: nothing was sent, so this message goes with the waiting send.
                    refused.increment()
                    try await connection.send(Self.indexed(index))
                }
                try await connection.send(text: "done")
                for try await _ in connection.messages {}
            }
            try await withServer(.test(compression: nil), router: router) { server in
                try await RawClient.withConnection(port: server.port, receiveBufferSize: Self.receiveBufferSize) { connection in
                    #expect(try await connection.sendUpgradeRequest(path: "/flood")?.status == 101)
                    try await waitUntil(.seconds(20)) { refused.current > 0 }
                    Self.expectBounded(stalledAt: accepted.current)
                    #expect(try await Self.readIndices(connection) == Array(0..<Self.floodCount))
                    #expect(accepted.current + refused.current == Self.floodCount)
                    try await connection.writeClose(.normalClosure)
                }
            }
        }
    }

    @Test("A server that stops reading makes the client's send wait instead of buffering without bound")
    func clientSendWaitsForSlowServer() async throws {
        try await withTimeout(.seconds(50)) {
            let (resume, resumeSignal) = AsyncStream<Void>.makeStream()
            let (counted, countedSignal) = AsyncStream<[Int]>.makeStream()
            try await RawServer.withServer(
                receiveBufferSize: Self.receiveBufferSize,
                handler: { connection in
                    try await connection.acceptUpgrade()
                    // Not reading until told to; then collect what arrives.
                    for await _ in resume { break }
                    countedSignal.yield(try await Self.readIndices(connection))
                    // RFC 6455 §5.5.1: echo the client's close frame, then close TCP (the server's job).
                    while let frame = try await connection.readFrame(), frame.opcode != .close {}
                    try await connection.writeClose(.normalClosure)
                }
            ) { server in
                let configuration = WebSocketClientConfiguration.test { $0.compression = nil }
                try await WebSocketConnection.connect(to: server.url(), configuration: configuration, logger: .test) { connection in
                    let sent = Counter()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for index in 0..<Self.floodCount {
                                try await connection.send(Self.indexed(index))
                                sent.increment()
                            }
                            try await connection.send(text: "end")
                        }
                        Self.expectBounded(stalledAt: try await Self.waitUntilStable { sent.current })
                        resumeSignal.yield()
                        try await group.waitForAll()
                    }
                    var indices: [Int]?
                    for await received in counted {
                        indices = received
                        break
                    }
                    #expect(indices == Array(0..<Self.floodCount))
                }
            }
        }
    }

    @Test("broadcast skips a connection that does not read, and the others keep receiving")
    func broadcastPastSlowReader() async throws {
        try await withTimeout(.seconds(50)) {
            let fastCount = 3
            // Below NIO's low write watermark (32 KiB): a reader that has received every message
            // has less than one message pending, so only the slow reader can become unwritable.
            let size = 16 * 1024
            var router = WebSocketRouter()
            router.webSocket("/room") { connection in
                while connection.isOpen { try await Task.sleep(for: .milliseconds(20)) }
            }
            try await withServer(.test(compression: nil), router: router) { server in
                let (deliveries, delivered) = AsyncStream<Int>.makeStream()
                let (drain, drainSignal) = AsyncStream<Void>.makeStream()
                try await withThrowingTaskGroup(of: (isSlow: Bool, indices: [Int]).self) { group in
                    for _ in 0..<fastCount {
                        group.addTask {
                            try await WebSocketConnection.connect(to: server.url("/room"), configuration: .test(), logger: .test) {
                                connection in
                                var indices: [Int] = []
                                for try await message in connection.messages {
                                    guard let index = Self.index(of: message.data), message.kind == .binary else { break }
                                    indices.append(index)
                                    delivered.yield(index)
                                }
                                return (false, indices)
                            }
                        }
                    }
                    group.addTask {
                        try await WebSocketConnection.connect(to: server.url("/room"), configuration: .test(), logger: .test) {
                            connection in
                            // Does not read until the broadcasting is over.
                            for await _ in drain { break }
                            var indices: [Int] = []
                            for try await message in connection.messages {
                                guard let index = Self.index(of: message.data), message.kind == .binary else { break }
                                indices.append(index)
                            }
                            return (true, indices)
                        }
                    }
                    try await waitUntil { server.server.connections.count == fastCount + 1 }
                    let connections = server.server.connections

                    var reports: [BroadcastReport] = []
                    var receipts = deliveries.makeAsyncIterator()
                    var extraRoundsAfterSkip = 3
                    for index in 0..<4000 {
                        let report = WebSocketConnection.broadcast(Self.indexed(index, size: size), to: connections)
                        reports.append(report)
                        // The fast readers get each message before the next one is broadcast, so
                        // they are never behind (a test that hangs here means one was skipped).
                        for _ in 0..<fastCount { _ = await receipts.next() }
                        if report.skippedSlow > 0 {
                            extraRoundsAfterSkip -= 1
                            if extraRoundsAfterSkip == 0 { break }
                        }
                    }
                    let skipped = reports.map(\.skippedSlow).reduce(0, +)
                    #expect(skipped >= 3, "the slow reader was never skipped in \(reports.count) broadcasts")
                    for report in reports {
                        #expect(report.sent + report.skippedSlow + report.skippedClosed == fastCount + 1)
                        #expect(report.skippedSlow <= 1)
                        #expect(report.skippedClosed == 0)
                    }

                    // End: the slow reader drains; a text message ends every client's loop.
                    drainSignal.yield()
                    for connection in connections { try await connection.send(text: "end") }
                    var fastResults: [[Int]] = []
                    var slowResult: [Int] = []
                    for try await result in group {
                        if result.isSlow { slowResult = result.indices } else { fastResults.append(result.indices) }
                    }
                    for indices in fastResults {
                        #expect(indices == Array(0..<reports.count))
                    }
                    // The slow reader got the messages it was not skipped for, in order.
                    #expect(slowResult.count == reports.count - skipped)
                    #expect(slowResult == slowResult.sorted())
                }
            }
        }
    }
}
