import DuplexEngineIOCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A keep-alive HTTP/1.1 connection to the Engine.IO endpoint that carries one polling request
/// at a time (protocol.md 4.1.4); the client keeps one for its GETs and one for its POSTs.
///
/// It connects on first use and again whenever the server closed it between requests. Every
/// failure is an ``EngineIOError``: ``EngineIOError/Code/handshakeRejected`` with the response
/// for a non-200 status, ``EngineIOError/Code/connectionFailed`` with the underlying error as
/// cause for I/O failures and timeouts, ``EngineIOError/Code/cancelled`` for cancellation.
final class ClientPollingConnection: Sendable {
    private let endpoint: ClientEndpoint
    private let headers: HTTPHeaders
    private let eventLoopGroup: any EventLoopGroup
    private let sslContext: NIOSSLContext?
    private let maxBodySize: Int
    private let state = Mutex<State>(State())

    private struct State {
        var channel: (any Channel)?
        var isAborted = false
    }

    /// Creates an idle connection.
    ///
    /// - Parameters:
    ///   - headers: sent with every request (`Host` is added).
    ///   - sslContext: required for `https` endpoints.
    init(
        endpoint: ClientEndpoint,
        headers: HTTPHeaders,
        eventLoopGroup: any EventLoopGroup,
        sslContext: NIOSSLContext?,
        maxBodySize: Int
    ) {
        self.endpoint = endpoint
        var headers = headers
        headers.replaceOrAdd(name: "Host", value: endpoint.hostHeader)
        self.headers = headers
        self.eventLoopGroup = eventLoopGroup
        self.sslContext = sslContext
        self.maxBodySize = maxBodySize
    }

    /// Sends a GET (no body) or POST and returns the body of its 200 response.
    func execute(
        method: HTTPMethod,
        target: String,
        body: EngineIOPollingBody?,
        timeout: Duration
    ) async throws(EngineIOError) -> ClientPollingResponse {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target, headers: headers)
        if let body {
            head.headers.replaceOrAdd(name: "Content-Type", value: body.contentType.rawValue)
            head.headers.replaceOrAdd(name: "Content-Length", value: String(body.bytes.readableBytes))
        }
        let response: ClientPollingResponse
        do {
            let channel = try await currentChannel(timeout: timeout)
            let promise = channel.eventLoop.makePromise(of: ClientPollingResponse.self)
            let exchange = ClientPollingExchange(head: head, body: body?.bytes, deadline: deadline, promise: promise)
            response = try await withTaskCancellationHandler {
                channel.writeAndFlush(exchange).whenFailure { promise.fail($0) }
                return try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
                channel.close(promise: nil)
            }
            if !response.isKeepAlive { dropChannel(channel) }
        } catch {
            if Task.isCancelled || error is CancellationError {
                throw EngineIOError(.cancelled, "the HTTP request was cancelled", cause: CancellationError())
            }
            if let error = error as? EngineIOError { throw error }
            let message: String
            switch error as? ClientPollingFailure {
            case .timedOut?: message = "\(method) timed out after \(timeout)"
            case .bodyTooLarge?:
                throw EngineIOError(.payloadTooLarge, "the \(method) response body exceeds \(maxBodySize) bytes", cause: error)
            default: message = "\(method) failed: \(error)"
            }
            throw EngineIOError(.connectionFailed, message, cause: error)
        }
        guard response.status == 200 else {
            throw EngineIOError.rejection(status: response.status, body: response.body)
        }
        return response
    }

    /// Closes the connection: a pending request fails, and later requests fail too.
    func abort() {
        let channel = state.withLock { state in
            state.isAborted = true
            return state.channel.take()
        }
        channel?.close(promise: nil)
    }

    /// The open channel, or a new one.
    private func currentChannel(timeout: Duration) async throws -> any Channel {
        let existing: (any Channel)? = try state.withLock { state in
            guard !state.isAborted else { throw EngineIOError(.cancelled, "the connection was closed") }
            if let channel = state.channel, channel.isActive { return channel }
            state.channel = nil
            return nil
        }
        if let existing { return existing }
        let channel = try await connect(timeout: timeout)
        let isAborted = state.withLock { state in
            if !state.isAborted { state.channel = channel }
            return state.isAborted
        }
        if isAborted {
            channel.close(promise: nil)
            throw EngineIOError(.cancelled, "the connection was closed")
        }
        return channel
    }

    private func dropChannel(_ channel: any Channel) {
        state.withLock { state in
            if state.channel === channel { state.channel = nil }
        }
        channel.close(promise: nil)
    }

    private func connect(timeout: Duration) async throws -> any Channel {
        let sslContext = self.sslContext
        let maxBodySize = self.maxBodySize
        let host = endpoint.host
        // RFC 6066 §3: SNI carries a host name, never an address.
        let serverHostname = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        return try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(ClientPollingExchangeHandler(maxBodySize: maxBodySize))
                }
            }
            .connect(host: host, port: endpoint.port)
            .get()
    }
}
