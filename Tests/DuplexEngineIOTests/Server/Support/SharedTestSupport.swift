// The helpers shared by the test targets (bounded waits), visible in every file of this target.
@_exported import DuplexTestSupport
