// How the runner reaches a node of the test bed: a network namespace on this host (`ip netns
// exec`), or a VM of its own reached over SSH (the bed of packaging/vm/experiment-vms.sh, where
// every node has its own kernel, run queue and CPU figures). Commands are argv arrays either way;
// over SSH they become one shell-quoted string.
import EdgeLab
import Foundation

/// A node VM: its SSH forward and its address on the bed's link.
struct VMNodeAccess: Equatable {
    /// The VM's SSH forward on 127.0.0.1 inside `netns` (qemu's user-mode NAT listens there).
    var sshPort: UInt16
    /// The VM's address on the bed's bridge, where the controller and the client reach it.
    var address: String
    /// The network namespace the VMs' qemu processes (and their SSH forwards) run in.
    var netns: String
    var sshKey: String
}

enum NodeHost {
    case namespace(String)
    case vm(VMNodeAccess)

    /// Runs `args` on the node.
    func command(_ args: [String]) -> [String] {
        switch self {
        case .namespace(let ns):
            return Netns.exec(ns, args)
        case .vm(let v):
            return Self.ssh(v) + [args.map(Self.shellQuoted).joined(separator: " ")]
        }
    }

    /// A long-running command. Over SSH it runs in the background of a remote shell that prints
    /// "remote pid N" and kills it (SIGTERM) when its standard input closes, so stopping the local
    /// `ssh` (or closing its stdin) stops the remote process: start it with `DaemonProcess(stdinPipe: true)`.
    func daemon(_ args: [String]) -> [String] {
        switch self {
        case .namespace:
            return command(args)
        case .vm(let v):
            let cmd = args.map(Self.shellQuoted).joined(separator: " ")
            let script = "\(cmd) </dev/null & p=$!; echo \"remote pid $p\"; cat >/dev/null; kill -TERM $p 2>/dev/null; wait $p"
            return Self.ssh(v) + ["sh -c " + Self.shellQuoted(script)]
        }
    }

    var isVM: Bool { if case .vm = self { return true } else { return false } }

    /// ssh under a shell that waits for it. OpenSSH closes every inherited descriptor above 2 when
    /// it starts, and swift-corelibs-foundation's Process watches a descriptor it leaves in the child
    /// to learn that the child exited: on its closing, Foundation calls a *blocking* waitpid for that
    /// child on its one monitor thread, so a long-lived ssh stopped the reaping of every other
    /// process (seen: the runner hung on its next short command). The shell keeps the descriptor.
    private static func ssh(_ v: VMNodeAccess) -> [String] {
        underShell + Netns.exec(v.netns, ["ssh", "-i", v.sshKey, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5",
         "-o", "ServerAliveCountMax=6", "-p", String(v.sshPort), "root@127.0.0.1"])
    }

    /// Runs the argv that follows as a child of a shell that waits for it and exits with its status.
    static let underShell = ["sh", "-c", "\"$@\"; exit $?", "sh"]

    /// `'…'` with embedded single quotes closed, escaped and reopened; bare words stay bare.
    static func shellQuoted(_ s: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")
        if !s.isEmpty, s.unicodeScalars.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The pid a `daemon` command printed on its remote side, from the process's log.
    static func remotePID(inLog log: String) -> Int32? {
        for line in log.split(separator: "\n") where line.hasPrefix("remote pid ") {
            return Int32(line.dropFirst("remote pid ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
