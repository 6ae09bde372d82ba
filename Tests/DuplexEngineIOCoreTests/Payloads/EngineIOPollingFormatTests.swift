import DuplexEngineIOCore
import NIOCore
import Testing

private func body(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }
private func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

@Suite("protocol.md 4.1.4 v4 polling payloads")
struct PollingPayloadV4Tests {
    @Test("4.1.4 spec examples decode and encode")
    func examples() throws {
        let text = body("4hello\u{1E}2\u{1E}4world")
        let packets: [EngineIOPacket] = [.message("hello"), .ping, .message("world")]
        #expect(try EngineIOPollingFormat.v4.decodePayload(text) == packets)
        #expect(
            EngineIOPollingFormat.v4.encodePayload(packets).body == EngineIOPollingBody(bytes: text, contentType: .text)
        )

        let mixed = body("4hello\u{1E}bAQIDBA==")
        let mixedPackets: [EngineIOPacket] = [.message("hello"), .message(ByteBuffer(bytes: [1, 2, 3, 4]))]
        #expect(try EngineIOPollingFormat.v4.decodePayload(mixed) == mixedPackets)
        #expect(EngineIOPollingFormat.v4.encodePayload(mixedPackets).body.bytes == mixed)
    }

    @Test("4.1.4 the body is UTF-8")
    func utf8() throws {
        #expect(try EngineIOPollingFormat.v4.decodePayload(body("4€𝄞")) == [.message("€𝄞")])
        expectCode(.invalidPacket) { _ = try EngineIOPollingFormat.v4.decodePayload(body([0x34, 0xFF])) }
        expectCode(.invalidPacket) { _ = try EngineIOPollingFormat.v4.decodePayload(body([0x34, 0xE2, 0x82])) }
    }

    @Test("4.1.4 (python-engineio) the packets-per-payload cap is enforced")
    func maxPackets() throws {
        let sixteen = Array(repeating: "4a", count: 16).joined(separator: "\u{1E}")
        #expect(try EngineIOPollingFormat.v4.decodePayload(body(sixteen)).count == 16)
        expectCode(.invalidPayload) { _ = try EngineIOPollingFormat.v4.decodePayload(body(sixteen + "\u{1E}4a")) }
        expectCode(.invalidPayload) {
            _ = try EngineIOPollingFormat.v4.decodePayload(body("4a\u{1E}4b"), maxPackets: 1)
        }
    }

    @Test(
        "Malformed payloads are rejected",
        arguments: ["", "\u{1E}", "4a\u{1E}", "4a\u{1E}\u{1E}4b", "abc", "9", "b$$$$"]
    )
    func malformed(_ text: String) {
        do {
            _ = try EngineIOPollingFormat.v4.decodePayload(body(text))
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(error.code == .invalidPayload || error.code == .invalidPacket)
        }
    }

    @Test("4.1.4 (ref impl) a v4 POST declared application/octet-stream is a bad request")
    func octetStream() throws {
        expectCode(.badRequest) {
            _ = try EngineIOPollingFormat.v4.decodePayload(body("4a"), contentType: "Application/Octet-Stream ; x=y")
        }
        #expect(
            try EngineIOPollingFormat.v4.decodePayload(body("4a"), contentType: "text/plain;charset=UTF-8") == [
                .message("a")
            ]
        )
    }

    @Test("4.1.4 batching: at most N packets and M bytes per body, the rest is left over")
    func batching() {
        let packets: [EngineIOPacket] = [.message("aaaa"), .message("bbbb"), .message("cccc")]
        let byCount = EngineIOPollingFormat.v4.encodePayload(packets, maxPackets: 2)
        #expect(byCount.packetCount == 2)
        #expect(String(buffer: byCount.body.bytes) == "4aaaa\u{1E}4bbbb")
        // "4aaaa" = 5 bytes; with separator and second packet: 11.
        let byBytes = EngineIOPollingFormat.v4.encodePayload(packets, maxBytes: 10)
        #expect(byBytes.packetCount == 1)
        let exact = EngineIOPollingFormat.v4.encodePayload(packets, maxBytes: 11)
        #expect(exact.packetCount == 2)
        // An oversized first packet still goes out alone.
        let oversized = EngineIOPollingFormat.v4.encodePayload(packets, maxBytes: 1)
        #expect(oversized.packetCount == 1)
        #expect(String(buffer: oversized.body.bytes) == "4aaaa")
        let binarySize = EngineIOPollingFormat.v4.encodePayload([
            EngineIOPacket.message(ByteBuffer(bytes: [1, 2, 3, 4]))
        ])
        #expect(String(buffer: binarySize.body.bytes) == "bAQIDBA==")
    }
}

@Suite("protocol.md 4.1.9 v3 polling payloads")
struct PollingPayloadV3Tests {
    @Test("4.1.9 text framing: lengths count UTF-16 code units (`6:4hello2:4€`)")
    func textFraming() throws {
        let packets: [EngineIOPacket] = [.message("hello"), .message("€")]
        let encoded = EngineIOPollingFormat.v3Binary.encodePayload(packets)
        #expect(String(buffer: encoded.body.bytes) == "6:4hello2:4€")
        #expect(encoded.body.contentType == .text)
        #expect(try EngineIOPollingFormat.v3Binary.decodePayload(body("6:4hello2:4€")) == packets)
        // U+1D11E is a surrogate pair: 2 code units, 4 UTF-8 bytes.
        #expect(try EngineIOPollingFormat.v3Base64.decodePayload(body("4:4𝄞a1:2")) == [.message("𝄞a"), .ping])
        #expect(
            String(buffer: EngineIOPollingFormat.v3Base64.encodePayload([EngineIOPacket.message("𝄞")]).body.bytes)
                == "3:4𝄞"
        )
    }

    @Test("4.1.9 binary as base64 with a type digit: `<len>:b4<base64>`")
    func base64Binary() throws {
        let packets: [EngineIOPacket] = [.message(ByteBuffer(bytes: [1, 2, 3])), .message("x")]
        let encoded = EngineIOPollingFormat.v3Base64.encodePayload(packets)
        #expect(String(buffer: encoded.body.bytes) == "6:b4AQID2:4x")
        #expect(encoded.body.contentType == .text)
        #expect(try EngineIOPollingFormat.v3Base64.decodePayload(encoded.body.bytes) == packets)
    }

    @Test("4.1.9 XHR2 binary payload: 0x00/0x01, length digits, 0xFF, packet with type byte")
    func xhr2() throws {
        let packets: [EngineIOPacket] = [.message("hé"), .message(ByteBuffer(bytes: [1, 2, 3]))]
        let encoded = EngineIOPollingFormat.v3Binary.encodePayload(packets)
        // "4hé" is 4 UTF-8 bytes; the binary packet is type byte + 3 bytes.
        let expected: [UInt8] = [0, 4, 0xFF, 0x34, 0x68, 0xC3, 0xA9, 1, 4, 0xFF, 4, 1, 2, 3]
        #expect(Array(encoded.body.bytes.readableBytesView) == expected)
        #expect(encoded.body.contentType == .binary)
        #expect(try EngineIOPollingFormat.v3Binary.decodePayload(body(expected)) == packets)
        // Multi-digit lengths.
        let long = EngineIOPacket.message(String(repeating: "a", count: 11))
        let longEncoded = EngineIOPollingFormat.v3Binary.encodePayload([long, .message(ByteBuffer(bytes: [9]))])
        #expect(Array(longEncoded.body.bytes.readableBytesView.prefix(4)) == [0, 1, 2, 0xFF])
        #expect(try EngineIOPollingFormat.v3Binary.decodePayload(longEncoded.body.bytes).first == long)
    }

    static let malformed: [[UInt8]] = [
        [], Array("4hello".utf8), Array(":4a".utf8), Array("2:4".utf8), Array("x:4a".utf8), Array("0:".utf8),
        Array("12345678901:4".utf8), Array("1:4".utf8) + [0xF0, 0x9D, 0x84, 0x9E],  // splits a surrogate pair
        Array("2:4".utf8) + [0xFF], Array("1:b".utf8), Array("4:b9AA".utf8),
        [0, 2, 0xFF, 0x34], [0, 0xFF, 0x34], [0, 1], [2, 1, 0xFF, 0x34], [1, 1, 0xFF, 9], [0, 10, 0xFF, 0x34],
        [0, 1, 0xFF, 0x34, 3], [1, 0, 0xFF],
    ]

    @Test("Malformed v3 payloads are rejected", arguments: malformed)
    func malformedPayloads(_ bytes: [UInt8]) {
        do {
            _ = try EngineIOPollingFormat.v3Binary.decodePayload(body(bytes))
            Issue.record("accepted \(bytes)")
        } catch {
            #expect(error.code == .invalidPayload || error.code == .invalidPacket)
        }
    }

    @Test("v3 packets-per-payload cap, text and binary framing")
    func maxPackets() {
        expectCode(.invalidPayload) {
            _ = try EngineIOPollingFormat.v3Binary.decodePayload(body("2:4a2:4b"), maxPackets: 1)
        }
        expectCode(.invalidPayload) {
            _ = try EngineIOPollingFormat.v3Binary.decodePayload(
                body([0, 2, 0xFF, 0x34, 0x61, 0, 1, 0xFF, 0x32]),
                maxPackets: 1
            )
        }
    }

    @Test("4.1.9 JSONP responses: `___eio[<j>](\"<escaped payload>\");`")
    func jsonpResponse() {
        let format = EngineIOPollingFormat.v3JSONP(index: 3)
        #expect(format.jsonpIndex == 3)
        #expect(format.protocolVersion == .v3)
        let packets: [EngineIOPacket] = [.message("a\"b\\c\nd\u{2028}"), .message(ByteBuffer(bytes: [1]))]
        let encoded = format.encodePayload(packets)
        #expect(encoded.body.contentType == .javascript)
        #expect(String(buffer: encoded.body.bytes) == #"___eio[3]("9:4a\"b\\c\nd\u20286:b4AQ==");"#)
    }

    @Test("4.1.9 JSONP requests: form body `d=<urlencoded payload>` with escaped newlines")
    func jsonpRequest() throws {
        let format = EngineIOPollingFormat.v3JSONP(index: 0)
        // Client text: 4a\nb (escaped backslash-n) and a real newline; the client sent `\\n` and `\n`.
        let form = "x=1&d=" + "6%3A4a%5C%5Cnb%5Cn" + "&y=2"
        #expect(try format.decodePayload(body(form)) == [.message("a\\nb\n")])
        #expect(try format.decodePayload(body("d=2:4+")) == [.message(" ")])
        expectCode(.invalidPayload) { _ = try format.decodePayload(body("e=2:4a")) }
        expectCode(.invalidPayload) { _ = try format.decodePayload(body("d=2:4%zz")) }
    }

    @Test("Format descriptions and versions")
    func descriptions() {
        #expect(EngineIOPollingFormat.v4.protocolVersion == .v4)
        #expect(EngineIOPollingFormat.v3Binary.protocolVersion == .v3)
        #expect(EngineIOPollingFormat.v4.jsonpIndex == nil)
        #expect(EngineIOPollingFormat.v3JSONP(index: 2).description == "v3 (JSONP 2)")
    }
}
