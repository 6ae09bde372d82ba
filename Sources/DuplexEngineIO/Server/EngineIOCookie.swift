/// The session cookie an ``EngineIOServer`` sets on the handshake response, so that a load
/// balancer can route a session's requests to the same node (the reference server's `cookie`
/// option; its defaults).
public struct EngineIOCookie: Hashable, Sendable {
    /// The `SameSite` attribute.
    public struct SameSite: RawRepresentable, Hashable, Sendable {
        /// The attribute value.
        public let rawValue: String
        /// Wraps an attribute value.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// `Strict`.
        public static let strict = SameSite(rawValue: "Strict")
        /// `Lax`.
        public static let lax = SameSite(rawValue: "Lax")
        /// `None` (requires ``EngineIOCookie/isSecure``).
        public static let none = SameSite(rawValue: "None")
    }

    /// The cookie name. Default `io`.
    public var name: String
    /// The `Path` attribute. Default `/`.
    public var path: String?
    /// The `Domain` attribute. Default none.
    public var domain: String?
    /// Whether the cookie is `HttpOnly`. Default true.
    public var isHTTPOnly: Bool
    /// Whether the cookie is `Secure`. Default false.
    public var isSecure: Bool
    /// The `SameSite` attribute. Default `Lax`.
    public var sameSite: SameSite?
    /// The `Max-Age` attribute. Default none (a session cookie).
    public var maxAge: Duration?

    /// Creates a cookie configuration with the reference server's defaults.
    public init(
        name: String = "io",
        path: String? = "/",
        domain: String? = nil,
        isHTTPOnly: Bool = true,
        isSecure: Bool = false,
        sameSite: SameSite? = .lax,
        maxAge: Duration? = nil
    ) {
        self.name = name
        self.path = path
        self.domain = domain
        self.isHTTPOnly = isHTTPOnly
        self.isSecure = isSecure
        self.sameSite = sameSite
        self.maxAge = maxAge
    }

    /// The `Set-Cookie` value for a session id (RFC 6265 §4.1).
    func headerValue(sid: String) -> String {
        var value = "\(name)=\(sid)"
        if let path { value += "; Path=\(path)" }
        if let domain { value += "; Domain=\(domain)" }
        if let maxAge { value += "; Max-Age=\(maxAge.components.seconds)" }
        if isHTTPOnly { value += "; HttpOnly" }
        if isSecure { value += "; Secure" }
        if let sameSite { value += "; SameSite=\(sameSite.rawValue)" }
        return value
    }
}
