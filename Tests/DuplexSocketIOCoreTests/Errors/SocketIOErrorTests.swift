import DuplexSocketIOCore
import Testing

@Suite("SocketIOError: codes, categories, retry and equality")
struct SocketIOErrorTests {
    struct UnderlyingFailure: Error {}

    static let codeTable: [(SocketIOError.Code, String, SocketIOError.Category, Bool)] = [
        (.invalidPacket, "invalidPacket", .protocolViolation, false),
        (.invalidJSON, "invalidJSON", .protocolViolation, false),
        (.jsonTooDeep, "jsonTooDeep", .protocolViolation, false),
        (.tooManyAttachments, "tooManyAttachments", .protocolViolation, false),
        (.invalidAttachment, "invalidAttachment", .protocolViolation, false),
        (.decodingFailed, "decodingFailed", .protocolViolation, false),
        (.namespaceRefused, "namespaceRefused", .handshake, false),
        (.namespaceNotFound, "namespaceNotFound", .handshake, false),
        (.ackTimedOut, "ackTimedOut", .timeout, true),
        (.notConnected, "notConnected", .usage, false),
        (.encodingFailed, "encodingFailed", .usage, false),
        (.connectFailed, "connectFailed", .connection, true),
        (.cancelled, "cancelled", .connection, false),
        (.disconnected, "disconnected", .closed, true),
        (.invalidConfiguration, "invalidConfiguration", .configuration, false),
        (.internalError, "internalError", .configuration, false),
    ]

    @Test("each code has a stable name, a category and a retry decision", arguments: codeTable)
    func codeContract(code: SocketIOError.Code, name: String, category: SocketIOError.Category, retryable: Bool) {
        #expect(code.description == name)
        #expect(code.category == category)
        #expect(SocketIOError(code, "x").isRetryable == retryable)
    }

    @Test("codes are distinct")
    func codesAreDistinct() {
        #expect(Set(Self.codeTable.map(\.0)).count == Self.codeTable.count)
    }

    @Test("equality and hashing ignore the cause but not the code, message or data")
    func equality() {
        let plain = SocketIOError(.namespaceRefused, "refused", data: ["message": "nope"])
        let withCause = SocketIOError(.namespaceRefused, "refused", cause: UnderlyingFailure(), data: ["message": "nope"])
        #expect(plain == withCause)
        #expect(plain.hashValue == withCause.hashValue)
        #expect(plain != SocketIOError(.namespaceRefused, "refused", data: ["message": "other"]))
        #expect(plain != SocketIOError(.namespaceNotFound, "refused", data: ["message": "nope"]))
        #expect(plain != SocketIOError(.namespaceRefused, "other", data: ["message": "nope"]))
    }

    @Test("the CONNECT_ERROR payload travels as data")
    func namespaceRefusedCarriesData() {
        let payload: JSONValue = ["message": "Not authorized", "data": ["retryIn": 5]]
        let error = SocketIOError(.namespaceRefused, "refused", data: payload)
        #expect(error.data?["data"]?["retryIn"] == 5)
        #expect(error.description.contains("namespaceRefused"))
        #expect(error.description.contains("Not authorized"))
    }

    @Test("underlyingError(as:) walks nested causes")
    func causeChain() {
        let inner = SocketIOError(.internalError, "inner", cause: UnderlyingFailure())
        let outer = SocketIOError(.connectFailed, "outer", cause: inner)
        #expect(outer.underlyingError(as: UnderlyingFailure.self) != nil)
        #expect(outer.underlyingError(as: SocketIOError.self) == outer)
        #expect(outer.underlyingCause as? SocketIOError == inner)
        #expect(SocketIOError(.cancelled, "x").underlyingError(as: UnderlyingFailure.self) == nil)
        #expect(outer.description.contains("cause:"))
    }
}
