import ArgumentParser
import Foundation
import HTTPTypes
import DuplexWebSocket
import DuplexWebSocketCore

/// The CLI's exit codes, by error category, so scripts can branch on them.
enum ExitStatus {
    static let normalClose: Int32 = 0
    static let unexpected: Int32 = 1
    static let usage: Int32 = 2
    static let connection: Int32 = 3
    static let handshake: Int32 = 4
    static let protocolViolation: Int32 = 5
    static let closed: Int32 = 6

    /// The exit code for a library error.
    static func code(for error: WebSocketError) -> Int32 {
        if error.code == .invalidURL { return usage }
        switch error.code.category {
        case .connection: return connection
        case .handshake: return handshake
        case .protocolViolation: return protocolViolation
        case .closed: return closed
        case .usage, .configuration: return usage
        default: return unexpected
        }
    }

    /// Prints the documented one-line error report to standard error and returns the exit code.
    static func report(_ error: WebSocketError) -> ExitCode {
        var line = "error: code=\(error.code) category=\(error.code.category)"
        if let status = error.response?.status.code { line += " status=\(status)" }
        line += " message=\(error.message)"
        if let cause = error.cause { line += " (cause: \(cause))" }
        printError(line)
        return ExitCode(code(for: error))
    }
}

/// Writes one line to standard error, unbuffered.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Writes one line to standard output, unbuffered (so a parent process sees it at once).
func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
