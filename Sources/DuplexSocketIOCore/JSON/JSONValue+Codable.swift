import NIOCore

extension JSONValue {
    /// Converts an `Encodable` value to a JSON value, without going through JSON text.
    ///
    /// A ``JSONValue`` nested in `value` is kept as it is, so ``binary(_:)`` attachments can be
    /// mixed into `Codable` types. Other types use their `Encodable` conformance (`Data` and
    /// `[UInt8]` become arrays of numbers, not attachments). Integers that do not fit in `Int64`
    /// become ``double(_:)``.
    ///
    /// This uses a small in-module `Encoder` rather than Foundation's `JSONEncoder`: it keeps
    /// key order and attachments, needs no Foundation, and avoids serializing to text and
    /// parsing it back.
    ///
    /// - Throws: ``SocketIOError/Code/encodingFailed`` with the `EncodingError` (or the value's
    ///   own error) as the cause.
    public init(encoding value: some Encodable) throws(SocketIOError) {
        do {
            self = try JSONValueEncoder.encode(value, codingPath: [])
        } catch let error as SocketIOError {
            throw error
        } catch {
            throw SocketIOError(.encodingFailed, "cannot encode \(type(of: value)): \(error)", cause: error)
        }
    }

    /// Converts this value to a `Decodable` type, without going through JSON text.
    ///
    /// A ``binary(_:)`` decodes as an array of its bytes (so `[UInt8]` and `Data` work), or as
    /// itself when the target is ``JSONValue``. Numbers convert when exact: `3` decodes as
    /// `Int` or `Double`, `3.5` only as a floating-point type.
    ///
    /// - Throws: ``SocketIOError/Code/decodingFailed`` with the `DecodingError` (or the type's
    ///   own error) as the cause.
    public func decode<T: Decodable>(as type: T.Type = T.self) throws(SocketIOError) -> T {
        do {
            return try T(from: JSONValueDecoder(value: self, codingPath: []))
        } catch let error as SocketIOError {
            throw error
        } catch {
            throw SocketIOError(.decodingFailed, "cannot decode \(T.self): \(error)", cause: error)
        }
    }
}

/// Keys of objects whose members are not known at compile time.
struct JSONCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    static let `super` = JSONCodingKey(stringValue: "super")
}

extension JSONValue: Codable {
    /// Encodes this value. With ``init(encoding:)`` the value is kept as it is; with another
    /// encoder (such as Foundation's `JSONEncoder`) it is written as the equivalent JSON, and a
    /// ``binary(_:)`` as Node's `Buffer.toJSON` form `{"type":"Buffer","data":[…]}`.
    public func encode(to encoder: any Encoder) throws {
        if let encoder = encoder as? JSONValueEncoder {
            encoder.storeDirectly(self)
            return
        }
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .double(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .object(let object):
            var container = encoder.container(keyedBy: JSONCodingKey.self)
            for member in object.members {
                try container.encode(member.value, forKey: JSONCodingKey(stringValue: member.key))
            }
        case .binary(let buffer):
            var container = encoder.container(keyedBy: JSONCodingKey.self)
            try container.encode("Buffer", forKey: JSONCodingKey(stringValue: "type"))
            try container.encode(Array(buffer.readableBytesView), forKey: JSONCodingKey(stringValue: "data"))
        }
    }

    /// Decodes any JSON value. With ``decode(as:)`` the value is taken as it is.
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? JSONValueDecoder {
            self = decoder.value
            return
        }
        if let container = try? decoder.container(keyedBy: JSONCodingKey.self) {
            var object = JSONObject()
            for key in container.allKeys {
                object[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
            }
            self = .object(object)
            return
        }
        if var container = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !container.isAtEnd { elements.append(try container.decode(JSONValue.self)) }
            self = .array(elements)
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }
}
