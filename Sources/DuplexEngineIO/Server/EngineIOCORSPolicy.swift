import HTTPTypes

/// Which browser origins may use an ``EngineIOServer`` across origins, and the CORS headers
/// sent to them (python-engineio `cors_allowed_origins` / `cors_credentials`; the reference
/// server's `cors` option).
///
/// Unless the policy is ``disabled``, a request whose `Origin` is not allowed is refused with
/// 403 and `{"code":4,"message":"Forbidden"}` (polling and WebSocket alike): text/plain POSTs
/// need no preflight, so omitting the headers alone would not stop them. Requests without an
/// `Origin` header (non-browser clients) are always allowed.
public struct EngineIOCORSPolicy: Sendable {
    private enum Origins: Sendable {
        case disabled
        case any
        case list(Set<String>)
        case predicate(@Sendable (String) -> Bool)
    }

    private let origins: Origins
    /// Whether `Access-Control-Allow-Credentials: true` is sent (cookies, HTTP auth). Default false.
    public var allowsCredentials: Bool
    /// How long browsers may cache a preflight answer (`Access-Control-Max-Age`). Default none.
    public var preflightMaxAge: Duration?

    private init(origins: Origins, allowsCredentials: Bool, preflightMaxAge: Duration?) {
        self.origins = origins
        self.allowsCredentials = allowsCredentials
        self.preflightMaxAge = preflightMaxAge
    }

    /// No CORS handling: no headers, no origin check (the reference server's default).
    public static let disabled = EngineIOCORSPolicy(origins: .disabled, allowsCredentials: false, preflightMaxAge: nil)

    /// Every origin is allowed (its `Origin` is echoed back).
    public static func allowAll(allowsCredentials: Bool = false, preflightMaxAge: Duration? = nil) -> Self {
        Self(origins: .any, allowsCredentials: allowsCredentials, preflightMaxAge: preflightMaxAge)
    }

    /// Only these origins (exact, case-insensitive match, e.g. `https://example.com`).
    public static func allowList(
        _ origins: [String],
        allowsCredentials: Bool = false,
        preflightMaxAge: Duration? = nil
    ) -> Self {
        Self(
            origins: .list(Set(origins.map { $0.lowercased() })),
            allowsCredentials: allowsCredentials,
            preflightMaxAge: preflightMaxAge
        )
    }

    /// Origins for which `isAllowed` returns true.
    public static func predicate(
        allowsCredentials: Bool = false,
        preflightMaxAge: Duration? = nil,
        _ isAllowed: @escaping @Sendable (String) -> Bool
    ) -> Self {
        Self(origins: .predicate(isAllowed), allowsCredentials: allowsCredentials, preflightMaxAge: preflightMaxAge)
    }

    /// Whether CORS handling is on.
    public var isEnabled: Bool {
        if case .disabled = origins { return false }
        return true
    }

    /// Whether a request with this `Origin` header (nil when absent) may be served.
    public func isAllowed(origin: String?) -> Bool {
        guard let origin else { return true }
        switch origins {
        case .disabled, .any: return true
        case .list(let allowed): return allowed.contains(origin.lowercased())
        case .predicate(let isAllowed): return isAllowed(origin)
        }
    }

    /// The CORS headers for a response to a request from `origin`; for a preflight (`OPTIONS`),
    /// also the allowed methods and the echoed `Access-Control-Request-Headers`.
    func responseHeaders(origin: String?, isPreflight: Bool, requestedHeaders: String?) -> HTTPFields {
        var fields = HTTPFields()
        guard isEnabled, let origin, isAllowed(origin: origin) else { return fields }
        fields[.accessControlAllowOrigin] = origin
        fields[.vary] = "Origin"
        if allowsCredentials { fields[.accessControlAllowCredentials] = "true" }
        if isPreflight {
            fields[.accessControlAllowMethods] = "GET, POST, OPTIONS"
            if let requestedHeaders { fields[.accessControlAllowHeaders] = requestedHeaders }
            if let preflightMaxAge { fields[.accessControlMaxAge] = String(preflightMaxAge.components.seconds) }
        }
        return fields
    }
}
