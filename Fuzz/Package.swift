// swift-tools-version:6.0
//
// libFuzzer targets for edgenode's parsers (issue 7). A package of its own so that fuzz-only
// executables never enter the product build; it uses the main package's libraries by path.
// Build and run through `make fuzz` (Fuzz/run-fuzz.sh): scratch path .build-fuzz, built with
// `--sanitize fuzzer --sanitize address`.
import PackageDescription

let edgenode = "edgenode"
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: edgenode) })
}

let package = Package(
    name: "edgenode-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: edgenode, path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "Logging", package: "swift-log")]),
        fuzzTarget("fuzz-rpc-frame", ["EdgeCore", "EdgeAPI", "EdgeConfig", "EdgeRPC", "EdgeController"]),
        fuzzTarget("fuzz-extender", ["EdgeCore", "EdgeTelemetry", "EdgeConfig", "EdgeController", "EdgeControllerLab"]),
        fuzzTarget("fuzz-report-ingest", ["EdgeCore", "EdgeConfig", "EdgeController"]),
        fuzzTarget("fuzz-config", ["EdgeConfig"]),
        fuzzTarget("fuzz-rate", ["EdgeCore"]),
        fuzzTarget("fuzz-netlink", ["EdgeNetlink"]),
    ],
    swiftLanguageModes: [.v5]
)
