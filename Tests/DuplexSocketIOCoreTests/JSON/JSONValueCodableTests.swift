import DuplexSocketIOCore
import Foundation
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

    /// Every scalar type, through keyed, unkeyed and single-value containers.
    struct ScalarZoo: Codable, Equatable {
        var bool = true
        var string = "s"
        var double = 1.5
        var float: Float = 2.5
        var int = -1
        var int8: Int8 = -8
        var int16: Int16 = -16
        var int32: Int32 = -32
        var int64: Int64 = -64
        var uint: UInt = 1
        var uint8: UInt8 = 8
        var uint16: UInt16 = 16
        var uint32: UInt32 = 32
        var uint64: UInt64 = 64
        var none: Int? = nil

        init() {}

        enum CodingKeys: String, CodingKey {
            case bool, string, double, float, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, none
            case list, single
        }

        struct Single: Codable, Equatable {
            var values: [String]
            init(values: [String]) { self.values = values }
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                values = try container.decode([String].self)
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(values)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var keyed = encoder.container(keyedBy: CodingKeys.self)
            try keyed.encode(bool, forKey: .bool)
            try keyed.encode(string, forKey: .string)
            try keyed.encode(double, forKey: .double)
            try keyed.encode(float, forKey: .float)
            try keyed.encode(int, forKey: .int)
            try keyed.encode(int8, forKey: .int8)
            try keyed.encode(int16, forKey: .int16)
            try keyed.encode(int32, forKey: .int32)
            try keyed.encode(int64, forKey: .int64)
            try keyed.encode(uint, forKey: .uint)
            try keyed.encode(uint8, forKey: .uint8)
            try keyed.encode(uint16, forKey: .uint16)
            try keyed.encode(uint32, forKey: .uint32)
            try keyed.encode(uint64, forKey: .uint64)
            try keyed.encodeNil(forKey: .none)
            var list = keyed.nestedUnkeyedContainer(forKey: .list)
            try list.encode(bool)
            try list.encode(string)
            try list.encode(double)
            try list.encode(float)
            try list.encode(int)
            try list.encode(int8)
            try list.encode(int16)
            try list.encode(int32)
            try list.encode(int64)
            try list.encode(uint)
            try list.encode(uint8)
            try list.encode(uint16)
            try list.encode(uint32)
            try list.encode(uint64)
            try list.encodeNil()
            var nested = list.nestedContainer(keyedBy: CodingKeys.self)
            try nested.encode(int, forKey: .int)
            _ = list.superEncoder()
            #expect(list.count == 17)
            try keyed.encode(Single(values: ["x"]), forKey: .single)
        }

        init(from decoder: any Decoder) throws {
            let keyed = try decoder.container(keyedBy: CodingKeys.self)
            #expect(keyed.contains(.bool))
            #expect(keyed.allKeys.count == 17)
            bool = try keyed.decode(Bool.self, forKey: .bool)
            string = try keyed.decode(String.self, forKey: .string)
            double = try keyed.decode(Double.self, forKey: .double)
            float = try keyed.decode(Float.self, forKey: .float)
            int = try keyed.decode(Int.self, forKey: .int)
            int8 = try keyed.decode(Int8.self, forKey: .int8)
            int16 = try keyed.decode(Int16.self, forKey: .int16)
            int32 = try keyed.decode(Int32.self, forKey: .int32)
            int64 = try keyed.decode(Int64.self, forKey: .int64)
            uint = try keyed.decode(UInt.self, forKey: .uint)
            uint8 = try keyed.decode(UInt8.self, forKey: .uint8)
            uint16 = try keyed.decode(UInt16.self, forKey: .uint16)
            uint32 = try keyed.decode(UInt32.self, forKey: .uint32)
            uint64 = try keyed.decode(UInt64.self, forKey: .uint64)
            #expect(try keyed.decodeNil(forKey: .none))
            none = nil
            var list = try keyed.nestedUnkeyedContainer(forKey: .list)
            #expect(list.count == 17)
            #expect(try !list.decodeNil())
            #expect(try list.decode(Bool.self) == bool)
            #expect(try list.decode(String.self) == string)
            #expect(try list.decode(Double.self) == double)
            #expect(try list.decode(Float.self) == float)
            #expect(try list.decode(Int.self) == int)
            #expect(try list.decode(Int8.self) == int8)
            #expect(try list.decode(Int16.self) == int16)
            #expect(try list.decode(Int32.self) == int32)
            #expect(try list.decode(Int64.self) == int64)
            #expect(try list.decode(UInt.self) == uint)
            #expect(try list.decode(UInt8.self) == uint8)
            #expect(try list.decode(UInt16.self) == uint16)
            #expect(try list.decode(UInt32.self) == uint32)
            #expect(try list.decode(UInt64.self) == uint64)
            #expect(try list.decodeNil())
            let nested = try list.nestedContainer(keyedBy: CodingKeys.self)
            #expect(try nested.decode(Int.self, forKey: .int) == int)
            _ = try list.superDecoder()
            #expect(list.isAtEnd)
            #expect(throws: DecodingError.self) { try list.decode(Int.self) }
            #expect(try keyed.decode(Single.self, forKey: .single) == Single(values: ["x"]))
        }
    }

    @Test("every scalar type goes through keyed, unkeyed and single-value containers")
    func scalarZoo() throws {
        let value = try JSONValue(encoding: ScalarZoo())
        #expect(value["uint64"] == 64)
        #expect(value["none"] == .null)
        #expect(value["single"] == ["x"])
        #expect(value["list"]?.arrayValue?.count == 17)
        #expect(try value.decode(as: ScalarZoo.self) == ScalarZoo())
    }

    @Test("single-value containers decode every scalar type")
    func singleValueScalars() throws {
        #expect(try JSONValue.int(-8).decode(as: Int8.self) == -8)
        #expect(try JSONValue.int(-16).decode(as: Int16.self) == -16)
        #expect(try JSONValue.int(-32).decode(as: Int32.self) == -32)
        #expect(try JSONValue.int(8).decode(as: UInt8.self) == 8)
        #expect(try JSONValue.int(16).decode(as: UInt16.self) == 16)
        #expect(try JSONValue.int(32).decode(as: UInt32.self) == 32)
        #expect(try JSONValue.int(64).decode(as: UInt64.self) == 64)
        #expect(try JSONValue.int(1).decode(as: UInt.self) == 1)
        #expect(try JSONValue.double(0.5).decode(as: Float.self) == 0.5)
        #expect(try JSONValue.bool(true).decode(as: Bool.self))
        #expect(try JSONValue.null.decode(as: Int?.self) == nil)
        #expect(try JSONValue(encoding: Int8(-1)) == -1)
        #expect(try JSONValue(encoding: UInt16(2)) == 2)
        #expect(try JSONValue(encoding: Float(0.25)) == 0.25)
    }

    struct Forwarding: Codable {
        var inner: JSONValue
        init(inner: JSONValue) { self.inner = inner }
        init(from decoder: any Decoder) throws { inner = try JSONValue(from: decoder) }
        func encode(to encoder: any Encoder) throws { try inner.encode(to: encoder) }
    }

    @Test("a JSONValue that encodes itself into our encoder is kept as it is, attachments included")
    func forwardingJSONValue() throws {
        let inner: JSONValue = ["b": .binary(ByteBuffer(bytes: [1])), "a": 1]
        #expect(try JSONValue(encoding: Forwarding(inner: inner)) == inner)
        #expect(try inner.decode(as: Forwarding.self).inner == inner)
    }

    @Test("JSONValue is Codable with Foundation's JSONEncoder and JSONDecoder")
    func foundationInterop() throws {
        let value: JSONValue = ["s": "x", "i": 3, "d": 0.5, "b": false, "n": .null, "a": [1, ["k": "v"]]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data)["a"] == [1, ["k": "v"]])
        let decoded = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(decoded.objectValue?.count == 6)
        #expect(decoded["s"] == "x" && decoded["i"] == 3 && decoded["d"] == 0.5 && decoded["b"] == false)
        #expect(decoded["n"] == .null)
        let blob = try JSONEncoder().encode(JSONValue.binary(ByteBuffer(bytes: [1, 2])))
        let blobValue = try JSONValue(parsing: Array(blob))
        #expect(blobValue["type"] == "Buffer")
        #expect(blobValue["data"] == [1, 2])
    }

    struct ThrowsOwnError: Decodable {
        init(from decoder: any Decoder) throws { throw SocketIOError(.internalError, "own") }
    }

    struct EncodesOwnError: Encodable {
        func encode(to encoder: any Encoder) throws { throw SocketIOError(.internalError, "own") }
    }

    @Test("a SocketIOError thrown by the type itself passes through unchanged")
    func ownErrorsPassThrough() {
        #expect(throws: SocketIOError(.internalError, "own")) { try JSONValue.null.decode(as: ThrowsOwnError.self) }
        #expect(throws: SocketIOError(.internalError, "own")) { try JSONValue(encoding: EncodesOwnError()) }
    }

    /// Top-level values of each scalar type: their `Encodable` uses a single-value container.
    struct SingleScalar<T: Codable & Equatable>: Codable, Equatable {
        var value: T
        init(_ value: T) { self.value = value }
        init(from decoder: any Decoder) throws {
            #expect(decoder.userInfo.isEmpty)
            value = try decoder.singleValueContainer().decode(T.self)
        }
        func encode(to encoder: any Encoder) throws {
            #expect(encoder.userInfo.isEmpty)
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
    }

    @Test("single-value containers encode every scalar type")
    func singleValueEncoding() throws {
        func roundTrip<T: Codable & Equatable>(_ value: T, _ expected: JSONValue) throws {
            let encoded = try JSONValue(encoding: SingleScalar(value))
            #expect(encoded == expected)
            #expect(try encoded.decode(as: SingleScalar<T>.self) == SingleScalar(value))
        }
        try roundTrip(true, true)
        try roundTrip("s", "s")
        try roundTrip(0.5, 0.5)
        try roundTrip(Float(0.5), 0.5)
        try roundTrip(1, 1)
        try roundTrip(Int8(-8), -8)
        try roundTrip(Int16(-16), -16)
        try roundTrip(Int32(-32), -32)
        try roundTrip(Int64(-64), -64)
        try roundTrip(UInt(1), 1)
        try roundTrip(UInt8(8), 8)
        try roundTrip(UInt16(16), 16)
        try roundTrip(UInt32(32), 32)
        try roundTrip(UInt64(64), 64)
        try roundTrip(JSONValue.binary(ByteBuffer(bytes: [5])), .binary(ByteBuffer(bytes: [5])))
        #expect(try JSONValue(encoding: ConcreteSingle(kind: 0)) == true)
        #expect(try JSONValue(encoding: ConcreteSingle(kind: 1)) == 1.5)
        #expect(try JSONValue(encoding: ConcreteSingle(kind: 2)) == 7)
    }

    /// Calls the non-generic single-value `encode` overloads (generic code reaches the generic one).
    struct ConcreteSingle: Encodable {
        var kind: Int
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch kind {
            case 0: try container.encode(true)
            case 1: try container.encode(1.5)
            default: try container.encode(7)
            }
        }
    }

    struct KeyedExtras: Codable, Equatable {
        var value = 1
        init() {}
        enum CodingKeys: String, CodingKey { case value, base }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(0, forKey: .value)
            try container.encode(value, forKey: .value)  // a repeated key replaces the value
            var base = container.superEncoder(forKey: .base).singleValueContainer()
            try base.encode("base")
        }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            value = try container.decode(Int.self, forKey: .value)
            #expect(try container.superDecoder(forKey: .base).singleValueContainer().decode(String.self) == "base")
            #expect(try container.decode(Int64.self, forKey: .value) == 1)
        }
    }

    @Test("keyed containers: repeated keys replace, superEncoder(forKey:) nests")
    func keyedExtras() throws {
        let value = try JSONValue(encoding: KeyedExtras())
        #expect(value == ["value": 1, "base": "base"])
        #expect(try value.decode(as: KeyedExtras.self) == KeyedExtras())
        var list = try JSONValueDecoderProbe.unkeyed([1, 2])
        #expect(try list.decode(Int64.self) == 1)
    }
}

/// Reaches an unkeyed decoding container directly, for calls `Decodable` types rarely make.
enum JSONValueDecoderProbe {
    struct Capture: Decodable {
        var container: any UnkeyedDecodingContainer
        init(from decoder: any Decoder) throws { container = try decoder.unkeyedContainer() }
    }

    static func unkeyed(_ value: JSONValue) throws -> any UnkeyedDecodingContainer {
        try value.decode(as: Capture.self).container
    }
}
