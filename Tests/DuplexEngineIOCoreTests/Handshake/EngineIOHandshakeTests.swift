import DuplexEngineIOCore
import Testing

@Suite("protocol.md 4.1.3 Handshake: the open packet")
struct EngineIOHandshakeTests {
    static let specExample =
        #"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#

    @Test("4.1.3 the spec example encodes byte for byte and decodes")
    func specExampleRoundTrip() throws {
        let handshake = EngineIOHandshake(
            sid: "lv_VI97HAXpY6yYWAAAC",
            upgrades: [.websocket],
            pingInterval: .seconds(25),
            pingTimeout: .seconds(20),
            maxPayload: 1_000_000
        )
        #expect(handshake.encodedJSON() == Self.specExample)
        #expect(handshake.openPacket.webSocketFrame() == .text("0" + Self.specExample))
        #expect(try EngineIOHandshake(json: Self.specExample) == handshake)
        #expect(try EngineIOHandshake(openPacket: handshake.openPacket) == handshake)
    }

    @Test("4.1.3 maxPayload may be absent (python-engineio < 4.11, v3); extra fields are ignored")
    func toleratesMissingMaxPayload() throws {
        let json =
            #"{ "sid" : "abc", "upgrades" : [], "pingInterval" : 25000, "pingTimeout" : 5000, "x": {"y": [1, null, true]} }"#
        let handshake = try EngineIOHandshake(json: json)
        #expect(handshake.maxPayload == nil)
        #expect(handshake.upgrades.isEmpty)
        #expect(handshake.pingTimeout == .seconds(5))
        #expect(!handshake.encodedJSON().contains("maxPayload"))
        #expect(try EngineIOHandshake(json: #"{"sid":"a","pingInterval":1,"pingTimeout":2}"#).upgrades == [])
    }

    @Test("JSON strings are escaped and unescaped")
    func escaping() throws {
        let handshake = EngineIOHandshake(
            sid: "a\"b\\c\u{1}é",
            upgrades: [],
            pingInterval: .zero,
            pingTimeout: .milliseconds(1),
            maxPayload: nil
        )
        #expect(handshake.encodedJSON().hasPrefix(#"{"sid":"a\"b\\c\u0001é","#))
        #expect(try EngineIOHandshake(json: handshake.encodedJSON()) == handshake)
        #expect(
            try EngineIOHandshake(json: #"{"sid":"\u00e9\ud834\udd1e\n\/","pingInterval":1,"pingTimeout":1}"#).sid
                == "é𝄞\n/"
        )
    }

    static let invalid: [String] = [
        "", "[]", "{", #"{"sid":1,"pingInterval":1,"pingTimeout":1}"#, #"{"sid":"","pingInterval":1,"pingTimeout":1}"#,
        #"{"sid":"a","pingTimeout":1}"#, #"{"sid":"a","pingInterval":-1,"pingTimeout":1}"#,
        #"{"sid":"a","pingInterval":1.5,"pingTimeout":1}"#, #"{"sid":"a","pingInterval":"1","pingTimeout":1}"#,
        #"{"sid":"a","pingInterval":1,"pingTimeout":1,"maxPayload":0}"#,
        #"{"sid":"a","pingInterval":1,"pingTimeout":1,"upgrades":"websocket"}"#,
        #"{"sid":"a","pingInterval":1,"pingTimeout":1,"upgrades":[1]}"#,
        #"{"sid":"a","pingInterval":1,"pingTimeout":1} x"#,
        #"{"sid":"a\x"}"#, "{\"sid\":\"a\u{1}\"}", #"{"sid":"a","pingInterval":01,"pingTimeout":1}"#,
        String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
    ]

    @Test("Invalid handshakes are rejected with invalidPacket", arguments: invalid)
    func invalidHandshake(_ json: String) {
        expectCode(.invalidPacket) { _ = try EngineIOHandshake(json: json) }
    }

    @Test("An open packet must be a text open packet")
    func wrongPacket() {
        expectCode(.invalidPacket) { _ = try EngineIOHandshake(openPacket: .message(Self.specExample)) }
    }
}

@Suite("Session ids: 120 random bits, URL-safe, 20 characters")
struct EngineIOSessionIDTests {
    @Test("Generated ids are 20 URL-safe characters and distinct")
    func generated() {
        var seen = Set<EngineIOSessionID>()
        for _ in 0..<1000 {
            let id = EngineIOSessionID.random()
            #expect(id.rawValue.utf8.count == 20)
            #expect(EngineIOSessionID(rawValue: id.rawValue) == id)
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }

    struct ZeroGenerator: RandomNumberGenerator {
        mutating func next() -> UInt64 { 0 }
    }

    @Test("The generator's bits are used (all-zero generator gives all-A)")
    func deterministic() {
        var generator = ZeroGenerator()
        #expect(EngineIOSessionID.random(using: &generator).rawValue == String(repeating: "A", count: 20))
    }

    @Test(
        "Syntax check of ids received from peers",
        arguments: ["", "a b", "a/b", "é", "a%20", String(repeating: "a", count: 65)]
    )
    func invalid(_ text: String) {
        #expect(EngineIOSessionID(rawValue: text) == nil)
    }
}
