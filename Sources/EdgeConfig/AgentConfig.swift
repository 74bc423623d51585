// edge-agent's configuration file (/etc/edgenode/agent.toml). Every key has a default, so an empty
// file is valid; unknown sections/keys and wrong types are errors. Durations are Double seconds.
import EdgeAPI
import EdgeCore
import EdgeTelemetry
import Foundation

/// Which sockets and packets the telemetry counts.
public enum TelemetryNamespaceScope: String, CaseIterable, Sendable {
    /// Only the agent's own network namespace.
    case agentNamespace = "self"
    /// Every namespace on the host.
    case all
}

/// The agent's settings.
public struct AgentConfig: Sendable, Equatable {
    /// [agent]
    public struct Agent: Sendable, Equatable {
        /// Node name reported to the controller; nil = the host name (resolved by the daemon).
        public var nodeName: String?
        /// Directory for persistent state (e.g. the qdiscs found before shaping).
        public var stateDir: String

        public init(nodeName: String?, stateDir: String) {
            self.nodeName = nodeName
            self.stateDir = stateDir
        }
    }

    /// [telemetry]
    public struct Telemetry: Sendable, Equatable {
        /// Seconds between two reads of the kernel counters.
        public var intervalSeconds: Double
        /// Seconds covered by the sliding window.
        public var windowSeconds: Double
        /// Most peers listed per window; 0 = none.
        public var maxPeers: Int
        /// Namespaces counted.
        public var netns: TelemetryNamespaceScope
        /// Weight per drop reason (upper case, no `SKB_DROP_REASON_` prefix).
        public var dropWeights: [String: Double]
        /// Weight of reasons not in `dropWeights`.
        public var defaultDropWeight: Double
        /// A cgroup v2 directory: run-queue latency and CPU utilisation count only its subtree
        /// (nil = the whole host).
        public var cgroup: String?

        public init(intervalSeconds: Double, windowSeconds: Double, maxPeers: Int, netns: TelemetryNamespaceScope,
                    dropWeights: [String: Double], defaultDropWeight: Double, cgroup: String? = nil) {
            self.cgroup = cgroup
            self.intervalSeconds = intervalSeconds
            self.windowSeconds = windowSeconds
            self.maxPeers = maxPeers
            self.netns = netns
            self.dropWeights = dropWeights
            self.defaultDropWeight = defaultDropWeight
        }
    }

    /// [metrics]
    public struct Metrics: Sendable, Equatable {
        /// Prometheus endpoint address; nil = disabled.
        public var listen: ListenAddress?

        public init(listen: ListenAddress?) {
            self.listen = listen
        }
    }

    /// [controller]: where to push reports.
    public struct Controller: Sendable, Equatable {
        /// Base URL of the controller (http or https); nil = no push.
        public var url: String?
        /// File holding the bearer token; nil = no token.
        public var tokenFile: String?
        /// CA bundle to verify the controller with; nil = system trust store.
        public var caFile: String?
        /// Seconds between pushes.
        public var pushIntervalSeconds: Double
        /// Seconds before one push is abandoned (≤ push interval).
        public var timeoutSeconds: Double
        /// More controllers to push to (the `urls` key), e.g. one per control-plane host.
        public var urls: [String]

        /// Every controller a report goes to: `url` first, then `urls`, each once.
        public var pushURLs: [String] {
            var seen = Set<String>()
            return ((url.map { [$0] } ?? []) + urls).filter { seen.insert($0).inserted }
        }

        public init(url: String?, tokenFile: String?, caFile: String?, pushIntervalSeconds: Double,
                    timeoutSeconds: Double, urls: [String] = []) {
            self.url = url
            self.urls = urls
            self.tokenFile = tokenFile
            self.caFile = caFile
            self.pushIntervalSeconds = pushIntervalSeconds
            self.timeoutSeconds = timeoutSeconds
        }
    }

    /// One `[[shaping.class]]`: a class applied at every start. It says exactly what a
    /// `shaping.set` call says (selector, rate, optional horizon), so it is the same type.
    public typealias ShapingClass = ShapingSetParams

    /// [shaping]
    public struct Shaping: Sendable, Equatable {
        public var enabled: Bool
        /// Egress device; nil = the default route's device.
        public var device: String?
        /// Drop horizon in seconds; nil = derived from the rate.
        public var horizonSeconds: Double?
        /// Mark ECN-capable packets instead of dropping them where possible.
        public var ecn: Bool
        /// bpffs directory for pinned maps and links.
        public var pinPath: String
        /// TCP congestion control the host switches to while shaping is active ("bbr"); nil
        /// leaves net.ipv4.tcp_congestion_control alone. The previous value comes back on reset.
        public var hostCongestionControl: String?
        /// skb->mark bits that carry a pod's class from its veth classifier to the uplink program
        /// (contiguous, at least `markMaskMinBits` wide; 0 = off). Default bits 21-31.
        public var markMask: UInt32 = Shaping.defaultMarkMask
        /// `[[shaping.class]]`, applied at start (and so after every reboot).
        public var classes: [ShapingClass] = []

        public static let defaultMarkMask: UInt32 = 0xFFE0_0000
        /// Class ids go up to 1024: 11 bits.
        public static let markMaskMinBits = 11

        public init(enabled: Bool, device: String?, horizonSeconds: Double?, ecn: Bool, pinPath: String,
                    hostCongestionControl: String? = nil, markMask: UInt32 = Shaping.defaultMarkMask) {
            self.enabled = enabled
            self.device = device
            self.horizonSeconds = horizonSeconds
            self.ecn = ecn
            self.pinPath = pinPath
            self.hostCongestionControl = hostCongestionControl
            self.markMask = markMask
        }

        /// nil when `mask` is usable, else why not.
        public static func markMaskProblem(_ mask: UInt32) -> String? {
            if mask == 0 { return nil }
            let shifted = mask >> mask.trailingZeroBitCount
            if shifted & (shifted &+ 1) != 0 { return "the bits must be contiguous" }
            if mask.nonzeroBitCount < markMaskMinBits {
                return "it must be at least \(markMaskMinBits) bits wide to hold class ids up to 1024"
            }
            return nil
        }
    }

    public var agent: Agent
    public var telemetry: Telemetry
    public var rpc: RPCConfig
    public var metrics: Metrics
    public var controller: Controller
    public var shaping: Shaping

    public init(agent: Agent, telemetry: Telemetry, rpc: RPCConfig, metrics: Metrics, controller: Controller,
                shaping: Shaping) {
        self.agent = agent
        self.telemetry = telemetry
        self.rpc = rpc
        self.metrics = metrics
        self.controller = controller
        self.shaping = shaping
    }

    /// The configuration of an empty file.
    public static let defaults = AgentConfig(
        agent: Agent(nodeName: nil, stateDir: "/var/lib/edge-agent"),
        telemetry: Telemetry(intervalSeconds: 1, windowSeconds: 30, maxPeers: 256, netns: .agentNamespace,
                             dropWeights: [:], defaultDropWeight: 1.0),
        rpc: RPCConfig(socket: "/run/edge-agent/agent.sock"),
        metrics: Metrics(listen: ListenAddress(host: "127.0.0.1", port: 9464)),
        controller: Controller(url: nil, tokenFile: nil, caFile: nil, pushIntervalSeconds: 5, timeoutSeconds: 2),
        shaping: Shaping(enabled: true, device: nil, horizonSeconds: nil, ecn: true, pinPath: "/sys/fs/bpf/edgenode"))

    static let intervalRange = 0.1...60.0
    static let windowMax = 3600.0
    static let maxPeersRange = 0...65536
    static let pushIntervalRange = 0.1...3600.0
    static let timeoutRange = 0.01...60.0
    static let horizonRange = 0.001...60.0
    static let dropReasonPrefix = "SKB_DROP_REASON_"

    /// Reads and validates the file at `path`.
    public static func load(path: String) throws -> AgentConfig {
        try parse(text: ConfigDocument.readText(path: path), file: path)
    }

    /// Parses and validates TOML text; `file` is used in error messages.
    public static func parse(text: String, file: String) throws -> AgentConfig {
        let doc = try ConfigDocument(text: text, file: file)
        try doc.checkSections(["agent", "telemetry", "rpc", "metrics", "controller", "shaping"])
        let d = defaults

        let a = try doc.section("agent", keys: ["node_name", "state_dir"])
        let nodeName = try a.optionalString("node_name")
        if let nodeName, !IPAddressText.isHostName(nodeName) {
            throw a.error("node_name", "expected a host-name-like node name (letters, digits, \"-\", \".\"), got \"\(nodeName)\"")
        }
        let agent = Agent(nodeName: nodeName,
                          stateDir: try a.absolutePath("state_dir", default: d.agent.stateDir, allowEmpty: false)!)

        let t = try doc.section("telemetry", keys: ["interval", "window", "max_peers", "netns", "drop_weights",
                                                    "default_drop_weight", "cgroup"])
        let interval = try t.duration("interval", default: "1s", range: intervalRange)
        let window = try t.duration("window", default: "30s", range: interval...windowMax)
        let telemetry = Telemetry(
            intervalSeconds: interval,
            windowSeconds: window,
            maxPeers: try t.int("max_peers", default: d.telemetry.maxPeers, range: maxPeersRange),
            netns: try t.choice("netns", default: d.telemetry.netns),
            dropWeights: try dropWeights(t),
            defaultDropWeight: try t.number("default_drop_weight", default: d.telemetry.defaultDropWeight,
                                            rule: "≥ 0") { $0 >= 0 },
            cgroup: try telemetryCgroup(t))

        let r = try doc.section("rpc", keys: RPCConfig.agentKeys)
        let rpc = try RPCConfig.read(r, defaults: d.rpc, hasAdminGroup: true)

        let m = try doc.section("metrics", keys: ["listen"])
        let metrics = Metrics(listen: try m.listenAddress("listen", default: d.metrics.listen!.description,
                                                          allowEmpty: true))

        let c = try doc.section("controller", keys: ["url", "token_file", "ca_file", "push_interval", "timeout", "urls"])
        func checkURL(_ url: String, key: String) throws {
            guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", let host = u.host, !host.isEmpty
            else {
                throw c.error(key, "expected an http:// or https:// URL such as \"https://controller:8477\", got \"\(url)\"")
            }
        }
        let url = try c.optionalString("url")
        if let url { try checkURL(url, key: "url") }
        var urls: [String] = []
        if let raw = c.raw("urls") {
            guard let array = raw.array else {
                throw c.error("urls", "expected an array of URLs such as [\"http://cp-1:8477\", \"http://cp-2:8477\"], got \(describe(raw))")
            }
            for (i, element) in array.enumerated() {
                guard let s = element.string else { throw c.error("urls", "element \(i + 1) is \(describe(element)), expected a string") }
                try checkURL(s, key: "urls")
                urls.append(s)
            }
        }
        let push = try c.duration("push_interval", default: "5s", range: pushIntervalRange)
        let timeout = try c.duration("timeout", default: "2s", range: timeoutRange)
        guard timeout <= push else {
            throw c.error("timeout", "must not exceed controller.push_interval (\(DurationParser.format(seconds: push))), "
                + "got \"\(DurationParser.format(seconds: timeout))\"")
        }
        let controller = Controller(
            url: url,
            tokenFile: try c.absolutePath("token_file", default: "", allowEmpty: true),
            caFile: try c.absolutePath("ca_file", default: "", allowEmpty: true),
            pushIntervalSeconds: push, timeoutSeconds: timeout, urls: urls)

        let s = try doc.section("shaping", keys: ["enabled", "device", "horizon", "ecn", "pin_path", "host_congestion_control",
                                                    "mark_mask", "class"])
        let device = try s.optionalString("device")
        if let device, !isInterfaceName(device) {
            throw s.error("device", "expected a network interface name (1 to 15 characters, no \"/\", \":\" or spaces), got \"\(device)\"")
        }
        let congestion = try s.optionalString("host_congestion_control")
        if let congestion, !isCongestionControlName(congestion) {
            throw s.error("host_congestion_control",
                          "expected a TCP congestion control name such as \"bbr\" (1 to 15 lower-case letters, digits or \"_\"), or \"\" to leave the host's alone, got \"\(congestion)\"")
        }
        let markMask = try s.int("mark_mask", default: Int(d.shaping.markMask), range: 0...Int(UInt32.max))
        if let problem = Shaping.markMaskProblem(UInt32(markMask)) {
            throw s.error("mark_mask", "\(problem) (got 0x\(String(markMask, radix: 16)); 0 turns the mark off)")
        }
        let shaping = Shaping(
            enabled: try s.bool("enabled", default: d.shaping.enabled),
            device: device,
            horizonSeconds: try s.optionalDuration("horizon", range: horizonRange),
            ecn: try s.bool("ecn", default: d.shaping.ecn),
            pinPath: try s.absolutePath("pin_path", default: d.shaping.pinPath, allowEmpty: false)!,
            hostCongestionControl: congestion, markMask: UInt32(markMask))
        var shapingWithClasses = shaping
        shapingWithClasses.classes = try shapingClasses(s)

        let config = AgentConfig(agent: agent, telemetry: telemetry, rpc: rpc, metrics: metrics,
                                 controller: controller, shaping: shapingWithClasses)
        try config.validateForStart(file: file) // StartupChecks.swift: the daemon runs the same rules
        return config
    }

    /// [[shaping.class]]: selector and rate required, horizon optional; selectors unique.
    static func shapingClasses(_ s: ConfigSection) throws -> [ShapingClass] {
        guard let raw = s.raw("class") else { return [] }
        guard let array = raw.array else {
            throw s.error("class", "expected an array of tables ([[shaping.class]]), got \(describe(raw))")
        }
        var out: [ShapingClass] = []
        for (i, element) in array.enumerated() {
            guard let table = element.table else {
                throw s.error("class", "entry \(i + 1): expected a table with selector and rate, got \(describe(element))")
            }
            let c = ConfigSection(file: s.file, path: "shaping.class[\(i + 1)]", table: table)
            try c.checkKeys(["selector", "rate", "horizon"])
            guard let selector = try c.optionalString("selector") else { throw c.error("selector", "required (an address, CIDR, cgroup:PATH or unit:NAME)") }
            guard selector.utf8.count < 120 else { throw c.error("selector", "at most 119 bytes, got \(selector.utf8.count)") }
            guard let rate = try c.optionalString("rate") else { throw c.error("rate", "required (for example \"50M\" or \"20mbit\")") }
            do {
                _ = try BandwidthRate(parsing: rate)
            } catch {
                throw c.error("rate", "\(error)")
            }
            let horizon = try c.optionalString("horizon")
            if let horizon {
                _ = try c.duration("horizon", default: horizon, range: horizonRange)
            }
            if out.contains(where: { $0.selector == selector }) {
                throw c.error("selector", "\"\(selector)\" is declared twice")
            }
            out.append(ShapingClass(selector: selector, rate: rate, horizon: horizon))
        }
        return out
    }

    /// telemetry.drop_weights: reason → weight ≥ 0. Reasons are normalised to the kernel's upper-case
    /// names without the SKB_DROP_REASON_ prefix, which is how the aggregator sees them.
    private static func dropWeights(_ t: ConfigSection) throws -> [String: Double] {
        guard let table = try t.subsection("drop_weights", keys: nil) else { return [:] }
        var weights: [String: Double] = [:]
        for key in table.presentKeys {
            var reason = key.uppercased()
            if reason.hasPrefix(dropReasonPrefix) { reason.removeFirst(dropReasonPrefix.count) }
            guard !reason.isEmpty, reason.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }) else {
                throw table.error(key, "expected a drop reason name such as NO_SOCKET or TCP_CSUM")
            }
            guard reason != TelemetryAggregator.consumedReason else {
                throw table.error(key, "CONSUMED is not a drop (consumed packets are never counted)")
            }
            guard weights[reason] == nil else {
                throw table.error(key, "reason \(reason) is given twice")
            }
            let w = try ConfigSection.number(table.raw(key)!, key: table.dotted(key), file: t.file)
            guard w >= 0 else { throw table.error(key, "must be ≥ 0, got \(w)") }
            weights[reason] = w
        }
        return weights
    }

    /// Linux interface names: 1–15 bytes, not "." or "..", no "/", ":" or whitespace.
    static func isInterfaceName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
            && !name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace || !$0.isASCII
                                       || ($0.asciiValue ?? 0) < 0x20 || $0 == "\u{7f}" })  // a NUL would cut the name short
    }

    /// telemetry.cgroup: "" (whole host) or an existing directory under the cgroup v2 mount.
    static func telemetryCgroup(_ t: ConfigSection) throws -> String? {
        guard let path = try t.absolutePath("cgroup", default: "", allowEmpty: true) else { return nil }
        do {
            return try CgroupLocation.resolve(path: path).path
        } catch let e as CgroupLocationError {
            throw t.error("cgroup", e.description)
        }
    }

    /// The kernel's TCP_CA_NAME_MAX is 16 with the NUL; module names are tcp_<name>.
    static func isCongestionControlName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 15
            && name.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
    }

    /// The configuration as TOML text that `parse` reads back to an equal value.
    public var tomlText: String {
        var t = TOMLText()
        t.section("agent")
        t.string("node_name", agent.nodeName ?? "")
        t.string("state_dir", agent.stateDir)

        t.section("telemetry")
        t.duration("interval", telemetry.intervalSeconds)
        t.duration("window", telemetry.windowSeconds)
        t.int("max_peers", telemetry.maxPeers)
        t.string("netns", telemetry.netns.rawValue)
        t.number("default_drop_weight", telemetry.defaultDropWeight)
        t.string("cgroup", telemetry.cgroup ?? "")
        t.section("telemetry.drop_weights")
        for reason in telemetry.dropWeights.keys.sorted() {
            t.number(reason, telemetry.dropWeights[reason]!)
        }

        rpc.writeAgent(to: &t)

        t.section("metrics")
        t.string("listen", metrics.listen?.description ?? "")

        t.section("controller")
        t.string("url", controller.url ?? "")
        t.key("urls", "[" + controller.urls.map(TOMLText.quote).joined(separator: ", ") + "]")
        t.string("token_file", controller.tokenFile ?? "")
        t.string("ca_file", controller.caFile ?? "")
        t.duration("push_interval", controller.pushIntervalSeconds)
        t.duration("timeout", controller.timeoutSeconds)

        t.section("shaping")
        t.bool("enabled", shaping.enabled)
        t.string("device", shaping.device ?? "")
        t.string("horizon", shaping.horizonSeconds.map { DurationParser.format(seconds: $0) } ?? "")
        t.bool("ecn", shaping.ecn)
        t.string("pin_path", shaping.pinPath)
        t.string("host_congestion_control", shaping.hostCongestionControl ?? "")
        t.int("mark_mask", Int(shaping.markMask))
        var text = t.text
        for c in shaping.classes {
            text += "\n[[shaping.class]]\nselector = \(TOMLText.quote(c.selector))\nrate = \(TOMLText.quote(c.rate))\n"
            if let h = c.horizon { text += "horizon = \(TOMLText.quote(h))\n" }
        }
        return text
    }
}
