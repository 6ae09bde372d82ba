import Metrics
import Synchronization

/// Counters that share a label and fixed dimensions and differ in a few more dimensions whose
/// values are only known when something happens (a close code, an HTTP status, an error code).
///
/// Each counter is created on first use and reused after that, so the hot path never allocates
/// one per event. The values callers pass are bounded by construction (see `Docs/Metrics.md`);
/// as a second line of defence, past ``maxSeries`` distinct value sets every new one is counted
/// under `other`, so a bug can never grow the number of series without bound.
package final class CounterFamily: Sendable {
    /// The most distinct series one family creates before folding new ones into `other`.
    package static let maxSeries = 256
    /// The value that stands for anything out of range or past ``maxSeries``.
    package static let other = "other"

    private let label: String
    private let fixedDimensions: [(String, String)]
    private let variableNames: [String]
    private let factory: any MetricsFactory
    private let counters = Mutex<[[String]: Counter]>([:])

    /// Creates a family; no counter exists until ``counter(_:)`` asks for one.
    ///
    /// - Parameters:
    ///   - fixedDimensions: dimensions shared by every counter (e.g. `role`), first in order.
    ///   - variableDimensions: the names of the dimensions whose values ``counter(_:)`` takes.
    package init(label: String, fixedDimensions: [(String, String)], variableDimensions: [String], factory: any MetricsFactory) {
        self.label = label
        self.fixedDimensions = fixedDimensions
        self.variableNames = variableDimensions
        self.factory = factory
    }

    /// The counter for these values of the variable dimensions, in their declared order.
    package func counter(_ values: [String]) -> Counter {
        precondition(values.count == variableNames.count, "one value per variable dimension")
        return counters.withLock { counters in
            if let existing = counters[values] { return existing }
            let key = counters.count < Self.maxSeries ? values : values.map { _ in Self.other }
            if let existing = counters[key] { return existing }
            let counter = Counter(
                label: label,
                dimensions: fixedDimensions + zip(variableNames, key).map { ($0, $1) },
                factory: factory
            )
            counters[key] = counter
            return counter
        }
    }
}
