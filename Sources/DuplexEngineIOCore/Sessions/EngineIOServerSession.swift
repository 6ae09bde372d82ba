import NIOCore

/// The sans-I/O state machine of one server-side Engine.IO session (protocol.md 4.1.3–4.1.9).
///
/// Inputs are named for events: HTTP requests of the session (``pollRequested(now:)``,
/// ``postReceived(_:contentType:now:)``, ``upgradeRequested(now:)``), WebSocket events
/// (``webSocketMessageReceived(_:now:)``, ``webSocketClosed()``), the timer
/// (``timerFired(now:)``) and the application (``sendRequested(_:)``,
/// ``closeRequested(now:)``). Time is passed in; nothing is read inside.
///
/// Inputs that answer the HTTP request that caused them throw the error to answer it with
/// (``EngineIOError/httpStatus`` and ``EngineIOError/httpResponseBody``); returning normally
/// means 200 (`ok` for a POST). Everything else comes out of ``nextAction()``, which the
/// adapter drains after every input and executes in order. Outgoing packets are coalesced:
/// several sends before the next drain go out in one polling response.
///
/// The adapter keeps at most one pending GET and at most one WebSocket per session, as the
/// actions direct.
public struct EngineIOServerSession: Sendable {
    /// The session id.
    public let id: EngineIOSessionID
    /// The protocol revision the client speaks.
    public let protocolVersion: EngineIOProtocolVersion
    /// How polling bodies are framed for this client.
    public let pollingFormat: EngineIOPollingFormat
    /// The protocol settings.
    public let configuration: Configuration
    /// The handshake sent in the `open` packet.
    public let handshake: EngineIOHandshake

    private enum State: Sendable {
        case polling(Upgrade)
        /// Upgraded, or opened over WebSocket.
        case webSocket
        /// The server closed over polling; waiting for a GET to carry the `close` packet.
        case closing(deadline: NIODeadline)
        case closed
    }

    /// protocol.md 4.1.7: the probe WebSocket's progress.
    private enum Upgrade: Sendable, Equatable {
        case none
        case awaitingProbe(deadline: NIODeadline)
        case awaitingUpgrade(deadline: NIODeadline)
    }

    private enum Heartbeat: Sendable {
        /// v4: the next ping is due.
        case waitingToPing(NIODeadline)
        /// v4: a ping is out; the pong is due.
        case awaitingPong(NIODeadline)
        /// v3: the client must send something (normally a ping) before this deadline.
        case awaitingClientPacket(NIODeadline)
        case stopped
    }

    private var state: State
    private var heartbeat: Heartbeat
    // Small to start with (CircularBuffer's default is 16): an idle session queues nothing,
    // and 16 actions take 1.3 KB per session; both grow when needed.
    private var outbox = CircularBuffer<EngineIOPacket>(initialCapacity: 4)
    private var outboxCost = 0
    private var isReceivingPaused = false
    private var actions = CircularBuffer<EngineIOServerSessionAction>(initialCapacity: 4)
    private var hasPendingPoll = false
    private var isPostInProgress = false
    private var needsFlush = false
    private var scheduledDeadline: NIODeadline? = nil

    /// Opens a session. Over polling, the `open` packet answers the first poll (the handshake
    /// GET itself: call ``pollRequested(now:)`` next). Over WebSocket, it is written at once.
    ///
    /// - Parameters:
    ///   - id: a fresh id (``EngineIOSessionID/random()``).
    ///   - transport: `.polling` or `.websocket`, from the handshake request.
    ///   - pollingFormat: the handshake request's ``EngineIORequest/pollingFormat``; it also sets
    ///     the protocol revision (v3 formats mean a v3 session, on either transport).
    ///   - configuration: protocol settings; see ``Configuration/validate()``.
    ///   - now: the current time.
    public init(
        id: EngineIOSessionID,
        transport: EngineIOTransport,
        pollingFormat: EngineIOPollingFormat = .v4,
        configuration: Configuration = Configuration(),
        now: NIODeadline
    ) {
        self.id = id
        self.protocolVersion = pollingFormat.protocolVersion
        self.pollingFormat = pollingFormat
        self.configuration = configuration
        let isWebSocket = transport == .websocket
        self.handshake = EngineIOHandshake(
            sid: id.rawValue,
            // protocol.md 4.1.3: `[]` when the session was opened over WebSocket.
            upgrades: isWebSocket ? [] : configuration.upgrades,
            pingInterval: configuration.pingInterval,
            pingTimeout: configuration.pingTimeout,
            // protocol.md 4.1.9: v3 handshakes have no maxPayload.
            maxPayload: pollingFormat.protocolVersion == .v3 ? nil : configuration.maxPayload
        )
        self.state = isWebSocket ? .webSocket : .polling(.none)
        if pollingFormat.protocolVersion == .v3 {
            self.heartbeat = .awaitingClientPacket(
                now + TimeAmount(configuration.pingInterval + configuration.pingTimeout)
            )
        } else {
            self.heartbeat = .waitingToPing(now + TimeAmount(configuration.pingInterval))
        }
        enqueue(handshake.openPacket)
        updateTimer()
    }

    // MARK: - Observers

    /// The transport currently carrying the session.
    public var transport: EngineIOTransport {
        if case .webSocket = state { return .websocket }
        return .polling
    }

    /// Whether a probe WebSocket is attached (protocol.md 4.1.7, steps 1–4).
    public var isUpgrading: Bool {
        if case .polling(let upgrade) = state { return upgrade != .none }
        return false
    }

    /// Whether the session is over (every later request gets 400).
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Packets waiting for a polling GET.
    public var bufferedPacketCount: Int { outbox.count }

    /// The cost of the packets waiting for a polling GET: each counts its data's bytes plus
    /// ``queuedMessageOverhead`` (see ``queueCost(of:)``). Adapters compare it with their
    /// high-water marks to make senders wait.
    public var bufferedByteCount: Int { outboxCost }

    /// The bookkeeping each queued message is charged on top of its bytes, so that a flood of
    /// tiny or empty messages is bounded like one of large messages.
    public static let queuedMessageOverhead = 64

    /// What a queued message costs against a buffer limit: its bytes plus
    /// ``queuedMessageOverhead``.
    public static func queueCost(of data: EngineIOPacketData) -> Int {
        data.byteCount + queuedMessageOverhead
    }

    // MARK: - Actions

    /// The next action to execute, or `nil` when there is nothing left to do.
    public mutating func nextAction() -> EngineIOServerSessionAction? {
        if actions.isEmpty && needsFlush { flush() }
        return actions.popFirst()
    }

    // MARK: - Polling (protocol.md 4.1.4)

    /// A polling GET arrived. On return, it is the session's pending GET and will be answered
    /// by an ``EngineIOServerSessionAction/answerPoll(_:)`` action (right away when packets are
    /// waiting).
    ///
    /// - Throws: the error to answer *this* request with:
    ///   ``EngineIOError/Code/sessionClosed`` once closed; ``EngineIOError/Code/badRequest``
    ///   once upgraded, or for a second concurrent GET, which also closes the session (the
    ///   earlier GET gets `close`).
    public mutating func pollRequested(now: NIODeadline) throws(EngineIOError) {
        switch state {
        case .closed:
            throw EngineIOError(.sessionClosed, "Session closed")
        case .webSocket:
            // protocol.md 4.1.7 step 4: "polling requests with that sid get 400".
            throw EngineIOError(.badRequest, "Session runs over WebSocket")
        case .polling, .closing:
            guard !hasPendingPoll else {
                // protocol.md 4.1.4: "A second concurrent GET is a protocol error: the server
                // answers it with 400 and closes the session. The earlier pending GET receives `1`."
                fail(.transportError)
                throw EngineIOError(.badRequest, "Concurrent polling GET")
            }
            hasPendingPoll = true
            if case .polling(.awaitingUpgrade) = state, outbox.isEmpty {
                // protocol.md 4.1.7 step 3: polls during an upgrade end at once with `noop`.
                appendToOutbox(.noop)
            }
            needsFlush = true
        }
    }

    /// The pending GET's connection went away before it was answered.
    public mutating func pollAborted() {
        hasPendingPoll = false
    }

    /// A polling POST started (its head arrived). Calling this is optional, but it is the only
    /// way to detect concurrent POSTs.
    ///
    /// - Throws: ``EngineIOError/Code/sessionClosed`` once closed; ``EngineIOError/Code/badRequest``
    ///   once upgraded, or for a concurrent POST, which also closes the session.
    public mutating func postStarted() throws(EngineIOError) {
        try checkPostAllowed()
        guard !isPostInProgress else {
            // protocol.md 4.1.4: "Only one POST may be outstanding; a concurrent POST gets 400
            // and the session is closed."
            fail(.transportError)
            throw EngineIOError(.badRequest, "Concurrent polling POST")
        }
        isPostInProgress = true
    }

    /// The started POST's connection went away before its body was complete.
    public mutating func postAborted() {
        isPostInProgress = false
    }

    /// A polling POST's complete body arrived. Returning normally means: answer 200 `ok`.
    ///
    /// - Parameters:
    ///   - body: the request body.
    ///   - contentType: the request's `Content-Type` header, if any.
    ///   - now: the current time.
    /// - Throws: the error to answer this request with: ``EngineIOError/Code/sessionClosed``,
    ///   ``EngineIOError/Code/badRequest`` (upgraded session; v4 binary content type, which
    ///   closes the session), ``EngineIOError/Code/payloadTooLarge`` (closes the session),
    ///   ``EngineIOError/Code/invalidPayload`` / ``EngineIOError/Code/invalidPacket`` (closes the
    ///   session with ``EngineIOCloseReason/parseError``).
    public mutating func postReceived(_ body: ByteBuffer, contentType: String? = nil, now: NIODeadline)
        throws(EngineIOError)
    {
        try checkPostAllowed()
        isPostInProgress = false
        guard body.readableBytes <= configuration.maxPayload else {
            // ref impl: a body over maxHttpBufferSize gets 413.
            fail(.transportError)
            throw EngineIOError(.payloadTooLarge, "POST body larger than \(configuration.maxPayload) bytes")
        }
        let packets: [EngineIOPacket]
        do {
            packets = try pollingFormat.decodePayload(
                body,
                contentType: contentType,
                maxPackets: configuration.maxPacketsPerPayload
            )
        } catch {
            // protocol.md 4.1.4: "An invalid payload gets 400 and closes the session."
            fail(error.code == .badRequest ? .transportError : .parseError)
            throw error
        }
        guard case .polling = state else { return }  // closing: the server no longer listens
        for packet in packets {
            receive(packet, now: now)
            if isClosed { break }
        }
        updateTimer()
    }

    private func checkPostAllowed() throws(EngineIOError) {
        switch state {
        case .closed: throw EngineIOError(.sessionClosed, "Session closed")
        case .webSocket: throw EngineIOError(.badRequest, "Session runs over WebSocket")
        case .polling, .closing: return
        }
    }

    // MARK: - WebSocket (protocol.md 4.1.5, 4.1.7)

    /// A WebSocket upgrade request arrived for this session. Call it before accepting the
    /// upgrade: on return, accept it (101); the WebSocket is then the session's probe.
    ///
    /// - Throws: the error to refuse the upgrade with (400): ``EngineIOError/Code/sessionClosed``;
    ///   ``EngineIOError/Code/badRequest`` when the session is not on polling (already upgraded,
    ///   opened over WebSocket, closing), already upgrading, or upgrades are disabled. The
    ///   session is unaffected.
    public mutating func upgradeRequested(now: NIODeadline) throws(EngineIOError) {
        switch state {
        case .closed:
            throw EngineIOError(.sessionClosed, "Session closed")
        case .webSocket:
            // protocol.md 4.1.5: "At most one WebSocket per session."
            throw EngineIOError(.badRequest, "Session already runs over WebSocket")
        case .closing:
            throw EngineIOError(.badRequest, "Session is closing")
        case .polling(let upgrade):
            guard upgrade == .none else { throw EngineIOError(.badRequest, "Session is already upgrading") }
            guard configuration.upgrades.contains(.websocket) else {
                throw EngineIOError(.badRequest, "Upgrades are disabled")
            }
            // ref impl: the client has `upgradeTimeout` to complete the upgrade.
            state = .polling(.awaitingProbe(deadline: now + TimeAmount(configuration.upgradeTimeout)))
            updateTimer()
        }
    }

    /// A message arrived on the session's WebSocket (the probe or the transport).
    public mutating func webSocketMessageReceived(_ frame: EngineIOWebSocketFrame, now: NIODeadline) {
        switch state {
        case .closed, .closing, .polling(.none):
            return
        case .polling(let upgrade):
            probeMessageReceived(frame, upgrade: upgrade, now: now)
        case .webSocket:
            // ref impl and python-engineio: maxHttpBufferSize also limits WebSocket messages.
            guard frame.byteCount <= configuration.maxPayload else {
                fail(.transportError)
                return
            }
            do {
                receive(try EngineIOPacket(webSocketFrame: frame, protocolVersion: protocolVersion), now: now)
            } catch {
                fail(.parseError)
                return
            }
        }
        updateTimer()
    }

    private mutating func probeMessageReceived(_ frame: EngineIOWebSocketFrame, upgrade: Upgrade, now: NIODeadline) {
        guard frame.byteCount <= configuration.maxPayload,
            let packet = try? EngineIOPacket(webSocketFrame: frame, protocolVersion: protocolVersion)
        else {
            abortUpgrade(EngineIOError(.upgradeFailed, "Invalid message on the probe WebSocket"))
            return
        }
        switch (upgrade, packet.type) {
        case (.awaitingProbe(let deadline), _) where packet.isProbePing,
            (.awaitingUpgrade(let deadline), _) where packet.isProbePing:
            // protocol.md 4.1.7 step 3: answer `3probe`, then end any pending poll with `noop`.
            actions.append(.writeWebSocket(EngineIOPacket.probePong.webSocketFrame(protocolVersion: protocolVersion)))
            state = .polling(.awaitingUpgrade(deadline: deadline))
            if hasPendingPoll && outbox.isEmpty { appendToOutbox(.noop) }
            needsFlush = true
        case (.awaitingUpgrade, .upgrade):
            // protocol.md 4.1.7 step 4: switch transport, flush buffered packets in order.
            if hasPendingPoll {
                hasPendingPoll = false
                answerPoll(with: [.noop])
            }
            state = .webSocket
            needsFlush = false
            while let packet = outbox.popFirst() {
                actions.append(.writeWebSocket(packet.webSocketFrame(protocolVersion: protocolVersion)))
            }
            outboxCost = 0
            actions.append(.upgradeCompleted)
        default:
            // ref impl: "Any unexpected packet on the probe socket also closes it."
            abortUpgrade(EngineIOError(.upgradeFailed, "Unexpected \(packet.type) packet on the probe WebSocket"))
        }
    }

    /// The session's WebSocket closed (not at the session's request).
    public mutating func webSocketClosed() {
        webSocketEnded(reason: .transportClose)
    }

    /// The session's WebSocket failed (I/O or WebSocket protocol error).
    public mutating func webSocketFailed() {
        webSocketEnded(reason: .transportError)
    }

    private mutating func webSocketEnded(reason: EngineIOCloseReason) {
        switch state {
        case .polling(.awaitingProbe), .polling(.awaitingUpgrade):
            state = .polling(.none)
            actions.append(.upgradeFailed(EngineIOError(.upgradeFailed, "The probe WebSocket closed")))
            updateTimer()
        case .webSocket:
            finish(reason)
        case .polling(.none), .closing, .closed:
            return
        }
    }

    private mutating func abortUpgrade(_ error: EngineIOError) {
        state = .polling(.none)
        actions.append(.closeWebSocket)
        actions.append(.upgradeFailed(error))
    }

    // MARK: - Receive backpressure

    /// The adapter stopped reading the session's WebSocket because the application is behind
    /// (DESIGN.md: "a slow reader stops socket reads"). Pings still go out, but the pong (v4) or
    /// client packet (v3) deadline is suspended: the client's answer may be waiting unread.
    public mutating func receivingPaused() {
        guard !isClosed else { return }
        isReceivingPaused = true
        updateTimer()
    }

    /// The adapter reads the WebSocket again. A heartbeat answer that was due while reading was
    /// paused gets `pingTimeout` from now to arrive.
    public mutating func receivingResumed(now: NIODeadline) {
        guard isReceivingPaused else { return }
        isReceivingPaused = false
        let extended = now + TimeAmount(configuration.pingTimeout)
        switch heartbeat {
        case .awaitingPong(let deadline): heartbeat = .awaitingPong(max(deadline, extended))
        case .awaitingClientPacket(let deadline): heartbeat = .awaitingClientPacket(max(deadline, extended))
        case .waitingToPing, .stopped: break
        }
        updateTimer()
    }

    /// The adapter ends the session for a reason of its own (for example
    /// ``EngineIOCloseReason/sendBufferFull``): like a transport failure, a pending GET gets
    /// `close` and a WebSocket is closed.
    public mutating func terminate(_ reason: EngineIOCloseReason) {
        fail(reason)
    }

    // MARK: - Timer and application

    /// The timer armed by ``EngineIOServerSessionAction/scheduleTimer(_:)`` fired (early or
    /// spurious calls are harmless).
    public mutating func timerFired(now: NIODeadline) {
        switch state {
        case .closed:
            return
        case .closing(let deadline):
            if now >= deadline { finish(.serverDisconnect) }
            return
        case .polling(.awaitingProbe(let deadline)), .polling(.awaitingUpgrade(let deadline)):
            if now >= deadline {
                // ref impl: "If `5` does not arrive within upgradeTimeout, the probe WebSocket is
                // closed and the session stays on polling."
                abortUpgrade(EngineIOError(.upgradeTimedOut, "The client did not complete the upgrade in time"))
            }
        case .polling(.none), .webSocket:
            break
        }
        switch heartbeat {
        case .waitingToPing(let deadline) where now >= deadline:
            // protocol.md 4.1.6: "Every pingInterval ms the server sends `2`; the client must
            // answer `3` within pingTimeout ms."
            enqueue(.ping)
            heartbeat = .awaitingPong(now + TimeAmount(configuration.pingTimeout))
        case .awaitingPong(let deadline) where now >= deadline && !isReceivingPaused,
            .awaitingClientPacket(let deadline) where now >= deadline && !isReceivingPaused:
            fail(.pingTimeout)
            return
        default:
            break
        }
        updateTimer()
    }

    /// The application sends a message.
    ///
    /// - Throws: ``EngineIOError/Code/sessionClosed`` once the session is closed or closing;
    ///   ``EngineIOError/Code/invalidPacket`` for a text message the polling payload cannot
    ///   frame (see ``EngineIOPollingFormat/canFrame(_:)``) while the session is on polling.
    public mutating func sendRequested(_ data: EngineIOPacketData) throws(EngineIOError) {
        switch state {
        case .closed, .closing:
            throw EngineIOError(.sessionClosed, "Session closed")
        case .polling, .webSocket:
            guard canSend(data) else { throw EngineIOPollingFormat.unframeableMessage }
            enqueue(EngineIOPacket(.message, data))
        }
    }

    /// Whether the current transport can carry `data`: false only for a text message that the
    /// polling payload cannot frame (see ``EngineIOPollingFormat/canFrame(_:)``).
    public func canSend(_ data: EngineIOPacketData) -> Bool {
        guard case .polling = state else { return true }
        return pollingFormat.canFrame(data)
    }

    /// The application closes the session (protocol.md 4.1.8): `close` goes out after the
    /// buffered packets, over polling in the next GET response, over WebSocket at once.
    public mutating func closeRequested(now: NIODeadline) {
        switch state {
        case .closed, .closing:
            return
        case .webSocket:
            // protocol.md 4.1.8: "Over WebSocket: send `1`, then close the WebSocket."
            enqueue(.close)
            actions.append(.closeWebSocket)
            finish(.serverDisconnect)
        case .polling(let upgrade):
            if upgrade != .none { actions.append(.closeWebSocket) }
            enqueue(.close)
            heartbeat = .stopped
            state = .closing(deadline: now + TimeAmount(configuration.closeTimeout))
            if hasPendingPoll { flush() }
            updateTimer()
        }
    }

    // MARK: - Internals

    /// Handles a packet from the client on the session's transport.
    private mutating func receive(_ packet: EngineIOPacket, now: NIODeadline) {
        if protocolVersion == .v3 {
            // protocol.md 4.1.9: v3 "times out after pingInterval + pingTimeout of silence".
            heartbeat = .awaitingClientPacket(now + TimeAmount(configuration.pingInterval + configuration.pingTimeout))
        }
        switch packet.type {
        case .message:
            actions.append(.deliver(packet.data))
        case .ping where protocolVersion == .v3:
            // protocol.md 4.1.9: v3 client sends `2`, server answers `3`.
            enqueue(EngineIOPacket(.pong, packet.data))
        case .pong where protocolVersion != .v3:
            if case .awaitingPong = heartbeat {
                // ref impl: "The next ping is scheduled pingInterval after the pong arrives."
                heartbeat = .waitingToPing(now + TimeAmount(configuration.pingInterval))
            }
        case .ping, .pong:
            // protocol.md 4.1.6: a heartbeat in the wrong direction is a protocol error
            // ("invalid heartbeat direction").
            fail(.transportError)
        case .close:
            clientClosed()
        case .noop, .upgrade:
            // Harmless: python-engineio clients may send `upgrade` late; `noop` is filler.
            break
        case .open:
            fail(.parseError)
        }
    }

    /// The client sent `close` (protocol.md 4.1.8).
    private mutating func clientClosed() {
        switch state {
        case .polling(let upgrade):
            // protocol.md 4.1.8: "A GET pending at that moment is answered with `6`."
            if hasPendingPoll {
                hasPendingPoll = false
                answerPoll(with: [.noop])
            }
            if upgrade != .none { actions.append(.closeWebSocket) }
        case .webSocket:
            actions.append(.closeWebSocket)
        case .closing, .closed:
            break
        }
        finish(.clientDisconnect)
    }

    /// Ends the session abnormally: a pending GET gets `close`, a WebSocket is closed.
    private mutating func fail(_ reason: EngineIOCloseReason) {
        switch state {
        case .polling(let upgrade):
            if hasPendingPoll {
                hasPendingPoll = false
                answerPoll(with: [.close])
            }
            if upgrade != .none { actions.append(.closeWebSocket) }
        case .closing:
            if hasPendingPoll {
                hasPendingPoll = false
                answerPoll(with: [.close])
            }
        case .webSocket:
            actions.append(.closeWebSocket)
        case .closed:
            return
        }
        finish(reason)
    }

    private mutating func finish(_ reason: EngineIOCloseReason) {
        guard !isClosed else { return }
        state = .closed
        heartbeat = .stopped
        outbox.removeAll()
        outboxCost = 0
        needsFlush = false
        hasPendingPoll = false
        if scheduledDeadline != nil {
            scheduledDeadline = nil
            actions.append(.cancelTimer)
        }
        actions.append(.closeSession(reason))
    }

    private mutating func enqueue(_ packet: EngineIOPacket) {
        switch state {
        case .webSocket:
            actions.append(.writeWebSocket(packet.webSocketFrame(protocolVersion: protocolVersion)))
        case .polling, .closing:
            appendToOutbox(packet)
            needsFlush = true
        case .closed:
            return
        }
    }

    private mutating func appendToOutbox(_ packet: EngineIOPacket) {
        outbox.append(packet)
        outboxCost += Self.queueCost(of: packet.data)
    }

    private mutating func answerPoll(with packets: [EngineIOPacket]) {
        actions.append(.answerPoll(pollingFormat.encodePayload(packets).body))
    }

    /// Answers the pending GET with as many buffered packets as fit in one response.
    private mutating func flush() {
        needsFlush = false
        guard hasPendingPoll, !outbox.isEmpty else { return }
        let (body, count) = pollingFormat.encodePayload(
            outbox,
            maxPackets: configuration.maxPacketsPerResponse,
            maxBytes: configuration.maxPayload
        )
        for packet in outbox.prefix(count) { outboxCost -= Self.queueCost(of: packet.data) }
        outbox.removeFirst(count)
        hasPendingPoll = false
        actions.append(.answerPoll(body))
        if case .closing = state, outbox.isEmpty {
            // The `close` packet, queued last, is out.
            finish(.serverDisconnect)
        }
    }

    /// Arms the timer at the earliest pending deadline, if it changed.
    private mutating func updateTimer() {
        var earliest: NIODeadline? = nil
        func consider(_ deadline: NIODeadline) {
            if earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        switch heartbeat {
        case .waitingToPing(let deadline):
            consider(deadline)
        case .awaitingPong(let deadline), .awaitingClientPacket(let deadline):
            // While the adapter is not reading, the client's answer cannot arrive: no deadline.
            if !isReceivingPaused { consider(deadline) }
        case .stopped:
            break
        }
        switch state {
        case .polling(.awaitingProbe(let deadline)), .polling(.awaitingUpgrade(let deadline)),
            .closing(let deadline):
            consider(deadline)
        case .polling(.none), .webSocket, .closed:
            break
        }
        guard earliest != scheduledDeadline else { return }
        scheduledDeadline = earliest
        actions.append(earliest.map { .scheduleTimer($0) } ?? .cancelTimer)
    }
}
