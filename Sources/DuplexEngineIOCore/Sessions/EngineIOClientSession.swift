import NIOCore

/// The sans-I/O state machine of one client-side Engine.IO v4 session (protocol.md 4.1.3–4.1.8).
///
/// The client opens over polling (or WebSocket only), keeps one GET outstanding, batches sends
/// into POSTs of at most `maxPayload` bytes (one POST at a time), answers pings, and declares
/// the server dead when no ping arrives within `pingInterval + pingTimeout`. When the server
/// offers `websocket`, it probes a WebSocket, pauses polling once the probe is answered, and
/// switches; if anything goes wrong it falls back to polling without losing or reordering
/// packets, since they stay queued until a transport has taken them.
///
/// Feed it the outcome of every request it asks for; drain ``nextAction()`` after every input.
public struct EngineIOClientSession: Sendable {
    /// The protocol settings.
    public let configuration: Configuration
    /// The server's handshake, once open.
    public private(set) var handshake: EngineIOHandshake?

    private enum State: Sendable {
        case opening(EngineIOTransport)
        case polling
        case webSocket
        case closed
    }

    /// protocol.md 4.1.7 from the client's side.
    private enum Upgrade: Sendable, Equatable {
        case none
        /// The probe WebSocket is being opened.
        case connecting(deadline: NIODeadline)
        /// `2probe` sent; waiting for `3probe`.
        case probing(deadline: NIODeadline)
        /// `3probe` received; waiting for the in-flight GET and POST before sending `5`.
        case pausing(deadline: NIODeadline)
        /// Tried and failed, or not offered: stay on polling.
        case unavailable
    }

    private var state: State
    private var upgrade = Upgrade.none
    private var isPollInFlight = false
    private var isPostInFlight = false
    private var isClosing = false
    private var needsFlush = false
    private var outbox = CircularBuffer<EngineIOPacket>()
    private var actions = CircularBuffer<EngineIOClientSessionAction>()
    private var serverDeadline: NIODeadline? = nil
    private var scheduledDeadline: NIODeadline? = nil

    /// Starts opening a session: the first action is ``EngineIOClientSessionAction/sendHandshake(_:)``.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let transport = configuration.transports.first ?? .polling
        self.state = .opening(transport)
        actions.append(.sendHandshake(transport))
    }

    /// The transport carrying the session (the opening transport until open).
    public var transport: EngineIOTransport {
        switch state {
        case .opening(let transport): return transport
        case .webSocket: return .websocket
        case .polling, .closed: return .polling
        }
    }

    /// Whether the session is over.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Packets waiting for a transport.
    public var bufferedPacketCount: Int { outbox.count }

    /// The next action to execute, or `nil` when there is nothing left to do.
    public mutating func nextAction() -> EngineIOClientSessionAction? {
        if actions.isEmpty && needsFlush { flushPost() }
        return actions.popFirst()
    }

    // MARK: - Polling

    /// A polling GET (the handshake or a poll) was answered 200 with `body`.
    public mutating func pollResponseReceived(_ body: ByteBuffer, contentType: String? = nil, now: NIODeadline) {
        let packets: [EngineIOPacket]
        switch state {
        case .opening(.polling):
            do throws(EngineIOError) {
                packets = try EngineIOPollingFormat.v4.decodePayload(
                    body,
                    maxPackets: configuration.maxPacketsPerPayload
                )
                guard let first = packets.first else { throw EngineIOError(.invalidPayload, "Empty payload") }
                try open(EngineIOHandshake(openPacket: first), now: now)
            } catch {
                openFailed(error)
                return
            }
            for packet in packets.dropFirst() {
                receive(packet, now: now)
                if isClosed { return }
            }
        case .polling where isPollInFlight:
            isPollInFlight = false
            do {
                packets = try EngineIOPollingFormat.v4.decodePayload(
                    body,
                    maxPackets: configuration.maxPacketsPerPayload
                )
            } catch {
                fail(.parseError)
                return
            }
            for packet in packets {
                receive(packet, now: now)
                if isClosed { return }
            }
        default:
            return
        }
        continuePolling()
        updateTimer()
    }

    /// A polling GET failed: an I/O error, or a non-200 status
    /// (``EngineIOError/rejection(status:body:)``).
    public mutating func pollFailed(_ error: EngineIOError) {
        switch state {
        case .opening(.polling): openFailed(error)
        case .polling where isPollInFlight: fail(.transportError)
        default: return
        }
    }

    /// The in-flight POST was answered 200.
    public mutating func postResponseReceived() {
        guard case .polling = state, isPostInFlight else { return }
        isPostInFlight = false
        if case .pausing = upgrade {
            finishUpgradeIfPaused()
        } else {
            needsFlush = true
        }
    }

    /// The in-flight POST failed (I/O error or non-200 status).
    public mutating func postFailed(_ error: EngineIOError) {
        guard case .polling = state, isPostInFlight else { return }
        fail(.transportError)
    }

    // MARK: - WebSocket

    /// The WebSocket asked for (handshake or probe) is open.
    public mutating func webSocketOpened(now: NIODeadline) {
        guard case .polling = state, case .connecting(let deadline) = upgrade else { return }
        // protocol.md 4.1.7 step 2: send `2probe`.
        actions.append(.writeWebSocket(EngineIOPacket.probePing.webSocketFrame()))
        upgrade = .probing(deadline: deadline)
    }

    /// A message arrived on the session's WebSocket.
    public mutating func webSocketMessageReceived(_ frame: EngineIOWebSocketFrame, now: NIODeadline) {
        switch state {
        case .opening(.websocket):
            do throws(EngineIOError) {
                try open(EngineIOHandshake(openPacket: EngineIOPacket(webSocketFrame: frame)), now: now)
            } catch {
                actions.append(.closeWebSocket)
                openFailed(error)
                return
            }
        case .polling:
            switch upgrade {
            case .probing(let deadline):
                if let packet = try? EngineIOPacket(webSocketFrame: frame), packet.isProbePong {
                    // protocol.md 4.1.7 step 2: pause polling so nothing is lost or reordered.
                    upgrade = .pausing(deadline: deadline)
                    finishUpgradeIfPaused()
                } else {
                    abortUpgrade(EngineIOError(.upgradeFailed, "The server did not answer the probe with 3probe"))
                }
            case .connecting, .pausing:
                abortUpgrade(EngineIOError(.upgradeFailed, "Unexpected message on the probe WebSocket"))
            case .none, .unavailable:
                return
            }
        case .webSocket:
            do {
                receive(try EngineIOPacket(webSocketFrame: frame), now: now)
            } catch {
                fail(.parseError)
                return
            }
        case .opening(_), .closed:
            return
        }
        updateTimer()
    }

    /// The session's WebSocket closed (or could not be opened) without being asked to.
    public mutating func webSocketClosed() {
        webSocketEnded(reason: .transportClose, error: EngineIOError(.transportClosed, "The WebSocket closed"))
    }

    /// The session's WebSocket failed, or could not be opened.
    public mutating func webSocketFailed(_ error: EngineIOError) {
        webSocketEnded(reason: .transportError, error: error)
    }

    private mutating func webSocketEnded(reason: EngineIOCloseReason, error: EngineIOError) {
        switch state {
        case .opening(.websocket):
            openFailed(EngineIOError(.connectionFailed, "The WebSocket could not be opened", cause: error))
        case .polling:
            switch upgrade {
            case .connecting, .probing, .pausing:
                upgrade = .unavailable
                actions.append(
                    .upgradeFailed(EngineIOError(.upgradeFailed, "The probe WebSocket closed", cause: error))
                )
                resumePolling()
                updateTimer()
            case .none, .unavailable:
                return
            }
        case .webSocket:
            finish(reason)
        case .opening(_), .closed:
            return
        }
    }

    // MARK: - Timer and application

    /// The timer armed by ``EngineIOClientSessionAction/scheduleTimer(_:)`` fired.
    public mutating func timerFired(now: NIODeadline) {
        if let serverDeadline, now >= serverDeadline {
            // protocol.md 4.1.6: "If no ping arrives within pingInterval + pingTimeout, treat the
            // connection as dead."
            fail(.pingTimeout)
            return
        }
        switch upgrade {
        case .connecting(let deadline), .probing(let deadline), .pausing(let deadline):
            if now >= deadline {
                abortUpgrade(EngineIOError(.upgradeTimedOut, "The upgrade did not complete in time"))
            }
        case .none, .unavailable:
            break
        }
        updateTimer()
    }

    /// The application sends a message (queued until the session is open).
    ///
    /// - Throws: ``EngineIOError/Code/sessionClosed`` once closed or closing;
    ///   ``EngineIOError/Code/invalidPacket`` for a text message a v4 polling payload cannot
    ///   frame (see ``EngineIOPollingFormat/canFrame(_:)``) unless the session is on WebSocket.
    public mutating func sendRequested(_ data: EngineIOPacketData) throws(EngineIOError) {
        guard !isClosed, !isClosing else { throw EngineIOError(.sessionClosed, "Session closed") }
        guard transport == .websocket || EngineIOPollingFormat.v4.canFrame(data) else {
            throw EngineIOPollingFormat.unframeableMessage
        }
        enqueue(EngineIOPacket(.message, data))
    }

    /// The application closes the session (protocol.md 4.1.8): over polling, `1` is POSTed
    /// after the queued packets; over WebSocket it is sent, then the WebSocket is closed.
    public mutating func closeRequested() {
        switch state {
        case .closed:
            return
        case .opening(let transport):
            if transport == .websocket { actions.append(.closeWebSocket) }
            finish(.clientDisconnect)
        case .webSocket:
            enqueue(.close)
            actions.append(.closeWebSocket)
            finish(.clientDisconnect)
        case .polling:
            guard !isClosing else { return }
            if upgrade != .none && upgrade != .unavailable {
                upgrade = .unavailable
                actions.append(.closeWebSocket)
            }
            isClosing = true
            outbox.append(.close)
            needsFlush = true
        }
    }

    // MARK: - Internals

    private mutating func open(_ handshake: EngineIOHandshake, now: NIODeadline) throws(EngineIOError) {
        guard case .opening(let transport) = state else { return }
        self.handshake = handshake
        serverDeadline = now + TimeAmount(handshake.pingInterval + handshake.pingTimeout)
        actions.append(.opened(handshake))
        if transport == .websocket {
            state = .webSocket
            upgrade = .unavailable
            while let packet = outbox.popFirst() { actions.append(.writeWebSocket(packet.webSocketFrame())) }
            return
        }
        state = .polling
        if configuration.transports.contains(.websocket), handshake.upgrades.contains(.websocket) {
            // protocol.md 4.1.7 step 1.
            upgrade = .connecting(deadline: now + TimeAmount(configuration.upgradeTimeout))
            actions.append(.openWebSocket)
        } else {
            upgrade = .unavailable
        }
        needsFlush = true
    }

    private mutating func receive(_ packet: EngineIOPacket, now: NIODeadline) {
        switch packet.type {
        case .message:
            actions.append(.deliver(packet.data))
        case .ping:
            // protocol.md 4.1.6: "Answer each `2` with `3` immediately."
            serverDeadline = now + TimeAmount((handshake?.pingInterval ?? .zero) + (handshake?.pingTimeout ?? .zero))
            enqueue(.pong)
        case .close:
            fail(.serverDisconnect)
        case .noop, .pong, .upgrade:
            break
        case .open:
            fail(.parseError)
        }
    }

    private mutating func enqueue(_ packet: EngineIOPacket) {
        switch state {
        case .webSocket:
            actions.append(.writeWebSocket(packet.webSocketFrame()))
        case .polling, .opening:
            outbox.append(packet)
            needsFlush = true
        case .closed:
            return
        }
    }

    /// Issues the next GET unless paused for an upgrade.
    private mutating func continuePolling() {
        guard case .polling = state, !isClosing else { return }
        if case .pausing = upgrade {
            finishUpgradeIfPaused()
            return
        }
        if !isPollInFlight {
            isPollInFlight = true
            actions.append(.sendPoll)
        }
    }

    /// POSTs the next batch, if allowed.
    private mutating func flushPost() {
        needsFlush = false
        guard case .polling = state, !isPostInFlight, !outbox.isEmpty else { return }
        if case .pausing = upgrade { return }
        // protocol.md 4.1.4: "clients should pack packets up to maxPayload bytes per POST"; and
        // no more packets than the server decodes per payload (python-engineio: 16).
        let (body, count) = EngineIOPollingFormat.v4.encodePayload(
            outbox,
            maxPackets: configuration.maxPacketsPerPost,
            maxBytes: handshake?.maxPayload ?? configuration.defaultMaxPayload
        )
        outbox.removeFirst(count)
        isPostInFlight = true
        actions.append(.sendPost(body))
        if isClosing && outbox.isEmpty { finish(.clientDisconnect) }
    }

    /// protocol.md 4.1.7 step 4: once polling is idle, send `5` and move everything to the WebSocket.
    private mutating func finishUpgradeIfPaused() {
        guard case .polling = state, case .pausing = upgrade, !isPollInFlight, !isPostInFlight else { return }
        actions.append(.writeWebSocket(EngineIOPacket.upgrade.webSocketFrame()))
        state = .webSocket
        upgrade = .unavailable
        needsFlush = false
        while let packet = outbox.popFirst() { actions.append(.writeWebSocket(packet.webSocketFrame())) }
        actions.append(.upgradeCompleted)
    }

    private mutating func abortUpgrade(_ error: EngineIOError) {
        upgrade = .unavailable
        actions.append(.closeWebSocket)
        actions.append(.upgradeFailed(error))
        resumePolling()
    }

    private mutating func resumePolling() {
        continuePolling()
        needsFlush = true
    }

    private mutating func openFailed(_ error: EngineIOError) {
        state = .closed
        outbox.removeAll()
        needsFlush = false
        actions.append(.openFailed(error))
    }

    private mutating func fail(_ reason: EngineIOCloseReason) {
        switch state {
        case .polling:
            if upgrade != .none && upgrade != .unavailable { actions.append(.closeWebSocket) }
        case .webSocket:
            actions.append(.closeWebSocket)
        case .opening, .closed:
            break
        }
        finish(reason)
    }

    private mutating func finish(_ reason: EngineIOCloseReason) {
        guard !isClosed else { return }
        state = .closed
        upgrade = .unavailable
        outbox.removeAll()
        needsFlush = false
        serverDeadline = nil
        if scheduledDeadline != nil {
            scheduledDeadline = nil
            actions.append(.cancelTimer)
        }
        actions.append(.closeSession(reason))
    }

    private mutating func updateTimer() {
        guard !isClosed else { return }
        var earliest = serverDeadline
        switch upgrade {
        case .connecting(let deadline), .probing(let deadline), .pausing(let deadline):
            if earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        case .none, .unavailable:
            break
        }
        guard earliest != scheduledDeadline else { return }
        scheduledDeadline = earliest
        actions.append(earliest.map { .scheduleTimer($0) } ?? .cancelTimer)
    }
}
