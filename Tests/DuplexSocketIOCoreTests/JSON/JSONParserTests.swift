import DuplexSocketIOCore
import NIOCore
import Testing

@Suite("JSON parser (RFC 8259)")
struct JSONParserTests {
    static let validDocuments: [(String, JSONValue)] = [
        ("null", .null),
        ("true", true),
        ("false", false),
        ("0", 0),
        ("-0", 0),
        ("42", 42),
        ("-42", -42),
        ("9223372036854775807", .int(Int64.max)),
        ("-9223372036854775808", .int(Int64.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)),
        ("-9223372036854775809", .double(-0x1p63)),  // rounds to -2^63
        ("-1e19", .double(-1e19)),
        ("18446744073709551616", .double(18_446_744_073_709_551_616)),
        ("1.0", .int(1)),
        ("1e2", .int(100)),
        ("1E+2", .int(100)),
        ("-1.5e1", .int(-15)),
        ("1.5", .double(1.5)),
        ("-0.25", .double(-0.25)),
        ("1e-2", .double(0.01)),
        ("2.5E-3", .double(0.0025)),
        ("1e400", .double(.infinity)),
        ("1e-400", .int(0)),
        ("\"\"", ""),
        ("\"hello\"", "hello"),
        ("\"a long string over eight bytes\"", "a long string over eight bytes"),
        ("\"é😀 non-ASCII over eight bytes\"", "é😀 non-ASCII over eight bytes"),
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
        (#""\u0041\u00e9\u20AC""#, "Aé€"),
        (#""\ud83d\ude00""#, "😀"),
        (#""x\ud800y""#, "x\u{FFFD}y"),
        (#""\udc00""#, "\u{FFFD}"),
        (#""\ud800\u0041""#, "\u{FFFD}A"),
        (#""\ud800\ud800\udc00""#, "\u{FFFD}\u{10000}"),
        (#""prefix long enough \n and suffix long enough""#, "prefix long enough \n and suffix long enough"),
        ("[]", []),
        ("[ ]", []),
        ("[1,\"a\",null,true,[],{}]", [1, "a", .null, true, [], [:]]),
        ("{}", [:]),
        ("{\"a\":1,\"b\":[2]}", ["a": 1, "b": [2]]),
        (" \t\r\n{ \"a\" : [ 1 , 2 ] } \n", ["a": [1, 2]]),
        ("{\"b\":1,\"a\":2}", ["b": 1, "a": 2]),
        ("{\"a\":1,\"b\":2,\"a\":3}", ["a": 3, "b": 2]),
    ]

    @Test("valid JSON parses to the expected value", arguments: validDocuments)
    func parsesValid(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(parsing: text) == expected)
        #expect(try JSONValue(parsing: ByteBuffer(string: text)) == expected)
        #expect(try JSONValue(parsing: Array(text.utf8)) == expected)
    }

    @Test("numbers keep exact integers and order of object keys")
    func exactness() throws {
        let value = try JSONValue(parsing: "[9007199254740993,1.5]")
        #expect(value[0] == .int(9_007_199_254_740_993))
        guard case .double(let fraction)? = value[1] else {
            Issue.record("expected a double")
            return
        }
        #expect(fraction == 1.5)
        // With a fraction or exponent, integral values from 2^53 stay doubles, so that
        // re-serializing gives JSON.stringify(JSON.parse(text)).
        let rounded = try JSONValue(parsing: "9007199254740993.0")
        #expect({ if case .double = rounded { return true } else { return false } }())
        #expect(rounded.jsonString == "9007199254740992")
        #expect(try JSONValue(parsing: "1e17").jsonString == "100000000000000000")
        #expect(try JSONValue(parsing: "36611789534799752.0e0").jsonString == "36611789534799750")
        #expect({ if case .int(100) = try? JSONValue(parsing: "1e2") { return true } else { return false } }())
        let object = try JSONValue(parsing: "{\"z\":1,\"y\":2,\"x\":3}")
        #expect(object.objectValue?.keys == ["z", "y", "x"])
    }

    static let invalidDocuments: [String] = [
        "", " ", "nul", "nulls", "tru", "True", "undefined", "NaN", "Infinity", "-Infinity",
        "01", "-01", "+1", "1.", ".5", "1e", "1e+", "-", "--1", "0x10", "1 2",
        "\"unterminated", "\"bad escape \\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\u{1}\"", "\"tab\there\"",
        "\"newline \n in a longer string\"", "\"ends with backslash\\", "\"escape then \\n unterminated",
        "'single'", "[1,]", "[,1]", "[1 2]", "[", "]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}",
        "{\"a\" 1}", "{1:1}", "{\"a\":1 \"b\":2}", "[1]x", "{}{}", "\u{FEFF}1", "/* c */ 1",
    ]

    @Test("malformed JSON is invalidJSON", arguments: invalidDocuments)
    func rejectsInvalid(text: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            (error as? SocketIOError)?.code == .invalidJSON
        }
    }

    static let invalidUTF8: [[UInt8]] = [
        [0x22, 0xFF, 0x22],  // invalid byte
        [0x22, 0xC3, 0x22],  // truncated sequence
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // encoded surrogate
        [0x22, 0xC0, 0xAF, 0x22],  // overlong
        Array("\"long enough prefix ".utf8) + [0xFE] + Array("\"".utf8),
        Array("\"escaped \\n and then ".utf8) + [0xFF] + Array("\"".utf8),
    ]

    @Test("invalid UTF-8 inside strings is invalidJSON", arguments: invalidUTF8)
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        #expect(throws: SocketIOError.self) { try JSONValue(parsing: bytes) }
        #expect {
            try JSONValue(parsing: bytes)
        } throws: { error in
            (error as? SocketIOError)?.code == .invalidJSON
        }
    }

    @Test("nesting beyond maxDepth is jsonTooDeep; at maxDepth it parses")
    func depthLimit() throws {
        let atLimit = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(try JSONValue(parsing: atLimit).arrayValue != nil)
        let objects = String(repeating: "{\"a\":", count: 31) + "[]" + String(repeating: "}", count: 31)
        #expect(try JSONValue(parsing: objects).objectValue != nil)
        for tooDeep in [
            String(repeating: "[", count: 33) + String(repeating: "]", count: 33),
            String(repeating: "{\"a\":", count: 32) + "[]" + String(repeating: "}", count: 32),
            String(repeating: "[", count: 100_000),
        ] {
            #expect {
                try JSONValue(parsing: tooDeep)
            } throws: { error in
                (error as? SocketIOError)?.code == .jsonTooDeep
            }
        }
        #expect(try JSONValue(parsing: "[[1]]", maxDepth: 2) == [[1]])
        #expect(throws: SocketIOError.self) { try JSONValue(parsing: "[[1]]", maxDepth: 1) }
        #expect(try JSONValue(parsing: "1", maxDepth: 0) == 1)
    }

    @Test("large objects with repeated keys keep first positions and last values")
    func largeObjectDuplicates() throws {
        let keys = (0..<40).map { "k\($0)" }
        let text = "{" + (keys + ["k3", "k39"]).enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}"
        let object = try #require(try JSONValue(parsing: text).objectValue)
        #expect(object.keys == keys)
        #expect(object["k3"] == 40)
        #expect(object["k39"] == 41)
        #expect(object["k0"] == 0)
    }

    /// SplitMix64, so the inputs are the same on every run.
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

    @Test("arbitrary bytes are accepted, or rejected as invalidJSON/jsonTooDeep; accepted values round-trip")
    func arbitraryInput() throws {
        let alphabet = Array(#"{}[]":,.-+eE0123456789tfrulnsa\/bu "#.utf8) + [0x00, 0x0A, 0x1F, 0x80, 0xC3, 0xA9, 0xFF]
        var random = SeededGenerator(state: 42)
        var accepted = 0
        for _ in 0..<20_000 {
            let count = Int.random(in: 0..<24, using: &random)
            let bytes = (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }
            do {
                let value = try JSONValue(parsing: bytes, maxDepth: 4)
                accepted += 1
                #expect(try JSONValue(parsing: value.jsonString) == value)
            } catch {
                #expect(error.code == .invalidJSON || error.code == .jsonTooDeep)
            }
        }
        #expect(accepted > 100)
    }

    @Test("a ByteBuffer's readable bytes are parsed, not its whole storage")
    func byteBufferSlice() throws {
        var buffer = ByteBuffer(string: "xx[1,2]")
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(try JSONValue(parsing: buffer) == [1, 2])
    }
}
