import DuplexSocketIOCore
import Testing

@Suite("JSONObject: ordered members with unique keys")
struct JSONObjectTests {
    @Test("members keep insertion order; setting replaces in place; nil removes")
    func subscriptSemantics() {
        var object: JSONObject = ["b": 1, "a": 2]
        object["c"] = 3
        object["b"] = 10
        #expect(object.keys == ["b", "a", "c"])
        #expect(object["b"] == 10)
        object["a"] = nil
        #expect(object.keys == ["b", "c"])
        object["missing"] = nil
        #expect(object.count == 2)
        #expect(object["missing"] == nil)
        #expect(object.index(forKey: "c") == 1)
        let pairs = object.map { "\($0.key)=\($0.value)" }
        #expect(pairs == ["b=10", "c=3"])
    }

    @Test("initializers merge repeated keys into the first position with the last value")
    func deduplication() {
        let small = JSONObject([.init(key: "a", value: 1), .init(key: "b", value: 2), .init(key: "a", value: 3)])
        #expect(small.members == [.init(key: "a", value: 3), .init(key: "b", value: 2)])
        let many = (0..<20).map { JSONObject.Member(key: "k\($0 % 10)", value: .int(Int64($0))) }
        let large = JSONObject(many)
        #expect(large.keys == (0..<10).map { "k\($0)" })
        #expect(large["k0"] == 10)
        let unique = (0..<20).map { JSONObject.Member(key: "u\($0)", value: .int(Int64($0))) }
        #expect(JSONObject(unique).members == unique)
    }

    @Test("equality is ordered")
    func orderedEquality() {
        let ab: JSONObject = ["a": 1, "b": 2]
        let ba: JSONObject = ["b": 2, "a": 1]
        #expect(ab != ba)
        var empty = JSONObject()
        empty.reserveCapacity(4)
        #expect(empty.isEmpty)
        #expect(empty == [:])
    }
}
