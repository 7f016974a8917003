// swift-tools-version:6.2
import PackageDescription

/// One set of settings for every target: Swift 6 language mode, strict concurrency, and the
/// upcoming features that make imports and existentials explicit.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tunnel-registry",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tunnel-registry", targets: ["tunnel-registry"]),
        .executable(name: "tunnel-replay", targets: ["tunnel-replay"]),
        .executable(name: "log-bench", targets: ["log-bench"]),
        .executable(name: "loadgen", targets: ["loadgen"]),
        .executable(name: "shared-bench", targets: ["shared-bench"]),
        .executable(name: "registry-bench", targets: ["registry-bench"]),
        .executable(name: "front-bench", targets: ["front-bench"]),
        .executable(name: "front-bench-refs", targets: ["front-bench-refs"]),
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "Registry", targets: ["Registry"]),
        .library(name: "FileStore", targets: ["FileStore"]),
        .library(name: "PluginServer", targets: ["PluginServer"]),
        .library(name: "SharedLog", targets: ["SharedLog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // No traits: we use neither swift-configuration nor full Foundation through Hummingbird,
        // and with traits on, each new SwiftPM build plan may reorder their -D flags and
        // recompile Hummingbird (scripts/swiftpm.sh says more).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(name: "CPrefetch"),
        .systemLibrary(name: "CCRC32C"),
        .target(
            name: "EventLog",
            dependencies: [
                "CCRC32C",
                "CZstd",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Registry",
            dependencies: [
                "CPrefetch",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FileStore",
            dependencies: [
                "EventLog",
                "Registry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PluginServer",
            dependencies: [
                "Registry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Proto/sd.proto"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SharedLog",
            dependencies: [
                "Registry",
                "EventLog",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tunnel-registry",
            dependencies: [
                "PluginServer",
                "FileStore",
                "SharedLog",
                "Registry",
                "EventLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tunnel-replay",
            dependencies: [
                "Registry",
                "FileStore",
                "EventLog",
                "SharedLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/tunnel-replay",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BenchSupport",
            path: "Tools/BenchSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "log-bench",
            dependencies: [
                "BenchSupport",
                "EventLog",
                "Registry",
                "FileStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/log-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "loadgen",
            dependencies: [
                "BenchSupport",
                "PluginServer",
                "Registry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Tools/loadgen",
            exclude: ["renew.lua", "bench-renews.sh"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "shared-bench",
            dependencies: [
                "BenchSupport",
                "SharedLog",
                "Registry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tools/shared-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "registry-bench",
            dependencies: [
                "BenchSupport",
                "EventLog",
                "Registry",
                "FileStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/registry-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "front-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/front-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            // Proto/ links to Sources/PluginServer/Proto: the same generated proto.SD code.
            name: "front-bench-refs",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Tools/front-bench-refs",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RegistryTests",
            dependencies: ["Registry", "FileStore", "EventLog"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PluginServerTests",
            dependencies: [
                "PluginServer",
                "Registry",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresTestSupport",
            path: "Tests/PostgresTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SharedLogTests",
            dependencies: [
                "SharedLog",
                "PostgresTestSupport",
                "Registry",
                "EventLog",
                "PluginServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TunnelReplayTests",
            dependencies: [
                "Registry", "FileStore", "EventLog", "SharedLog", "PostgresTestSupport", "tunnel-replay",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
