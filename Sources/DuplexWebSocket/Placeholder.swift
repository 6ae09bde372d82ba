// The NIO layer; see WebSocketServer and WebSocketClient.
