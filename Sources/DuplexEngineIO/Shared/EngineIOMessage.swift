import DuplexEngineIOCore

/// An application message carried by Engine.IO: UTF-8 text or bytes (a `message` packet,
/// protocol.md 4.1.2). Text arrives as text and binary as binary, whatever the transport.
public typealias EngineIOMessage = EngineIOPacketData
