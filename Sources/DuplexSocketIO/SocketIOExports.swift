// The core types that appear in this module's public API, re-exported so that
// `import DuplexSocketIO` is enough to write a Socket.IO server or client.
@_exported import enum DuplexSocketIOCore.JSONValue
@_exported import struct DuplexSocketIOCore.JSONObject
@_exported import struct DuplexSocketIOCore.SocketIOError
@_exported import struct DuplexSocketIOCore.SocketIOProtocolVersion
@_exported import struct DuplexSocketIOCore.SocketIORecoverySnapshot
@_exported import struct DuplexSocketIOCore.SocketIOPersistedSession
