import Foundation

/// The command line of the framework echo apps (`eio-echo-hummingbird`, `eio-echo-vapor`):
/// `[--host 127.0.0.1] [--port 5000] [--path /engine.io/]`, and the line the interop suite waits
/// for once the app listens.
public struct EchoAppCommandLine: Sendable {
    /// The address to bind. Default 127.0.0.1.
    public var host: String
    /// The port to bind (0: any free port). Default 5000.
    public var port: Int
    /// Where Engine.IO is mounted. Default `/engine.io/`.
    public var path: String

    /// Parses `arguments` (without the program name); prints the usage of `tool` and exits with
    /// status 2 on anything else.
    public static func parse(_ arguments: some Sequence<String>, tool: String) -> EchoAppCommandLine {
        let usage = "usage: \(tool) [--host 127.0.0.1] [--port 5000] [--path /engine.io/]"
        var options = ["--host": "127.0.0.1", "--port": "5000", "--path": "/engine.io/"]
        var arguments = arguments.makeIterator()
        while let name = arguments.next() {
            guard options[name] != nil, let value = arguments.next() else { fail(usage) }
            options[name] = value
        }
        guard let host = options["--host"], let port = options["--port"].flatMap(Int.init), let path = options["--path"] else {
            fail(usage)
        }
        return EchoAppCommandLine(host: host, port: port, path: path)
    }

    /// Prints `listening on http://HOST:PORT` as one unbuffered write: the interop suite reads it
    /// through a pipe.
    public func announceListening(port boundPort: Int?) {
        FileHandle.standardOutput.write(Data("listening on http://\(host):\(boundPort ?? port)\n".utf8))
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
