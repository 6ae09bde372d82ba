import NIOCore
import Testing

@testable import DuplexWebSocketCore

@Suite("RFC 7692 §7.2: compressing and decompressing messages")
struct PerMessageDeflateTests {
    typealias Parameters = PerMessageDeflateParameters

    static let hello = Array("Hello".utf8)
    /// RFC 7692 §7.2.3.1: "Hello" compressed in one DEFLATE block, tail removed.
    static let compressedHello: [UInt8] = [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]
    /// RFC 7692 §7.2.3.2: the second "Hello" refers to the first one in the shared window.
    static let compressedHelloAgain: [UInt8] = [0xF2, 0x00, 0x11, 0x00, 0x00]
    static let largeLimit = 1 << 24

    // MARK: - §7.2.3 examples

    @Test("§7.2.3.1: \"Hello\" compresses to one DEFLATE block, and back")
    func oneCompressedBlock() throws {
        let (client, server) = try makePair()
        #expect(compress(client, Self.hello) == Self.compressedHello)
        #expect(try decompress(server, Self.compressedHello) == Self.hello)
    }

    @Test("§7.2.3.1: a compressed message split over two frames")
    func compressedMessageInTwoFrames() throws {
        let (_, server) = try makePair()
        let inflated = try decompress(server, fragments: [[0xF2, 0x48, 0xCD], [0xC9, 0xC9, 0x07, 0x00]])
        #expect(inflated == Self.hello)
    }

    @Test("§7.2.3.2: with context takeover the second \"Hello\" refers to the first")
    func sharingTheSlidingWindow() throws {
        let (client, server) = try makePair()
        #expect(compress(client, Self.hello) == Self.compressedHello)
        #expect(compress(client, Self.hello) == Self.compressedHelloAgain)
        #expect(try decompress(server, Self.compressedHello) == Self.hello)
        #expect(try decompress(server, Self.compressedHelloAgain) == Self.hello)
    }

    @Test(
        "§7.1.1: without context takeover every message compresses alone",
        arguments: [true, false]
    )
    func noContextTakeover(isClientSending: Bool) throws {
        let parameters = Parameters(serverNoContextTakeover: !isClientSending, clientNoContextTakeover: isClientSending)
        let (client, server) = try makePair(parameters)
        let (sender, receiver) = isClientSending ? (client, server) : (server, client)
        for _ in 0..<3 {
            let compressed = compress(sender, Self.hello)
            #expect(compressed == Self.compressedHello)
            #expect(try decompress(receiver, compressed) == Self.hello)
        }
        // The other direction still shares its window.
        let (otherSender, otherReceiver) = isClientSending ? (server, client) : (client, server)
        #expect(compress(otherSender, Self.hello) == Self.compressedHello)
        #expect(compress(otherSender, Self.hello) == Self.compressedHelloAgain)
        #expect(try decompress(otherReceiver, Self.compressedHello) == Self.hello)
        #expect(try decompress(otherReceiver, Self.compressedHelloAgain) == Self.hello)
    }

    @Test("§7.1.1: an inflater without context takeover rejects references to a previous message")
    func noContextTakeoverInflaterForgetsTheWindow() throws {
        let (_, server) = try makePair(Parameters(clientNoContextTakeover: true))
        #expect(try decompress(server, Self.compressedHello) == Self.hello)
        let error = #expect(throws: WebSocketError.self) { try decompress(server, Self.compressedHelloAgain) }
        #expect(error?.code == .protocolViolation)
    }

    @Test("§7.2.3.3: a DEFLATE block with no compression")
    func storedBlock() throws {
        let (_, server) = try makePair()
        let stored: [UInt8] = [0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00]
        #expect(try decompress(server, stored) == Self.hello)
        #expect(try decompress(server, stored) == Self.hello)
    }

    @Test("§7.2.3.4: a DEFLATE block with BFINAL set, then messages that use the window", arguments: [false, true])
    func finalBlock(noContextTakeover: Bool) throws {
        let (_, server) = try makePair(Parameters(clientNoContextTakeover: noContextTakeover))
        let final: [UInt8] = [0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00]
        #expect(try decompress(server, final) == Self.hello)
        // The stream restarts after the BFINAL block; with context takeover it keeps the window.
        let next = noContextTakeover ? Self.compressedHello : Self.compressedHelloAgain
        #expect(try decompress(server, next) == Self.hello)
        #expect(try decompress(server, fragments: [Array(final[..<3]), Array(final[3...]), [0x01, 0x02]]) == Self.hello)
        #expect(try decompress(server, Self.compressedHello) == Self.hello)
    }

    @Test("§7.2.3.5: two DEFLATE blocks in one message")
    func twoBlocks() throws {
        let (_, server) = try makePair()
        let twoBlocks: [UInt8] = [0xF2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xCA, 0xC9, 0xC9, 0x07, 0x00]
        #expect(try decompress(server, twoBlocks) == Self.hello)
    }

    @Test("§7.2.3.6: a fragmented message whose last frame is empty ends with 0x00")
    func emptyLastFragment() throws {
        let (client, server) = try makePair()
        let first = compress(client, Self.hello, isFinal: false)
        #expect(first == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00, 0x00, 0xFF, 0xFF])
        let last = compress(client, [], isFinal: true)
        #expect(last == [0x00])
        #expect(try decompress(server, fragments: [first, last]) == Self.hello)
        // The window carries on into the next message.
        #expect(compress(client, Self.hello) == Self.compressedHelloAgain)
        #expect(try decompress(server, Self.compressedHelloAgain) == Self.hello)
    }

    @Test("§7.2.3.6: empty messages compress to 0x00, repeatedly, and decompress to nothing")
    func emptyMessages() throws {
        let (client, server) = try makePair()
        for _ in 0..<3 {
            let compressed = compress(client, [])
            #expect(compressed == [0x00])
            #expect(try decompress(server, compressed) == [])
        }
        #expect(compress(client, Self.hello) == Self.compressedHello)
        #expect(try decompress(server, Self.compressedHello) == Self.hello)
    }

    @Test("an empty payload with RSV1 decompresses to nothing and leaves the stream usable")
    func emptyPayload() throws {
        let (_, server) = try makePair()
        #expect(try decompress(server, []) == [])
        #expect(try decompress(server, fragments: [[], []]) == [])
        #expect(try decompress(server, Self.compressedHello) == Self.hello)
    }

    // MARK: - Round trips

    static let roundTripParameters: [Parameters] = [
        Parameters(),
        Parameters(serverNoContextTakeover: true, clientNoContextTakeover: true),
        Parameters(clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9),
        Parameters(serverMaxWindowBits: 9, clientMaxWindowBits: 12),
        // A client that agreed to 8 bits but deflates with 9, as zlib before 1.2.9 did.
        Parameters(serverMaxWindowBits: 15, clientMaxWindowBits: 8),
    ]

    @Test("§7.2: messages of random sizes up to 1 MiB round-trip both ways", arguments: roundTripParameters)
    func roundTripWholeMessages(_ parameters: Parameters) throws {
        var generator = SplitMix64(seed: 0x7692)
        let (client, server) = try makePair(parameters)
        for index in 0..<12 {
            let size = index == 0 ? 0 : Int(generator.next() % UInt64(1 << 20)) + 1
            let message = makeMessage(size: size, compressible: index % 3 != 2, generator: &generator)
            let fromClient = compress(client, message)
            #expect(try decompress(server, fromClient) == message)
            let fromServer = compress(server, message)
            #expect(try decompress(client, fromServer) == message)
        }
    }

    @Test(
        "§7.2: fragmented messages round-trip, whatever the frame boundaries",
        arguments: roundTripParameters.prefix(4)
    )
    func roundTripFragmentedMessages(_ parameters: Parameters) throws {
        var generator = SplitMix64(seed: 0x6455)
        let (client, server) = try makePair(parameters)
        for index in 0..<8 {
            let size = Int(generator.next() % UInt64(1 << 20))
            let message = makeMessage(size: size, compressible: index % 4 != 3, generator: &generator)
            // Compress in random chunks, some of them empty.
            var compressed: [UInt8] = []
            var offset = 0
            repeat {
                let chunk = min(Int(generator.next() % 70_000), message.count - offset)
                let isFinal = offset + chunk == message.count && generator.next() % 2 == 0
                compressed += compress(client, Array(message[offset..<offset + chunk]), isFinal: isFinal)
                offset += chunk
                if isFinal { break }
                if offset == message.count {
                    compressed += compress(client, [], isFinal: true)
                    break
                }
            } while true
            // Frame boundaries on the wire need not match the sender's.
            var fragments: [[UInt8]] = []
            var start = 0
            while start < compressed.count {
                let end = min(compressed.count, start + Int(generator.next() % 40_000))
                fragments.append(Array(compressed[start..<end]))
                start = end
            }
            #expect(try decompress(server, fragments: fragments) == message)
        }
    }

    @Test("§7.1.2: a 9-bit window keeps distances within 512 bytes")
    func smallWindowIsRespected() throws {
        var generator = SplitMix64(seed: 9)
        let block = makeMessage(size: 1000, compressible: false, generator: &generator)
        let message = block + block + block
        let (wideClient, _) = try makePair()
        let (narrowClient, narrowServer) = try makePair(Parameters(clientMaxWindowBits: 9))
        let wide = compress(wideClient, message)
        let narrow = compress(narrowClient, message)
        // A 15-bit window finds the repeats 1000 bytes back; a 9-bit one cannot.
        #expect(wide.count < 1200)
        #expect(narrow.count > 2900)
        #expect(try decompress(narrowServer, narrow) == message)
    }

    // MARK: - Limits and corrupt input

    @Test("a compression bomb fails with messageTooLarge without allocating past the limit")
    func compressionBomb() throws {
        let (client, server) = try makePair()
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var bomb: [UInt8] = []
        for index in 0..<100 {  // 100 MiB of zeros
            bomb += compress(client, zeros, isFinal: index == 99)
        }
        #expect(bomb.count < 200_000)

        let limit = 1 << 20
        var output = ByteBuffer()
        let error = #expect(throws: WebSocketError.self) {
            try server.decompressFragment(ByteBuffer(bytes: bomb), isFinal: true, into: &output, maxMessageSize: limit)
        }
        #expect(error?.code == .messageTooLarge)
        #expect(output.readableBytes <= limit)
        #expect(output.capacity <= limit)
    }

    @Test("messageTooLarge counts earlier fragments, and exactly the limit is allowed")
    func limitAcrossFragments() throws {
        let (client, server) = try makePair()
        let message = [UInt8](repeating: 0x61, count: 10_000)
        let compressed = compress(client, message)

        var exact = ByteBuffer()
        try server.decompressFragment(
            ByteBuffer(bytes: compressed), isFinal: true, into: &exact, maxMessageSize: 10_000
        )
        #expect(exact.readableBytes == 10_000)

        let (_, limitedServer) = try makePair()
        var output = ByteBuffer()
        let split = compressed.count / 2
        try limitedServer.decompressFragment(
            ByteBuffer(bytes: compressed[..<split]), isFinal: false, into: &output, maxMessageSize: 9_999
        )
        let error = #expect(throws: WebSocketError.self) {
            try limitedServer.decompressFragment(
                ByteBuffer(bytes: compressed[split...]), isFinal: true, into: &output, maxMessageSize: 9_999
            )
        }
        #expect(error?.code == .messageTooLarge)
        #expect(output.readableBytes <= 9_999)
    }

    static let corruptPayloads: [[UInt8]] = [
        [0xFF, 0xFF, 0xFF],  // BTYPE 11: invalid block type
        [0x00, 0x05, 0x00, 0x00, 0x00, 0x48],  // stored block whose NLEN is not ~LEN
        compressedHelloAgain,  // refers to a window the inflater has never seen
        [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0xFF, 0xFF, 0xFF],  // valid block, then garbage
    ]

    @Test("corrupt DEFLATE data fails with protocolViolation, and the next message decodes", arguments: corruptPayloads)
    func corruptInput(_ payload: [UInt8]) throws {
        let (_, server) = try makePair(Parameters(clientNoContextTakeover: true))
        let error = #expect(throws: WebSocketError.self) { try decompress(server, payload) }
        #expect(error?.code == .protocolViolation)
        #expect(error?.closeCode == .protocolError)
        #expect(try decompress(server, Self.compressedHello) == Self.hello)
    }

    // MARK: - Setup

    static let invalidSetups: [(Parameters, Bool, PerMessageDeflateConfiguration)] = [
        (Parameters(clientMaxWindowBits: 8), true, .default),  // zlib cannot deflate with 8 bits
        (Parameters(serverMaxWindowBits: 8), false, .default),
        (Parameters(serverMaxWindowBits: 16), true, .default),
        (Parameters(clientMaxWindowBits: 7), false, .default),
        (Parameters(), true, PerMessageDeflateConfiguration(memoryLevel: 0)),
    ]

    @Test("the codec refuses windows and settings zlib cannot use", arguments: invalidSetups)
    func invalidSetup(parameters: Parameters, isClient: Bool, configuration: PerMessageDeflateConfiguration) {
        let error = #expect(throws: WebSocketError.self) {
            try PerMessageDeflate(parameters: parameters, isClient: isClient, configuration: configuration)
        }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test("§6.1: messages below minimumMessageSize are sent uncompressed")
    func minimumMessageSize() throws {
        let codec = try PerMessageDeflate(
            parameters: Parameters(),
            isClient: true,
            configuration: PerMessageDeflateConfiguration(minimumMessageSize: 64)
        )
        #expect(!codec.shouldCompress(messageSize: 0))
        #expect(!codec.shouldCompress(messageSize: 63))
        #expect(codec.shouldCompress(messageSize: 64))
        let compressAll = try PerMessageDeflate(parameters: Parameters(), isClient: true, configuration: .default)
        #expect(compressAll.shouldCompress(messageSize: 0))
    }

    @Test("compression levels change the output and all round-trip", arguments: [0, 1, 9])
    func compressionLevels(level: Int) throws {
        let configuration = PerMessageDeflateConfiguration(compressionLevel: level, memoryLevel: 9)
        let client = try PerMessageDeflate(parameters: Parameters(), isClient: true, configuration: configuration)
        let server = try PerMessageDeflate(parameters: Parameters(), isClient: false, configuration: .default)
        let message = Array(String(repeating: "permessage-deflate ", count: 500).utf8)
        let compressed = compress(client, message)
        if level == 0 {
            #expect(compressed.count > message.count)
        } else {
            #expect(compressed.count < message.count / 10)
        }
        #expect(try decompress(server, compressed) == message)
    }

    // MARK: - Helpers

    /// A client and a server codec; a client told to deflate with 8 bits uses 9, as old zlib did.
    private func makePair(
        _ parameters: Parameters = Parameters()
    ) throws -> (client: PerMessageDeflate, server: PerMessageDeflate) {
        var clientParameters = parameters
        clientParameters.clientMaxWindowBits = max(parameters.clientMaxWindowBits, 9)
        return (
            try PerMessageDeflate(parameters: clientParameters, isClient: true, configuration: .default),
            try PerMessageDeflate(parameters: parameters, isClient: false, configuration: .default)
        )
    }

    private func compress(_ codec: PerMessageDeflate, _ bytes: [UInt8], isFinal: Bool = true) -> [UInt8] {
        let input = ByteBuffer(bytes: bytes)
        let output =
            isFinal
            ? codec.compress(input, allocator: ByteBufferAllocator())
            : codec.compressFragment(input, isFinal: false, allocator: ByteBufferAllocator())
        return Array(output.readableBytesView)
    }

    private func decompress(_ codec: PerMessageDeflate, _ payload: [UInt8]) throws(WebSocketError) -> [UInt8] {
        try decompress(codec, fragments: [payload])
    }

    private func decompress(_ codec: PerMessageDeflate, fragments: [[UInt8]]) throws(WebSocketError) -> [UInt8] {
        var output = ByteBuffer()
        for (index, fragment) in fragments.enumerated() {
            try codec.decompressFragment(
                ByteBuffer(bytes: fragment),
                isFinal: index == fragments.count - 1,
                into: &output,
                maxMessageSize: Self.largeLimit
            )
        }
        if fragments.isEmpty {
            try codec.decompressFragment(ByteBuffer(), isFinal: true, into: &output, maxMessageSize: Self.largeLimit)
        }
        return Array(output.readableBytesView)
    }

    /// Text-like data drawn from a small vocabulary, or uniformly random bytes.
    private func makeMessage(size: Int, compressible: Bool, generator: inout SplitMix64) -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(size)
        if compressible {
            let words = ["socket ", "frame ", "deflate ", "window ", "message ", "zlib ", "{\"event\":", "42, "]
            while message.count < size {
                message += words[Int(generator.next() % UInt64(words.count))].utf8
            }
            message.removeLast(message.count - size)
        } else {
            while message.count < size {
                withUnsafeBytes(of: generator.next()) { message += $0.prefix(size - message.count) }
            }
        }
        return message
    }
}

/// A small deterministic generator, so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
