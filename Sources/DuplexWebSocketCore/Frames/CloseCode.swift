/// A WebSocket close status code (RFC 6455 §7.4). Extensible: any `UInt16` can be represented,
/// and equality is by value, so `CloseCode(rawValue: 1000) == .normalClosure`.
public struct CloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection was fulfilled.
    public static let normalClosure = CloseCode(1000)
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    public static let goingAway = CloseCode(1001)
    /// 1002: protocol error.
    public static let protocolError = CloseCode(1002)
    /// 1003: a data type the endpoint cannot accept.
    public static let unsupportedData = CloseCode(1003)
    /// 1005: no status code was present. Never sent on the wire (§7.4.1).
    public static let noStatusReceived = CloseCode(1005)
    /// 1006: the connection closed without a close frame. Never sent on the wire (§7.4.1).
    public static let abnormalClosure = CloseCode(1006)
    /// 1007: data inconsistent with the message type (invalid UTF-8 in a text message).
    public static let invalidPayloadData = CloseCode(1007)
    /// 1008: a message violates the endpoint's policy.
    public static let policyViolation = CloseCode(1008)
    /// 1009: a message is too big to process.
    public static let messageTooBig = CloseCode(1009)
    /// 1010: the client expected the server to negotiate an extension.
    public static let mandatoryExtension = CloseCode(1010)
    /// 1011: the server hit an unexpected condition (also used for keepalive timeouts).
    public static let internalError = CloseCode(1011)
    /// 1012: the service is restarting.
    public static let serviceRestart = CloseCode(1012)
    /// 1013: try again later.
    public static let tryAgainLater = CloseCode(1013)
    /// 1014: a gateway got an invalid response upstream.
    public static let badGateway = CloseCode(1014)
    /// 1015: TLS handshake failure. Never sent on the wire (§7.4.1).
    public static let tlsHandshakeFailure = CloseCode(1015)

    /// Whether this code may appear in a close frame (RFC 6455 §7.4.1-2 and the IANA registry):
    /// 1000-1003, 1007-1014 and 3000-4999.
    public var isSendable: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    /// Whether this code means an orderly closure (1000 or 1001).
    public var isNormal: Bool { rawValue == 1000 || rawValue == 1001 }

    public var description: String { String(rawValue) }
}

/// The close frames exchanged when a connection ended.
public struct CloseInfo: Hashable, Sendable, CustomStringConvertible {
    /// The close frame received from the peer, if any.
    public var received: CloseFrame?
    /// The close frame we sent, if any.
    public var sent: CloseFrame?
    /// Whether the peer's close frame arrived before we sent ours (the peer started the closing handshake).
    public var receivedThenSent: Bool

    /// Creates close information.
    public init(received: CloseFrame?, sent: CloseFrame?, receivedThenSent: Bool) {
        self.received = received
        self.sent = sent
        self.receivedThenSent = receivedThenSent
    }

    /// The code that describes the closure: the received one, else 1006 (abnormal closure)
    /// when no close frame arrived (RFC 6455 §7.1.5).
    public var code: CloseCode { received?.code ?? .abnormalClosure }

    /// The reason received from the peer (empty if none).
    public var reason: String { received?.reason ?? "" }

    /// Whether both sides exchanged close frames and the peer's code means an orderly closure:
    /// 1000, 1001, or no code at all (1005, RFC 6455 §7.1.5: what a browser's `close()` sends).
    public var isNormal: Bool {
        guard let received, sent != nil else { return false }
        return received.code.isNormal || received.code == .noStatusReceived
    }

    public var description: String {
        let r = received.map { "received \($0)" } ?? "no close frame received"
        let s = sent.map { "sent \($0)" } ?? "no close frame sent"
        return "\(r); \(s)"
    }
}

/// The content of a close frame: a code and a UTF-8 reason (RFC 6455 §5.5.1).
/// A close frame with an empty body is represented with code 1005.
public struct CloseFrame: Hashable, Sendable, CustomStringConvertible {
    /// The status code (1005 if the frame had no body).
    public var code: CloseCode
    /// The reason (may be empty).
    public var reason: String
    /// Creates a close frame description.
    public init(code: CloseCode, reason: String = "") {
        self.code = code
        self.reason = reason
    }
    public var description: String {
        reason.isEmpty ? "\(code)" : "\(code) \"\(reason)\""
    }
}
