// kube-scheduler extender/v1 wire types (k8s.io/kube-scheduler/extender/v1).
//
// The Go structs carry no json tags, so the keys are the Go field names: PascalCase. Pointer and map
// fields may be null. The objects inside (`Pod`, the `v1.NodeList`) are ordinary Kubernetes JSON
// (camelCase). These types are encoded with the plain coders below, never with EdgeJSON's snake_case.
// They are EdgeAPI's (not the controller's own) so that edge-experiment, which plays kube-scheduler,
// sends and reads the same types the controller answers with.
import EdgeCore
import Foundation

/// The coders for extender bodies (no key conversion; sorted keys for stable golden output).
public enum ExtenderJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder { JSONDecoder() }
}

/// The pod being scheduled: only what we log and show; the rest of the object is accepted and ignored.
public struct PodReference: Sendable, Equatable, Codable {
    public struct Metadata: Sendable, Equatable, Codable {
        public var name: String?
        public var namespace: String?
        public var uid: String?

        public init(name: String? = nil, namespace: String? = nil, uid: String? = nil) {
            self.name = name
            self.namespace = namespace
            self.uid = uid
        }
    }
    public var metadata: Metadata?

    /// Public so that a client (edge-experiment playing kube-scheduler) can name the pod it sends.
    public init(metadata: Metadata?) { self.metadata = metadata }

    /// `namespace/name` for logs and tables.
    public var displayName: String {
        let name = metadata?.name ?? "<unnamed>"
        if let ns = metadata?.namespace, !ns.isEmpty { return "\(ns)/\(name)" }
        return name
    }
}

/// Why an extender request body cannot be answered.
public struct ExtenderRequestError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    /// `package`: raised by the controller's readers (another module of this package), not by clients.
    package init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// `ExtenderArgs`: `{Pod, Nodes, NodeNames}`. kube-scheduler fills `NodeNames` for a nodeCacheCapable
/// extender and `Nodes` (a full `v1.NodeList`) otherwise.
public struct ExtenderArgs: Sendable, Equatable, Codable {
    public var pod: PodReference?
    /// The `v1.NodeList` as received, kept whole so filtered items can be returned unchanged.
    public var nodes: JSONValue?
    public var nodeNames: [String]?

    enum CodingKeys: String, CodingKey {
        case pod = "Pod", nodes = "Nodes", nodeNames = "NodeNames"
    }

    public init(pod: PodReference?, nodes: JSONValue?, nodeNames: [String]?) {
        self.pod = pod
        self.nodes = nodes
        self.nodeNames = nodeNames
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pod = try c.decodeIfPresent(PodReference.self, forKey: .pod)
        let n = try c.decodeIfPresent(JSONValue.self, forKey: .nodes)
        nodes = (n == .null) ? nil : n
        nodeNames = try c.decodeIfPresent([String].self, forKey: .nodeNames)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pod, forKey: .pod)
        try c.encode(nodes, forKey: .nodes)
        try c.encode(nodeNames, forKey: .nodeNames)
    }

    /// The `v1.NodeList` items (`items: null` is an empty list).
    public func nodeItems() throws -> [JSONValue]? {
        guard let nodes else { return nil }
        guard case .object = nodes else {
            throw ExtenderRequestError(reason: "Nodes must be a v1.NodeList object")
        }
        switch nodes["items"] {
        case nil, .some(.null): return []
        case let .some(.array(items)): return items
        case .some: throw ExtenderRequestError(reason: "Nodes.items must be an array")
        }
    }

    /// `metadata.name` of each item of `Nodes`.
    public static func names(of items: [JSONValue]) throws -> [String] {
        try items.enumerated().map { i, item in
            guard let name = item["metadata"]?["name"]?.stringValue, !name.isEmpty else {
                throw ExtenderRequestError(reason: "Nodes.items[\(i)] has no metadata.name")
            }
            return name
        }
    }
}

/// `ExtenderFilterResult`. Node name maps are Go `FailedNodesMap` (`map[string]string`).
public struct ExtenderFilterResult: Sendable, Equatable, Codable {
    /// Set when the request carried `Nodes`: the passing items, unchanged.
    public var nodes: JSONValue?
    /// Set when the request carried `NodeNames`.
    public var nodeNames: [String]?
    /// Nodes that fail but where preemption might help.
    public var failedNodes: [String: String]
    /// Nodes that fail whatever is preempted (no telemetry).
    public var failedAndUnresolvableNodes: [String: String]
    /// Non-empty = the whole call failed (kube-scheduler then fails the pod unless the extender is ignorable).
    public var error: String

    enum CodingKeys: String, CodingKey {
        case nodes = "Nodes", nodeNames = "NodeNames", failedNodes = "FailedNodes"
        case failedAndUnresolvableNodes = "FailedAndUnresolvableNodes", error = "Error"
    }

    public init(nodes: JSONValue? = nil, nodeNames: [String]? = nil, failedNodes: [String: String] = [:],
                failedAndUnresolvableNodes: [String: String] = [:], error: String = "") {
        self.nodes = nodes
        self.nodeNames = nodeNames
        self.failedNodes = failedNodes
        self.failedAndUnresolvableNodes = failedAndUnresolvableNodes
        self.error = error
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let n = try c.decodeIfPresent(JSONValue.self, forKey: .nodes)
        nodes = (n == .null) ? nil : n
        nodeNames = try c.decodeIfPresent([String].self, forKey: .nodeNames)
        failedNodes = try c.decodeIfPresent([String: String].self, forKey: .failedNodes) ?? [:]
        failedAndUnresolvableNodes = try c.decodeIfPresent([String: String].self, forKey: .failedAndUnresolvableNodes) ?? [:]
        error = try c.decodeIfPresent(String.self, forKey: .error) ?? ""
    }

    /// Every key is written, absent pointers as `null`, like Go's encoding/json does for these types.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodes, forKey: .nodes)
        try c.encode(nodeNames, forKey: .nodeNames)
        try c.encode(failedNodes, forKey: .failedNodes)
        try c.encode(failedAndUnresolvableNodes, forKey: .failedAndUnresolvableNodes)
        try c.encode(error, forKey: .error)
    }
}

/// One entry of `HostPriorityList`.
public struct HostPriority: Sendable, Equatable, Codable {
    public var host: String
    /// 0…10 (`MaxExtenderPriority`); int64 on the wire.
    public var score: Int64

    enum CodingKeys: String, CodingKey {
        case host = "Host", score = "Score"
    }

    public init(host: String, score: Int64) {
        self.host = host
        self.score = score
    }
}
