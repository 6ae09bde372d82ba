// The core types that appear in this module's public API, re-exported by name so that
// `import DuplexEngineIO` is enough to use the server and the client.
@_exported import struct DuplexEngineIOCore.EngineIOCloseReason
@_exported import struct DuplexEngineIOCore.EngineIOError
@_exported import struct DuplexEngineIOCore.EngineIOHandshake
@_exported import enum DuplexEngineIOCore.EngineIOPacketData
@_exported import struct DuplexEngineIOCore.EngineIOProtocolVersion
@_exported import struct DuplexEngineIOCore.EngineIOSessionID
@_exported import struct DuplexEngineIOCore.EngineIOTransport
