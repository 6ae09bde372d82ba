// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Vapor 4 integration: a separate package so that Vapor never enters the core package's
// dependency graph (DESIGN.md, "Framework integrations only translate").
let package = Package(
    name: "DuplexVapor",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DuplexVapor", targets: ["DuplexVapor"]),
        .executable(name: "eio-echo-vapor", targets: ["EIOEchoVapor"]),
    ],
    dependencies: [
        .package(name: "Duplex", path: "../.."),
        .package(name: "DuplexIntegrationTesting", path: "../DuplexIntegrationTesting"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "DuplexVapor",
            dependencies: [
                .product(name: "DuplexEngineIO", package: "Duplex"),
                .product(name: "DuplexWebSocket", package: "Duplex"),
                .product(name: "DuplexWebSocketCore", package: "Duplex"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
        // Example and interop peer: an Engine.IO echo server mounted in Vapor.
        .executableTarget(
            name: "EIOEchoVapor",
            dependencies: [
                "DuplexVapor",
                .product(name: "DuplexEngineIO", package: "Duplex"),
                .product(name: "DuplexIntegrationTesting", package: "DuplexIntegrationTesting"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DuplexVaporTests",
            dependencies: [
                "DuplexVapor",
                .product(name: "DuplexEngineIO", package: "Duplex"),
                .product(name: "DuplexIntegrationTesting", package: "DuplexIntegrationTesting"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
