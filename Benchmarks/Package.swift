// swift-tools-version:6.1
// The WebSocket and Socket.IO benchmarks: a separate package so that the library never resolves its
// dependencies. `scripts/bench` builds it and drives it; see `duplex-bench --help`.
import PackageDescription

let package = Package(
    name: "DuplexBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "duplex-bench", targets: ["DuplexBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // The bare SwiftNIO echo server (the floor) and the load generator that measures every server.
        .executableTarget(
            name: "DuplexBench",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
    ]
)
