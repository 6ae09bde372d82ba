import NIOCore

/// A `Decoder` that reads a ``JSONValue`` tree (see ``JSONValue/decode(as:)``).
struct JSONValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            throw Self.mismatch(JSONObject.self, value, codingPath)
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .array(let elements):
            return UnkeyedContainer(elements: elements, codingPath: codingPath)
        case .binary(let buffer):
            // An attachment decodes as its bytes, so `[UInt8]` and `Data` accept it.
            let bytes = buffer.readableBytesView.map { JSONValue.int(Int64($0)) }
            return UnkeyedContainer(elements: bytes, codingPath: codingPath)
        default:
            throw Self.mismatch([JSONValue].self, value, codingPath)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, codingPath: codingPath)
    }

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ codingPath: [any CodingKey]) -> DecodingError {
        DecodingError.typeMismatch(
            type,
            .init(codingPath: codingPath, debugDescription: "expected \(type), found \(kind(of: value))")
        )
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        case .binary: return "binary data"
        }
    }

    static func unbox<T: Decodable>(_ value: JSONValue, as type: T.Type, codingPath: [any CodingKey]) throws -> T {
        if T.self == JSONValue.self, let value = value as? T { return value }
        return try T(from: JSONValueDecoder(value: value, codingPath: codingPath))
    }

    static func unboxBool(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(Bool.self, value, codingPath) }
        return flag
    }

    static func unboxString(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> String {
        guard case .string(let string) = value else { throw mismatch(String.self, value, codingPath) }
        return string
    }

    static func unboxInteger<T: FixedWidthInteger>(
        _ value: JSONValue,
        as type: T.Type,
        _ codingPath: [any CodingKey]
    ) throws -> T {
        let result: T?
        switch value {
        case .int(let integer): result = T(exactly: integer)
        case .double(let number): result = T(exactly: number)
        default: throw mismatch(T.self, value, codingPath)
        }
        guard let result else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "number \(value) does not fit in \(T.self)")
            )
        }
        return result
    }

    static func unboxDouble(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> Double {
        switch value {
        case .int(let integer): return Double(integer)
        case .double(let number): return number
        default: throw mismatch(Double.self, value, codingPath)
        }
    }

    static func unboxFloat(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> Float {
        let number = try unboxDouble(value, codingPath)
        let narrowed = Float(number)
        guard narrowed.isFinite || !number.isFinite else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "number \(number) does not fit in Float")
            )
        }
        return narrowed
    }

    private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: JSONObject
        let codingPath: [any CodingKey]
        /// Built only for large objects, where scanning per key would be quadratic.
        private let positions: [String: Int]?

        init(object: JSONObject, codingPath: [any CodingKey]) {
            self.object = object
            self.codingPath = codingPath
            if object.count > 16 {
                var positions: [String: Int] = [:]
                positions.reserveCapacity(object.count)
                for (position, member) in object.members.enumerated() { positions[member.key] = position }
                self.positions = positions
            } else {
                self.positions = nil
            }
        }

        var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.key) } }

        func contains(_ key: Key) -> Bool { lookup(key.stringValue) != nil }

        private func lookup(_ name: String) -> JSONValue? {
            if let positions {
                guard let position = positions[name] else { return nil }
                return object.members[position].value
            }
            return object[name]
        }

        private func value(forKey key: some CodingKey) throws -> JSONValue {
            guard let value = lookup(key.stringValue) else {
                throw DecodingError.keyNotFound(
                    key,
                    .init(codingPath: codingPath, debugDescription: "no member \"\(key.stringValue)\"")
                )
            }
            return value
        }

        func decodeNil(forKey key: Key) throws -> Bool { try value(forKey: key).isNull }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
            try JSONValueDecoder.unboxBool(value(forKey: key), codingPath + [key])
        }
        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            try JSONValueDecoder.unboxString(value(forKey: key), codingPath + [key])
        }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
            try JSONValueDecoder.unboxDouble(value(forKey: key), codingPath + [key])
        }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
            try JSONValueDecoder.unboxFloat(value(forKey: key), codingPath + [key])
        }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(forKey: key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(forKey: key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(forKey: key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(forKey: key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(forKey: key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(forKey: key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(forKey: key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(forKey: key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(forKey: key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(forKey: key) }

        private func integer<T: FixedWidthInteger>(forKey key: Key) throws -> T {
            try JSONValueDecoder.unboxInteger(value(forKey: key), as: T.self, codingPath + [key])
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try JSONValueDecoder.unbox(value(forKey: key), as: T.self, codingPath: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type,
            forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            try JSONValueDecoder(value: value(forKey: key), codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try JSONValueDecoder(value: value(forKey: key), codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder {
            JSONValueDecoder(
                value: lookup(JSONCodingKey.super.stringValue) ?? .null,
                codingPath: codingPath + [JSONCodingKey.super]
            )
        }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            JSONValueDecoder(value: lookup(key.stringValue) ?? .null, codingPath: codingPath + [key])
        }
    }

    private struct UnkeyedContainer: UnkeyedDecodingContainer {
        let elements: [JSONValue]
        let codingPath: [any CodingKey]
        private(set) var currentIndex = 0

        init(elements: [JSONValue], codingPath: [any CodingKey]) {
            self.elements = elements
            self.codingPath = codingPath
        }

        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        private var currentPath: [any CodingKey] { codingPath + [JSONCodingKey(intValue: currentIndex)] }

        private mutating func next() throws -> JSONValue {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    JSONValue.self,
                    .init(codingPath: currentPath, debugDescription: "unkeyed container is at end")
                )
            }
            defer { currentIndex += 1 }
            return elements[currentIndex]
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, elements[currentIndex].isNull else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode(_ type: Bool.Type) throws -> Bool {
            let path = currentPath
            return try JSONValueDecoder.unboxBool(next(), path)
        }
        mutating func decode(_ type: String.Type) throws -> String {
            let path = currentPath
            return try JSONValueDecoder.unboxString(next(), path)
        }
        mutating func decode(_ type: Double.Type) throws -> Double {
            let path = currentPath
            return try JSONValueDecoder.unboxDouble(next(), path)
        }
        mutating func decode(_ type: Float.Type) throws -> Float {
            let path = currentPath
            return try JSONValueDecoder.unboxFloat(next(), path)
        }
        mutating func decode(_ type: Int.Type) throws -> Int { try integer() }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try integer() }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

        private mutating func integer<T: FixedWidthInteger>() throws -> T {
            let path = currentPath
            return try JSONValueDecoder.unboxInteger(next(), as: T.self, path)
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let path = currentPath
            return try JSONValueDecoder.unbox(next(), as: T.self, codingPath: path)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type
        ) throws -> KeyedDecodingContainer<NestedKey> {
            let path = currentPath
            return try JSONValueDecoder(value: next(), codingPath: path).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let path = currentPath
            return try JSONValueDecoder(value: next(), codingPath: path).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            let path = currentPath
            return JSONValueDecoder(value: try next(), codingPath: path)
        }
    }

    private struct SingleValueContainer: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool { value.isNull }
        func decode(_ type: Bool.Type) throws -> Bool { try JSONValueDecoder.unboxBool(value, codingPath) }
        func decode(_ type: String.Type) throws -> String { try JSONValueDecoder.unboxString(value, codingPath) }
        func decode(_ type: Double.Type) throws -> Double { try JSONValueDecoder.unboxDouble(value, codingPath) }
        func decode(_ type: Float.Type) throws -> Float { try JSONValueDecoder.unboxFloat(value, codingPath) }
        func decode(_ type: Int.Type) throws -> Int { try integer() }
        func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
        func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
        func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
        func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
        func decode(_ type: UInt.Type) throws -> UInt { try integer() }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

        private func integer<T: FixedWidthInteger>() throws -> T {
            try JSONValueDecoder.unboxInteger(value, as: T.self, codingPath)
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONValueDecoder.unbox(value, as: T.self, codingPath: codingPath)
        }
    }
}
