import Synchronization
import DuplexSocketIOCore


extension SocketIOClientSocket {
    /// Emits `event` with `arguments` (binary values travel as attachments, wherever they are).
    ///
    /// When the socket is not connected the emit is buffered and sent, in order, once it
    /// connects (also after a reconnection), unless it is volatile
    /// (``SocketIOClientEmitOptions/volatile``), which drops it. With
    /// ``SocketIOClientConfiguration/retries`` the emit is queued and re-sent until the server
    /// acknowledges it.
    ///
    /// - Throws: ``SocketIOError/Code/encodingFailed`` for a reserved event name (`connect`,
    ///   `connect_error`, `disconnect`, `disconnecting`, `newListener`, `removeListener`),
    ///   ``SocketIOError/Code/notConnected`` when the offline buffer is full
    ///   (``SocketIOClientConfiguration/maxBufferedEmits``).
    public func emit(
        _ event: String,
        _ arguments: [JSONValue] = [],
        options: SocketIOClientEmitOptions = SocketIOClientEmitOptions()
    ) throws(SocketIOError) {
        if let error = manager.emit(event, arguments, namespace: namespace, options: options, completion: nil) {
            throw error
        }
    }

    /// Emits `event` with one argument encoded from `value` (a ``JSONValue`` nested in it keeps
    /// its binary attachments).
    ///
    /// - Throws: ``SocketIOError/Code/encodingFailed``, and the errors of ``emit(_:_:options:)``.
    public func emit(
        _ event: String,
        encoding value: some Encodable,
        options: SocketIOClientEmitOptions = SocketIOClientEmitOptions()
    ) throws(SocketIOError) {
        try emit(event, [try JSONValue(encoding: value)], options: options)
    }

    /// Emits `event` asking for an acknowledgement and calls `completion` with the reply's
    /// arguments, or with the error that ended the wait (see ``emitWithAck(_:_:timeout:isVolatile:)``).
    ///
    /// - Throws: the errors of ``emit(_:_:options:)``; `completion` is then not called.
    public func emit(
        _ event: String,
        _ arguments: [JSONValue],
        options: SocketIOClientEmitOptions = SocketIOClientEmitOptions(),
        acknowledgement completion: @escaping @Sendable (Result<[JSONValue], SocketIOError>) -> Void
    ) throws(SocketIOError) {
        if let error = manager.emit(event, arguments, namespace: namespace, options: options, completion: completion) {
            throw error
        }
    }

    /// Emits `event` and returns the arguments of the server's acknowledgement (JavaScript
    /// `emitWithAck`, python-socketio `call`).
    ///
    /// - Parameters:
    ///   - timeout: how long to wait for the reply (per attempt with retries); `nil` uses
    ///     ``SocketIOClientConfiguration/ackTimeout``, and waits without limit when that is nil.
    /// - Throws: ``SocketIOError/Code/ackTimedOut``, ``SocketIOError/Code/disconnected`` (the
    ///   connection was lost after the emit was sent, or the socket was disconnected),
    ///   ``SocketIOError/Code/notConnected`` (a volatile emit while not connected, or the buffer
    ///   is full), ``SocketIOError/Code/cancelled``, and the errors of ``emit(_:_:options:)``.
    public func emitWithAck(
        _ event: String,
        _ arguments: [JSONValue] = [],
        timeout: Duration? = nil,
        isVolatile: Bool = false
    ) async throws(SocketIOError) -> [JSONValue] {
        let outcome = ClientAckOutcome()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<[JSONValue], SocketIOError>, Never>) in
                outcome.install(continuation)
                let options = SocketIOClientEmitOptions(isVolatile: isVolatile, timeout: timeout)
                if let error = manager.emit(event, arguments, namespace: namespace, options: options, completion: {
                    outcome.resolve($0)
                }) {
                    outcome.resolve(.failure(error))
                }
            }
        } onCancel: {
            // The late acknowledgement, if any, is ignored.
            outcome.resolve(.failure(SocketIOError(.cancelled, "waiting for the acknowledgement was cancelled")))
        }
        return try result.get()
    }

    /// Emits `event` with one argument encoded from `value` and decodes the first argument of
    /// the acknowledgement as `Reply`.
    ///
    /// - Throws: ``SocketIOError/Code/encodingFailed``, ``SocketIOError/Code/decodingFailed``
    ///   (also when the reply has no argument), and the errors of
    ///   ``emitWithAck(_:_:timeout:isVolatile:)``.
    public func emitWithAck<Reply: Decodable>(
        _ event: String,
        encoding value: some Encodable,
        timeout: Duration? = nil,
        as replyType: Reply.Type = Reply.self
    ) async throws(SocketIOError) -> Reply {
        let reply = try await emitWithAck(event, [try JSONValue(encoding: value)], timeout: timeout)
        guard let first = reply.first else {
            throw SocketIOError(.decodingFailed, "the acknowledgement of \"\(event)\" has no argument")
        }
        return try first.decode(as: Reply.self)
    }
}
