// What can go wrong when an operator changes shaping. Every case names what was wrong, and is
// thrown before anything is changed.

public enum ShapingError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The selector text cannot be understood.
    case invalidSelector(String, String)
    /// A cgroup selector names a cgroup that does not exist.
    case missingCgroup(selector: String, path: String)
    /// The rate text is not a rate in 1 Mbit/s … 100 Gbit/s.
    case invalidRate(String)
    /// The horizon text is not a duration in range.
    case invalidHorizon(String)
    /// No such network device (or no default route to find one).
    case unknownDevice(String)
    /// `shaping.delete` of a selector that has no class.
    case noSuchClass(String)
    /// All EDT_MAX_CLASSES class ids (or a map's entries) are in use.
    case tableFull(String)
    /// Shaping is switched off in the configuration.
    case disabled

    public var description: String {
        switch self {
        case let .invalidSelector(text, reason):
            return "invalid selector \"\(text)\": \(reason). Use an address or CIDR (10.0.0.5, 10.1.0.0/16, fd00::/64), "
                + "cgroup:/sys/fs/cgroup/… or unit:NAME.service"
        case let .missingCgroup(selector, path):
            return "cgroup of \"\(selector)\" does not exist: no cgroup2 directory \(path)"
        case .invalidRate(let reason): return reason
        case .invalidHorizon(let reason): return reason
        case .unknownDevice(let reason): return reason
        case .noSuchClass(let selector): return "no shaping class for \"\(selector)\" (see shaping.list)"
        case .tableFull(let what): return "cannot add a class: \(what) is full"
        case .disabled: return "shaping is disabled in the configuration ([shaping] enabled = false)"
        }
    }
}
