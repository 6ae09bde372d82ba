import DuplexSocketIOCore
import NIOCore
import Testing

@Suite("JSONValue: accessors, literals, equality")
struct JSONValueTests {
    @Test("accessors return the payload only for the matching case")
    func accessors() {
        let buffer = ByteBuffer(bytes: [7])
        let value: JSONValue = [.null, true, 3, 2.5, "s", [1], ["k": "v"], .binary(buffer)]
        #expect(value[0]?.isNull == true)
        #expect(value[1]?.boolValue == true)
        #expect(value[2]?.intValue == 3)
        #expect(value[2]?.doubleValue == 3.0)
        #expect(value[3]?.doubleValue == 2.5)
        #expect(value[3]?.intValue == nil)
        #expect(value[4]?.stringValue == "s")
        #expect(value[5]?.arrayValue == [1])
        #expect(value[6]?.objectValue == ["k": "v"])
        #expect(value[6]?["k"] == "v")
        #expect(value[7]?.binaryValue == buffer)
        #expect(value[8] == nil)
        #expect(value[-1] == nil)
        #expect(value["k"] == nil)
        #expect(value[6]?[0] == nil)
        #expect(JSONValue.double(4.0).intValue == 4)
        #expect(JSONValue.string("1").intValue == nil)
        #expect(JSONValue.string("1").doubleValue == nil)
        #expect(JSONValue.null.boolValue == nil)
        #expect(JSONValue.null.stringValue == nil)
        #expect(JSONValue.null.arrayValue == nil)
        #expect(JSONValue.null.objectValue == nil)
        #expect(JSONValue.null.binaryValue == nil)
        #expect(!JSONValue.bool(false).isNull)
    }

    @Test("float literals that are integral become .int, as the parser does")
    func literals() {
        #expect({ if case .int(2) = (2.0 as JSONValue) { return true } else { return false } }())
        #expect({ if case .double(2.5) = (2.5 as JSONValue) { return true } else { return false } }())
        #expect(JSONValue(dictionaryLiteral: ("a", 1), ("a", 2)) == ["a": 2])
    }

    @Test("numbers compare by value across .int and .double; hashes agree")
    func numericEquality() {
        #expect(JSONValue.int(1) == JSONValue.double(1.0))
        #expect(JSONValue.double(1.0) == JSONValue.int(1))
        #expect(JSONValue.int(1).hashValue == JSONValue.double(1.0).hashValue)
        #expect(JSONValue.int(0).hashValue == JSONValue.double(-0.0).hashValue)
        #expect(JSONValue.int(1) != JSONValue.double(1.5))
        #expect(JSONValue.int(9_007_199_254_740_993) != JSONValue.double(9_007_199_254_740_992))
        #expect(JSONValue.double(.nan) == JSONValue.double(.nan))
        #expect(JSONValue.double(.nan).hashValue == JSONValue.double(-.nan).hashValue)
        #expect(JSONValue.int(1) != JSONValue.string("1"))
        #expect(JSONValue.null != JSONValue.bool(false))
        #expect(Set<JSONValue>([1, 1.0, "1", .null, false]).count == 4)
    }

    @Test("equality covers every case")
    func equalityOfEachCase() {
        let samples: [JSONValue] = [
            .null, true, 7, 7.5, "s", [1], ["k": 1], .binary(ByteBuffer(bytes: [1])),
        ]
        for (i, a) in samples.enumerated() {
            for (j, b) in samples.enumerated() {
                #expect((a == b) == (i == j))
                if i == j { #expect(a.hashValue == b.hashValue) }
            }
        }
        #expect(JSONValue.binary(ByteBuffer(bytes: [1])) != .binary(ByteBuffer(bytes: [2])))
    }

    @Test("binaryCount counts attachments at any depth")
    func binaryCount() {
        let blob = JSONValue.binary(ByteBuffer(bytes: [1]))
        #expect(JSONValue.array([blob, ["a": [blob, 1]], "x"]).binaryCount == 2)
        #expect(JSONValue.array([blob, ["a": [blob, 1]], "x"]).containsBinary)
        #expect(!JSONValue.array([1, ["a": [1, 2]]]).containsBinary)
        #expect(JSONValue.null.binaryCount == 0)
    }
}
