/// The permessage-deflate handshake (RFC 7692 §5, §7.1), for both roles.
///
/// The rules follow python `websockets` (`extensions/permessage_deflate.py`), so the two
/// agree on every offer and response.
public enum PerMessageDeflateNegotiation {
    /// The extension token (RFC 7692 §7).
    static let extensionName = "permessage-deflate"

    /// The `Sec-WebSocket-Extensions` value a client sends.
    ///
    /// `client_max_window_bits` is always present: without a value it tells the server that the
    /// client can honour any limit (RFC 7692 §7.1.2.2), which lets servers that want small
    /// windows accept the offer.
    ///
    /// - Precondition: `configuration` passed ``PerMessageDeflateConfiguration/validate()``.
    public static func clientOffer(_ configuration: PerMessageDeflateConfiguration) -> String {
        let offer = ExtensionHeader(
            name: extensionName,
            parameters: Parameters(
                serverNoContextTakeover: configuration.serverNoContextTakeover,
                clientNoContextTakeover: configuration.clientNoContextTakeover,
                serverMaxWindowBits: configuration.serverMaxWindowBits,
                clientMaxWindowBits: configuration.clientMaxWindowBits.map { .limit($0) } ?? .supported
            ).headerParameters
        )
        return offer.description
    }

    /// Validates the server's `Sec-WebSocket-Extensions` response to ``clientOffer(_:)``
    /// (RFC 7692 §7.1) and returns the agreed parameters, or `nil` when the server accepted
    /// no extension.
    ///
    /// - Throws: ``WebSocketError/Code/invalidHandshakeResponse`` for a malformed header;
    ///   ``WebSocketError/Code/negotiationFailed`` for an extension or parameter that was not
    ///   offered, a duplicate, an invalid value, or a response that breaks a limit the client
    ///   requested; ``WebSocketError/Code/invalidConfiguration`` for an invalid configuration.
    public static func clientAccept(
        responseValues: [String],
        configuration: PerMessageDeflateConfiguration
    ) throws(WebSocketError) -> PerMessageDeflateParameters? {
        try configuration.validate()
        let extensions = try ExtensionHeader.parse(responseValues, errorCode: .invalidHandshakeResponse)
        guard let accepted = extensions.first else { return nil }
        // RFC 6455 §9.1: the server may only select extensions the client offered; Duplex offers one.
        guard accepted.name == extensionName else {
            throw WebSocketError(
                .negotiationFailed,
                "the server selected extension \(accepted.name), which was not offered"
            )
        }
        guard extensions.count == 1 else {
            let second = extensions[1].name
            throw WebSocketError(
                .negotiationFailed,
                second == extensionName
                    ? "the server selected permessage-deflate twice"
                    : "the server selected extension \(second), which was not offered"
            )
        }
        let response: Parameters
        do {
            response = try Parameters(accepted.parameters, isOffer: false)
        } catch {
            throw WebSocketError(.negotiationFailed, "permessage-deflate response: \(error.reason)")
        }

        // RFC 7692 §7.1.1.1: a server accepting an offer with server_no_context_takeover
        // "MUST include the "server_no_context_takeover" extension parameter in the response".
        if configuration.serverNoContextTakeover && !response.serverNoContextTakeover {
            throw WebSocketError(.negotiationFailed, "the server did not accept server_no_context_takeover")
        }
        // RFC 7692 §7.1.2.1: the response's server_max_window_bits must not exceed the offer's,
        // and must be present when the offer had one.
        if let requested = configuration.serverMaxWindowBits {
            guard let granted = response.serverMaxWindowBits else {
                throw WebSocketError(
                    .negotiationFailed,
                    "the server did not accept server_max_window_bits=\(requested)"
                )
            }
            guard granted <= requested else {
                throw WebSocketError(
                    .negotiationFailed,
                    "the server chose server_max_window_bits=\(granted), above the requested \(requested)"
                )
            }
        }
        // RFC 7692 §7.1.2.2: a response value must not exceed the offered one. The offer always
        // carries the parameter (see clientOffer), so a response with it is always allowed.
        var clientWindowBits = configuration.clientMaxWindowBits ?? 15
        if case .limit(let granted) = response.clientMaxWindowBits {
            guard granted <= clientWindowBits else {
                throw WebSocketError(
                    .negotiationFailed,
                    "the server chose client_max_window_bits=\(granted), above the offered \(clientWindowBits)"
                )
            }
            guard PerMessageDeflateConfiguration.configurableWindowBits.contains(granted) else {
                throw WebSocketError(
                    .negotiationFailed,
                    "the server chose client_max_window_bits=\(granted), which zlib cannot compress with"
                )
            }
            clientWindowBits = granted
        }
        return PerMessageDeflateParameters(
            serverNoContextTakeover: response.serverNoContextTakeover,
            // RFC 7692 §7.1.1.2: a client that offered client_no_context_takeover keeps to it
            // whatever the response says.
            clientNoContextTakeover: response.clientNoContextTakeover || configuration.clientNoContextTakeover,
            serverMaxWindowBits: response.serverMaxWindowBits ?? 15,
            clientMaxWindowBits: clientWindowBits
        )
    }

    /// Picks the first permessage-deflate offer of the client's `Sec-WebSocket-Extensions` values
    /// that the server can accept (RFC 7692 §5.1), and returns the response value and the agreed
    /// parameters, or `nil` when no offer is acceptable (the server then declines the extension).
    ///
    /// Offers with an unknown, duplicate or invalid parameter are declined, as are offers asking
    /// `server_max_window_bits=8` (zlib cannot compress with an 8-bit window). Other extensions
    /// are ignored.
    ///
    /// - Throws: ``WebSocketError/Code/invalidHandshakeRequest`` for a malformed header;
    ///   ``WebSocketError/Code/invalidConfiguration`` for an invalid configuration.
    public static func serverNegotiate(
        offerValues: [String],
        configuration: PerMessageDeflateConfiguration
    ) throws(WebSocketError) -> (responseValue: String, parameters: PerMessageDeflateParameters)? {
        try configuration.validate()
        let offers = try ExtensionHeader.parse(offerValues, errorCode: .invalidHandshakeRequest)
        for offer in offers where offer.name == extensionName {
            guard let offered = try? Parameters(offer.parameters, isOffer: true),
                let response = serverResponse(to: offered, configuration: configuration)
            else { continue }
            let responseValue = ExtensionHeader(name: extensionName, parameters: response.headerParameters)
            var clientWindowBits = 15
            if case .limit(let bits) = response.clientMaxWindowBits { clientWindowBits = bits }
            let parameters = PerMessageDeflateParameters(
                serverNoContextTakeover: response.serverNoContextTakeover,
                clientNoContextTakeover: response.clientNoContextTakeover,
                serverMaxWindowBits: response.serverMaxWindowBits ?? 15,
                clientMaxWindowBits: clientWindowBits
            )
            return (responseValue.description, parameters)
        }
        return nil
    }

    /// The response parameters for one acceptable offer, or `nil` to decline it.
    private static func serverResponse(
        to offer: Parameters,
        configuration: PerMessageDeflateConfiguration
    ) -> Parameters? {
        var response = offer
        // RFC 7692 §7.1.1: the server may add either no_context_takeover parameter on its own.
        response.serverNoContextTakeover = offer.serverNoContextTakeover || configuration.serverNoContextTakeover
        response.clientNoContextTakeover = offer.clientNoContextTakeover || configuration.clientNoContextTakeover

        // RFC 7692 §7.1.2.1: the server may add server_max_window_bits, or lower the offered value.
        if let limit = configuration.serverMaxWindowBits {
            response.serverMaxWindowBits = min(offer.serverMaxWindowBits ?? limit, limit)
        }
        // zlib cannot deflate with an 8-bit window, and RFC 7692 §7.1.2.1 forbids answering with
        // a larger one: the offer has to be declined.
        if let bits = response.serverMaxWindowBits,
            !PerMessageDeflateConfiguration.configurableWindowBits.contains(bits)
        {
            return nil
        }

        // RFC 7692 §7.1.2.2: the server may include client_max_window_bits only if the client
        // offered it, with a value no larger than the offered one. Without a configured limit an
        // offered value is echoed (it only saves inflate memory), as python websockets does.
        switch (offer.clientMaxWindowBits, configuration.clientMaxWindowBits) {
        case (nil, _):
            response.clientMaxWindowBits = nil
        case (.supported, nil):
            response.clientMaxWindowBits = nil
        case (.supported, let limit?):
            response.clientMaxWindowBits = .limit(limit)
        case (.limit(let offered), let limit):
            response.clientMaxWindowBits = .limit(min(offered, limit ?? offered))
        }
        return response
    }

    /// `client_max_window_bits` in a header: value-less (offers only) or with a value.
    private enum ClientWindowBits: Equatable {
        /// RFC 7692 §7.1.2.2: the client supports the parameter in the response.
        case supported
        case limit(Int)
    }

    private struct ParameterError: Error {
        var reason: String
    }

    /// The RFC 7692 §7.1 parameters of one offer or response, as written in the header.
    private struct Parameters {
        var serverNoContextTakeover = false
        var clientNoContextTakeover = false
        var serverMaxWindowBits: Int?
        var clientMaxWindowBits: ClientWindowBits?

        init(
            serverNoContextTakeover: Bool,
            clientNoContextTakeover: Bool,
            serverMaxWindowBits: Int?,
            clientMaxWindowBits: ClientWindowBits?
        ) {
            self.serverNoContextTakeover = serverNoContextTakeover
            self.clientNoContextTakeover = clientNoContextTakeover
            self.serverMaxWindowBits = serverMaxWindowBits
            self.clientMaxWindowBits = clientMaxWindowBits
        }

        /// RFC 7692 §7.1: unknown parameters, duplicates and invalid values make the offer or
        /// response unacceptable.
        init(_ parameters: [ExtensionHeader.Parameter], isOffer: Bool) throws(ParameterError) {
            for (index, parameter) in parameters.enumerated() {
                // Unknown names throw on sight, so this scans at most four earlier parameters.
                guard !parameters[..<index].contains(where: { $0.name == parameter.name }) else {
                    throw ParameterError(reason: "duplicate \(parameter.name)")
                }
                switch parameter.name {
                case "server_no_context_takeover":
                    serverNoContextTakeover = try Self.flag(parameter)
                case "client_no_context_takeover":
                    clientNoContextTakeover = try Self.flag(parameter)
                case "server_max_window_bits":
                    serverMaxWindowBits = try Self.windowBits(parameter)
                case "client_max_window_bits":
                    // RFC 7692 §7.1.2.2: only an offer may carry it without a value.
                    if isOffer && parameter.value == nil {
                        clientMaxWindowBits = .supported
                    } else {
                        clientMaxWindowBits = .limit(try Self.windowBits(parameter))
                    }
                default:
                    throw ParameterError(reason: "unknown parameter \(parameter.name)")
                }
            }
        }

        /// RFC 7692 §7.1.1: the no_context_takeover parameters have no value.
        private static func flag(_ parameter: ExtensionHeader.Parameter) throws(ParameterError) -> Bool {
            guard parameter.value == nil else {
                throw ParameterError(reason: "\(parameter.name) must not have a value")
            }
            return true
        }

        /// RFC 7692 §7.1.2: "a decimal integer value without leading zeroes between 8 to 15, inclusive".
        private static func windowBits(_ parameter: ExtensionHeader.Parameter) throws(ParameterError) -> Int {
            guard let text = parameter.value, let bits = Int(text), (8...15).contains(bits), String(bits) == text else {
                throw ParameterError(reason: "invalid value for \(parameter.name): \(parameter.value ?? "none")")
            }
            return bits
        }

        /// The parameters as written in a header, in python websockets' order.
        var headerParameters: [ExtensionHeader.Parameter] {
            var parameters: [ExtensionHeader.Parameter] = []
            if serverNoContextTakeover { parameters.append(.init("server_no_context_takeover")) }
            if clientNoContextTakeover { parameters.append(.init("client_no_context_takeover")) }
            if let bits = serverMaxWindowBits { parameters.append(.init("server_max_window_bits", String(bits))) }
            switch clientMaxWindowBits {
            case .supported: parameters.append(.init("client_max_window_bits"))
            case .limit(let bits): parameters.append(.init("client_max_window_bits", String(bits)))
            case nil: break
            }
            return parameters
        }
    }
}
