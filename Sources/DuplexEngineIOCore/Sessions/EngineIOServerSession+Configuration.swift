extension EngineIOServerSession {
    /// The protocol settings of a server session. Defaults are the reference server's.
    public struct Configuration: Hashable, Sendable {
        /// How often the server pings (v4), or the interval announced to v3 clients, which ping.
        /// Default 25 s.
        public var pingInterval: Duration
        /// How long the server waits for a pong (v4); v3 sessions time out after
        /// `pingInterval + pingTimeout` without any packet. Default 20 s.
        public var pingTimeout: Duration
        /// How long a client has to complete an upgrade (`2probe` … `5`) once its WebSocket is
        /// attached. Default 10 s (ref impl `upgradeTimeout`).
        public var upgradeTimeout: Duration
        /// How long a server-initiated close over polling waits for a GET to carry the `close`
        /// packet before giving up. Default 30 s (ref impl polling `closeTimeout`).
        public var closeTimeout: Duration
        /// The largest POST body or WebSocket message accepted, announced as `maxPayload`; also
        /// the byte budget of one polling response. Default 1,000,000 (ref impl
        /// `maxHttpBufferSize`).
        public var maxPayload: Int
        /// The most packets accepted in one POST payload. Default 16 (python-engineio
        /// `max_decode_packets`).
        public var maxPacketsPerPayload: Int
        /// The most packets sent in one polling response. Default 16.
        public var maxPacketsPerResponse: Int
        /// Transports offered for upgrade to sessions opened over polling. Default `[.websocket]`;
        /// `[]` disables upgrades.
        public var upgrades: [EngineIOTransport]

        /// Creates a configuration; every parameter has the reference server's default.
        public init(
            pingInterval: Duration = .seconds(25),
            pingTimeout: Duration = .seconds(20),
            upgradeTimeout: Duration = .seconds(10),
            closeTimeout: Duration = .seconds(30),
            maxPayload: Int = 1_000_000,
            maxPacketsPerPayload: Int = 16,
            maxPacketsPerResponse: Int = 16,
            upgrades: [EngineIOTransport] = [.websocket]
        ) {
            self.pingInterval = pingInterval
            self.pingTimeout = pingTimeout
            self.upgradeTimeout = upgradeTimeout
            self.closeTimeout = closeTimeout
            self.maxPayload = maxPayload
            self.maxPacketsPerPayload = maxPacketsPerPayload
            self.maxPacketsPerResponse = maxPacketsPerResponse
            self.upgrades = upgrades
        }

        /// Checks that every interval is positive and every limit at least 1.
        ///
        /// - Throws: ``EngineIOError/Code/invalidConfiguration`` naming the first bad field.
        public func validate() throws(EngineIOError) {
            let durations: [(String, Duration)] = [
                ("pingInterval", pingInterval), ("pingTimeout", pingTimeout), ("upgradeTimeout", upgradeTimeout),
                ("closeTimeout", closeTimeout),
            ]
            for (name, value) in durations where value <= .zero {
                throw EngineIOError(.invalidConfiguration, "\(name) must be positive")
            }
            let limits: [(String, Int)] = [
                ("maxPayload", maxPayload), ("maxPacketsPerPayload", maxPacketsPerPayload),
                ("maxPacketsPerResponse", maxPacketsPerResponse),
            ]
            for (name, value) in limits where value < 1 {
                throw EngineIOError(.invalidConfiguration, "\(name) must be at least 1")
            }
        }
    }
}
