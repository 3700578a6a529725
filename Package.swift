// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "shardd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "shardd", targets: ["shardd"]),
        .executable(name: "shardctl", targets: ["shardctl"]),
        .executable(name: "weather", targets: ["weather"]),
        .executable(name: "storebench", targets: ["storebench"]),
        .executable(name: "lineecho", targets: ["lineecho"]),
        .library(name: "ShardClient", targets: ["ShardClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The wire, shared by the daemon and its clients: JSON, values, timestamps, identity
        // keys, error codes, the envelope. The standard library and Foundation only.
        .target(name: "ShardProtocol"),
        // The NIO pieces both sides of the socket use: line framing, a task executor on an event loop.
        .target(
            name: "ShardTransport",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "ShardCore",
            dependencies: ["ShardProtocol", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .target(
            name: "ShardStore",
            dependencies: ["ShardProtocol", "ShardCore", "CSQLite", "CLibPQ", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "ShardServer",
            dependencies: [
                "ShardProtocol", "ShardCore", "ShardStore", "ShardTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The public client library: a session over the socket, Codable models, pipelining.
        .target(
            name: "ShardClient",
            dependencies: [
                "ShardProtocol", "ShardTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "shardd",
            dependencies: [
                "ShardProtocol", "ShardCore", "ShardStore", "ShardServer",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "shardctl",
            dependencies: ["ShardClient", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "weather",
            dependencies: [
                "ShardClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "storebench",
            dependencies: [
                "ShardProtocol", "ShardCore", "ShardStore", "CLibPQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The daemon's transport with no session behind it: the floor of scripts/bench/floor.py.
        .executableTarget(
            name: "lineecho",
            dependencies: [
                "ShardTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Fixtures shared by the test targets: temp directories, the test PostgreSQL, a shard of either backend.
        .target(name: "ShardTestSupport", dependencies: ["ShardProtocol", "ShardCore", "ShardStore"], path: "Tests/ShardTestSupport"),
        .testTarget(name: "ShardProtocolTests", dependencies: ["ShardProtocol", "ShardCore"]),
        .testTarget(
            name: "ShardTransportTests",
            dependencies: ["ShardTransport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        .testTarget(name: "ShardCoreTests", dependencies: ["ShardProtocol", "ShardCore"]),
        .testTarget(name: "ShardStoreTests", dependencies: ["ShardProtocol", "ShardStore", "ShardCore", "ShardTestSupport"]),
        .testTarget(
            name: "ShardServerTests",
            dependencies: [
                "ShardProtocol", "ShardServer", "ShardCore", "ShardStore", "ShardTransport", "ShardTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // Runs the built binaries (shardd) as processes; `swift build --build-tests` builds them first.
        .testTarget(name: "EndToEndTests", dependencies: ["ShardProtocol", "ShardCore", "ShardTestSupport"]),
        // The client library against the real daemon (started from the built binary).
        .testTarget(name: "ShardClientTests", dependencies: ["ShardClient", "ShardProtocol", "ShardCore", "ShardTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
