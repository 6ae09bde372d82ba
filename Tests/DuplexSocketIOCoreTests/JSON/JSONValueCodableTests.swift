import DuplexSocketIOCore
import NIOCore
import Testing

@Suite("JSONValue ↔ Codable bridging")
struct JSONValueCodableTests {
    struct Message: Codable, Equatable {
        var text: String
        var count: Int
        var ratio: Double
        var flag: Bool
        var tags: [String]
        var nested: Nested?
        var small: UInt8
        var big: UInt64
        var float: Float
        var blob: JSONValue
    }

    struct Nested: Codable, Equatable {
        var id: Int64
        var values: [Int16]
    }

    static let message = Message(
        text: "hi",
        count: 3,
        ratio: 0.5,
        flag: true,
        tags: ["a", "b"],
        nested: Nested(id: -1, values: [1, 2]),
        small: 255,
        big: UInt64.max,
        float: 1.5,
        blob: .binary(ByteBuffer(bytes: [9]))
    )

    @Test("Encodable → JSONValue keeps key order, exact integers and attachments")
    func encode() throws {
        let value = try JSONValue(encoding: Self.message)
        #expect(
            value.objectValue?.keys == ["text", "count", "ratio", "flag", "tags", "nested", "small", "big", "float", "blob"]
        )
        #expect(value["count"] == .int(3))
        #expect(value["ratio"] == .double(0.5))
        #expect(value["nested"] == ["id": -1, "values": [1, 2]])
        #expect(value["big"] == .double(18_446_744_073_709_551_616))
        #expect(value["blob"]?.binaryValue == ByteBuffer(bytes: [9]))
        #expect(try JSONValue(encoding: ["x", "y"]) == ["x", "y"])
        #expect(try JSONValue(encoding: 5) == 5)
        #expect(try JSONValue(encoding: Optional<Int>.none) == .null)
        #expect(try JSONValue(encoding: ["k": [1.5, 2]]) == ["k": [1.5, 2]])
    }

    @Test("JSONValue → Decodable round-trips")
    func decodeRoundTrip() throws {
        var message = Self.message
        message.big = 1 << 40
        let value = try JSONValue(encoding: message)
        #expect(try value.decode(as: Message.self) == message)
        let parsed = try JSONValue(parsing: #"{"id":7,"values":[1,-2]}"#)
        #expect(try parsed.decode() == Nested(id: 7, values: [1, -2]))
        #expect(try JSONValue.binary(ByteBuffer(bytes: [1, 2])).decode(as: [UInt8].self) == [1, 2])
        #expect(try JSONValue.array([1, .null]).decode(as: [Int?].self) == [1, nil])
        #expect(try JSONValue.int(3).decode(as: Double.self) == 3.0)
        #expect(try JSONValue.double(3.0).decode(as: Int.self) == 3)
    }

    static let mismatches: [(JSONValue, String)] = [
        (["text": 1], "type mismatch on a member"),
        (["id": 1], "missing key"),
        ([1, 2], "array for a struct"),
        ("x", "string for a struct"),
    ]

    @Test("shape mismatches are decodingFailed with the DecodingError as cause", arguments: mismatches)
    func decodeMismatch(value: JSONValue, _ label: String) {
        #expect {
            try value.decode(as: Nested.self)
        } throws: { error in
            guard let error = error as? SocketIOError else { return false }
            return error.code == .decodingFailed && error.cause is DecodingError
        }
    }

    @Test("numbers must fit the target type exactly")
    func numericRanges() {
        #expect(throws: SocketIOError.self) { try JSONValue.int(256).decode(as: UInt8.self) }
        #expect(throws: SocketIOError.self) { try JSONValue.int(-1).decode(as: UInt.self) }
        #expect(throws: SocketIOError.self) { try JSONValue.double(1.5).decode(as: Int.self) }
        #expect(throws: SocketIOError.self) { try JSONValue.double(1e300).decode(as: Float.self) }
        #expect(throws: SocketIOError.self) { try JSONValue.string("1").decode(as: Int.self) }
        #expect(throws: SocketIOError.self) { try JSONValue.int(1).decode(as: Bool.self) }
        #expect(throws: SocketIOError.self) { try JSONValue.int(1).decode(as: String.self) }
        #expect(throws: SocketIOError.self) { try JSONValue.array([]).decode(as: [String: Int].self) }
        #expect(throws: SocketIOError.self) { try JSONValue.object([:]).decode(as: [Int].self) }
    }

    @Test("large objects decode into dictionaries")
    func largeDictionary() throws {
        var object = JSONObject()
        for index in 0..<100 { object["k\(index)"] = .int(Int64(index)) }
        let decoded = try JSONValue.object(object).decode(as: [String: Int].self)
        #expect(decoded.count == 100)
        #expect(decoded["k42"] == 42)
    }

    struct Failing: Encodable {
        struct Refusal: Error {}
        func encode(to encoder: any Encoder) throws { throw Refusal() }
    }

    @Test("an encoding failure is encodingFailed with the original error as cause")
    func encodeFailure() {
        #expect {
            try JSONValue(encoding: Failing())
        } throws: { error in
            (error as? SocketIOError)?.code == .encodingFailed && (error as? SocketIOError)?.cause is Failing.Refusal
        }
    }

    class Base: Codable {
        var base = 1
    }

    final class Derived: Base {
        var derived = 2
        override init() { super.init() }
        required init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            derived = try container.decode(Int.self, forKey: .derived)
            try super.init(from: container.superDecoder())
        }
        private enum CodingKeys: String, CodingKey { case derived }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(derived, forKey: .derived)
            try super.encode(to: container.superEncoder())
        }
    }

    @Test("superEncoder and superDecoder use the \"super\" key")
    func superCoders() throws {
        let value = try JSONValue(encoding: Derived())
        #expect(value == ["derived": 2, "super": ["base": 1]])
        let decoded = try value.decode(as: Derived.self)
        #expect(decoded.derived == 2 && decoded.base == 1)
    }

    struct NestedContainers: Codable, Equatable {
        var matrix: [[Int]]
        var point: [String: Int]

        init(matrix: [[Int]], point: [String: Int]) {
            self.matrix = matrix
            self.point = point
        }

        enum CodingKeys: String, CodingKey { case matrix, point }
        enum PointKeys: String, CodingKey { case x }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            var rows = container.nestedUnkeyedContainer(forKey: .matrix)
            for row in matrix {
                var inner = rows.nestedUnkeyedContainer()
                for cell in row { try inner.encode(cell) }
            }
            var point = container.nestedContainer(keyedBy: PointKeys.self, forKey: .point)
            try point.encode(self.point["x"] ?? 0, forKey: .x)
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            var rows = try container.nestedUnkeyedContainer(forKey: .matrix)
            var matrix: [[Int]] = []
            while !rows.isAtEnd {
                var inner = try rows.nestedUnkeyedContainer()
                var row: [Int] = []
                while !inner.isAtEnd { row.append(try inner.decode(Int.self)) }
                matrix.append(row)
            }
            self.matrix = matrix
            let point = try container.nestedContainer(keyedBy: PointKeys.self, forKey: .point)
            self.point = ["x": try point.decode(Int.self, forKey: .x)]
        }
    }

    @Test("nested containers encode and decode")
    func nestedContainers() throws {
        let original = NestedContainers(matrix: [[1, 2], [], [3]], point: ["x": 4])
        let value = try JSONValue(encoding: original)
        #expect(value == ["matrix": [[1, 2], [], [3]], "point": ["x": 4]])
        #expect(try value.decode(as: NestedContainers.self) == original)
    }

    struct Empty: Codable {}

    @Test("a value that encodes nothing becomes {} as with JSONEncoder")
    func emptyEncodable() throws {
        #expect(try JSONValue(encoding: Empty()) == [:])
    }
}
