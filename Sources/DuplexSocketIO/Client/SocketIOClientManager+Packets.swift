import DuplexSocketIOCore
import Logging
import Synchronization

extension SocketIOClientManager {
    // MARK: - Receiving

    /// Handles a packet of session `generation`; false when it breaks the protocol and the
    /// connection must close ("parse error").
    func received(_ packet: SocketIOPacket, generation: UInt64) -> Bool {
        mutate { state, effects in
            guard state.session?.generation == generation else { return true }
            let namespace = packet.namespace
            guard var namespaceState = state.namespaces[namespace] else {
                // socket.io-client `Manager.ondecoded` routes by namespace; unknown ones are ignored.
                logger.debug("packet for a namespace without socket", metadata: ["sio.namespace": "\(namespace)"])
                return true
            }
            switch packet.type {
            case .connect:
                // socket.io-protocol v5, "CONNECT": the server answers `{"sid": …}` (and `pid` with
                // connection state recovery, protocol.md 4.2.8).
                guard let payload = packet.data?.objectValue, let socketID = payload["sid"]?.stringValue else {
                    return false
                }
                guard case .connecting = namespaceState.phase else { return true }
                let pid = payload["pid"]?.stringValue
                // socket.io-client `onconnect`: `recovered = pid && this._pid === pid`.
                namespaceState.recovered = pid != nil && pid == namespaceState.pid
                if pid != namespaceState.pid { namespaceState.offset = nil }
                namespaceState.pid = pid
                namespaceState.phase = .connected(socketID: socketID)
                state.namespaces[namespace] = namespaceState
                metrics.connectionOpened()
                logger.debug(
                    "namespace connected",
                    metadata: ["sio.namespace": "\(namespace)", "sio.socket_id": "\(socketID)"]
                )
                // socket.io-client `onconnect`: buffered emits go out, then `connect`, then the queue.
                // Events received before the reply are delivered after `connect` (the JavaScript
                // client delivers them before it), so handlers see the connection first.
                flushBuffer(namespace, in: &state, into: &effects)
                effects.call(state.namespaces[namespace]?.connectHandlers.take() ?? [], with: ())
                let early = state.namespaces[namespace]?.receiveBuffer ?? []
                state.namespaces[namespace]?.receiveBuffer.removeAll()
                for event in early { deliver(event, in: &state, into: &effects) }
                state.namespaces[namespace]?.resolveConnectWaiters(.success(()), into: &effects)
                drainQueue(namespace, in: &state, into: &effects)

            case .connectError:
                guard case .connecting = namespaceState.phase else { return true }
                let error = Self.refusal(packet.data, namespace: namespace)
                metrics.connectionRefused(error.code == .namespaceNotFound ? .invalidNamespace : .middleware)
                namespaceState.phase = .idle
                namespaceState.receiveBuffer.removeAll()
                effects.call(namespaceState.connectErrorHandlers.take(), with: error)
                namespaceState.resolveConnectWaiters(.failure(error), into: &effects)
                state.namespaces[namespace] = namespaceState
                logger.debug("namespace refused", metadata: ["sio.namespace": "\(namespace)"])
                if !state.wantsSession { state.closeSession(reason: .ioClientDisconnect) }

            case .disconnect:
                leave(namespace, in: &state, reason: .ioServerDisconnect, sendsDisconnect: false, into: &effects)

            case .event, .binaryEvent:
                guard namespaceState.isActive else { return true }
                guard let elements = packet.data?.arrayValue, let first = elements.first else { return false }
                let name = first.stringValue ?? first.jsonString
                let arguments = Array(elements.dropFirst())
                // socket.io-client `emitEvent`: with a pid, a trailing string of an event without
                // ack id is the offset of the last packet received (protocol.md 4.2.8).
                if namespaceState.pid != nil, packet.ackID == nil, let offset = arguments.last?.stringValue {
                    namespaceState.offset = offset
                }
                let acknowledgement = packet.ackID.map { ackID in
                    SocketIOClientAcknowledgement(id: ackID) { [self] arguments in
                        sendAck(arguments, id: ackID, namespace: namespace, generation: generation)
                    }
                }
                let event = SocketIOClientEvent(
                    namespace: namespace,
                    name: name,
                    arguments: arguments,
                    acknowledgement: acknowledgement
                )
                if namespaceState.isConnected {
                    state.namespaces[namespace] = namespaceState
                    deliver(event, in: &state, into: &effects)
                } else if namespaceState.receiveBuffer.count < configuration.maxBufferedEmits {
                    namespaceState.receiveBuffer.append(event)
                    state.namespaces[namespace] = namespaceState
                }

            case .ack, .binaryAck:
                guard let ackID = packet.ackID else { return false }
                let arguments = packet.arguments
                if let pending = namespaceState.pendingAcks.removeValue(forKey: ackID) {
                    metrics.ackReceived()
                    pending.timer?.cancel()
                    effects.append { pending.completion(.success(arguments)) }
                    state.namespaces[namespace] = namespaceState
                } else if namespaceState.retryQueue.first?.ackID == ackID {
                    let head = namespaceState.retryQueue.removeFirst()
                    metrics.ackReceived()
                    head.timer?.cancel()
                    if let completion = head.completion { effects.append { completion(.success(arguments)) } }
                    state.namespaces[namespace] = namespaceState
                    drainQueue(namespace, in: &state, into: &effects)
                } else {
                    logger.debug("acknowledgement with unknown id", metadata: ["sio.namespace": "\(namespace)"])
                }
            }
            return true
        }
    }

    /// Calls the `onAny` handlers, then the event's own.
    private func deliver(_ event: SocketIOClientEvent, in state: inout ClientManagerState, into effects: inout ClientEffects) {
        guard var namespaceState = state.namespaces[event.namespace] else { return }
        metrics.eventReceived()
        effects.call(namespaceState.anyHandlers.take(), with: event)
        effects.call(namespaceState.eventHandlers[event.name]?.take() ?? [], with: event)
        state.namespaces[event.namespace] = namespaceState
    }

    /// The error for a CONNECT_ERROR payload: `{"message", "data"?}` (v5), or a bare string
    /// (python-socketio for unknown namespaces; protocol.md 4.2.5).
    static func refusal(_ payload: JSONValue?, namespace: String) -> SocketIOError {
        let message = payload?["message"]?.stringValue ?? payload?.stringValue ?? "connection refused"
        // protocol.md 4.2.5: the reference server refuses unknown namespaces with "Invalid namespace".
        let code: SocketIOError.Code = message == "Invalid namespace" ? .namespaceNotFound : .namespaceRefused
        return SocketIOError(code, message, data: payload)
    }

    private func sendAck(_ arguments: [JSONValue], id: UInt64, namespace: String, generation: UInt64) {
        state.withLock { state in
            guard state.session?.generation == generation, state.namespaces[namespace]?.isConnected == true else {
                return
            }
            _ = state.write(.ack(arguments, namespace: namespace, ackID: id), encoder: encoder)
        }
    }

    // MARK: - Emitting

    /// Emits an event, or buffers it while the namespace is not connected; `completion` (when
    /// given) receives the acknowledgement. Returns the error that prevented the emit.
    func emit(
        _ name: String,
        _ arguments: [JSONValue],
        namespace: String,
        options: SocketIOClientEmitOptions,
        completion: ClientNamespaceState.AckCompletion?
    ) -> SocketIOError? {
        // socket.io-client `emit`: reserved names are refused (socket.io-parser RESERVED_EVENTS).
        guard !SocketIOPacket.isReservedEventName(name) else {
            return SocketIOError(.encodingFailed, "\"\(name)\" is a reserved event name")
        }
        return mutate { state, effects -> SocketIOError? in
            guard var namespaceState = state.namespaces[namespace] else {
                return SocketIOError(.notConnected, "no socket for namespace \(namespace)")
            }
            let timeout = options.timeout ?? configuration.ackTimeout
            let heldCount = namespaceState.sendBuffer.count + namespaceState.retryQueue.count
            // socket.io-client `emit`: with `retries`, every non-volatile emit goes through the queue.
            if configuration.retries > 0 && !options.isVolatile {
                guard heldCount < configuration.maxBufferedEmits else { return bufferFull(namespace) }
                let queued = ClientNamespaceState.QueuedEmit(
                    ackID: namespaceState.makeAckID(),
                    name: name,
                    arguments: arguments,
                    timeout: timeout,
                    completion: completion
                )
                namespaceState.retryQueue.append(queued)
                state.namespaces[namespace] = namespaceState
                drainQueue(namespace, in: &state, into: &effects)
                return nil
            }
            let ackID = completion.map { _ in namespaceState.makeAckID() }
            let packet = SocketIOPacket.event(name, arguments, namespace: namespace, ackID: ackID)
            let isSent: Bool
            if namespaceState.isConnected && state.session != nil {
                isSent = true
            } else if options.isVolatile {
                // socket.io-client: a volatile packet is discarded when it cannot be sent now.
                if let completion {
                    let error = SocketIOError(.notConnected, "volatile emit dropped: not connected")
                    effects.append { completion(.failure(error)) }
                }
                return nil
            } else {
                guard heldCount < configuration.maxBufferedEmits else { return bufferFull(namespace) }
                namespaceState.sendBuffer.append(packet)
                isSent = false
            }
            if let ackID, let completion {
                let timer = timeout.map { startAckTimer(after: $0, id: ackID, tryCount: nil, namespace: namespace) }
                namespaceState.pendingAcks[ackID] = .init(completion: completion, timer: timer, isSent: isSent)
            }
            state.namespaces[namespace] = namespaceState
            if isSent { writeEvent(packet, in: &state, into: &effects) }
            return nil
        }
    }

    private func bufferFull(_ namespace: String) -> SocketIOError {
        SocketIOError(
            .notConnected,
            "\(configuration.maxBufferedEmits) emits are already waiting for namespace \(namespace) to connect"
        )
    }

    /// Writes an EVENT and tells the `onAnyOutgoing` handlers.
    private func writeEvent(_ packet: SocketIOPacket, in state: inout ClientManagerState, into effects: inout ClientEffects) {
        guard state.write(packet, encoder: encoder) else { return }
        metrics.eventSent()
        guard let name = packet.eventName else { return }
        let handlers = state.namespaces[packet.namespace]?.anyOutgoingHandlers.take() ?? []
        if !handlers.isEmpty {
            let event = SocketIOClientEvent(
                namespace: packet.namespace,
                name: name,
                arguments: packet.arguments,
                acknowledgement: nil
            )
            effects.call(handlers, with: event)
        }
    }

    /// Sends the emits buffered while the namespace was not connected, in order.
    private func flushBuffer(_ namespace: String, in state: inout ClientManagerState, into effects: inout ClientEffects) {
        guard let buffered = state.namespaces[namespace]?.sendBuffer, !buffered.isEmpty else { return }
        state.namespaces[namespace]?.sendBuffer.removeAll()
        for packet in buffered {
            if let ackID = packet.ackID { state.namespaces[namespace]?.pendingAcks[ackID]?.isSent = true }
            writeEvent(packet, in: &state, into: &effects)
        }
    }

    /// Sends the head of the retry queue unless it is in flight (socket.io-client `_drainQueue`).
    private func drainQueue(_ namespace: String, in state: inout ClientManagerState, into effects: inout ClientEffects) {
        guard state.session != nil, var namespaceState = state.namespaces[namespace], namespaceState.isConnected,
            var head = namespaceState.retryQueue.first, !head.isPending
        else { return }
        head.isPending = true
        head.tryCount += 1
        head.timer = head.timeout.map {
            startAckTimer(after: $0, id: head.ackID, tryCount: head.tryCount, namespace: namespace)
        }
        namespaceState.retryQueue[0] = head
        state.namespaces[namespace] = namespaceState
        // Every attempt carries the same ack id, so a late reply to an earlier attempt counts.
        writeEvent(
            .event(head.name, head.arguments, namespace: namespace, ackID: head.ackID),
            in: &state,
            into: &effects
        )
    }

    /// Starts the timer of an acknowledgement (`tryCount` set for retry-queue attempts).
    private func startAckTimer(after timeout: Duration, id: UInt64, tryCount: Int?, namespace: String) -> Task<Void, Never> {
        Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            self.ackTimerFired(id: id, tryCount: tryCount, namespace: namespace, timeout: timeout)
        }
    }

    private func ackTimerFired(id: UInt64, tryCount: Int?, namespace: String, timeout: Duration) {
        mutate { state, effects in
            guard var namespaceState = state.namespaces[namespace] else { return }
            let error = SocketIOError(.ackTimedOut, "no acknowledgement within \(timeout)")
            if let tryCount {
                guard var head = namespaceState.retryQueue.first, head.ackID == id, head.tryCount == tryCount,
                    head.isPending
                else { return }
                head.isPending = false
                head.timer = nil
                metrics.ackTimedOut()
                if tryCount > configuration.retries {
                    namespaceState.retryQueue.removeFirst()
                    if let completion = head.completion { effects.append { completion(.failure(error)) } }
                } else {
                    namespaceState.retryQueue[0] = head
                }
                state.namespaces[namespace] = namespaceState
                drainQueue(namespace, in: &state, into: &effects)
            } else if let pending = namespaceState.pendingAcks.removeValue(forKey: id) {
                metrics.ackTimedOut()
                // socket.io-client `_registerAckCallback`: a timed-out emit still buffered is dropped.
                if !pending.isSent { namespaceState.sendBuffer.removeAll { $0.ackID == id } }
                state.namespaces[namespace] = namespaceState
                effects.append { pending.completion(.failure(error)) }
            }
        }
    }
}
