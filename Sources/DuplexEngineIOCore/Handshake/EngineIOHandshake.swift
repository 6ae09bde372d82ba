/// The data of the `open` packet (protocol.md 4.1.3):
///
///     0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
public struct EngineIOHandshake: Hashable, Sendable {
    /// The session id.
    public var sid: String
    /// Transports the client may upgrade to: `["websocket"]` over polling, `[]` over WebSocket.
    public var upgrades: [EngineIOTransport]
    /// How often the server pings (v4) or the client must ping (v3). Sent in milliseconds.
    public var pingInterval: Duration
    /// How long to wait for the answer to a ping. Sent in milliseconds.
    public var pingTimeout: Duration
    /// The most bytes a client should pack into one polling payload; `nil` when absent (v3
    /// servers, python-engineio before 4.11).
    public var maxPayload: Int?

    /// Creates handshake data.
    public init(
        sid: String,
        upgrades: [EngineIOTransport],
        pingInterval: Duration,
        pingTimeout: Duration,
        maxPayload: Int?
    ) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    /// The JSON object, with fields in the reference server's order.
    public func encodedJSON() -> String {
        var json = "{\"sid\":" + JSONValue.quoted(sid)
        json += ",\"upgrades\":[" + upgrades.map { JSONValue.quoted($0.rawValue) }.joined(separator: ",") + "]"
        json += ",\"pingInterval\":\(Self.milliseconds(pingInterval))"
        json += ",\"pingTimeout\":\(Self.milliseconds(pingTimeout))"
        if let maxPayload { json += ",\"maxPayload\":\(maxPayload)" }
        return json + "}"
    }

    /// The `open` packet carrying this handshake.
    public var openPacket: EngineIOPacket { EngineIOPacket(.open, .text(encodedJSON())) }

    /// Parses the handshake JSON. Unknown fields are ignored and `maxPayload` may be absent;
    /// `upgrades` may be absent too (read as `[]`).
    ///
    /// - Throws: ``EngineIOError/Code/invalidPacket`` if the text is not a JSON object with a
    ///   non-empty string `sid`, non-negative integer `pingInterval` and `pingTimeout`, a string
    ///   array `upgrades`, and (if present) a positive integer `maxPayload`.
    public init(json: String) throws(EngineIOError) {
        guard case .object(let object) = JSONValue.parse(json) else {
            throw EngineIOError(.invalidPacket, "Handshake is not a JSON object")
        }
        guard case .string(let sid) = object["sid"], !sid.isEmpty else {
            throw EngineIOError(.invalidPacket, "Handshake has no valid sid")
        }
        var upgrades: [EngineIOTransport] = []
        switch object["upgrades"] {
        case .none, .null?:
            break
        case .array(let values)?:
            for value in values {
                guard case .string(let name) = value else {
                    throw EngineIOError(.invalidPacket, "Handshake upgrades must be strings")
                }
                upgrades.append(EngineIOTransport(rawValue: name))
            }
        default:
            throw EngineIOError(.invalidPacket, "Handshake upgrades must be an array")
        }
        guard let pingInterval = Self.integer(object["pingInterval"]),
            let pingTimeout = Self.integer(object["pingTimeout"])
        else {
            throw EngineIOError(.invalidPacket, "Handshake has no valid pingInterval/pingTimeout")
        }
        var maxPayload: Int? = nil
        if let value = object["maxPayload"], value != .null {
            guard let parsed = Self.integer(value), parsed > 0 else {
                throw EngineIOError(.invalidPacket, "Handshake has an invalid maxPayload")
            }
            maxPayload = parsed
        }
        self.init(
            sid: sid,
            upgrades: upgrades,
            pingInterval: .milliseconds(pingInterval),
            pingTimeout: .milliseconds(pingTimeout),
            maxPayload: maxPayload
        )
    }

    /// Parses the data of an `open` packet.
    ///
    /// - Throws: ``EngineIOError/Code/invalidPacket`` if the packet is not a text `open` packet
    ///   with valid handshake JSON.
    public init(openPacket packet: EngineIOPacket) throws(EngineIOError) {
        guard packet.type == .open, case .text(let json) = packet.data else {
            throw EngineIOError(.invalidPacket, "Expected an open packet, got \(packet.type)")
        }
        try self.init(json: json)
    }

    /// A JSON number that is a non-negative integer of at most 2^53 (exact in a double).
    private static func integer(_ value: JSONValue?) -> Int? {
        guard case .number(let number)? = value, number >= 0, number <= 9_007_199_254_740_992,
            number.rounded(.towardZero) == number
        else { return nil }
        return Int(number)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
