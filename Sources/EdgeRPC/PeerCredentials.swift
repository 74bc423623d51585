// Reading who connected: only what the kernel bound to the connection when the client called
// connect(2). SO_PEERCRED (pid, uid, gid) and SO_PEERGROUPS (supplementary groups) are copied
// from the client's credentials at connect time and never change afterwards, whatever the
// client does next (exec a setuid binary, enter a user namespace, hand the fd to a child).
// uids and gids come translated into the agent's own user namespace, so "root" inside a
// namespace a user made with `unshare -Ur` reads as that user's real uid.
//
// Capabilities are not read: the kernel binds none to a connection, and /proc/PID/status
// describes the process as it is when we look (after an exec, or relative to its own user
// namespace), not the process that connected.
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

/// Room for `PeerGroupsWire.capacity` gids for SO_PEERGROUPS. NIO zero-fills the buffer and
/// does not return the length, so unused slots read as gid 0 (see `PeerCredentials.groups`).
struct PeerGroupsWire: Sendable {
    static let capacity = 256
    var a = SIMD64<UInt32>(), b = SIMD64<UInt32>(), c = SIMD64<UInt32>(), d = SIMD64<UInt32>()

    var gids: [UInt32] {
        withUnsafeBytes(of: self) { Array($0.bindMemory(to: UInt32.self)) }
    }
}

/// Linux's SO_PEERGROUPS (asm-generic/socket.h), not exported by Swift's Glibc module.
let soPeerGroups: Int32 = 59

enum PeerCredentials {
    /// The peer of an accepted Unix-socket channel and its rights under `policy`. Runs on the
    /// channel's event loop; a peer whose credentials cannot be read may read, never write.
    static func resolve(_ channel: any Channel, policy: RPCPermission) -> EventLoopFuture<RPCPeer> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(.unidentified)
        }
        let wire: EventLoopFuture<PeerCredentialsWire> = provider.unsafeGetSocketOption(
            level: .socket, name: NIOBSDSocket.Option(rawValue: SO_PEERCRED))
        return wire.flatMap { cred in
            let groups: EventLoopFuture<PeerGroupsWire> = provider.unsafeGetSocketOption(
                level: .socket, name: NIOBSDSocket.Option(rawValue: soPeerGroups))
            // ERANGE: more groups than we have room for; the primary gid still counts.
            return groups.map { Self.groups($0) }.recover { _ in [] }.map { groups in
                RPCPeer(pid: cred.pid, uid: cred.uid, gid: cred.gid, groups: groups,
                        canWrite: policy.canWrite(uid: cred.uid, gid: cred.gid, groups: groups))
            }
        }.recover { _ in .unidentified }
    }

    /// The supplementary gids, without the zero padding. gid 0 therefore never counts as a
    /// supplementary group, which is why the admin group may not be gid 0.
    static func groups(_ wire: PeerGroupsWire) -> [UInt32] {
        wire.gids.filter { $0 != 0 }
    }
}
