// The smoke test's traffic: a veth pair from edgectl's network namespace (the agent's) to a
// namespace made for the run, a tbf on the near end small enough to drop, bulk TCP from a
// server here to readers there, and threads that sleep and wake. Bounded in time; the
// namespace (and with it the veth pair and the tbf) is deleted whatever happens.
import Foundation
import NIOCore
import NIOPosix

/// A command of iproute2/coreutils that failed, with its stderr.
struct SmokeSetupError: Error, CustomStringConvertible {
    let description: String
}

@discardableResult
func runTool(_ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    do { try p.run() } catch { throw SmokeSetupError(description: "run \(args.joined(separator: " ")): \(error)") }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw SmokeSetupError(description: "\(args.joined(separator: " ")) failed (exit \(p.terminationStatus)): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
    return String(decoding: stdout, as: UTF8.self)
}

/// The namespace, the veth pair and the addresses of one run. `remove()` undoes all of it.
final class SmokeNamespace {
    let name: String
    let near: String, far: String
    let nearAddress: String, farAddress: String
    /// In the /29 but nobody's: a SYN to it goes unanswered and is retransmitted.
    let silentAddress: String
    private var created = false

    init() {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        name = "edgesmoke-\(tag)"
        near = "esm\(tag)a"
        far = "esm\(tag)b"
        // a random /29 in 169.254/16 (link-local): nothing routes it, runs in parallel do not meet
        let subnet = UInt32.random(in: 1...8190) * 8
        nearAddress = "169.254.\(subnet >> 8 & 0xff).\((subnet & 0xff) + 1)"
        farAddress = "169.254.\(subnet >> 8 & 0xff).\((subnet & 0xff) + 2)"
        silentAddress = "169.254.\(subnet >> 8 & 0xff).\((subnet & 0xff) + 5)"
    }

    /// - Parameter rate: the tbf rate on the near end (tbf drops what exceeds its small queue).
    func create(rate: String) throws {
        try runTool(["ip", "netns", "add", name])
        created = true
        try runTool(["ip", "link", "add", near, "type", "veth", "peer", "name", far, "netns", name])
        try runTool(["ip", "addr", "add", "\(nearAddress)/29", "dev", near])
        try runTool(["ip", "link", "set", near, "mtu", "1500", "up"])
        try runTool(["ip", "-n", name, "addr", "add", "\(farAddress)/29", "dev", far])
        try runTool(["ip", "-n", name, "link", "set", far, "up"])
        try runTool(["ip", "-n", name, "link", "set", "lo", "up"])
        // no segmentation offload: tbf sees wire-sized packets and its small queue overflows
        _ = try? runTool(["ip", "link", "set", near, "gso_max_size", "1500"])
        try runTool(["tc", "qdisc", "add", "dev", near, "root", "tbf", "rate", rate, "burst", "32kb", "limit", "48kb"])
    }

    /// Deletes the near end (and so its peer) and the namespace; errors are returned, not thrown.
    func remove() -> [String] {
        var errors: [String] = []
        if (try? runTool(["ip", "link", "show", near])) != nil {
            do { try runTool(["ip", "link", "del", near]) } catch { errors.append("\(error)") }
        }
        if created {
            do { try runTool(["ip", "netns", "del", name]) } catch { errors.append("\(error)") }
        }
        return errors
    }
}

/// Sends bulk data to every connection for `seconds`, then closes it.
final class BulkSender: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let deadline: NIODeadline
    init(deadline: NIODeadline) { self.deadline = deadline }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
    }

    private func send(context: ChannelHandlerContext) {
        guard NIODeadline.now() < deadline else {
            context.close(promise: nil)
            return
        }
        var chunk = context.channel.allocator.buffer(capacity: 65536)
        chunk.writeRepeatingByte(0x5a, count: 65536)
        // the next chunk goes once this one is in the socket: memory stays at one chunk
        context.writeAndFlush(wrapOutboundOut(chunk)).whenComplete { [self] result in
            if case .success = result { send(context: context) } else { context.close(promise: nil) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

enum SmokeTraffic {
    /// Bulk TCP from `ns.nearAddress` to `connections` readers in `ns` for `seconds`.
    static func bulk(_ ns: SmokeNamespace, connections: Int, seconds: Double) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let deadline = NIODeadline.now() + .milliseconds(Int64(seconds * 1000))
        let server = try ServerBootstrap(group: group)
            .childChannelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(BulkSender(deadline: deadline)) } }
            .bind(host: ns.nearAddress, port: 0).wait()
        defer { try? server.close().wait() }
        guard let port = server.localAddress?.port else { throw SmokeSetupError(description: "the bulk server has no port") }
        // retransmits: tbf drops are local to the sender, and TCP sends a segment its own qdisc
        // dropped again as a new transmission, so they need loss past the stack: a SYN to an
        // address nobody answers is retransmitted after 1 s (RFC 6298's initial RTO)
        let syn = ClientBootstrap(group: group).connectTimeout(.milliseconds(Int64(max(1.5, seconds) * 1000)))
            .connect(host: ns.silentAddress, port: 9)
        // readers: bash's /dev/tcp, so nothing but bash and coreutils is needed in the namespace
        let limit = String(Int(seconds) + 10)
        let reader = "timeout \(limit) cat < /dev/tcp/\(ns.nearAddress)/\(port) > /dev/null"
        let script = Array(repeating: "(\(reader)) &", count: connections).joined(separator: " ") + " wait"
        try runTool(["ip", "netns", "exec", ns.name, "bash", "-c", script])
        _ = try? syn.wait() // fails (timeout) by design
    }

    /// `threads` threads that sleep 200 µs and wake, for `seconds`: scheduler wake-ups.
    static func wakeups(threads: Int, seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        let done = DispatchGroup()
        for _ in 0..<threads {
            done.enter()
            Thread.detachNewThread {
                var spin = 0
                while Date() < end {
                    for i in 0..<20_000 { spin &+= i } // a little work between sleeps
                    Thread.sleep(forTimeInterval: 0.0002)
                }
                _ = spin
                done.leave()
            }
        }
        done.wait()
    }
}
