import DuplexSocketIOCore

// Number equivalences of the JSON oracles (FuzzJSON, FuzzSocketIOPacket): what a round trip
// through JavaScript-compatible text may legitimately change.

extension JSONValue {
    /// The value `JSON.stringify` describes: non-finite numbers become `null`.
    public var withInfinitiesAsNull: JSONValue {
        switch self {
        case .double(let number) where !number.isFinite:
            return .null
        case .array(let elements):
            return .array(elements.map(\.withInfinitiesAsNull))
        case .object(let object):
            return .object(JSONObject(object.members.map { .init(key: $0.key, value: $0.value.withInfinitiesAsNull) }))
        default:
            return self
        }
    }
}

extension JSONValue {
    /// `==`, except that an integer and a double of magnitude 2^53 or more compare as doubles.
    public func isSameNumberwise(as other: JSONValue) -> Bool {
        switch (self, other) {
        case (.int(let integer), .double(let double)), (.double(let double), .int(let integer)):
            return double.magnitude >= 0x1p53 ? Double(integer) == double : self == other
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSameNumberwise(as: $1) }
        case (.object(let a), .object(let b)):
            return a.members.count == b.members.count
                && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value.isSameNumberwise(as: $1.value) }
        default:
            return self == other
        }
    }
}
