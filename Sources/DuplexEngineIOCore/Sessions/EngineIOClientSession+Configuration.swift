extension EngineIOClientSession {
    /// The protocol settings of a client session.
    public struct Configuration: Hashable, Sendable {
        /// The transports to use, in order: the session opens over the first, and upgrades to
        /// `.websocket` when it is listed later and the server offers it. Default
        /// `[.polling, .websocket]`; `[.websocket]` opens a WebSocket-only session.
        public var transports: [EngineIOTransport]
        /// How long an upgrade may take, from opening the probe WebSocket to sending `5`.
        /// Default 10 s.
        public var upgradeTimeout: Duration
        /// The most packets accepted in one polling response. Default 4096 (servers send their
        /// whole buffer in one response).
        public var maxPacketsPerPayload: Int
        /// The POST batch size when the server's handshake has no `maxPayload` (python-engineio
        /// before 4.11). Default 1,000,000.
        public var defaultMaxPayload: Int
        /// The most packets packed into one POST. Default 16: python-engineio's server decodes at
        /// most 16 packets per payload (`Payload.max_decode_packets`) and silently drops a POST
        /// with more (it logs the error and answers 200 `ok`).
        public var maxPacketsPerPost: Int

        /// Creates a configuration; every parameter has a default.
        public init(
            transports: [EngineIOTransport] = [.polling, .websocket],
            upgradeTimeout: Duration = .seconds(10),
            maxPacketsPerPayload: Int = 4096,
            defaultMaxPayload: Int = 1_000_000,
            maxPacketsPerPost: Int = 16
        ) {
            self.transports = transports
            self.upgradeTimeout = upgradeTimeout
            self.maxPacketsPerPayload = maxPacketsPerPayload
            self.defaultMaxPayload = defaultMaxPayload
            self.maxPacketsPerPost = maxPacketsPerPost
        }

        /// Checks the transports (non-empty, known, no repeats) and limits.
        ///
        /// - Throws: ``EngineIOError/Code/invalidConfiguration`` naming the first bad field.
        public func validate() throws(EngineIOError) {
            guard !transports.isEmpty, Set(transports).count == transports.count,
                transports.allSatisfy({ $0 == .polling || $0 == .websocket })
            else {
                throw EngineIOError(.invalidConfiguration, "transports must list polling and/or websocket once each")
            }
            guard upgradeTimeout > .zero else {
                throw EngineIOError(.invalidConfiguration, "upgradeTimeout must be positive")
            }
            guard maxPacketsPerPayload >= 1, defaultMaxPayload >= 1, maxPacketsPerPost >= 1 else {
                throw EngineIOError(.invalidConfiguration, "limits must be at least 1")
            }
        }
    }
}
