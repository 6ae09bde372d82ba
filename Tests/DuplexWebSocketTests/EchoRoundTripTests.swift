import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import Testing

/// Messages sent by a Duplex client come back unchanged from a Duplex echo server
/// (RFC 6455 §5.6 data frames, §5.4 fragmentation, RFC 7692 compression).
@Suite("Echo round trips over loopback", .timeLimit(.minutes(1)))
struct EchoRoundTripTests {
    /// Messages of every kind and size, each echoed back unchanged.
    static let messages: [(name: String, message: WebSocketMessage)] = [
        ("text", .text("hello, wörld 👋")),
        ("binary", .binary([0, 1, 2, 0xFF, 0xFE])),
        ("empty text", .text("")),
        ("empty binary", .binary([UInt8]())),
        ("1 MiB binary", .binary(randomBytes(1 << 20 - 1024))),
        ("1 MiB text", .text(String(repeating: "Duplex ", count: (1 << 20) / 7))),
    ]

    @Test("RFC 6455 §5.6: data messages round-trip, with and without permessage-deflate", arguments: [false, true])
    func dataMessagesRoundTrip(compressed: Bool) async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                let configuration = WebSocketClientConfiguration.test { $0.compression = compressed ? .default : nil }
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: configuration, logger: .test) { connection in
                    // RFC 7692 §5: the server accepted the offer exactly when one was made.
                    #expect((connection.extensions?.contains("permessage-deflate") ?? false) == compressed)
                    var replies = connection.messages.makeAsyncIterator()
                    for (name, message) in Self.messages {
                        try await connection.send(message)
                        let reply = try await replies.next()
                        #expect(reply == message, "\(name)")
                    }
                }
            }
        }
    }

    @Test("RFC 7692: an incompressible message of exactly maxMessageSize round-trips with permessage-deflate")
    func incompressibleMaximumMessage() async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: .test(), logger: .test) { connection in
                    let message = WebSocketMessage.binary(randomBytes(1 << 20))
                    try await connection.send(message)
                    var replies = connection.messages.makeAsyncIterator()
                    let reply = try await replies.next()
                    #expect(reply == message)
                }
            }
        }
    }

    @Test("RFC 6455 §5.4: a fragmented send arrives as one message", arguments: [false, true])
    func fragmentedSend(compressed: Bool) async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                let configuration = WebSocketClientConfiguration.test { $0.compression = compressed ? .default : nil }
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: configuration, logger: .test) { connection in
                    var replies = connection.messages.makeAsyncIterator()
                    let text = String((0..<10_000).map { _ in "abcdéf€𝄞".randomElement() ?? "a" })
                    // A fragment boundary inside multi-byte UTF-8 sequences must not matter.
                    try await connection.send(.text(text), fragmentSize: 333)
                    #expect(try await replies.next()?.text == text)
                    let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
                    try await connection.send(.binary(bytes), fragmentSize: 1000)
                    #expect(try await replies.next()?.bytes == bytes)
                    // Streaming with sendFragment, the last fragment empty.
                    try await connection.sendFragment(ByteBuffer(string: "stream"), kind: .text, isFinal: false)
                    try await connection.sendFragment(ByteBuffer(string: "ed"), kind: .text, isFinal: false)
                    try await connection.sendFragment(ByteBuffer(), kind: .text, isFinal: true)
                    #expect(try await replies.next()?.text == "streamed")
                }
            }
        }
    }

    @Test("RFC 6455 §6.1: many messages arrive in the order they were sent")
    func manyMessagesInOrder() async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: .test(), logger: .test) { connection in
                    let count = 2000
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for index in 0..<count { try await connection.send(text: "message \(index)") }
                        }
                        var received = 0
                        for try await message in connection.messages {
                            #expect(message.text == "message \(received)")
                            received += 1
                            if received == count { break }
                        }
                        #expect(received == count)
                        try await group.waitForAll()
                    }
                }
            }
        }
    }

    @Test("send(contentsOf:) sends every message in order, whole, with and without permessage-deflate", arguments: [false, true])
    func batchedSend(compressed: Bool) async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                let configuration = WebSocketClientConfiguration.test { $0.compression = compressed ? .default : nil }
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: configuration, logger: .test) { connection in
                    var replies = connection.messages.makeAsyncIterator()
                    let batch = Self.messages.map(\.message)
                    try await connection.send(contentsOf: batch)
                    try await connection.send(contentsOf: [WebSocketMessage]())
                    try await connection.send(contentsOf: [WebSocketMessage.text("single")])
                    for (name, message) in Self.messages {
                        #expect(try await replies.next() == message, "\(name)")
                    }
                    #expect(try await replies.next()?.text == "single")
                    try await connection.close()
                    await #expect {
                        try await connection.send(contentsOf: [WebSocketMessage.text("late"), .text("later")])
                    } throws: { error in
                        (error as? WebSocketError)?.code == .sendAfterClose
                    }
                }
            }
        }
    }

    @Test("trySend(_:) and trySend(contentsOf:) send in order from a task and from the event loop; refuse after close")
    func trySend() async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: .test(), logger: .test) { connection in
                    var replies = connection.messages.makeAsyncIterator()
                    #expect(connection.trySend(contentsOf: [WebSocketMessage.text("a"), .binary([1, 2])]))
                    #expect(connection.trySend(.text("a1")))
                    let fromLoop = try await connection.eventLoop.submit {
                        connection.trySend(contentsOf: [WebSocketMessage.text("b")]) && connection.trySend(.binary([3]))
                    }.get()
                    #expect(fromLoop)
                    try await connection.send(text: "c")
                    let expectedReplies = [WebSocketMessage.text("a"), .binary([1, 2]), .text("a1"), .text("b"), .binary([3]), .text("c")]
                    for expected in expectedReplies {
                        #expect(try await replies.next() == expected)
                    }
                    try await connection.close()
                    #expect(!connection.trySend(contentsOf: [WebSocketMessage.text("late")]))
                    #expect(!connection.trySend(.text("later")))
                }
            }
        }
    }

    @Test("Several concurrent connections each get their own echoes")
    func concurrentConnections() async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for client in 0..<8 {
                        group.addTask {
                            try await WebSocketConnection.connect(to: server.url("/echo"), configuration: .test(), logger: .test) {
                                connection in
                                var replies = connection.messages.makeAsyncIterator()
                                var matched = 0
                                for index in 0..<50 {
                                    try await connection.send(text: "client \(client) message \(index)")
                                    if try await replies.next()?.text == "client \(client) message \(index)" { matched += 1 }
                                }
                                return matched
                            }
                        }
                    }
                    var total = 0
                    for try await matched in group { total += matched }
                    #expect(total == 8 * 50)
                }
            }
        }
    }

    @Test("RFC 6455 §4.2.2: the server selects the client's first offered subprotocol that it supports")
    func subprotocolFromServerList() async throws {
        try await withTimeout {
            let configuration = WebSocketServerConfiguration.test { $0.subprotocols = ["chat.v2", "chat.v1"] }
            var router = WebSocketRouter()
            router.webSocket("/chat") { connection in try await connection.send(text: connection.subprotocol ?? "none") }
            try await withServer(configuration, router: router) { server in
                let offers: [(offered: [String], selected: String?)] = [
                    (["chat.v1", "chat.v2"], "chat.v1"),
                    (["chat.v3", "chat.v2"], "chat.v2"),
                    (["chat.v3"], nil),
                    ([], nil),
                ]
                for (offered, selected) in offers {
                    let client = WebSocketClientConfiguration.test { $0.subprotocols = offered }
                    try await WebSocketConnection.connect(to: server.url("/chat"), configuration: client, logger: .test) { connection in
                        #expect(connection.subprotocol == selected, "offered \(offered)")
                        var messages = connection.messages.makeAsyncIterator()
                        let reply = try await messages.next()?.text
                        #expect(reply == (selected ?? "none"), "offered \(offered)")
                    }
                }
            }
        }
    }

    @Test("The upgrade hook overrides the subprotocol selection, or selects none")
    func subprotocolFromHook() async throws {
        try await withTimeout {
            let configuration = WebSocketServerConfiguration.test { $0.subprotocols = ["chat.v1", "chat.v2"] }
            var router = WebSocketRouter()
            router.webSocket("/v2", shouldUpgrade: { _ in .accept(subprotocol: "chat.v2") }) { _ in }
            router.webSocket("/none", shouldUpgrade: { _ in .accept(subprotocol: .some(nil)) }) { _ in }
            router.webSocket(
                "/offers",
                shouldUpgrade: { request in .accept(subprotocol: request.offeredSubprotocols.last) }
            ) { _ in }
            try await withServer(configuration, router: router) { server in
                let client = WebSocketClientConfiguration.test { $0.subprotocols = ["chat.v1", "chat.v2"] }
                for (path, expected) in [("/v2", "chat.v2"), ("/none", nil), ("/offers", "chat.v2")] as [(String, String?)] {
                    let selected = try await WebSocketConnection.connect(to: server.url(path), configuration: client, logger: .test) {
                        $0.subprotocol
                    }
                    #expect(selected == expected, "\(path)")
                }
            }
        }
    }

    @Test("RFC 7692: compression is negotiated only when both sides enable it")
    func compressionNegotiation() async throws {
        try await withTimeout {
            var router = WebSocketRouter()
            router.webSocket("/ws") { _ in }
            router.webSocket("/plain", shouldUpgrade: { _ in .accept(compression: false) }) { _ in }
            for serverCompression in [true, false] {
                try await withServer(.test(compression: serverCompression ? .default : nil), router: router) { server in
                    for clientCompression in [true, false] {
                        let client = WebSocketClientConfiguration.test { $0.compression = clientCompression ? .default : nil }
                        let extensions = try await WebSocketConnection.connect(to: server.url("/ws"), configuration: client, logger: .test)
                        {
                            $0.extensions
                        }
                        #expect(
                            (extensions?.hasPrefix("permessage-deflate") ?? false) == (serverCompression && clientCompression),
                            "server \(serverCompression), client \(clientCompression): \(extensions ?? "none")"
                        )
                        // The hook declines compression for one connection.
                        let declined = try await WebSocketConnection.connect(to: server.url("/plain"), configuration: client, logger: .test)
                        {
                            $0.extensions
                        }
                        #expect(declined == nil)
                    }
                }
            }
        }
    }
}
