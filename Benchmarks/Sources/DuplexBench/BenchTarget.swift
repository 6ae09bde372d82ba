import ArgumentParser

/// A running echo server to measure: `NAME=HOST:PORT:PID`, as `scripts/bench` passes it.
struct BenchTarget: Sendable, ExpressibleByArgument {
    /// `duplex`, `nio` or `python` name the columns the ratios are computed from.
    var name: String
    var host: String
    var port: Int
    /// The server process, whose memory and CPU time are read from /proc.
    var pid: Int32

    init?(argument: String) {
        guard let equals = argument.firstIndex(of: "=") else { return nil }
        let fields = argument[argument.index(after: equals)...].split(separator: ":")
        guard fields.count == 3, let port = Int(fields[1]), let pid = Int32(fields[2]) else { return nil }
        self.name = String(argument[..<equals])
        self.host = String(fields[0])
        self.port = port
        self.pid = pid
    }

    /// The ratio columns' short name.
    var shortTitle: String {
        switch self.name {
        case "nio": "NIO"
        case "python": "Python"
        default: self.title
        }
    }

    /// The column title.
    var title: String {
        switch self.name {
        case "duplex": "Duplex"
        case "nio": "bare NIO"
        case "python": "Python websockets"
        default: self.name
        }
    }
}
