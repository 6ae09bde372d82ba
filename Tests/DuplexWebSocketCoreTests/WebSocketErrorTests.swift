import HTTPTypes
import Testing

@testable import DuplexWebSocketCore

private struct Underlying: Error, Equatable {}

private struct Wrapper: CausedError {
    var underlyingCause: (any Error)?
}

@Suite("RFC 6455 §7.4.1: errors, their close codes and categories")
struct WebSocketErrorTests {
    typealias Code = WebSocketError.Code

    static let allCodes: [(Code, WebSocketError.Category)] = [
        (.invalidURL, .connection), (.connectionFailed, .connection),
        (.tlsHandshakeFailed, .connection), (.proxyFailed, .connection), (.openingTimedOut, .connection),
        (.cancelled, .connection), (.handshakeRejected, .handshake), (.invalidHandshakeResponse, .handshake),
        (.headersTooLarge, .handshake), (.negotiationFailed, .handshake), (.tooManyRedirects, .handshake),
        (.invalidHandshakeRequest, .handshake), (.protocolViolation, .protocolViolation),
        (.invalidUTF8, .protocolViolation), (.messageTooLarge, .protocolViolation), (.keepAliveTimedOut, .closed),
        (.connectionClosed, .closed), (.sendAfterClose, .usage), (.concurrentReceive, .usage),
        (.invalidCloseCode, .usage), (.invalidConfiguration, .configuration), (.internalError, .configuration),
    ]

    @Test("every code has a category and a distinct, stable name")
    func categories() {
        for (code, category) in Self.allCodes {
            #expect(code.category == category, "\(code)")
        }
        #expect(Set(Self.allCodes.map(\.0.description)).count == Self.allCodes.count)
        #expect(Code.protocolViolation.description == "protocolViolation")
    }

    @Test(
        "§7.4.1: the close code a failure sends: 1002 protocol, 1007 UTF-8, 1009 too big, 1011 otherwise",
        arguments: [
            (Code.protocolViolation, 1002), (.invalidUTF8, 1007), (.messageTooLarge, 1009),
            (.keepAliveTimedOut, 1011), (.internalError, 1011), (.connectionClosed, 1011),
        ] as [(Code, UInt16)]
    )
    func closeCodes(code: Code, closeCode: UInt16) {
        #expect(WebSocketError(code, "x").closeCode == CloseCode(closeCode))
        #expect(CloseCode(closeCode).isSendable)
    }

    @Test("retryability: connection failures and closures yes; protocol, usage and 4xx no")
    func retryable() {
        for (code, category) in Self.allCodes {
            let error = WebSocketError(code, "x")
            switch category {
            case .connection: #expect(error.isRetryable == (code != .invalidURL && code != .cancelled), "\(code)")
            case .closed: #expect(error.isRetryable, "\(code)")
            case .protocolViolation, .usage, .configuration: #expect(!error.isRetryable, "\(code)")
            default: break
            }
        }
        // A server closing or babbling before its status line may be restarting: retry.
        #expect(WebSocketError(.invalidHandshakeResponse, "x").isRetryable)
        // A real response that is not a valid handshake will not get better.
        let response = HTTPResponse(status: .switchingProtocols)
        #expect(!WebSocketError(.invalidHandshakeResponse, "x", response: response).isRetryable)
        for (status, retry) in [(500, true), (503, true), (429, true), (408, true), (400, false), (403, false), (404, false)] {
            let rejected = WebSocketError(.handshakeRejected, "x", response: HTTPResponse(status: .init(code: status)))
            #expect(rejected.isRetryable == retry, "\(status)")
        }
        #expect(!WebSocketError(.negotiationFailed, "x").isRetryable)
    }

    @Test(
        "retryability of a proxy's refusal of CONNECT: 4xx no (but 408, 429), 5xx yes; unreachable yes",
        arguments: [
            (407, false), (403, false), (400, false), (404, false), (408, true), (429, true),
            (500, true), (502, true), (503, true), (504, true),
        ]
    )
    func proxyRetryable(status: Int, retryable: Bool) {
        let refused = WebSocketError(.proxyFailed, "x", response: HTTPResponse(status: .init(code: status)))
        #expect(refused.isRetryable == retryable)
        // No response: the proxy could not be reached or closed during CONNECT.
        #expect(WebSocketError(.proxyFailed, "x", cause: Underlying()).isRetryable)
    }

    @Test("equality ignores the cause; the cause chain can be walked")
    func causes() {
        let inner = WebSocketError(.connectionFailed, "reset", cause: Underlying())
        let outer = WebSocketError(.sendAfterClose, "closed", cause: Wrapper(underlyingCause: inner))
        #expect(WebSocketError(.connectionFailed, "reset") == inner)
        #expect(WebSocketError(.connectionFailed, "other") != inner)
        #expect(outer.underlyingError(as: Underlying.self) == Underlying())
        #expect(outer.underlyingError(as: WebSocketError.self)?.code == .sendAfterClose)
        #expect(WebSocketError(.internalError, "x").underlyingError(as: Underlying.self) == nil)
        #expect(outer.underlyingCause is Wrapper)
    }

    @Test("the description names the code, the status and the close frames")
    func descriptions() {
        let info = CloseInfo(received: CloseFrame(code: .goingAway), sent: nil, receivedThenSent: false)
        let error = WebSocketError(
            .handshakeRejected, "no", response: HTTPResponse(status: .notFound), closeInfo: info
        )
        #expect(error.description == "WebSocketError.handshakeRejected: no [HTTP 404 Not Found] [received 1001; no close frame sent]")
        #expect(WebSocketError(.internalError, "x", cause: Underlying()).description.hasPrefix("WebSocketError.internalError: x (cause: "))
    }
}
