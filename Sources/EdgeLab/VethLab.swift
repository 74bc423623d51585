// Two scratch network namespaces joined by a veth pair, for the shaping benchmark: traffic from
// the "tx" side to the "rx" side leaves through `txDevice`, the device that gets shaped.
// Set up with iproute2 (creating links is not the shaper's job), deleted on deinit.
import EdgeNetlink
import Foundation

public final class VethLab {
    public let txNamespace: String
    public let rxNamespace: String
    public let txDevice = "veth-tx"
    public let rxDevice = "veth-rx"
    public let txAddress = "10.203.0.1"
    public let rxAddress = "10.203.0.2"

    /// Creates the namespaces and a veth pair with `queues` TX/RX queues on each end.
    public init(prefix: String = "edgelab", queues: Int = 4) throws {
        let tag = UInt32.random(in: 0...UInt32.max)
        txNamespace = "\(prefix)-\(tag)-tx"
        rxNamespace = "\(prefix)-\(tag)-rx"
        do {
            try Self.ip(["netns", "add", txNamespace])
            try Self.ip(["netns", "add", rxNamespace])
            let q = String(queues)
            try Self.ip(["-n", txNamespace, "link", "add", txDevice, "numtxqueues", q, "numrxqueues", q, "type", "veth",
                         "peer", "name", rxDevice, "netns", rxNamespace, "numtxqueues", q, "numrxqueues", q])
            for (ns, dev, addr) in [(txNamespace, txDevice, txAddress), (rxNamespace, rxDevice, rxAddress)] {
                try Self.ip(["-n", ns, "addr", "add", addr + "/24", "dev", dev])
                try Self.ip(["-n", ns, "link", "set", dev, "up"])
                try Self.ip(["-n", ns, "link", "set", "lo", "up"])
            }
        } catch {
            teardown()
            throw error
        }
    }

    deinit { teardown() }

    /// A netlink socket inside the tx namespace, for a Shaper of `txDevice`.
    public func txNetlink() throws -> NetlinkSocket {
        try NetlinkSocket(namespace: NetworkNamespace(named: txNamespace))
    }

    private func teardown() {
        _ = try? Self.ip(["netns", "delete", txNamespace])
        _ = try? Self.ip(["netns", "delete", rxNamespace])
    }

    /// Runs `ip ARGS`, throwing with its stderr when it fails.
    static func ip(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip"] + args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw LabError("ip \(args.joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}

public struct LabError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
