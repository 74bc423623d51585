// [source] of controller.toml: where the controller's node telemetry comes from. Agents pushing
// reports (the default) or a Prometheus server that already scrapes the agents, read with PromQL
// instant queries. Kept apart from ControllerConfig.swift because it is one self-contained section.
import EdgeCore
import Foundation

/// Where node telemetry comes from.
public enum TelemetrySourceKind: String, CaseIterable, Sendable {
    /// Agents POST their window to `/v1/reports`.
    case push
    /// The controller queries a Prometheus server that scrapes the agents' `/metrics`.
    case prometheus
}

extension ControllerConfig {
    /// [source]. Every field has a value whatever the kind, so that `--check-config` prints every key;
    /// the Prometheus fields are only used when `kind == .prometheus`.
    public struct Source: Sendable, Equatable {
        public var kind: TelemetrySourceKind
        /// Base URL of the Prometheus server (`http://host:9090`, maybe with a path prefix); required
        /// for `.prometheus`, must be nil for `.push`.
        public var prometheusURL: String?
        /// Seconds between two polls of Prometheus.
        public var queryIntervalSeconds: Double
        /// Seconds one PromQL query may take, connection included.
        public var timeoutSeconds: Double
        /// Label whose value names the node in every series (put there by the agent's scrape config).
        public var nodeLabel: String
        /// Extra label matchers added to every query, e.g. `job="edgenode"`; "" = none.
        public var matchers: String
        /// File holding a bearer token sent to Prometheus; nil = none.
        public var bearerTokenFile: String?
        /// PEM CA bundle trusted for an https Prometheus URL; nil = the system's roots.
        public var caFile: String?

        public init(kind: TelemetrySourceKind, prometheusURL: String?, queryIntervalSeconds: Double,
                    timeoutSeconds: Double, nodeLabel: String, matchers: String, bearerTokenFile: String?,
                    caFile: String?) {
            self.kind = kind
            self.prometheusURL = prometheusURL
            self.queryIntervalSeconds = queryIntervalSeconds
            self.timeoutSeconds = timeoutSeconds
            self.nodeLabel = nodeLabel
            self.matchers = matchers
            self.bearerTokenFile = bearerTokenFile
            self.caFile = caFile
        }

        /// Pushes only: what an absent section means.
        public static let push = Source(kind: .push, prometheusURL: nil, queryIntervalSeconds: 5, timeoutSeconds: 2,
                                        nodeLabel: "node", matchers: "", bearerTokenFile: nil, caFile: nil)
    }

    static let sourceKeys = ["kind", "prometheus_url", "query_interval", "timeout", "node_label", "matchers",
                             "bearer_token_file", "ca_file"]
    static let queryIntervalRange = 0.2...600.0
    static let queryTimeoutRange = 0.05...60.0

    /// Reads [source]; `staleAfter` is registry.stale_after, which a poll interval must stay below.
    static func readSource(_ s: ConfigSection, staleAfter: Double) throws -> Source {
        let d = Source.push
        let kind = try s.choice("kind", default: d.kind)
        let url = try s.optionalString("prometheus_url")
        if let url {
            try checkPrometheusURL(url, section: s)
        }
        switch (kind, url) {
        case (.prometheus, nil):
            throw s.error("prometheus_url", "required when source.kind is \"prometheus\"; expected a URL such as \"http://prometheus:9090\"")
        case (.push, .some):
            // Most likely a forgotten `kind`: reading nothing from a URL the operator wrote would be silent.
            throw s.error("prometheus_url", "is set but source.kind is \"push\": set kind = \"prometheus\" to use it, or remove it")
        default:
            break
        }
        let interval = try s.duration("query_interval", default: DurationParser.format(seconds: d.queryIntervalSeconds),
                                      range: queryIntervalRange)
        let timeout = try s.duration("timeout", default: DurationParser.format(seconds: d.timeoutSeconds),
                                     range: queryTimeoutRange)
        guard timeout <= interval else {
            throw s.error("timeout", "must not exceed source.query_interval (\(DurationParser.format(seconds: interval))), "
                + "got \"\(DurationParser.format(seconds: timeout))\"")
        }
        if kind == .prometheus, interval >= staleAfter {
            throw s.error("query_interval", "must be shorter than registry.stale_after (\(DurationParser.format(seconds: staleAfter))), "
                + "or every node goes stale between two polls; got \"\(DurationParser.format(seconds: interval))\"")
        }
        let label = try s.string("node_label", default: d.nodeLabel)
        if let problem = PromQLText.labelNameProblem(label) {
            throw s.error("node_label", problem)
        }
        let matchers = try s.string("matchers", default: d.matchers)
        if let problem = PromQLText.matchersProblem(matchers) {
            throw s.error("matchers", problem)
        }
        return Source(kind: kind, prometheusURL: url, queryIntervalSeconds: interval, timeoutSeconds: timeout,
                      nodeLabel: label, matchers: matchers,
                      bearerTokenFile: try s.absolutePath("bearer_token_file", default: "", allowEmpty: true),
                      caFile: try s.absolutePath("ca_file", default: "", allowEmpty: true))
    }

    private static func checkPrometheusURL(_ url: String, section s: ConfigSection) throws {
        let expected = "expected an http:// or https:// URL such as \"http://prometheus:9090\""
        guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = u.host, !host.isEmpty
        else {
            throw s.error("prometheus_url", "\(expected), got \"\(url)\"")
        }
        // The controller appends /api/v1/query?query=…; a query or fragment of its own would be lost.
        guard u.query == nil, u.fragment == nil else {
            throw s.error("prometheus_url", "\(expected) without ?query or #fragment, got \"\(url)\"")
        }
    }

    func writeSource(to t: inout TOMLText) {
        t.section("source")
        t.string("kind", source.kind.rawValue)
        t.string("prometheus_url", source.prometheusURL ?? "")
        t.duration("query_interval", source.queryIntervalSeconds)
        t.duration("timeout", source.timeoutSeconds)
        t.string("node_label", source.nodeLabel)
        t.string("matchers", source.matchers)
        t.string("bearer_token_file", source.bearerTokenFile ?? "")
        t.string("ca_file", source.caFile ?? "")
    }
}

/// The bits of PromQL syntax the controller's configuration contains, checked at load time so that a
/// typo is a config error naming the key rather than a `bad_data` answer from Prometheus at every poll.
public enum PromQLText {
    /// Why `name` is not a label the controller can join on, or nil when it is fine.
    public static func labelNameProblem(_ name: String) -> String? {
        guard isLabelName(name) else {
            return "expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*), got \"\(name)\""
        }
        // Labels starting with "__" are internal and removed after relabelling: no stored series has one.
        guard !name.hasPrefix("__") else {
            return "\"\(name)\" is a reserved label (starts with \"__\") that stored series never carry"
        }
        return nil
    }

    /// Why `text` is not a comma-separated list of `label op "value"` matchers, or nil when it is
    /// (the empty text is an empty list).
    public static func matchersProblem(_ text: String) -> String? {
        let example = "expected label matchers such as job=\"edgenode\", env=~\"prod|edge\""
        var rest = Substring(text)
        func skipSpaces() { rest = rest.drop { $0 == " " || $0 == "\t" } }
        skipSpaces()
        if rest.isEmpty { return nil }
        while true {
            skipSpaces()
            let name = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            guard isLabelName(String(name)) else { return "\(example); no label name at \"\(rest.prefix(20))\"" }
            rest = rest.dropFirst(name.count)
            skipSpaces()
            guard let op = ["=~", "!~", "!=", "="].first(where: { rest.hasPrefix($0) }) else {
                return "\(example); expected =, !=, =~ or !~ after \"\(name)\""
            }
            rest = rest.dropFirst(op.count)
            skipSpaces()
            guard let quote = rest.first, quote == "\"" || quote == "'" else {
                return "\(example); the value of \"\(name)\" must be quoted"
            }
            rest = rest.dropFirst()
            var closed = false
            while let c = rest.first {
                rest = rest.dropFirst()
                if c == "\\" { rest = rest.dropFirst(); continue }
                if c == quote { closed = true; break }
            }
            guard closed else { return "\(example); the value of \"\(name)\" has no closing quote" }
            skipSpaces()
            if rest.isEmpty { return nil }
            guard rest.first == "," else { return "\(example); expected a comma at \"\(rest.prefix(20))\"" }
            rest = rest.dropFirst()
            skipSpaces()
            if rest.isEmpty { return nil } // a trailing comma is valid PromQL
        }
    }

    static func isLabelName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCII,
              first == "_" || (first.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }
}
