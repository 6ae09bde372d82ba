import Testing

@testable import DuplexWebSocketCore

@Suite("RFC 6455 §9.1: Sec-WebSocket-Extensions grammar")
struct ExtensionHeaderTests {
    typealias Parameter = ExtensionHeader.Parameter

    struct ValidCase: CustomTestStringConvertible, Sendable {
        var values: [String]
        var expected: [ExtensionHeader]
        var testDescription: String { values.debugDescription }
    }

    static let validCases: [ValidCase] = [
        ValidCase(values: ["permessage-deflate"], expected: [ExtensionHeader(name: "permessage-deflate")]),
        ValidCase(
            values: ["permessage-deflate; client_max_window_bits"],
            expected: [ExtensionHeader(name: "permessage-deflate", parameters: [Parameter("client_max_window_bits")])]
        ),
        ValidCase(
            values: ["permessage-deflate;client_max_window_bits=10;server_no_context_takeover"],
            expected: [
                ExtensionHeader(
                    name: "permessage-deflate",
                    parameters: [Parameter("client_max_window_bits", "10"), Parameter("server_no_context_takeover")]
                )
            ]
        ),
        // OWS around every separator, tabs included.
        ValidCase(
            values: [" \tpermessage-deflate \t; \tserver_max_window_bits \t= \t10 \t"],
            expected: [
                ExtensionHeader(name: "permessage-deflate", parameters: [Parameter("server_max_window_bits", "10")])
            ]
        ),
        // RFC 7692 §7.1: quoted values, unescaped to a token.
        ValidCase(
            values: [#"permessage-deflate; client_max_window_bits="10""#],
            expected: [
                ExtensionHeader(name: "permessage-deflate", parameters: [Parameter("client_max_window_bits", "10")])
            ]
        ),
        ValidCase(
            values: [#"x; a="1\0"; b = "tok-en" "#],
            expected: [ExtensionHeader(name: "x", parameters: [Parameter("a", "10"), Parameter("b", "tok-en")])]
        ),
        // Several extensions in one value, and over several header fields.
        ValidCase(
            values: ["permessage-deflate; client_max_window_bits, permessage-deflate, x-webkit-deflate-frame"],
            expected: [
                ExtensionHeader(name: "permessage-deflate", parameters: [Parameter("client_max_window_bits")]),
                ExtensionHeader(name: "permessage-deflate"),
                ExtensionHeader(name: "x-webkit-deflate-frame"),
            ]
        ),
        ValidCase(
            values: ["a; b=c", "d", "e;f"],
            expected: [
                ExtensionHeader(name: "a", parameters: [Parameter("b", "c")]),
                ExtensionHeader(name: "d"),
                ExtensionHeader(name: "e", parameters: [Parameter("f")]),
            ]
        ),
        // RFC 7230 §7: empty list elements are ignored.
        ValidCase(values: [", a ,, b ,"], expected: [ExtensionHeader(name: "a"), ExtensionHeader(name: "b")]),
        ValidCase(values: [""], expected: []),
        ValidCase(values: [" , "], expected: []),
        ValidCase(values: [], expected: []),
        // Every tchar is allowed in names and values.
        ValidCase(
            values: ["!#$%&'*+-.^_`|~09azAZ; p=!#$%&'*+-.^_`|~09azAZ"],
            expected: [
                ExtensionHeader(name: "!#$%&'*+-.^_`|~09azAZ", parameters: [Parameter("p", "!#$%&'*+-.^_`|~09azAZ")])
            ]
        ),
    ]

    @Test("valid headers parse into extensions and parameters, in order", arguments: validCases)
    func parsesValidHeaders(_ testCase: ValidCase) throws {
        let parsed = try ExtensionHeader.parse(testCase.values, errorCode: .invalidHandshakeRequest)
        #expect(parsed == testCase.expected)
    }

    static let malformedValues: [String] = [
        ";",
        "permessage-deflate;",
        "permessage-deflate; ",
        "permessage-deflate;; x",
        "permessage-deflate; =10",
        "permessage-deflate; x=",
        "permessage-deflate; x==10",
        "permessage-deflate x",
        "permessage-deflate=10",
        "permessage-deflate; x=10 11",
        "permessage-deflate; x=1,0;",
        #"permessage-deflate; x="10"#,
        #"permessage-deflate; x="""#,
        #"permessage-deflate; x="1 0""#,
        #"permessage-deflate; x="a\"b""#,
        #"permessage-deflate; x="10"1"#,
        "permessage-deflate; x=\"1\u{7F}\"",
        "permessage-deflate; x=\"1\\\u{01}\"",
        "permessage-deflate; x=\"é\"",
        "permessage-déflate",
        "permessage-deflate; x=(10)",
        "permessage-deflate\u{0}",
        "permessage-deflate\r\n",
        "\"permessage-deflate\"",
    ]

    @Test("malformed headers throw the caller's error code", arguments: malformedValues)
    func rejectsMalformedHeaders(_ value: String) {
        let offerError = #expect(throws: WebSocketError.self) {
            try ExtensionHeader.parse([value], errorCode: .invalidHandshakeRequest)
        }
        #expect(offerError?.code == .invalidHandshakeRequest)
        let responseError = #expect(throws: WebSocketError.self) {
            try ExtensionHeader.parse(["ok", value], errorCode: .invalidHandshakeResponse)
        }
        #expect(responseError?.code == .invalidHandshakeResponse)
    }

    @Test("an element serializes to a header value that parses back to it")
    func descriptionRoundTrips() throws {
        let element = ExtensionHeader(
            name: "permessage-deflate",
            parameters: [Parameter("server_no_context_takeover"), Parameter("client_max_window_bits", "10")]
        )
        #expect(element.description == "permessage-deflate; server_no_context_takeover; client_max_window_bits=10")
        #expect(try ExtensionHeader.parse([element.description], errorCode: .invalidHandshakeResponse) == [element])
    }
}
