import CLibFuzzer

/// Runs libFuzzer on `test` with the process's arguments; call it from the harness's entry
/// point.
///
/// Debug builds of SwiftPM executables rename `main` to `<Module>_main` (so tests can link the
/// module) and alias `main` to that symbol at link time; with `-parse-as-library` no such symbol
/// exists, so each harness defines it and hands over to libFuzzer's driver. Release builds keep
/// libFuzzer's own `main` and never call this.
public func runLibFuzzer(
    _ argc: CInt,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, test)
}
