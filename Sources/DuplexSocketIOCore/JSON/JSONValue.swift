import NIOCore

/// A JSON value as Socket.IO carries it: RFC 8259 JSON plus binary attachments.
///
/// - Numbers keep integers exact: an integer literal that fits in `Int64` is ``int(_:)``, and
///   so is any other number whose value is integral and below 2^53 (`1.0`, `1e2`); everything
///   else is ``double(_:)``. Equality compares numbers by value, so `.int(1) == .double(1.0)`.
/// - Objects keep their members in insertion order (``JSONObject``); equality is ordered.
/// - ``binary(_:)`` is a Socket.IO binary attachment. The packet encoder replaces it with a
///   `{"_placeholder":true,"num":N}` object and sends the bytes separately; the packet decoder
///   puts the received bytes back.
public enum JSONValue: Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number that is integral and fits in `Int64`.
    case int(Int64)
    /// Any other number. Non-finite values serialize as `null`, as `JSON.stringify` does.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, with members in insertion order.
    case object(JSONObject)
    /// A binary attachment (Socket.IO only; not part of RFC 8259).
    case binary(ByteBuffer)
}

extension JSONValue {
    /// Whether this is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The boolean, if this is ``bool(_:)``.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The integer, if this is ``int(_:)`` or a ``double(_:)`` that is integral and fits.
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value): return Int64(exactly: value)
        default: return nil
        }
    }

    /// The number as a `Double`, if this is ``int(_:)`` or ``double(_:)``.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The string, if this is ``string(_:)``.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, if this is ``array(_:)``.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The object, if this is ``object(_:)``.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The bytes, if this is ``binary(_:)``.
    public var binaryValue: ByteBuffer? {
        if case .binary(let value) = self { return value }
        return nil
    }

    /// The element at `index` of an array, or `nil` if this is not an array or the index is
    /// out of range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The value of member `key` of an object, or `nil` if this is not an object or has no
    /// such member.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// Whether this value contains a ``binary(_:)`` anywhere.
    public var containsBinary: Bool { binaryCount > 0 }

    /// The number of ``binary(_:)`` values inside this value, at any depth.
    public var binaryCount: Int {
        switch self {
        case .binary:
            return 1
        case .array(let elements):
            var count = 0
            for element in elements { count += element.binaryCount }
            return count
        case .object(let object):
            var count = 0
            for member in object.members { count += member.value.binaryCount }
            return count
        case .null, .bool, .int, .double, .string:
            return 0
        }
    }
}

extension JSONValue {
    /// `.int` when `value` fits in `Int64`, else the nearest `.double`.
    static func integer(_ value: some BinaryInteger) -> JSONValue {
        if let exact = Int64(exactly: value) { return .int(exact) }
        return .double(Double(value))
    }

    /// `.int` when `value` is integral and below 2^53 in magnitude (where the integer is also
    /// JavaScript's rendering of the double), else `.double`; as the parser reads numbers with
    /// a fraction or exponent.
    static func number(_ value: Double) -> JSONValue {
        if value.magnitude < 0x1p53, let exact = Int64(exactly: value) { return .int(exact) }
        return .double(value)
    }
}

extension JSONValue: Hashable {
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Int64(exactly: b) == a
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        case (.binary(let a), .binary(let b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0 as UInt8)
        case .bool(let value):
            hasher.combine(1 as UInt8)
            hasher.combine(value)
        case .int(let value):
            hasher.combine(2 as UInt8)
            hasher.combine(value)
        case .double(let value):
            // Consistent with ==: an integral double hashes as the equal integer.
            if let integer = Int64(exactly: value) {
                hasher.combine(2 as UInt8)
                hasher.combine(integer)
            } else {
                hasher.combine(3 as UInt8)
                hasher.combine(value.isNaN ? .nan : value)
            }
        case .string(let value):
            hasher.combine(4 as UInt8)
            hasher.combine(value)
        case .array(let value):
            hasher.combine(5 as UInt8)
            hasher.combine(value)
        case .object(let value):
            hasher.combine(6 as UInt8)
            hasher.combine(value)
        case .binary(let value):
            hasher.combine(7 as UInt8)
            hasher.combine(value)
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text (see ``jsonString``).
    public var description: String { jsonString }
}
