import DuplexSocketIOCore
import NIOCore
import Testing

/// Expected texts were produced by Node.js `JSON.stringify`.
@Suite("JSON serializer (matches JSON.stringify)")
struct JSONWriterTests {
    static let numbers: [(Double, String)] = [
        (0.1, "0.1"),
        (1.5, "1.5"),
        (-1.5, "-1.5"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1.5e300, "1.5e+300"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (5e-7, "5e-7"),
        (1.234e-7, "1.234e-7"),
        (123456.789, "123456.789"),
        (.leastNonzeroMagnitude, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.000123, "0.000123"),
        (9_223_372_036_854_775_808, "9223372036854776000"),
        (18_446_744_073_709_551_616, "18446744073709552000"),
        (123e-20, "1.23e-18"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-2.5e-10, "-2.5e-10"),
        (1.0000000000000002, "1.0000000000000002"),
        (0x1p60, "1152921504606847000"),
        (0x1p53 - 1, "9007199254740991"),
        (4.35, "4.35"),
        (-0.0, "0"),
        (3.0, "3"),
        (.infinity, "null"),
        (-.infinity, "null"),
        (.nan, "null"),
    ]

    @Test("doubles are written as Number::toString", arguments: numbers)
    func doubles(number: Double, expected: String) {
        #expect(JSONValue.double(number).jsonString == expected)
    }

    static let values: [(JSONValue, String)] = [
        (.null, "null"),
        (true, "true"),
        (false, "false"),
        (0, "0"),
        (.int(Int64.min), "-9223372036854775808"),
        (.int(Int64.max), "9223372036854775807"),
        (1_234_567_890, "1234567890"),
        ("", "\"\""),
        ("a\u{0}\u{1F}\u{7F}\u{8}\u{C}\n\r\t\"\\/é😀", #""a\u0000\u001f\#u{7F}\b\f\n\r\t\"\\/é😀""#),
        ("\u{1}\u{2}\u{B}\u{E}\u{10}\u{1A}", #""\u0001\u0002\u000b\u000e\u0010\u001a""#),
        ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
        ([], "[]"),
        ([:], "{}"),
        ([1, "two", .null, [true], ["k": "v"]], #"[1,"two",null,[true],{"k":"v"}]"#),
        (["z": 1, "a": ["nested\"key": []]], #"{"z":1,"a":{"nested\"key":[]}}"#),
        (.binary(ByteBuffer(bytes: [1, 2, 3])), #"{"type":"Buffer","data":[1,2,3]}"#),
        (["x": .binary(ByteBuffer())], #"{"x":{"type":"Buffer","data":[]}}"#),
    ]

    @Test("values are written compactly, as JSON.stringify", arguments: values)
    func compact(value: JSONValue, expected: String) {
        #expect(value.jsonString == expected)
        #expect(value.description == expected)
        #expect(value.jsonBytes == Array(expected.utf8))
        var buffer = ByteBuffer(string: ">")
        value.write(to: &buffer)
        #expect(buffer == ByteBuffer(string: ">" + expected))
    }

    static let roundTrips: [String] = [
        #"{"sid":"wZX3oN0bSVIhsaknAAAI","pid":"YHcX2sdAF1z452-HAAAW"}"#,
        #"["chat",{"from":"é","text":"line\nbreak","n":-12,"f":0.5,"ok":true,"none":null}]"#,
        #"[[[[[]]]],{"a":{"b":{"c":[1e+21,1e-7,123.456]}}}]"#,
        #""\u0000 control \u001f and \\ quote \" slash /""#,
    ]

    @Test("parse then serialize gives back the JSON.stringify text", arguments: roundTrips)
    func roundTrip(text: String) throws {
        #expect(try JSONValue(parsing: text).jsonString == text)
    }

    @Test("whitespace and escapes are normalized as JSON.stringify(JSON.parse(x))")
    func normalization() throws {
        let text = #" { "a" : [ 1.0 , 2e0 , "\u0041\/" ] } "#
        #expect(try JSONValue(parsing: text).jsonString == #"{"a":[1,2,"A/"]}"#)
    }
}
