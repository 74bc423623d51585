// swift-tools-version:6.0
//
// edgenode: edge-agent, edge-controller, edgectl.
// The C boundary is the C* targets; only EdgeBPF, EdgeNetlink, EdgeSystemd and EdgeJansson import them.
import PackageDescription

let package = Package(
    name: "edgenode",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "edge-agent", targets: ["edge-agent"]),
        .executable(name: "edge-controller", targets: ["edge-controller"]),
        .executable(name: "edgectl", targets: ["edgectl"]),
        .executable(name: "edgenode-bandwidth", targets: ["edgenode-bandwidth"]),
        .executable(name: "edge-bench", targets: ["edge-bench"]),
        .executable(name: "edge-experiment", targets: ["edge-experiment"]),
        // Load/soak runner for `make soak` (issue 7); not shipped in the .debs.
        .executable(name: "edge-soak", targets: ["edge-soak"]),
        // The libraries the fuzz targets in Fuzz/ drive; a path dependency can only use products.
        .library(name: "EdgeCore", targets: ["EdgeCore"]),
        .library(name: "EdgeTelemetry", targets: ["EdgeTelemetry"]),
        .library(name: "EdgeAPI", targets: ["EdgeAPI"]),
        .library(name: "EdgeConfig", targets: ["EdgeConfig"]),
        .library(name: "EdgeRPC", targets: ["EdgeRPC"]),
        .library(name: "EdgeNetlink", targets: ["EdgeNetlink"]),
        .library(name: "EdgeController", targets: ["EdgeController"]),
        // fuzz-extender compares the live extender with the Codable reference path (lab code)
        .library(name: "EdgeControllerLab", targets: ["EdgeControllerLab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
    ],
    targets: [
        // MARK: C boundary
        .systemLibrary(name: "CLibbpf", pkgConfig: "libbpf", providers: [.apt(["libbpf-dev", "libelf-dev"])]),
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        // Macros, inlines and variadics Swift cannot import, plus the embedded BPF objects (#embed).
        .target(
            name: "CEdgeShim",
            dependencies: ["CLibbpf", "CMnl", "CSystemd"],
            cSettings: [.unsafeFlags(["-std=gnu23"])],
            linkerSettings: [.linkedLibrary("bpf"), .linkedLibrary("elf"), .linkedLibrary("z"),
                             .linkedLibrary("mnl"), .linkedLibrary("systemd")]
        ),

        // MARK: thin wrappers (the only Swift that imports C)
        .target(name: "EdgeBPF", dependencies: ["CLibbpf", "CEdgeShim"]),
        .target(name: "EdgeNetlink", dependencies: ["CMnl", "CEdgeShim"]),
        .target(name: "EdgeSystemd", dependencies: [
            "CSystemd", "CEdgeShim",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"), // SIGHUP reload
        ]),
        // jansson-backed JSON reading for the extender's hot path (issue 4 compares it with Foundation).
        .target(name: "EdgeJansson", dependencies: ["CJansson"]),

        // MARK: plain Swift
        // What the daemons, edgectl and the lab tools share, in dependency order (docs/ARCHITECTURE.md):
        // the base vocabulary (JSON coders, durations, rates, JSON-RPC values and the method descriptor
        // type, the [rpc] values, /proc text errors, cgroup mounts);
        .target(name: "EdgeCore"),
        // the telemetry model (signal catalogue, histograms, interval, aggregator, window, /proc parsers);
        .target(name: "EdgeTelemetry", dependencies: ["EdgeCore"]),
        // the wire API (both sockets' methods, params and results; doctor; the kube-scheduler extender);
        .target(name: "EdgeAPI", dependencies: ["EdgeCore", "EdgeTelemetry"]),
        // the config files (the only TOMLKit user, so the CNI plugin, edgectl and edge-experiment do not link it).
        .target(name: "EdgeConfig", dependencies: [
            "EdgeCore", "EdgeTelemetry", "EdgeAPI", .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        .target(name: "EdgeRPC", dependencies: [
            "EdgeCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), // ListenReportingService
        ]),
        .target(name: "EdgeAgent", dependencies: [
            "EdgeCore", "EdgeTelemetry", "EdgeAPI", "EdgeConfig", "EdgeRPC", "EdgeBPF", "EdgeNetlink", "EdgeSystemd",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(name: "EdgeController", dependencies: [
            "EdgeCore", "EdgeTelemetry", "EdgeAPI", "EdgeConfig", "EdgeRPC", "EdgeSystemd", "EdgeJansson",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"), // SIGHUP reload
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),

        // MARK: executables
        .executableTarget(name: "edge-agent", dependencies: [
            "EdgeAgent", "EdgeCore", "EdgeConfig", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "edge-controller", dependencies: [
            "EdgeController", "EdgeCore", "EdgeConfig", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "edgectl", dependencies: [
            "EdgeCore", "EdgeTelemetry", "EdgeAPI", "EdgeRPC", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            // the smoke test's bulk TCP server (NIO is linked through EdgeRPC already)
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // the CNI chained plugin (a drop-in for the reference `bandwidth` plugin)
        .executableTarget(name: "edgenode-bandwidth", dependencies: ["EdgeCore", "EdgeAPI", "EdgeRPC"]),
        // MARK: lab (never shipped: the daemons, edgectl and the CNI plugin do not link these)
        // The plain lab: processes, namespaces and veths through iproute2, daemons started on a
        // generated config, the deadline socket, the notify socket stand-in, statistics. Foundation
        // only, so the soak and experiment runners get it without linking either daemon.
        .target(name: "EdgeLab"),
        // What needs the agent's code and the kernel: the EDT benchmark (BPF test runs, a Shaper
        // on the veth lab) and the veth lab's netlink handle.
        .target(name: "EdgeAgentLab", dependencies: [
            "EdgeLab", "EdgeCore", "EdgeAPI", "EdgeBPF", "EdgeNetlink", "EdgeAgent", .product(name: "Logging", package: "swift-log"),
        ]),
        // The extender's Codable reference path and the benchmark that compares it with the live one.
        .target(name: "EdgeControllerLab", dependencies: [
            "EdgeLab", "EdgeCore", "EdgeTelemetry", "EdgeAPI", "EdgeConfig", "EdgeController", "EdgeJansson",
        ]),
        .executableTarget(name: "edge-bench", dependencies: [
            "EdgeCore", "EdgeAPI", "EdgeRPC", "EdgeBPF", "EdgeAgent", "EdgeController", "EdgeLab", "EdgeAgentLab", "EdgeControllerLab",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "edge-soak", dependencies: [
            "EdgeCore", "EdgeTelemetry", "EdgeAPI", "EdgeConfig", "EdgeRPC", "EdgeLab",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),

        .executableTarget(name: "edge-experiment", dependencies: [
            "EdgeCore", "EdgeAPI", "EdgeRPC", "EdgeLab", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: tests
        // The lab (re-exported) plus XCTest's skip-or-fail rules and the package's own products.
        .target(name: "EdgeTestSupport", dependencies: ["EdgeLab"], path: "Tests/EdgeTestSupport"),
        // One test target for the four modules EdgeCore used to be (their tests predate the split).
        .testTarget(name: "EdgeCoreTests", dependencies: ["EdgeCore", "EdgeTelemetry", "EdgeAPI", "EdgeConfig"]),
        .testTarget(name: "EdgeExperimentTests", dependencies: ["edge-experiment", "EdgeCore", "EdgeAPI", "EdgeLab", "EdgeTestSupport"]),
        .testTarget(name: "EdgeRPCTests", dependencies: [
            "EdgeRPC", "EdgeCore", "EdgeTelemetry", "EdgeAPI", "EdgeTestSupport",
            // to hold the server's event loops still while a client races it (RPCNonRootPeerTests)
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "EdgeBPFTests", dependencies: ["EdgeBPF", "EdgeAgent", "EdgeTelemetry", "EdgeTestSupport"]),
        .testTarget(name: "EdgeNetlinkTests", dependencies: ["EdgeNetlink", "EdgeTestSupport", "CLibbpf"]),
        .testTarget(name: "EdgeAgentTests", dependencies: [
            "EdgeAgent", "EdgeCore", "EdgeTelemetry", "EdgeAPI", "EdgeConfig", "EdgeRPC", "EdgeTestSupport", "EdgeLab",
        ]),
        // edgectl's printing of untrusted text (issue 13), tested against the executable's module.
        .testTarget(name: "EdgectlTests", dependencies: ["edgectl", "EdgeCore", "EdgeAPI"]),
        .testTarget(name: "EdgeControllerTests", dependencies: [
            "EdgeController", "EdgeCore", "EdgeTelemetry", "EdgeAPI", "EdgeConfig", "EdgeRPC", "EdgeTestSupport", "EdgeJansson",
            "EdgeControllerLab", // the Codable reference path the live one is compared with
            "EdgeAgent", // the signal round trip: what the agent exports, the controller reads back
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
