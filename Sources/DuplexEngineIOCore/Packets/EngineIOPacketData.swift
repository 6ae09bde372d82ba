import NIOCore

/// The data an Engine.IO packet carries: UTF-8 text or raw bytes.
///
/// Binary data is only meaningful on ``EngineIOPacketType/message`` packets: v4 has no way to
/// say "binary ping", so encoders send any binary packet as a binary message.
public enum EngineIOPacketData: Hashable, Sendable, CustomStringConvertible {
    /// Text (possibly empty).
    case text(String)
    /// Bytes.
    case binary(ByteBuffer)

    /// The number of bytes of the data (UTF-8 bytes for text).
    public var byteCount: Int {
        switch self {
        case .text(let text): return text.utf8.count
        case .binary(let bytes): return bytes.readableBytes
        }
    }

    /// A log-friendly rendering with the payload elided after 32 characters.
    public var description: String {
        switch self {
        case .text(let text):
            let prefixLength = 32
            if text.utf8.count <= prefixLength { return "'\(text)'" }
            return "'\(text.prefix(prefixLength))…' [\(text.utf8.count) bytes]"
        case .binary(let bytes):
            return "<binary \(bytes.readableBytes) bytes>"
        }
    }
}
