import DuplexSocketIOCore
import Foundation
import NIOCore
import Testing

/// Saving and restoring ``SocketIOSessionRecoveryStore`` across a server restart (protocol.md
/// 4.2.8), with explicit clocks: no sleeps.
@Suite("Socket.IO recovery snapshot: store save and restore")
struct SocketIORecoverySnapshotTests {
    private static let maximum = TimeAmount.seconds(60)
    /// Monotonic time of the first process and wall-clock time at that instant.
    private static let start = NIODeadline.uptimeNanoseconds(1_000 * 1_000_000_000)
    private static let startUnixTime: Int64 = 1_800_000_000_000

    /// A store with one packet to `room`, one to everybody, and the session of a socket in `room`.
    private static func populatedStore() -> SocketIOSessionRecoveryStore {
        var store = SocketIOSessionRecoveryStore(maxDisconnectionDuration: maximum, offsetPrefix: "a-")
        _ = store.record(eventData: ["e", 1], rooms: ["room"], except: [], now: start)
        _ = store.record(eventData: ["bytes", .binary(ByteBuffer(bytes: [0, 1, 255]))], rooms: [], except: ["x"], now: start)
        store.persist(
            SocketIOPersistedSession(sid: "s1", pid: "p1", rooms: ["s1", "room"], data: ["blob": .binary(ByteBuffer(bytes: [7]))]),
            now: start + .seconds(1)
        )
        return store
    }

    @Test("4.2.8 restart: times become wall-clock milliseconds; sessions and packets are kept in order")
    func snapshotConvertsTimes() throws {
        let store = Self.populatedStore()
        let state = store.snapshot(now: Self.start + .seconds(2), unixTime: Self.startUnixTime + 2000)
        #expect(state.offsetCounter == 2)
        #expect(state.packets.map(\.offset) == ["a-1", "a-2"])
        #expect(state.packets.map(\.time) == [Self.startUnixTime, Self.startUnixTime])
        #expect(state.packets[0].data == ["e", 1, "a-1"])
        #expect(state.packets[1].except == ["x"])
        #expect(state.sessions.map(\.session.pid) == ["p1"])
        #expect(state.sessions.map(\.disconnectedAt) == [Self.startUnixTime + 1000])
    }

    @Test("4.2.8 restart: the snapshot round-trips through JSONEncoder/JSONDecoder, binary values included")
    func codableRoundTrip() throws {
        let state = Self.populatedStore().snapshot(now: Self.start + .seconds(2), unixTime: Self.startUnixTime + 2000)
        let snapshot = SocketIORecoverySnapshot(
            takenAt: Self.startUnixTime + 2000, namespaces: ["/": state, "/chat": .init(offsetCounter: 7)])
        let encoded = try JSONEncoder().encode(snapshot)
        let decoded = try JSONDecoder().decode(SocketIORecoverySnapshot.self, from: encoded)
        #expect(decoded == snapshot)
        #expect(decoded.namespaces["/"]?.packets[1].data.arrayValue?[1] == .binary(ByteBuffer(bytes: [0, 1, 255])))
        #expect(decoded.sessionCount == 1)
        #expect(decoded.packetCount == 2)
    }

    @Test(
        "4.2.8 restart: a document of another format version, or with a payload that is not a packet, does not decode",
        arguments: [
            #"{"formatVersion":2,"takenAt":0,"namespaces":{}}"#,
            #"{"formatVersion":1,"takenAt":0,"namespaces":{"/":{"offsetCounter":0,"sessions":[],"packets":[{"offset":"a","time":0,"rooms":[],"except":[],"data":{"packet":"2[\"e\"]"}}]}}}"#,
            #"{"formatVersion":1,"takenAt":0,"namespaces":{"/":{"offsetCounter":0,"sessions":[],"packets":[{"offset":"a","time":0,"rooms":[],"except":[],"data":{"packet":"30[1"}}]}}}"#,
            #"{"formatVersion":1}"#,
        ]
    )
    func invalidDocumentsAreRejected(document: String) {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SocketIORecoverySnapshot.self, from: Data(document.utf8))
        }
    }

    /// The monotonic clock of the process that restores the snapshot (another origin).
    private static let restartNow = NIODeadline.uptimeNanoseconds(500 * 1_000_000_000)

    /// The store of the next process, restored from `state` at wall-clock `unixTime`.
    private static func restarted(
        from state: SocketIORecoverySnapshot.Namespace,
        offsetPrefix: String = "b-",
        unixTime: Int64
    ) -> SocketIOSessionRecoveryStore {
        SocketIOSessionRecoveryStore(
            maxDisconnectionDuration: maximum,
            offsetPrefix: offsetPrefix,
            restoring: state,
            now: restartNow,
            unixTime: unixTime
        )
    }

    /// How long the server was down (wall clock) → whether the session is still recovered.
    /// The client's offset was broadcast 2 s before the snapshot: it expires first.
    @Test(
        "4.2.8 restart: downtime counts against maxDisconnectionDuration",
        arguments: [
            (downtime: Int64(0), recovered: true),
            (downtime: Int64(58_000), recovered: true),
            (downtime: Int64(58_001), recovered: false),
            (downtime: Int64(3_600_000), recovered: false),
        ]
    )
    func downtimeCounts(downtime: Int64, recovered: Bool) throws {
        let state = Self.populatedStore().snapshot(now: Self.start + .seconds(2), unixTime: Self.startUnixTime + 2000)
        // The new process: another monotonic origin.
        let now = Self.restartNow
        var restored = Self.restarted(from: state, unixTime: Self.startUnixTime + 2000 + downtime)
        let result = restored.restore(pid: "p1", offset: "a-1", now: now)
        #expect((result != nil) == recovered)
        if recovered {
            // The packet after the offset, to everybody but room "x".
            #expect(result?.missed.count == 1)
            #expect(result?.session.rooms == ["s1", "room"])
        }
    }

    @Test("4.2.8 restart: a restored entry expires when it would have without the restart")
    func restoredEntriesKeepTheirAge() {
        let state = Self.populatedStore().snapshot(now: Self.start + .seconds(2), unixTime: Self.startUnixTime + 2000)
        let now = Self.restartNow
        // Restored 10 s after the snapshot: the packets are 12 s old, the session 11 s.
        var restored = Self.restarted(from: state, unixTime: Self.startUnixTime + 12_000)
        #expect(restored.packetCount == 2)
        #expect(restored.sessionCount == 1)
        restored.expire(now: now + .seconds(48) + .milliseconds(1))
        #expect(restored.packetCount == 0)
        #expect(restored.sessionCount == 1)
        restored.expire(now: now + .seconds(49) + .milliseconds(1))
        #expect(restored.sessionCount == 0)
    }

    @Test("4.2.8 restart: offsets issued after a restore continue the counter and never repeat an old one")
    func offsetsContinue() {
        var state = Self.populatedStore().snapshot(now: Self.start + .seconds(2), unixTime: Self.startUnixTime + 2000)
        // Even with a counter lower than the log's offsets (a hand-edited file).
        state.offsetCounter = 0
        let now = Self.restartNow
        var restored = Self.restarted(from: state, offsetPrefix: "a-", unixTime: Self.startUnixTime + 2000)
        let data = restored.record(eventData: ["e"], rooms: [], except: [], now: now)
        #expect(data.last == "a-3")
        #expect(restored.snapshot(now: now, unixTime: Self.startUnixTime + 2000).offsetCounter == 3)
    }

    @Test("4.2.8 restart: a snapshot leaves expired and recovered sessions out")
    func snapshotLeavesOutGoneSessions() {
        var store = Self.populatedStore()
        store.persist(SocketIOPersistedSession(sid: "s2", pid: "p2", rooms: ["s2"], data: .null), now: Self.start + .seconds(30))
        _ = store.restore(pid: "p2", offset: "a-1", now: Self.start + .seconds(31))
        // p1 disconnected at start + 1 s: expired 60 s later.
        let state = store.snapshot(now: Self.start + .seconds(61) + .milliseconds(1), unixTime: Self.startUnixTime)
        #expect(state.sessions.isEmpty)
        #expect(state.packets.isEmpty)
        #expect(state.offsetCounter == 2)
    }
}
