import Glibc

/// A failed netlink operation: what we tried, the errno the kernel (or the socket) returned,
/// and the kernel's extended-ack text when it sent one.
///
/// `description` reads like `qdisc add fq on veth0: No such file or directory (kernel: Specified
/// qdisc kind is unknown)`.
public struct NetlinkError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What was attempted, e.g. "qdisc add tbf on veth0".
    public var operation: String
    /// Positive errno value.
    public var errno: Int32
    /// NLMSGERR_ATTR_MSG from the kernel, if any.
    public var extack: String?

    public init(operation: String, errno: Int32, extack: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.extack = extack
    }

    /// `strerror(errno)`.
    public var systemMessage: String { String(cString: strerror(errno)) }

    public var description: String {
        var text = "\(operation): \(systemMessage)"
        if let extack, !extack.isEmpty { text += " (kernel: \(extack))" }
        if let meaning { text += " — \(meaning)" }
        return text
    }

    /// What the errno usually means for rtnetlink traffic-control requests.
    public var meaning: String? {
        switch errno {
        case EEXIST: return "an object with that parent/handle already exists (use replace)"
        case ENOENT:
            return isUnknownKind
                ? "the kernel has no such qdisc/filter kind (module missing or not built)"
                : "no such qdisc, class or filter"
        case EOPNOTSUPP: return "the device or kernel does not support this operation"
        case ENODEV: return "no such network device (unknown name or ifindex)"
        case EINVAL: return "the kernel rejected the parameters"
        case EPERM, EACCES: return "needs CAP_NET_ADMIN"
        case ENOBUFS: return "netlink receive buffer overrun; messages were lost"
        case EBUSY: return "the object is in use (remove what depends on it first) or a dump is still running on this socket"
        case EINTR: return "interrupted; retried, without success"
        default: return nil
        }
    }

    /// True when the kernel answered "Specified qdisc kind is unknown" (or the filter twin):
    /// the qdisc/classifier module is not available in this kernel.
    public var isUnknownKind: Bool {
        guard errno == ENOENT || errno == EINVAL, let extack else { return false }
        return extack.contains("kind is unknown") || extack.contains("Unknown filter kind")
            || extack.contains("classifier kind is unknown")
    }

    public var isAlreadyExists: Bool { errno == EEXIST }
    public var isNotFound: Bool { errno == ENOENT }
    public var isNotSupported: Bool { errno == EOPNOTSUPP }
    public var isNoDevice: Bool { errno == ENODEV }
}

/// A reply from the kernel that does not have the layout the UAPI promises (or an answer we
/// could not decode). Always names what was being decoded.
public struct NetlinkParseError: Error, CustomStringConvertible, Equatable, Sendable {
    public var context: String
    public var problem: String

    public init(_ context: String, _ problem: String) {
        self.context = context
        self.problem = problem
    }

    public var description: String { "malformed netlink data in \(context): \(problem)" }
}

/// A request the caller asked for that cannot be expressed (bad names, out-of-range values).
public struct NetlinkRequestError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
