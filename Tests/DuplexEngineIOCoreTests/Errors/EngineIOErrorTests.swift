import Testing

import DuplexEngineIOCore

@Suite("EngineIOError: codes, wire codes and HTTP statuses (protocol.md 4.1.1, DESIGN.md Errors)")
struct EngineIOErrorTests {
    struct WireRow: Sendable, CustomTestStringConvertible {
        var code: EngineIOError.Code
        var wireCode: Int?
        var httpStatus: Int
        var body: String?
        var testDescription: String { code.description }
    }

    static let wireTable: [WireRow] = [
        WireRow(
            code: .transportUnknown,
            wireCode: 0,
            httpStatus: 400,
            body: #"{"code":0,"message":"Transport unknown"}"#
        ),
        WireRow(
            code: .sessionIdUnknown,
            wireCode: 1,
            httpStatus: 400,
            body: #"{"code":1,"message":"Session ID unknown"}"#
        ),
        WireRow(
            code: .badHandshakeMethod,
            wireCode: 2,
            httpStatus: 400,
            body: #"{"code":2,"message":"Bad handshake method"}"#
        ),
        WireRow(code: .badRequest, wireCode: 3, httpStatus: 400, body: #"{"code":3,"message":"Bad request"}"#),
        WireRow(code: .forbidden, wireCode: 4, httpStatus: 403, body: #"{"code":4,"message":"Forbidden"}"#),
        WireRow(
            code: .unsupportedProtocolVersion,
            wireCode: 5,
            httpStatus: 400,
            body: #"{"code":5,"message":"Unsupported protocol version"}"#
        ),
        WireRow(
            code: .sessionClosed,
            wireCode: 1,
            httpStatus: 400,
            body: #"{"code":1,"message":"Session ID unknown"}"#
        ),
        WireRow(code: .payloadTooLarge, wireCode: nil, httpStatus: 413, body: nil),
        WireRow(code: .invalidPayload, wireCode: nil, httpStatus: 400, body: nil),
        WireRow(code: .invalidPacket, wireCode: nil, httpStatus: 400, body: nil),
        WireRow(code: .internalError, wireCode: nil, httpStatus: 500, body: nil),
    ]

    @Test("4.1.1 error code table: wire code, HTTP status, JSON body", arguments: wireTable)
    func wireMapping(_ row: WireRow) {
        let error = EngineIOError(row.code, "test")
        #expect(error.wireCode == row.wireCode)
        #expect(error.httpStatus == row.httpStatus)
        #expect(error.httpResponseBody == row.body)
    }

    @Test("handshakeRejected reports the server's wire code and retryability follows the status")
    func handshakeRejected() {
        let version = EngineIOError(
            .handshakeRejected,
            "rejected",
            response: .init(status: 400, wireCode: 5, message: "Unsupported protocol version")
        )
        #expect(version.wireCode == 5)
        #expect(!version.isRetryable)
        let unavailable = EngineIOError(.handshakeRejected, "rejected", response: .init(status: 503))
        #expect(unavailable.isRetryable)
        #expect(unavailable.wireCode == nil)
    }

    struct RetryRow: Sendable, CustomTestStringConvertible {
        var code: EngineIOError.Code
        var category: EngineIOError.Category
        var isRetryable: Bool
        var testDescription: String { code.description }
    }

    static let retryTable: [RetryRow] = [
        RetryRow(code: .transportUnknown, category: .request, isRetryable: false),
        RetryRow(code: .invalidPacket, category: .protocolViolation, isRetryable: false),
        RetryRow(code: .invalidPayload, category: .protocolViolation, isRetryable: false),
        RetryRow(code: .payloadTooLarge, category: .protocolViolation, isRetryable: false),
        RetryRow(code: .pingTimeout, category: .closed, isRetryable: true),
        RetryRow(code: .transportClosed, category: .closed, isRetryable: true),
        RetryRow(code: .transportError, category: .closed, isRetryable: true),
        RetryRow(code: .sessionClosed, category: .closed, isRetryable: true),
        RetryRow(code: .upgradeFailed, category: .upgrade, isRetryable: true),
        RetryRow(code: .upgradeTimedOut, category: .upgrade, isRetryable: true),
        RetryRow(code: .connectionFailed, category: .connection, isRetryable: true),
        RetryRow(code: .cancelled, category: .connection, isRetryable: false),
        RetryRow(code: .invalidConfiguration, category: .configuration, isRetryable: false),
        RetryRow(code: .internalError, category: .configuration, isRetryable: false),
    ]

    @Test("Each code has a category and a retry verdict", arguments: retryTable)
    func retryability(_ row: RetryRow) {
        let error = EngineIOError(row.code, "test")
        #expect(error.code.category == row.category)
        #expect(error.isRetryable == row.isRetryable)
    }

    struct Underlying: Error, Equatable {}

    @Test("Equality ignores the cause; the cause chain can be walked")
    func equalityAndCause() {
        let inner = EngineIOError(.transportError, "inner", cause: Underlying())
        let outer = EngineIOError(.connectionFailed, "outer", cause: inner)
        #expect(outer == EngineIOError(.connectionFailed, "outer"))
        #expect(outer != EngineIOError(.connectionFailed, "other"))
        #expect(outer.underlyingError(as: Underlying.self) == Underlying())
        #expect(outer.underlyingError(as: EngineIOError.self) == outer)
        #expect(EngineIOError(.cancelled, "x").underlyingError(as: Underlying.self) == nil)
        #expect(outer.description.contains("connectionFailed"))
        #expect(outer.code.description == "connectionFailed")
    }
}
