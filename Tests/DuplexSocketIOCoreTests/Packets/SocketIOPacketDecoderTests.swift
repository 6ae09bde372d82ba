import DuplexSocketIOCore
import NIOCore
import Testing

@Suite("Packet decoding (protocol.md 4.2.3, 4.2.4)")
struct SocketIOPacketDecoderTests {
    @Test("4.2.3 examples decode to their packets", arguments: ProtocolExamples.table)
    func examples(example: ProtocolExamples.Example) throws {
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.decode(example.text, attachments: example.attachments) == example.packet)
        #expect(decoder.pendingAttachmentCount == 0)
    }

    static let validPackets: [(String, SocketIOPacket)] = [
        // "The decoder also accepts a namespace that runs to the end of the string, e.g. 40/custom".
        ("0/custom", .connect(namespace: "/custom")),
        ("0/custom,", .connect(namespace: "/custom")),
        ("1/admin", .disconnect(namespace: "/admin")),
        // "0 is valid" (python-socketio#1329).
        (#"20["x"]"#, .event("x", ackID: 0)),
        (#"2/admin,0["x"]"#, .event("x", namespace: "/admin", ackID: 0)),
        (#"218446744073709551615["x"]"#, .event("x", ackID: UInt64.max)),
        (#"2[1,"a"]"#, SocketIOPacket(type: .event, data: [1, "a"])),
        (#"2[1.5]"#, SocketIOPacket(type: .event, data: [1.5])),
        (#"2 ["x"] "#, .event("x")),
        (#"2["connection"]"#, .event("connection")),
        (#"3[]"#, SocketIOPacket(type: .ack, data: [])),
        (#"4"Unable to connect""#, SocketIOPacket(type: .connectError, data: "Unable to connect")),
        (#"0{}"#, .connect(data: [:])),
        (#"2/ünï,["x"]"#, .event("x", namespace: "/ünï")),
        // protocol v5 does not split a query off the namespace.
        ("0/admin?token=abc,", .connect(namespace: "/admin?token=abc")),
    ]

    @Test("accepted packets", arguments: validPackets)
    func accepted(text: String, expected: SocketIOPacket) throws {
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.decode(text) == expected)
    }

    static let invalidPackets: [(String, SocketIOError.Code, String)] = [
        ("", .invalidPacket, "empty"),
        ("7", .invalidPacket, "unknown type"),
        ("x", .invalidPacket, "unknown type"),
        ("abc", .invalidPacket, "protocol.md: 4abc closes (Engine.IO prefix 4)"),
        ("2{}", .invalidPacket, "protocol.md: 42{} closes"),
        ("2abc[\"x\"]", .invalidJSON, "protocol.md: 42abc[...] closes"),
        ("2", .invalidPacket, "EVENT without payload"),
        ("2[]", .invalidPacket, "EVENT without name"),
        ("2[null]", .invalidPacket, "EVENT name null"),
        ("2[true]", .invalidPacket, "EVENT name boolean"),
        ("2[{}]", .invalidPacket, "EVENT name object"),
        ("2[[\"x\"]]", .invalidPacket, "EVENT name array"),
        ("2\"x\"", .invalidPacket, "EVENT payload string"),
        ("2[\"connect\"]", .invalidPacket, "reserved"),
        ("2[\"connect_error\"]", .invalidPacket, "reserved"),
        ("2[\"disconnect\"]", .invalidPacket, "reserved"),
        ("2[\"disconnecting\"]", .invalidPacket, "reserved"),
        ("2[\"newListener\"]", .invalidPacket, "reserved"),
        ("2[\"removeListener\"]", .invalidPacket, "reserved"),
        ("2/admin", .invalidPacket, "namespace to the end leaves EVENT without payload"),
        ("2/admin[\"x\"]", .invalidPacket, "no comma: the payload is part of the namespace"),
        ("3", .invalidPacket, "ACK without payload"),
        ("31", .invalidPacket, "ACK with id but no payload"),
        ("3{}", .invalidPacket, "ACK payload object"),
        ("0[]", .invalidPacket, "CONNECT payload array"),
        ("0\"x\"", .invalidPacket, "CONNECT payload string"),
        ("0null", .invalidPacket, "CONNECT payload null"),
        ("1{}", .invalidPacket, "DISCONNECT with payload"),
        ("1[]", .invalidPacket, "DISCONNECT with payload"),
        ("4", .invalidPacket, "CONNECT_ERROR without payload"),
        ("4[]", .invalidPacket, "CONNECT_ERROR payload array"),
        ("41", .invalidPacket, "CONNECT_ERROR number"),
        ("5-[\"a\"]", .invalidPacket, "attachment count without digits"),
        ("5[\"a\"]", .invalidPacket, "attachment count missing"),
        ("51[\"a\"]", .invalidPacket, "attachment count without dash"),
        ("51", .invalidPacket, "attachment count at end"),
        ("5a-[\"a\"]", .invalidPacket, "attachment count not a number"),
        ("5-1-[\"a\"]", .invalidPacket, "negative attachment count"),
        ("511-[\"a\"]", .tooManyAttachments, "above maxAttachments"),
        ("5999999999999999999999999999-[\"a\"]", .tooManyAttachments, "huge attachment count"),
        ("218446744073709551616[\"x\"]", .invalidPacket, "ack id overflows UInt64"),
        ("299999999999999999999999999[\"x\"]", .invalidPacket, "ack id overflows UInt64"),
        ("2[\"a\"", .invalidJSON, "truncated JSON"),
        ("2[\"a\"]x", .invalidJSON, "trailing data"),
        ("2/admin,[\"a\",]", .invalidJSON, "trailing comma"),
        ("2" + String(repeating: "[", count: 40), .jsonTooDeep, "deep nesting"),
        ("51-[{\"_placeholder\":true,\"num\":0}]", .invalidPacket, "placeholder as event name"),
        ("50-[\"a\",{\"_placeholder\":true,\"num\":0}]", .invalidAttachment, "placeholder with zero attachments"),
    ]

    @Test("rejected packets throw the documented code", arguments: invalidPackets)
    func rejected(text: String, code: SocketIOError.Code, _ reason: String) {
        var decoder = SocketIOPacketDecoder()
        #expect {
            _ = try decoder.textReceived(text)
        } throws: { error in
            (error as? SocketIOError)?.code == code
        }
        #expect(decoder.pendingAttachmentCount == 0)
    }

    @Test("maxAttachments and maxDepth are configurable")
    func limits() throws {
        var strict = SocketIOPacketDecoder(maxAttachments: 1, maxDepth: 2)
        #expect(strict.maxAttachments == 1)
        #expect(throws: SocketIOError(.tooManyAttachments, "more than 1 attachments announced")) {
            try strict.textReceived(#"52-["a"]"#)
        }
        #expect(try strict.textReceived(#"51-["a"]"#) == .awaitingAttachments(1))
        strict.reset()
        #expect(try strict.decode(#"2["a",[1]]"#) != nil)
        #expect(throws: SocketIOError.self) { try strict.textReceived(#"2["a",[[1]]]"#) }
        let clamped = SocketIOPacketDecoder(maxAttachments: -5)
        #expect(clamped.maxAttachments == 0)
        var large = SocketIOPacketDecoder(maxAttachments: Int.max)
        #expect(throws: SocketIOError.self) { try large.textReceived("59999999999999999999999-[\"a\"]") }
    }

    // MARK: 4.2.4 attachments

    @Test("4.2.4: a binary header waits for N binary messages, then substitutes placeholders")
    func attachmentSequence() throws {
        let (a, b) = (ByteBuffer(bytes: [1]), ByteBuffer(bytes: [2, 2]))
        var decoder = SocketIOPacketDecoder()
        let header = #"52-/admin,7["upload",{"x":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        #expect(try decoder.textReceived(header) == .awaitingAttachments(2))
        #expect(decoder.pendingAttachmentCount == 2)
        #expect(try decoder.binaryReceived(a) == .awaitingAttachments(1))
        #expect(decoder.pendingAttachmentCount == 1)
        var expected = SocketIOPacket(
            type: .event,
            namespace: "/admin",
            ackID: 7,
            data: ["upload", ["x": [.binary(b)]], .binary(a), .binary(b)]
        )
        expected.attachmentCount = 2
        #expect(try decoder.binaryReceived(b) == .packet(expected))
        #expect(decoder.pendingAttachmentCount == 0)
        #expect(try decoder.decode(#"2["next"]"#) == .event("next"))
    }

    @Test("4.2.4: a header with count 0 is complete immediately")
    func zeroAttachments() throws {
        var decoder = SocketIOPacketDecoder()
        var expected = SocketIOPacket.event("a", [["_placeholder": false]])
        expected.attachmentCount = 0
        #expect(try decoder.textReceived(#"50-["a",{"_placeholder":false}]"#) == .packet(expected))
        #expect(try decoder.decode("2[\"b\"]") == .event("b"))
    }

    @Test("unused attachments are dropped and a placeholder may repeat, as socket.io-parser")
    func lenientAttachmentUse() throws {
        let (a, b) = (ByteBuffer(bytes: [1]), ByteBuffer(bytes: [2]))
        var decoder = SocketIOPacketDecoder()
        let packet = try decoder.decode(
            #"62-3[{"_placeholder":true,"num":1},{"_placeholder":true,"num":1,"extra":0}]"#,
            attachments: [a, b]
        )
        #expect(packet?.type == .ack)
        #expect(packet?.ackID == 3)
        #expect(packet?.data == [.binary(b), .binary(b)])
        #expect(packet?.attachmentCount == 2)
    }

    static let badPlaceholders: [String] = [
        #"{"_placeholder":true,"num":1}"#,
        #"{"_placeholder":true,"num":-1}"#,
        #"{"_placeholder":true}"#,
        #"{"_placeholder":true,"num":"0"}"#,
        #"{"_placeholder":true,"num":0.5}"#,
        #"{"_placeholder":true,"num":null}"#,
        #"[[{"_placeholder":true,"num":9}]]"#,
    ]

    @Test("4.2.4: a placeholder outside [0, N) or without a valid num is invalidAttachment", arguments: badPlaceholders)
    func badPlaceholder(placeholder: String) throws {
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.textReceived(#"51-["a","# + placeholder + "]") == .awaitingAttachments(1))
        #expect {
            _ = try decoder.binaryReceived(ByteBuffer(bytes: [0]))
        } throws: { error in
            (error as? SocketIOError)?.code == .invalidAttachment
        }
        #expect(decoder.pendingAttachmentCount == 0)
    }

    @Test("placeholders are only substituted in binary packets")
    func placeholdersInPlainEvent() throws {
        var decoder = SocketIOPacketDecoder()
        let packet = try decoder.decode(#"2["a",{"_placeholder":true,"num":0}]"#)
        #expect(packet == .event("a", [["_placeholder": true, "num": 0]]))
    }

    @Test("4.2.4: a text packet while attachments are pending is invalidAttachment, then the decoder is reset")
    func textWhilePending() throws {
        var decoder = SocketIOPacketDecoder()
        _ = try decoder.textReceived(#"52-["a",{"_placeholder":true,"num":0}]"#)
        _ = try decoder.binaryReceived(ByteBuffer(bytes: [1]))
        #expect {
            _ = try decoder.textReceived(#"2["b"]"#)
        } throws: { error in
            (error as? SocketIOError)?.code == .invalidAttachment
        }
        #expect(decoder.pendingAttachmentCount == 0)
        #expect(try decoder.decode(#"2["b"]"#) == .event("b"))
    }

    @Test("4.2.4: binary data with no header pending is invalidAttachment")
    func binaryWithoutHeader() throws {
        var decoder = SocketIOPacketDecoder()
        #expect {
            _ = try decoder.binaryReceived(ByteBuffer(bytes: [1]))
        } throws: { error in
            (error as? SocketIOError)?.code == .invalidAttachment
        }
        _ = try decoder.textReceived(#"51-["a",{"_placeholder":true,"num":0}]"#)
        decoder.reset()
        #expect(throws: SocketIOError.self) { try decoder.binaryReceived(ByteBuffer(bytes: [1])) }
    }

    // MARK: Round trips

    static let roundTripPackets: [SocketIOPacket] = [
        .connect(namespace: "/a", data: ["token": "t", "nested": [1, 2.5, .null]]),
        .connect(data: ["sid": "abc", "pid": "def"]),
        .disconnect(namespace: "/chat"),
        .event("chat", ["héllo \"quoted\"\n", 42, -1.25e-9, ["deep": [[["x"]]]]], namespace: "/room", ackID: 99),
        .event("blob", [.binary(ByteBuffer(bytes: Array(0..<255))), ["more": .binary(ByteBuffer())]], ackID: 1),
        .ack([.binary(ByteBuffer(bytes: [1])), "ok"], namespace: "/x", ackID: 0),
        .ack([], ackID: 5),
        .connectError(namespace: "/x", message: "nope", data: ["why": "because"]),
    ]

    @Test("decode(encode(packet)) == packet", arguments: roundTripPackets)
    func roundTrip(packet: SocketIOPacket) throws {
        let encoder = SocketIOPacketEncoder()
        var decoder = SocketIOPacketDecoder()
        let encoded = encoder.encode(packet)
        #expect(try decoder.decode(encoded.text, attachments: encoded.attachments) == packet)
    }

    // MARK: Robustness

    /// SplitMix64, so the mutations are the same on every run.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(
        "mutated packets are rejected with a decoding code or accepted and re-encode stably",
        arguments: [SocketIOProtocolVersion.v5, .v4]
    )
    func mutations(version: SocketIOProtocolVersion) throws {
        let decodingCodes: Set<SocketIOError.Code> = [
            .invalidPacket, .invalidJSON, .jsonTooDeep, .tooManyAttachments, .invalidAttachment,
        ]
        let alphabet = Array(#"0123456789-/,[]{}":\_placeholdrumt?&=+% é"#.utf8) + [0x00, 0x1F, 0xFF]
        let seeds = ProtocolExamples.table.map(\.text) + [#"0/admin?token=a%20b&x=1,"#, #"2["a",{"b":[1.5e3,null,true]}]"#]
        var random = SeededGenerator(state: 0x5EED)
        let encoder = SocketIOPacketEncoder(protocolVersion: version)
        var accepted = 0
        for _ in 0..<5_000 {
            var bytes = Array(seeds[Int.random(in: 0..<seeds.count, using: &random)].utf8)
            for _ in 0...Int.random(in: 0..<3, using: &random) {
                let position = Int.random(in: 0...bytes.count, using: &random)
                let byte = alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
                switch Int.random(in: 0..<3, using: &random) {
                case 0 where position < bytes.count: bytes.remove(at: position)
                case 1 where position < bytes.count: bytes[position] = byte
                default: bytes.insert(byte, at: position)
                }
            }
            // Engine.IO hands text over as String, so invalid UTF-8 never reaches the decoder.
            let text = String(decoding: bytes, as: UTF8.self)
            var decoder = SocketIOPacketDecoder(protocolVersion: version)
            do {
                var output = try decoder.textReceived(text)
                while case .awaitingAttachments = output {
                    output = try decoder.binaryReceived(ByteBuffer(bytes: [0xAB]))
                }
                guard case .packet(let packet) = output else { continue }
                accepted += 1
                // Re-encoding normalizes once (unused attachments dropped; v4 CONNECT_ERROR as a
                // string), then is a fixed point.
                let encoded = encoder.encode(packet)
                var again = SocketIOPacketDecoder(protocolVersion: version)
                let redecoded = try #require(try again.decode(encoded.text, attachments: encoded.attachments))
                #expect(encoder.encode(redecoded) == encoded, "\(text) → \(encoded.text)")
                if version == .v5 { #expect(redecoded.data == packet.data, "\(text) → \(encoded.text)") }
            } catch {
                let code = (error as? SocketIOError)?.code
                #expect(code.map(decodingCodes.contains) == true, "\(text): \(error)")
            }
        }
        #expect(accepted > 100)
    }

    // MARK: Protocol v4 (protocol.md 4.2.9)

    @Test("v4: the CONNECT namespace query becomes the packet's data")
    func version4Query() throws {
        var decoder = SocketIOPacketDecoder(protocolVersion: .v4)
        #expect(decoder.protocolVersion == .v4)
        #expect(
            try decoder.decode("0/admin?token=abc&x=1+2&x=%41&x=%zz&e&=v&&k=%C3%A9%FF,")
                == .connect(
                    namespace: "/admin",
                    data: ["token": "abc", "x": ["1 2", "A", "%zz"], "e": "", "": "v", "k": "é\u{FFFD}"]
                )
        )
        #expect(try decoder.decode("0/admin?token=abc") == .connect(namespace: "/admin", data: ["token": "abc"]))
        #expect(try decoder.decode("0/admin?,") == .connect(namespace: "/admin", data: [:]))
        #expect(try decoder.decode("0/admin,") == .connect(namespace: "/admin"))
        #expect(try decoder.decode("0") == .connect())
        #expect(try decoder.decode(#"4"Not authorized""#) == SocketIOPacket(type: .connectError, data: "Not authorized"))
        // Only CONNECT carries the query.
        #expect(try decoder.decode(#"2/admin?x,["a"]"#) == .event("a", namespace: "/admin?x"))
        #expect {
            _ = try decoder.textReceived(#"0/admin?t=1,{"a":1}"#)
        } throws: { error in
            (error as? SocketIOError)?.code == .invalidPacket
        }
    }

    @Test("v4: CONNECT auth round-trips through the namespace query")
    func version4RoundTrip() throws {
        let encoder = SocketIOPacketEncoder(protocolVersion: .v4)
        var decoder = SocketIOPacketDecoder(protocolVersion: .v4)
        let encoded = encoder.encode(.connect(namespace: "/admin", data: ["token": "a b&c=é", "n": 1]))
        #expect(try decoder.decode(encoded.text) == .connect(namespace: "/admin", data: ["token": "a b&c=é", "n": "1"]))
    }
}
