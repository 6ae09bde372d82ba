// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Framework-neutral deployment checks for Engine.IO servers (DESIGN.md, "What users were bitten
// by" 2), shared by the tests of every integration package. Test support only: no framework here.
let package = Package(
    name: "DuplexIntegrationTesting",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DuplexIntegrationTesting", targets: ["DuplexIntegrationTesting"]),
    ],
    dependencies: [
        .package(name: "Duplex", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "DuplexIntegrationTesting",
            dependencies: [
                .product(name: "DuplexEngineIO", package: "Duplex"),
                .product(name: "DuplexWebSocket", package: "Duplex"),
                .product(name: "DuplexWebSocketCore", package: "Duplex"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
