// swift-tools-version:6.1
// libFuzzer harnesses for every Duplex parser (DESIGN.md, "Tests, in layers" item 5).
//
// A separate package so the sanitizer build never touches the main package's graph. Build and
// run it through `scripts/fuzz`, which passes `-sanitize=fuzzer,address -parse-as-library`.
import PackageDescription

/// One libFuzzer executable per parser; the name after `Fuzz` is the target name `scripts/fuzz`
/// takes and the directory of its seed corpus (`Corpus/<name>/`).
let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
    ("FrameParser", [.product(name: "DuplexWebSocketCore", package: "Duplex")]),
    ("WebSocketConnection", [.product(name: "DuplexWebSocketCore", package: "Duplex")]),
    ("ServerHandshake", [.product(name: "DuplexWebSocketCore", package: "Duplex")]),
    ("ClientHandshake", [.product(name: "DuplexWebSocketCore", package: "Duplex")]),
    ("ExtensionNegotiation", [.product(name: "DuplexWebSocketCore", package: "Duplex")]),
    ("UTF8Validator", [.product(name: "DuplexWebSocketCore", package: "Duplex")]),
    ("Inflate", [.product(name: "DuplexWebSocketCore", package: "Duplex")]),
    ("EngineIOPacket", [.product(name: "DuplexEngineIOCore", package: "Duplex")]),
    ("EngineIOPayload", [.product(name: "DuplexEngineIOCore", package: "Duplex")]),
    ("EngineIORequest", [.product(name: "DuplexEngineIOCore", package: "Duplex")]),
    ("EngineIOServerSession", [.product(name: "DuplexEngineIOCore", package: "Duplex")]),
    ("SocketIOPacket", [.product(name: "DuplexSocketIOCore", package: "Duplex"), "FuzzJSONSupport"]),
    ("JSON", [.product(name: "DuplexSocketIOCore", package: "Duplex"), "FuzzJSONSupport"]),
]

let package = Package(
    name: "DuplexFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Duplex", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // libFuzzer's driver entry point (declaration only).
        .target(name: "CLibFuzzer"),
        // Input decoding, the oracle's assertions and the entry point, shared by every harness.
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
        // The number equivalences of the JSON round-trip oracles.
        .target(
            name: "FuzzJSONSupport",
            dependencies: [.product(name: "DuplexSocketIOCore", package: "Duplex")]
        ),
    ]
        + fuzzTargets.map { target in
            .executableTarget(
                name: "Fuzz" + target.name,
                dependencies: target.dependencies + [
                    "FuzzSupport",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "HTTPTypes", package: "swift-http-types"),
                ]
            )
        }
)
