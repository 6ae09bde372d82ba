#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resident memory and CPU time of processes, read from Linux's `/proc` and the C clocks.
enum ProcessStats {
    /// The resident set size of `pid` in bytes: `VmRSS` in `/proc/PID/status` (proc(5)).
    static func residentBytes(pid: Int32) throws -> Int {
        let status = try Self.contents(of: "/proc/\(pid)/status")
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            // "VmRSS:     12345 kB"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 3, fields[2] == "kB", let kilobytes = Int(fields[1]) {
                return kilobytes * 1024
            }
        }
        throw BenchFailure("no VmRSS line in /proc/\(pid)/status")
    }

    /// User plus system CPU time of `pid` in nanoseconds: fields 14 and 15 of `/proc/PID/stat`
    /// (proc(5)), counted in clock ticks.
    static func cpuNanoseconds(pid: Int32) throws -> UInt64 {
        let stat = try Self.contents(of: "/proc/\(pid)/stat")
        // Field 2, the command name, is in parentheses and may contain spaces: count after its ")".
        guard let commandEnd = stat.lastIndex(of: ")") else {
            throw BenchFailure("unexpected /proc/\(pid)/stat: \(stat)")
        }
        let fields = stat[stat.index(after: commandEnd)...].split(separator: " ")
        // fields[0] is field 3 (state), so field N is fields[N - 3].
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else {
            throw BenchFailure("unexpected /proc/\(pid)/stat: \(stat)")
        }
        let ticksPerSecond = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        return (user + system) * 1_000_000_000 / ticksPerSecond
    }

    /// CPU time used so far by this process, all threads.
    static func ownCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Monotonic time in nanoseconds.
    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private static func contents(of path: String) throws -> String {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw BenchFailure("cannot open \(path): errno \(errno)")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count >= 0 else {
                throw BenchFailure("cannot read \(path): errno \(errno)")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
