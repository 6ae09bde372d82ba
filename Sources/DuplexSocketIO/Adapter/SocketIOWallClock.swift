#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The wall clock, for connection state recovery snapshots (``SocketIORecoverySnapshot``),
/// whose times must stay meaningful across a process restart, unlike `NIODeadline`.
enum SocketIOWallClock {
    /// Unix time in milliseconds.
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
