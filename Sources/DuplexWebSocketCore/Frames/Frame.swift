import NIOCore

/// One WebSocket frame, payload already unmasked (RFC 6455 §5.2).
public struct Frame: Hashable, Sendable, CustomStringConvertible {
    /// FIN: this is the final fragment of a message.
    public var fin: Bool
    /// RSV1: set on the first frame of a compressed message (RFC 7692 §6).
    public var rsv1: Bool
    /// RSV2 (no extension Duplex supports uses it).
    public var rsv2: Bool
    /// RSV3 (no extension Duplex supports uses it).
    public var rsv3: Bool
    /// The opcode.
    public var opcode: Opcode
    /// The application data, unmasked.
    public var payload: ByteBuffer

    /// Creates a frame.
    public init(
        fin: Bool = true,
        rsv1: Bool = false,
        rsv2: Bool = false,
        rsv3: Bool = false,
        opcode: Opcode,
        payload: ByteBuffer
    ) {
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.opcode = opcode
        self.payload = payload
    }

    /// A log-friendly rendering with the payload elided past 32 bytes.
    public var description: String {
        let size = payload.readableBytes
        var flags = fin ? "" : " [continued]"
        if rsv1 { flags += " [rsv1]" }
        return "\(opcode) \(size) bytes\(flags)"
    }
}
