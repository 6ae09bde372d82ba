/// Why a measurement could not be made: a server that misbehaved, a timeout, an unreadable
/// /proc file. The description is what the report prints.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
