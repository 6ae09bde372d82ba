import DuplexSocketIOCore
import NIOCore
import Testing

/// Connection state recovery bookkeeping (protocol.md 4.2.8).
@Suite("SocketIOSessionRecoveryStore")
struct SocketIOSessionRecoveryStoreTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    @Test("4.2.8: each broadcast event gets an increasing offset as its last element")
    func offsetsAppended() {
        var store = SocketIOSessionRecoveryStore(maxDisconnectionDuration: .seconds(120), offsetPrefix: "p-")
        let first = store.record(eventData: ["foo"], rooms: [], except: [], now: start)
        let second = store.record(eventData: ["foo", 1], rooms: [], except: [], now: start)
        #expect(first.count == 2)
        #expect(second.count == 3)
        #expect(first.last?.stringValue == "p-1")
        #expect(second.last?.stringValue == "p-2")
    }

    @Test("4.2.8: a session restored within maxDisconnectionDuration gets the packets after its offset, filtered by rooms")
    func restoreReplaysMissedPackets() throws {
        var store = SocketIOSessionRecoveryStore(maxDisconnectionDuration: .seconds(120), offsetPrefix: "")
        let seen = store.record(eventData: ["a"], rooms: [], except: [], now: start)
        store.persist(SocketIOPersistedSession(sid: "s1", pid: "p1", rooms: ["s1", "r1"], data: ["k": 1]), now: start)
        let toRoom = store.record(eventData: ["b"], rooms: ["r1"], except: [], now: start)
        _ = store.record(eventData: ["c"], rooms: ["r2"], except: [], now: start)
        _ = store.record(eventData: ["d"], rooms: [], except: ["r1"], now: start)
        let toAll = store.record(eventData: ["e"], rooms: [], except: [], now: start)
        let offset = try #require(seen.last?.stringValue)
        let result = store.restore(pid: "p1", offset: offset, now: start + .seconds(10))
        let restored = try #require(result)
        #expect(restored.session.sid == "s1")
        #expect(restored.session.data == ["k": 1])
        #expect(restored.missed == [.array(toRoom), .array(toAll)])
        // A session is restored once.
        let again = store.restore(pid: "p1", offset: offset, now: start + .seconds(10))
        #expect(again == nil)
    }

    @Test("4.2.8: nothing is restored after maxDisconnectionDuration, or with an unknown offset or pid")
    func restoreFailures() throws {
        var store = SocketIOSessionRecoveryStore(maxDisconnectionDuration: .seconds(120), offsetPrefix: "")
        let seen = store.record(eventData: ["a"], rooms: [], except: [], now: start)
        let offset = try #require(seen.last?.stringValue)
        let session = SocketIOPersistedSession(sid: "s1", pid: "p1", rooms: [], data: .null)
        store.persist(session, now: start)
        let unknownOffset = store.restore(pid: "p1", offset: "unknown", now: start)
        #expect(unknownOffset == nil)
        store.persist(session, now: start)
        let unknownPid = store.restore(pid: "p2", offset: offset, now: start)
        #expect(unknownPid == nil)
        let expired = store.restore(pid: "p1", offset: offset, now: start + .seconds(121))
        #expect(expired == nil)
        #expect(store.packetCount == 0)
    }
}
