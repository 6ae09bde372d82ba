/// A JSON object whose members keep their insertion order, as JavaScript objects with string
/// keys do (so re-serializing a received object gives the same text as `JSON.stringify`).
///
/// Keys are unique: setting an existing key replaces its value in place. Lookup by key is a
/// linear scan, which is the fastest choice for the small objects Socket.IO payloads carry.
/// Equality is ordered: `{"a":1,"b":2}` and `{"b":2,"a":1}` differ.
public struct JSONObject: Hashable, Sendable {
    /// One `key: value` member.
    public struct Member: Hashable, Sendable {
        /// The member's key.
        public var key: String
        /// The member's value.
        public var value: JSONValue

        /// Creates a member.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members, in insertion order.
    public private(set) var members: [Member]

    /// Creates an empty object.
    public init() {
        self.members = []
    }

    /// Creates an object from members; a later member replaces an earlier one with the same
    /// key, keeping the earlier position (ECMA-262 `JSON.parse` semantics).
    public init(_ members: some Sequence<Member>) {
        self.members = Self.deduplicated(Array(members))
    }

    /// Above this many members, duplicate keys are found with a hash index instead of a scan.
    private static let linearKeySearchLimit = 16

    /// `members` with each repeated key merged into its first position, taking the last value.
    /// Returns the array itself (no copy) when no key repeats, the common case.
    private static func deduplicated(_ members: [Member]) -> [Member] {
        if members.count <= linearKeySearchLimit {
            var hasDuplicates = false
            outer: for later in members.indices {
                for earlier in 0..<later where members[earlier].key == members[later].key {
                    hasDuplicates = true
                    break outer
                }
            }
            guard hasDuplicates else { return members }
        }
        var positions: [String: Int] = [:]
        positions.reserveCapacity(members.count)
        var result: [Member] = []
        result.reserveCapacity(members.count)
        for member in members {
            if let existing = positions[member.key] {
                result[existing].value = member.value
            } else {
                positions[member.key] = result.count
                result.append(member)
            }
        }
        return result.count == members.count ? members : result
    }

    /// The keys, in insertion order.
    public var keys: [String] { members.map(\.key) }

    /// The value of member `key`. Setting `nil` removes the member; setting a value replaces
    /// an existing member in place or appends a new one.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let index = index(forKey: key) else { return nil }
            return members[index].value
        }
        set {
            if let index = index(forKey: key) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.remove(at: index)
                }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// The position of member `key`, if present.
    public func index(forKey key: String) -> Int? {
        members.firstIndex { $0.key == key }
    }

    /// Rewrites every value in place, keeping keys and order.
    mutating func updateValues<Failure: Error>(
        _ body: (inout JSONValue) throws(Failure) -> Void
    ) throws(Failure) {
        for index in members.indices { try body(&members[index].value) }
    }

    /// Reserves room for `count` members.
    public mutating func reserveCapacity(_ count: Int) {
        members.reserveCapacity(count)
    }
}

extension JSONObject: RandomAccessCollection {
    public typealias Element = (key: String, value: JSONValue)

    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }

    public subscript(position: Int) -> Element {
        let member = members[position]
        return (member.key, member.value)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Creates an object from a literal; a repeated key keeps its first position and its last
    /// value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { Member(key: $0.0, value: $0.1) })
    }
}
