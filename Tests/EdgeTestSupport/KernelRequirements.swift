// Skips that are explicit and typed, and never silent in CI.
//
// Locally (developer laptop, no root) a kernel test skips with the reason. Under CI=true the same
// condition is a failure: CI runs as root on a kernel that has these features, so a skip there
// would hide a broken environment.
import Foundation
import XCTest

public enum TestEnvironment {
    public static var isCI: Bool {
        let v = ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? ""
        return v == "true" || v == "1" || v == "yes"
    }
}

public struct MissingRequirement: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Throws XCTSkip (locally) or records a failure and throws (under CI=true).
public func unmet(_ reason: String, file: StaticString = #filePath, line: UInt = #line) throws -> Never {
    if TestEnvironment.isCI {
        XCTFail("required in CI but unavailable: \(reason)", file: file, line: line)
        throw MissingRequirement(description: reason)
    }
    throw XCTSkip(reason)
}

/// Kernel tests need root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for netns).
public func requireRoot(file: StaticString = #filePath, line: UInt = #line) throws {
    if getuid() != 0 {
        try unmet("needs root (uid 0) for BPF and netlink", file: file, line: line)
    }
}

/// A kernel feature that must exist for the test, probed by the caller (`present`).
public func requireKernelFeature(_ name: String, present: Bool, hint: String,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
    if !present {
        try unmet("needs \(name): \(hint)", file: file, line: line)
    }
}

/// Needs BTF for CO-RE (CONFIG_DEBUG_INFO_BTF).
public func requireBTF(file: StaticString = #filePath, line: UInt = #line) throws {
    try requireKernelFeature("kernel BTF", present: FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux"),
                             hint: "a kernel built with CONFIG_DEBUG_INFO_BTF=y", file: file, line: line)
}
