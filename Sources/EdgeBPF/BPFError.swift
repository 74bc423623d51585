// Errors at the libbpf boundary: the operation, the errno and, for loads, what libbpf and the
// verifier said. Environment problems throw; nothing here traps.
import Glibc

public struct BPFError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Int32
    /// libbpf's own log lines for this failure (verifier output, missing BTF, …), if any.
    public let log: String?
    /// A hint that fits this operation better than the errno's generic one.
    let specificHint: String?

    public init(_ operation: String, errno: Int32, log: String? = nil, hint: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.log = log
        self.specificHint = hint
    }

    /// A hint for the errors an operator can fix.
    public var hint: String? {
        if let specificHint { return specificHint }
        switch errno {
        case EPERM: return "needs root or CAP_BPF+CAP_PERFMON (and CAP_NET_ADMIN for tc)"
        case ENOENT: return "the kernel lacks this hook or type (check kernel version and CONFIG_DEBUG_INFO_BTF)"
        case E2BIG, ENOMEM: return "raise RLIMIT_MEMLOCK (LimitMEMLOCK=infinity) or reduce map sizes"
        case ENOTSUP, EOPNOTSUPP: return "the kernel does not support this program or map type"
        default: return nil
        }
    }

    public var description: String {
        var s = "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
        if let hint { s += "; \(hint)" }
        if let log, !log.isEmpty {
            // the verifier's verdict is at the end; keep the message a readable size
            let tail = log.split(separator: "\n").suffix(12).joined(separator: "\n")
            s += "\nlibbpf:\n\(tail)"
        }
        return s
    }
}

/// Converts a libbpf return value (negative errno) into a thrown error.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
    if rc < 0 { throw BPFError(operation(), errno: -rc, log: BPFLog.take()) }
}
