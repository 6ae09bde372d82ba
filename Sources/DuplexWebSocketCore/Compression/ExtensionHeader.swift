/// One extension of a `Sec-WebSocket-Extensions` header, with its parameters in order.
///
/// Grammar (RFC 6455 §9.1, list rules of RFC 7230 §7):
/// ```
/// Sec-WebSocket-Extensions = extension-list
/// extension-list = 1#extension
/// extension = extension-token *( OWS ";" OWS extension-param )
/// extension-param = token [ OWS "=" OWS ( token / quoted-string ) ]
/// ```
/// A quoted value must be a token once unescaped (RFC 6455 §9.1), so RFC 7692's `x="10"`
/// parses as `x=10`. Names and values are case-sensitive, as python `websockets` compares them.
struct ExtensionHeader: Hashable, Sendable, CustomStringConvertible {
    /// An extension parameter: `name` or `name=value`.
    struct Parameter: Hashable, Sendable {
        var name: String
        var value: String?

        init(_ name: String, _ value: String? = nil) {
            self.name = name
            self.value = value
        }
    }

    /// The extension token, e.g. `permessage-deflate`.
    var name: String
    /// The parameters, in the order they appeared.
    var parameters: [Parameter]

    init(name: String, parameters: [Parameter] = []) {
        self.name = name
        self.parameters = parameters
    }

    /// The header element, e.g. `permessage-deflate; server_max_window_bits=10`. Values are
    /// tokens, so they never need quoting.
    var description: String {
        var text = name
        for parameter in parameters {
            text += "; " + parameter.name
            if let value = parameter.value { text += "=" + value }
        }
        return text
    }

    /// Parses every value of the `Sec-WebSocket-Extensions` header fields of a message, in order.
    ///
    /// Empty list elements (`a, , b`, a trailing comma, an empty value) are ignored, as
    /// RFC 7230 §7 requires of recipients.
    ///
    /// - Parameter errorCode: the code to throw on malformed input:
    ///   ``WebSocketError/Code/invalidHandshakeRequest`` for a client's offer,
    ///   ``WebSocketError/Code/invalidHandshakeResponse`` for a server's response.
    static func parse(
        _ values: some Sequence<String>,
        errorCode: WebSocketError.Code
    ) throws(WebSocketError) -> [ExtensionHeader] {
        var extensions: [ExtensionHeader] = []
        for value in values {
            var parser = Parser(bytes: Array(value.utf8), errorCode: errorCode)
            try parser.parseList(into: &extensions)
        }
        return extensions
    }

    /// A cursor over one header value.
    private struct Parser {
        let bytes: [UInt8]
        let errorCode: WebSocketError.Code
        var position = 0

        init(bytes: [UInt8], errorCode: WebSocketError.Code) {
            self.bytes = bytes
            self.errorCode = errorCode
        }

        private var next: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func parseList(into extensions: inout [ExtensionHeader]) throws(WebSocketError) {
            skipWhitespace()
            while true {
                // RFC 7230 §7: "a recipient MUST parse and ignore a reasonable number of empty
                // list elements".
                while next == UInt8(ascii: ",") {
                    position += 1
                    skipWhitespace()
                }
                guard next != nil else { return }
                extensions.append(try parseExtension())
                guard let separator = next else { return }
                guard separator == UInt8(ascii: ",") else { throw failure("expected ',' or ';'") }
            }
        }

        private mutating func parseExtension() throws(WebSocketError) -> ExtensionHeader {
            var element = ExtensionHeader(name: try parseToken())
            skipWhitespace()
            while next == UInt8(ascii: ";") {
                position += 1
                skipWhitespace()
                var parameter = Parameter(try parseToken())
                skipWhitespace()
                if next == UInt8(ascii: "=") {
                    position += 1
                    skipWhitespace()
                    parameter.value = next == UInt8(ascii: "\"") ? try parseQuotedToken() : try parseToken()
                    skipWhitespace()
                }
                element.parameters.append(parameter)
            }
            return element
        }

        private mutating func parseToken() throws(WebSocketError) -> String {
            let start = position
            while let byte = next, Self.isTokenByte(byte) { position += 1 }
            guard position > start else { throw failure("expected a token") }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        /// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 7230 §3.2.6), whose
        /// unescaped content must be a token (RFC 6455 §9.1).
        private mutating func parseQuotedToken() throws(WebSocketError) -> String {
            let start = position
            position += 1
            var content: [UInt8] = []
            while true {
                guard let byte = next else { throw failure("unterminated quoted-string", at: start) }
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard !content.isEmpty, content.allSatisfy(Self.isTokenByte) else {
                        throw failure("quoted value is not a token", at: start)
                    }
                    return String(decoding: content, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                    guard let escaped = next, escaped == 0x09 || escaped >= 0x20 && escaped != 0x7F else {
                        throw failure("invalid quoted-pair")
                    }
                    position += 1
                    content.append(escaped)
                default:
                    // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                    guard byte == 0x09 || byte >= 0x20 && byte != 0x7F else {
                        throw failure("invalid character in quoted-string", at: position - 1)
                    }
                    content.append(byte)
                }
            }
        }

        /// OWS = *( SP / HTAB )
        private mutating func skipWhitespace() {
            while let byte = next, byte == 0x20 || byte == 0x09 { position += 1 }
        }

        /// tchar (RFC 7230 §3.2.6): "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
        /// / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        private static func isTokenByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
                UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                return true
            default:
                return false
            }
        }

        private func failure(_ problem: String, at offset: Int? = nil) -> WebSocketError {
            WebSocketError(
                errorCode,
                "malformed Sec-WebSocket-Extensions header: \(problem) at offset \(offset ?? position)"
            )
        }
    }
}
