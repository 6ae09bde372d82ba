import DuplexWebSocket
import DuplexWebSocketCore
import Testing

/// One row of the error contract (`Docs/Errors.md`): what a failure must look like.
struct ErrorContract: Sendable {
    var code: WebSocketError.Code
    var category: WebSocketError.Category
    var isRetryable: Bool
    /// The dynamic type of ``WebSocketError/cause``; nil when there must be no cause.
    var cause: (any Error.Type)?

    init(_ code: WebSocketError.Code, _ category: WebSocketError.Category, retryable: Bool, cause: (any Error.Type)? = nil) {
        self.code = code
        self.category = category
        self.isRetryable = retryable
        self.cause = cause
    }
}

/// Checks that `error` is a ``WebSocketError`` matching `contract`, and returns it.
@discardableResult
func expectError(
    _ error: (any Error)?,
    _ contract: ErrorContract,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> WebSocketError {
    let thrown = try #require(error, "no error was thrown", sourceLocation: sourceLocation)
    let webSocketError = try #require(
        thrown as? WebSocketError,
        "expected a WebSocketError, got \(type(of: thrown)): \(thrown)",
        sourceLocation: sourceLocation
    )
    #expect(webSocketError.code == contract.code, "\(webSocketError)", sourceLocation: sourceLocation)
    #expect(webSocketError.code.category == contract.category, "\(webSocketError)", sourceLocation: sourceLocation)
    #expect(webSocketError.isRetryable == contract.isRetryable, "\(webSocketError)", sourceLocation: sourceLocation)
    let causeType = webSocketError.cause.map { type(of: $0) as any Error.Type }
    #expect(
        causeType.map(ObjectIdentifier.init) == contract.cause.map(ObjectIdentifier.init),
        "cause: expected \(contract.cause.map { "\($0)" } ?? "none"), got \(causeType.map { "\($0)" } ?? "none") in \(webSocketError)",
        sourceLocation: sourceLocation
    )
    return webSocketError
}

/// The error of connecting to a ``RawServer`` whose connections run `handler`.
func connectError(
    againstRawServer handler: @escaping @Sendable (RawConnection) async throws -> Void,
    path: String = "/",
    configuration: WebSocketClientConfiguration = .test()
) async throws -> (any Error)? {
    try await RawServer.withServer(handler: handler) { server in
        await connectError(to: server.url(path), configuration: configuration)
    }
}
