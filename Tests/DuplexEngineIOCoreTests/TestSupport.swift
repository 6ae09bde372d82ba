import DuplexEngineIOCore
import Testing

/// Expects `operation` to throw an `EngineIOError` with `code`.
func expectCode(
    _ code: EngineIOError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ operation: () throws -> Void
) {
    do {
        try operation()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as EngineIOError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected EngineIOError, got \(error)", sourceLocation: sourceLocation)
    }
}
