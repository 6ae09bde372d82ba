// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Hummingbird 2 integration: a separate package so that Hummingbird never enters the core
// package's dependency graph (DESIGN.md, "Framework integrations only translate").
let package = Package(
    name: "DuplexHummingbird",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DuplexHummingbird", targets: ["DuplexHummingbird"]),
        .executable(name: "eio-echo-hummingbird", targets: ["EIOEchoHummingbird"]),
    ],
    dependencies: [
        .package(name: "Duplex", path: "../.."),
        .package(name: "DuplexIntegrationTesting", path: "../DuplexIntegrationTesting"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "DuplexHummingbird",
            dependencies: [
                .product(name: "DuplexEngineIO", package: "Duplex"),
                .product(name: "DuplexWebSocket", package: "Duplex"),
                .product(name: "DuplexWebSocketCore", package: "Duplex"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
        // Example and interop peer: an Engine.IO echo server mounted in Hummingbird.
        .executableTarget(
            name: "EIOEchoHummingbird",
            dependencies: [
                "DuplexHummingbird",
                .product(name: "DuplexEngineIO", package: "Duplex"),
                .product(name: "DuplexIntegrationTesting", package: "DuplexIntegrationTesting"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DuplexHummingbirdTests",
            dependencies: [
                "DuplexHummingbird",
                .product(name: "DuplexEngineIO", package: "Duplex"),
                .product(name: "DuplexIntegrationTesting", package: "DuplexIntegrationTesting"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
