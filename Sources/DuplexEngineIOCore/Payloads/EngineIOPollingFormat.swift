import NIOCore

/// How a polling session frames its HTTP bodies: the v4 format, or one of the three v3
/// variants a client picks with its query string (`b64=1`, `j=<index>`).
///
/// This is the one entry point for polling payload codecs, on the server and the client.
public struct EngineIOPollingFormat: Hashable, Sendable, CustomStringConvertible {
    private enum Value: Hashable, Sendable {
        case v4
        case v3Binary
        case v3Base64
        case v3JSONP(Int)
    }

    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// v4: packets separated by 0x1E, binary as `b<base64>` (protocol.md 4.1.4).
    public static let v4 = EngineIOPollingFormat(.v4)
    /// v3 for clients that support binary (XHR2): length-prefixed text payloads, or a binary
    /// payload when a response contains binary packets.
    public static let v3Binary = EngineIOPollingFormat(.v3Binary)
    /// v3 for clients that asked for `b64=1`: always a text payload, binary as `b4<base64>`.
    public static let v3Base64 = EngineIOPollingFormat(.v3Base64)
    /// v3 JSONP (`j=<index>`): text payloads wrapped in `___eio[<index>]("…");`, requests as
    /// `d=<payload>` form bodies.
    public static func v3JSONP(index: Int) -> EngineIOPollingFormat { EngineIOPollingFormat(.v3JSONP(index)) }

    /// The protocol revision this format belongs to.
    public var protocolVersion: EngineIOProtocolVersion {
        value == .v4 ? .v4 : .v3
    }

    /// Whether a message can travel in this format's payloads. engine.io-protocol v4, "Payload":
    /// packets are separated by the record separator U+001E, so a v4 text message containing it
    /// cannot be framed (the receiver would split it); v3 payloads are length-prefixed.
    public func canFrame(_ data: EngineIOPacketData) -> Bool {
        guard value == .v4, case .text(let text) = data else { return true }
        return !text.utf8.contains(PollingPayloadV4.separator)
    }

    /// The refusal of a message that ``canFrame(_:)`` rejects.
    static let unframeableMessage = EngineIOError(
        .invalidPacket,
        "a text message containing U+001E cannot be sent over v4 long-polling (the payload separator)"
    )

    /// The JSONP callback index, for ``v3JSONP(index:)``.
    public var jsonpIndex: Int? {
        if case .v3JSONP(let index) = value { return index }
        return nil
    }

    /// Decodes a polling body: a client's POST on the server (for JSONP, the `d=` form body),
    /// or a server's GET response on the client.
    ///
    /// - Parameters:
    ///   - body: the HTTP body.
    ///   - contentType: the request's `Content-Type`, if any. A v4 body declared
    ///     `application/octet-stream` is rejected (ref impl: v4 polling bodies are always text).
    ///   - maxPackets: the most packets accepted in one payload (python-engineio uses 16).
    /// - Throws: ``EngineIOError/Code/invalidPayload`` or ``EngineIOError/Code/invalidPacket`` for
    ///   malformed input; ``EngineIOError/Code/badRequest`` for a binary content type in v4.
    public func decodePayload(_ body: ByteBuffer, contentType: String? = nil, maxPackets: Int = 16)
        throws(EngineIOError) -> [EngineIOPacket]
    {
        switch value {
        case .v4:
            if let contentType, Self.isOctetStream(contentType) {
                throw EngineIOError(.badRequest, "v4 polling bodies must be text, got \(contentType)")
            }
            return try PollingPayloadV4.decode(body, maxPackets: maxPackets)
        case .v3Binary, .v3Base64:
            return try PollingPayloadV3.decode(body, maxPackets: maxPackets)
        case .v3JSONP:
            return try PollingPayloadV3.decode(try JSONPPolling.unwrapFormBody(body), maxPackets: maxPackets)
        }
    }

    /// Encodes the first packets of `packets` into one polling body: at most `maxPackets`
    /// packets and, after the first, no more than `maxBytes` bytes (a single packet larger than
    /// `maxBytes` is still sent alone, or it would block the queue forever).
    ///
    /// - Returns: the body, and how many packets it holds; the rest did not fit.
    public func encodePayload<Packets: Collection<EngineIOPacket>>(
        _ packets: Packets,
        maxPackets: Int = .max,
        maxBytes: Int = .max
    ) -> (body: EngineIOPollingBody, packetCount: Int) {
        switch value {
        case .v4:
            let (bytes, count) = PollingPayloadV4.encode(packets, maxPackets: maxPackets, maxBytes: maxBytes)
            return (EngineIOPollingBody(bytes: bytes, contentType: .text), count)
        case .v3Binary, .v3Base64:
            let (bytes, count, isBinary) = PollingPayloadV3.encode(
                packets,
                allowsBinary: value == .v3Binary,
                maxPackets: maxPackets,
                maxBytes: maxBytes
            )
            return (EngineIOPollingBody(bytes: bytes, contentType: isBinary ? .binary : .text), count)
        case .v3JSONP(let index):
            let (bytes, count, _) = PollingPayloadV3.encode(
                packets,
                allowsBinary: false,
                maxPackets: maxPackets,
                maxBytes: maxBytes
            )
            return (EngineIOPollingBody(bytes: JSONPPolling.wrap(bytes, index: index), contentType: .javascript), count)
        }
    }

    private static func isOctetStream(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingASCIIWhitespace().lowercased() == "application/octet-stream"
    }

    public var description: String {
        switch value {
        case .v4: return "v4"
        case .v3Binary: return "v3 (binary)"
        case .v3Base64: return "v3 (base64)"
        case .v3JSONP(let index): return "v3 (JSONP \(index))"
        }
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    func trimmingASCIIWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
