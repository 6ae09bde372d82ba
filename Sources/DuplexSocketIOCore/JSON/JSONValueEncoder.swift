/// An `Encoder` that builds a ``JSONValue`` tree (see ``JSONValue/init(encoding:)``).
///
/// Containers share one mutable node per level, as `Encoder` requires: a container obtained
/// from the encoder keeps writing into it after the call that created it returns.
final class JSONValueEncoder: Encoder {
    /// A node of the tree under construction.
    final class Node {
        enum Kind { case empty, scalar, array, object }
        var kind = Kind.empty
        var scalar = JSONValue.null
        var elements: [Node] = []
        var members: [(key: String, node: Node)] = []

        init() {}

        init(_ value: JSONValue) {
            self.kind = .scalar
            self.scalar = value
        }

        var value: JSONValue {
            switch kind {
            // Foundation's JSONEncoder writes `{}` for a value that encodes nothing.
            case .empty: return .object(JSONObject())
            case .scalar: return scalar
            case .array: return .array(elements.map(\.value))
            case .object:
                return .object(JSONObject(members.map { JSONObject.Member(key: $0.key, value: $0.node.value) }))
            }
        }
    }

    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let node: Node

    init(codingPath: [any CodingKey], node: Node = Node()) {
        self.codingPath = codingPath
        self.node = node
    }

    static func encode(_ value: some Encodable, codingPath: [any CodingKey]) throws -> JSONValue {
        try box(value, codingPath: codingPath).value
    }

    /// Encodes `value` into a fresh node, with fast paths for the common leaf types.
    static func box<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> Node {
        switch value {
        case let json as JSONValue: return Node(json)
        case let string as String: return Node(.string(string))
        case let bool as Bool: return Node(.bool(bool))
        case let int as Int: return Node(.int(Int64(int)))
        case let double as Double: return Node(JSONValue.number(double))
        default:
            let encoder = JSONValueEncoder(codingPath: codingPath)
            try value.encode(to: encoder)
            return encoder.node
        }
    }

    /// Used by ``JSONValue/encode(to:)`` to keep attachments and key order intact.
    func storeDirectly(_ value: JSONValue) {
        node.kind = .scalar
        node.scalar = value
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.kind != .object {
            node.kind = .object
            node.members = []
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.kind != .array {
            node.kind = .array
            node.elements = []
        }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(node: node, codingPath: codingPath)
    }

    private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        let codingPath: [any CodingKey]

        private func child(forKey key: some CodingKey) -> Node {
            // Encoding a key twice replaces its value (one scan per key; keys are few).
            if let existing = node.members.firstIndex(where: { $0.key == key.stringValue }) {
                return node.members[existing].node
            }
            let child = Node()
            node.members.append((key.stringValue, child))
            return child
        }

        private func set(_ value: JSONValue, forKey key: Key) {
            let child = child(forKey: key)
            child.kind = .scalar
            child.scalar = value
        }

        mutating func encodeNil(forKey key: Key) throws { set(.null, forKey: key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), forKey: key) }
        mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), forKey: key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { set(.number(value), forKey: key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { set(.number(Double(value)), forKey: key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { set(.integer(value), forKey: key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { set(.integer(value), forKey: key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { set(.integer(value), forKey: key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { set(.integer(value), forKey: key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { set(.integer(value), forKey: key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { set(.integer(value), forKey: key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.integer(value), forKey: key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.integer(value), forKey: key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.integer(value), forKey: key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { set(.integer(value), forKey: key) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            let boxed = try JSONValueEncoder.box(value, codingPath: codingPath + [key])
            let child = child(forKey: key)
            child.kind = boxed.kind
            child.scalar = boxed.scalar
            child.elements = boxed.elements
            child.members = boxed.members
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type,
            forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> {
            JSONValueEncoder(codingPath: codingPath + [key], node: child(forKey: key)).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            JSONValueEncoder(codingPath: codingPath + [key], node: child(forKey: key)).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            JSONValueEncoder(codingPath: codingPath + [JSONCodingKey.super], node: child(forKey: JSONCodingKey.super))
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            JSONValueEncoder(codingPath: codingPath + [key], node: child(forKey: key))
        }
    }

    private struct UnkeyedContainer: UnkeyedEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]
        var count: Int { node.elements.count }

        private var nextKey: JSONCodingKey { JSONCodingKey(intValue: node.elements.count) }

        mutating func encodeNil() throws { node.elements.append(Node(.null)) }
        mutating func encode(_ value: Bool) throws { node.elements.append(Node(.bool(value))) }
        mutating func encode(_ value: String) throws { node.elements.append(Node(.string(value))) }
        mutating func encode(_ value: Double) throws { node.elements.append(Node(.number(value))) }
        mutating func encode(_ value: Float) throws { node.elements.append(Node(.number(Double(value)))) }
        mutating func encode(_ value: Int) throws { node.elements.append(Node(.integer(value))) }
        mutating func encode(_ value: Int8) throws { node.elements.append(Node(.integer(value))) }
        mutating func encode(_ value: Int16) throws { node.elements.append(Node(.integer(value))) }
        mutating func encode(_ value: Int32) throws { node.elements.append(Node(.integer(value))) }
        mutating func encode(_ value: Int64) throws { node.elements.append(Node(.integer(value))) }
        mutating func encode(_ value: UInt) throws { node.elements.append(Node(.integer(value))) }
        mutating func encode(_ value: UInt8) throws { node.elements.append(Node(.integer(value))) }
        mutating func encode(_ value: UInt16) throws { node.elements.append(Node(.integer(value))) }
        mutating func encode(_ value: UInt32) throws { node.elements.append(Node(.integer(value))) }
        mutating func encode(_ value: UInt64) throws { node.elements.append(Node(.integer(value))) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            node.elements.append(try JSONValueEncoder.box(value, codingPath: codingPath + [nextKey]))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type
        ) -> KeyedEncodingContainer<NestedKey> {
            let child = Node()
            let key = nextKey
            node.elements.append(child)
            return JSONValueEncoder(codingPath: codingPath + [key], node: child).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = Node()
            let key = nextKey
            node.elements.append(child)
            return JSONValueEncoder(codingPath: codingPath + [key], node: child).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            let child = Node()
            let key = nextKey
            node.elements.append(child)
            return JSONValueEncoder(codingPath: codingPath + [key], node: child)
        }
    }

    private struct SingleValueContainer: SingleValueEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]

        private func set(_ value: JSONValue) {
            node.kind = .scalar
            node.scalar = value
        }

        mutating func encodeNil() throws { set(.null) }
        mutating func encode(_ value: Bool) throws { set(.bool(value)) }
        mutating func encode(_ value: String) throws { set(.string(value)) }
        mutating func encode(_ value: Double) throws { set(.number(value)) }
        mutating func encode(_ value: Float) throws { set(.number(Double(value))) }
        mutating func encode(_ value: Int) throws { set(.integer(value)) }
        mutating func encode(_ value: Int8) throws { set(.integer(value)) }
        mutating func encode(_ value: Int16) throws { set(.integer(value)) }
        mutating func encode(_ value: Int32) throws { set(.integer(value)) }
        mutating func encode(_ value: Int64) throws { set(.integer(value)) }
        mutating func encode(_ value: UInt) throws { set(.integer(value)) }
        mutating func encode(_ value: UInt8) throws { set(.integer(value)) }
        mutating func encode(_ value: UInt16) throws { set(.integer(value)) }
        mutating func encode(_ value: UInt32) throws { set(.integer(value)) }
        mutating func encode(_ value: UInt64) throws { set(.integer(value)) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            let boxed = try JSONValueEncoder.box(value, codingPath: codingPath)
            node.kind = boxed.kind
            node.scalar = boxed.scalar
            node.elements = boxed.elements
            node.members = boxed.members
        }
    }
}
