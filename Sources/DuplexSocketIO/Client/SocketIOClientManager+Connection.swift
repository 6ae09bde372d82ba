import DuplexEngineIO
import DuplexSocketIOCore
import Logging
import Synchronization

/// How one Engine.IO session ended.
enum ClientSessionOutcome: Sendable {
    /// The session never opened.
    case openFailed(SocketIOError)
    /// The session opened and later ended for `reason`.
    case ended(SocketIOClientDisconnectReason)
}

extension SocketIOClientManager {
    /// Starts the reconnection loop unless it runs.
    func startLoopIfNeeded(in state: inout ClientManagerState) {
        guard state.loopStage == .stopped else { return }
        state.loopStage = .opening
        state.loopTask = Task { await self.runLoop() }
    }

    /// Opens sessions while a namespace wants one: the first at once, then, after a lost
    /// connection or a failed attempt, with backoff (socket.io-client `Manager.reconnect`).
    func runLoop() async {
        var attempts = 0
        var isReconnecting = false
        while true {
            if isReconnecting {
                let maximum = configuration.reconnectionAttempts
                let gaveUp = mutate { state, effects -> Bool in
                    guard let maximum, attempts >= maximum else { return false }
                    emitManagerEvent(.reconnectFailed, in: &state, into: &effects)
                    giveUp(
                        SocketIOError(.connectFailed, "reconnection failed after \(attempts) attempts"),
                        in: &state,
                        into: &effects
                    )
                    return true
                }
                if gaveUp { return }
                let delay = configuration.backoff.delay(attempt: attempts)
                attempts += 1
                logger.debug("reconnecting", metadata: ["sio.attempt": "\(attempts)", "sio.delay": "\(delay)"])
                try? await Task.sleep(for: delay)
                let attempt = attempts
                let proceeds = mutate { state, effects -> Bool in
                    guard !Task.isCancelled, state.wantsSession else { return false }
                    emitManagerEvent(.reconnectAttempt(attempt), in: &state, into: &effects)
                    metrics.reconnectAttempted()
                    return true
                }
                if !proceeds {
                    if stopLoopIfUnwanted() { return }
                    continue
                }
            } else if stopLoopIfUnwanted() {
                return
            }

            let reconnections = isReconnecting ? attempts : nil
            let outcome = await runSession(onOpen: { state, effects in
                if let reconnections { self.emitManagerEvent(.reconnect(reconnections), in: &state, into: &effects) }
            })
            switch outcome {
            case .openFailed(let error):
                let gaveUp = mutate { state, effects -> Bool in
                    emitManagerEvent(.error(error), in: &state, into: &effects)
                    for (namespace, namespaceState) in state.namespaces where namespaceState.isActive {
                        effects.call(state.namespaces[namespace]?.connectErrorHandlers.take() ?? [], with: error)
                    }
                    // python-socketio `connect(retry=False)`: the first failure is reported.
                    let retries =
                        !Task.isCancelled && configuration.reconnection
                        && (isReconnecting || configuration.retriesInitialConnection)
                    if !retries { giveUp(error, in: &state, into: &effects) }
                    return !retries
                }
                if gaveUp { return }
                isReconnecting = true
            case .ended(let reason):
                attempts = 0
                if Task.isCancelled || (reason.allowsReconnection && !configuration.reconnection) {
                    mutate { state, effects in
                        giveUp(
                            SocketIOError(.disconnected, "the connection ended (\(reason))"),
                            in: &state,
                            into: &effects
                        )
                    }
                    return
                }
                // After a deliberate end, sockets that connect meanwhile get a new session at
                // once; after a lost connection, the next one comes with backoff.
                isReconnecting = reason.allowsReconnection
            }
        }
    }

    /// Ends the loop if no namespace wants a session; whether it did.
    private func stopLoopIfUnwanted() -> Bool {
        state.withLock { state in
            guard !state.wantsSession || Task.isCancelled else { return false }
            state.loopStage = .stopped
            state.loopTask = nil
            return true
        }
    }

    /// Stops for good: every wanted namespace becomes idle, waiting connects and outstanding
    /// acknowledgements fail with `error`, and the loop ends.
    private func giveUp(_ error: SocketIOError, in state: inout ClientManagerState, into effects: inout ClientEffects) {
        for namespace in state.namespaces.keys {
            guard var namespaceState = state.namespaces[namespace], namespaceState.isActive else { continue }
            namespaceState.phase = .idle
            namespaceState.resolveConnectWaiters(.failure(error), into: &effects)
            namespaceState.abandonOutstanding(error, dropsBuffer: false, into: &effects)
            state.namespaces[namespace] = namespaceState
        }
        state.loopStage = .stopped
        state.loopTask = nil
        logger.debug("connection abandoned", metadata: ["sio.error": "\(error.code)"])
    }

    // MARK: - One session

    /// Opens an Engine.IO session and runs it until it ends.
    private func runSession(
        onOpen: @escaping @Sendable (inout ClientManagerState, inout ClientEffects) -> Void
    ) async -> ClientSessionOutcome {
        do {
            return try await EngineIOClient.connect(
                to: engineIOURL,
                configuration: configuration.engineIOSessionConfiguration,
                eventLoopGroup: eventLoopGroup,
                logger: logger
            ) { engine in
                .ended(await self.run(engine, onOpen: onOpen))
            }
        } catch let error as EngineIOError {
            logger.debug("could not open the connection", metadata: ["eio.error": "\(error.code)"])
            let code: SocketIOError.Code = error.code == .cancelled ? .cancelled : .connectFailed
            return .openFailed(SocketIOError(code, "could not connect to \(url.origin): \(error.message)", cause: error))
        } catch {
            return .openFailed(SocketIOError(.internalError, "could not connect: \(error)", cause: error))
        }
    }

    /// Runs an open session: a writer (outgoing packets, in order), a connector (CONNECT
    /// packets, after their auth is resolved), a transport watcher, and the reader on this task.
    private func run(
        _ engine: EngineIOClientSocket,
        onOpen: @escaping @Sendable (inout ClientManagerState, inout ClientEffects) -> Void
    ) async -> SocketIOClientDisconnectReason {
        let (outbound, outboundContinuation) = AsyncStream.makeStream(of: EngineIOPacketData.self)
        let (connectRequests, connectRequestsContinuation) = AsyncStream.makeStream(of: String.self)
        let generation = mutate { state, effects -> UInt64 in
            state.generation &+= 1
            state.session = ClientManagerState.Session(
                generation: state.generation,
                engineSessionID: engine.id,
                transport: engine.transport,
                outbound: outboundContinuation,
                connectRequests: connectRequestsContinuation
            )
            state.loopStage = .inSession
            onOpen(&state, &effects)
            emitManagerEvent(.open(engineSessionID: engine.id, transport: engine.transport), in: &state, into: &effects)
            for (namespace, namespaceState) in state.namespaces where namespaceState.isActive {
                activate(namespace, in: &state)
            }
            if !state.wantsSession { state.closeSession(reason: .ioClientDisconnect) }
            return state.generation
        }
        logger.debug("connection open", metadata: ["eio.sid": "\(engine.id)", "eio.transport": "\(engine.transport)"])

        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in outbound {
                    do { try await engine.send(message) } catch { break }
                }
                await engine.close()
            }
            group.addTask {
                for await namespace in connectRequests {
                    await self.sendConnect(namespace, generation: generation)
                }
            }
            group.addTask {
                for await transport in engine.transportUpdates {
                    self.transportChanged(transport, generation: generation)
                }
            }
            let readerReason = await read(engine, generation: generation)
            let reason = mutate { state, effects in
                sessionEnded(readerReason, in: &state, into: &effects)
            }
            logger.debug("connection closed", metadata: ["sio.reason": "\(reason)"])
            group.cancelAll()
            return reason
        }
    }

    /// Reads the session's messages until it ends; the reason it ended.
    private func read(_ engine: EngineIOClientSocket, generation: UInt64) async -> SocketIOClientDisconnectReason {
        var decoder = SocketIOPacketDecoder(
            protocolVersion: .v5,
            maxAttachments: configuration.maxAttachments,
            maxDepth: configuration.maxDepth
        )
        do {
            for try await message in engine.messages {
                let output: SocketIOPacketDecoder.Output
                do {
                    switch message {
                    case .text(let text): output = try decoder.textReceived(text)
                    case .binary(let bytes): output = try decoder.binaryReceived(bytes)
                    }
                } catch {
                    // socket.io-protocol v5: a packet that cannot be decoded closes the connection.
                    logger.debug("invalid packet, closing", metadata: ["sio.error": "\(error)"])
                    return .parseError
                }
                guard case .packet(let packet) = output else { continue }
                logger.trace("< \(packet)")
                guard received(packet, generation: generation) else { return .parseError }
            }
            return .transportClose
        } catch {
            switch error.code {
            case .pingTimeout: return .pingTimeout
            case .transportClosed, .sessionClosed: return .transportClose
            case .invalidPacket, .invalidPayload, .payloadTooLarge: return .parseError
            case .cancelled: return .ioClientDisconnect
            default: return .transportError
            }
        }
    }

    /// The session is over: connected namespaces lose their connection (and rejoin later if
    /// reconnection applies). Returns the reason they got: the client's own reason when it
    /// closed the session, else the reader's.
    private func sessionEnded(
        _ readerReason: SocketIOClientDisconnectReason,
        in state: inout ClientManagerState,
        into effects: inout ClientEffects
    ) -> SocketIOClientDisconnectReason {
        let reason = state.session?.closeReason ?? readerReason
        state.closeSession(reason: reason)
        state.session = nil
        state.loopStage = .opening
        // Namespaces still active after a deliberate end were joined while the session was
        // closing: they keep waiting for the next session.
        let keepsNamespaces = !reason.allowsReconnection || configuration.reconnection
        for namespace in state.namespaces.keys {
            guard var namespaceState = state.namespaces[namespace], namespaceState.isActive else { continue }
            let wasConnected = namespaceState.isConnected
            namespaceState.phase = .connecting(requestedIn: nil)
            namespaceState.connectionLost(retries: configuration.retries, into: &effects)
            if wasConnected {
                metrics.disconnected(reason)
                effects.call(namespaceState.disconnectHandlers.take(), with: reason)
            }
            state.namespaces[namespace] = namespaceState
            if !keepsNamespaces {
                leave(namespace, in: &state, reason: reason, sendsDisconnect: false, into: &effects)
            }
        }
        emitManagerEvent(.close(reason), in: &state, into: &effects)
        return reason
    }

    /// Resolves the namespace's auth and sends CONNECT, unless the namespace or the session
    /// changed meanwhile.
    private func sendConnect(_ namespace: String, generation: UInt64) async {
        guard let auth = state.withLock({ $0.namespaces[namespace]?.auth }) else { return }
        let authObject = await auth.resolve()
        mutate { state, _ in
            guard let namespaceState = state.namespaces[namespace],
                namespaceState.phase == .connecting(requestedIn: generation),
                state.session?.generation == generation
            else { return }
            // socket.io-client `_sendConnectPacket`: `{pid, offset}` first, then the auth
            // (protocol.md 4.2.8).
            var payload: JSONObject? = authObject
            if let pid = namespaceState.pid {
                var merged: JSONObject = ["pid": .string(pid)]
                if let offset = namespaceState.offset { merged["offset"] = .string(offset) }
                for member in authObject ?? [:] { merged[member.key] = member.value }
                payload = merged
            }
            _ = state.write(.connect(namespace: namespace, data: payload.map(JSONValue.object)), encoder: encoder)
            logger.trace("> CONNECT \(namespace)")
        }
    }

    private func transportChanged(_ transport: EngineIOTransport, generation: UInt64) {
        mutate { state, effects in
            guard state.session?.generation == generation, state.session?.transport != transport else { return }
            state.session?.transport = transport
            emitManagerEvent(.transport(transport), in: &state, into: &effects)
        }
    }
}
