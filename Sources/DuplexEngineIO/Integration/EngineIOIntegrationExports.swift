// The lower-level types in the integration API (``EngineIOServerWebSocket``), re-exported by name
// so that `import DuplexEngineIO` is enough to adapt a framework's WebSocket.
@_exported import enum DuplexEngineIOCore.EngineIOWebSocketFrame
@_exported import struct DuplexWebSocketCore.CloseCode
