// Reading the connecting process's credentials (SO_PEERCRED) and capabilities (/proc).
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The memory layout of Linux's `struct ucred` (pid_t, uid_t, gid_t), which Swift's Glibc
/// module does not export (it is behind _GNU_SOURCE).
struct PeerCredentialsWire: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

enum PeerCredentials {
    /// The peer of an accepted Unix-socket channel. Capabilities are read at connect time,
    /// while the pid still names the process that connected.
    static func resolve(_ channel: any Channel) -> EventLoopFuture<RPCPeer> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(.unidentified)
        }
        let wire: EventLoopFuture<PeerCredentialsWire> = provider.unsafeGetSocketOption(
            level: .socket, name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        return wire.map { cred in
            // Root needs no /proc read; everyone else is judged by CapEff.
            let caps = cred.uid == 0 ? nil : readEffectiveCapabilities(pid: cred.pid)
            return RPCPeer(
                pid: cred.pid, uid: cred.uid, gid: cred.gid,
                canWrite: RPCPermission.canWrite(uid: cred.uid, effectiveCapabilities: caps))
        }.recover { _ in .unidentified }
    }

    /// CapEff of `pid`, nil if the process is gone or the file is unreadable.
    static func readEffectiveCapabilities(pid: Int32) -> UInt64? {
        guard pid > 0, let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
            return nil
        }
        return RPCPermission.effectiveCapabilities(procStatus: text)
    }
}
