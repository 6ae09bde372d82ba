/// A deployment check that did not see what the protocol requires; the description says what
/// was expected and what came.
public struct DeploymentCheckFailure: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}

/// Throws ``DeploymentCheckFailure`` with `message` unless `condition` holds.
func check(_ condition: Bool, _ message: @autoclosure () -> String) throws(DeploymentCheckFailure) {
    if !condition { throw DeploymentCheckFailure(message()) }
}
