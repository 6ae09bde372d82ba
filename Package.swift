// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Duplex",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DuplexWebSocketCore", targets: ["DuplexWebSocketCore"]),
        .library(name: "DuplexWebSocket", targets: ["DuplexWebSocket"]),
        .library(name: "DuplexEngineIOCore", targets: ["DuplexEngineIOCore"]),
        .library(name: "DuplexSocketIOCore", targets: ["DuplexSocketIOCore"]),
        .library(name: "DuplexEngineIO", targets: ["DuplexEngineIO"]),
        .library(name: "DuplexSocketIO", targets: ["DuplexSocketIO"]),
        .executable(name: "duplex", targets: ["DuplexCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // zlib, for permessage-deflate (RFC 7692). The system library is linked; no code is vendored.
        .systemLibrary(name: "CDuplexZlib", path: "Sources/CDuplexZlib"),
        // Sans-I/O WebSocket protocol: frames, handshake, UTF-8, deflate, connection state machine.
        .target(
            name: "DuplexWebSocketCore",
            dependencies: [
                "CDuplexZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
        // SwiftNIO channel handlers, the async API, the standalone server and the client.
        .target(
            name: "DuplexWebSocket",
            dependencies: [
                "DuplexWebSocketCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Sans-I/O Engine.IO v4 (and v3): packets, payloads, handshake, server session state machine.
        .target(
            name: "DuplexEngineIOCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        // Engine.IO server and client on SwiftNIO: polling over HTTP, WebSocket through DuplexWebSocket.
        .target(
            name: "DuplexEngineIO",
            dependencies: [
                "DuplexEngineIOCore",
                "DuplexWebSocket",
                "DuplexWebSocketCore",
                "CDuplexZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Sans-I/O Socket.IO v5 (and v4): JSON values, packets, binary attachments.
        .target(
            name: "DuplexSocketIOCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        // Socket.IO server and client on Engine.IO: namespaces, events, acks, rooms, adapters.
        .target(
            name: "DuplexSocketIO",
            dependencies: [
                "DuplexSocketIOCore",
                "DuplexEngineIO",
                "DuplexEngineIOCore",
                "DuplexWebSocket",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "DuplexCLI",
            dependencies: [
                "DuplexWebSocket",
                "DuplexEngineIO",
                "DuplexSocketIO",
                "DuplexSocketIOCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DuplexWebSocketCoreTests",
            dependencies: [
                "DuplexWebSocketCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DuplexEngineIOCoreTests",
            dependencies: ["DuplexEngineIOCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DuplexSocketIOCoreTests",
            dependencies: ["DuplexSocketIOCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        // Helpers shared by the test targets.
        .target(name: "DuplexTestSupport", path: "Tests/DuplexTestSupport", swiftSettings: strictSettings),
        .testTarget(
            name: "DuplexEngineIOTests",
            dependencies: [
                "DuplexTestSupport",
                "DuplexEngineIO",
                "DuplexEngineIOCore",
                "DuplexWebSocket",
                "DuplexWebSocketCore",
                "CDuplexZlib",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DuplexSocketIOTests",
            dependencies: [
                "DuplexTestSupport",
                "DuplexSocketIO",
                "DuplexSocketIOCore",
                "DuplexEngineIO",
                "DuplexEngineIOCore",
                "DuplexWebSocket",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DuplexWebSocketTests",
            dependencies: [
                "DuplexWebSocket",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
