// `ExtenderArgs` read through jansson (the live /filter and /prioritize path).
//
// The request is validated like the Codable `ExtenderArgs` does (same optional/null rules, same
// type checks on Pod.metadata and NodeNames), but only what the handlers use is turned into Swift
// values: the candidates' names. A `Nodes` list stays a jansson tree, from which the filter
// copies the passing `v1.Node` objects straight to its response.
import EdgeAPI
import EdgeJansson
import Foundation

/// A parsed `ExtenderArgs` body.
package struct ParsedExtenderArgs {
    /// Keeps the tree that `nodeList` and `nodeItems` point into.
    let document: JanssonDocument
    var pod: PodReference?
    var nodeNames: [String]?
    /// `Nodes` when present and not null: any JSON value (checked when the names are needed).
    var nodeList: JanssonValue?

    /// Parses and type-checks `body`; errors name the field (`NodeNames[3]: expected a string, got a number`).
    package static func read(_ body: Data) throws -> ParsedExtenderArgs {
        let document: JanssonDocument
        do {
            document = try JanssonDocument(parsing: body)
        } catch let e as JanssonParseError {
            throw ExtenderRequestError(reason: "invalid ExtenderArgs: not JSON: \(e)")
        }
        let root = document.root
        guard root.kind == .object else { throw mismatch("<top level>", "an object", root) }
        var args = ParsedExtenderArgs(document: document)
        if let pod = present(root["Pod"]) {
            args.pod = try readPod(pod)
        }
        if let names = present(root["NodeNames"]) {
            do {
                guard let strings = try names.stringElements() else { throw mismatch("NodeNames", "an array", names) }
                args.nodeNames = strings
            } catch let e as JanssonElementError {
                throw ExtenderRequestError(reason: "invalid ExtenderArgs: NodeNames[\(e.index)]: expected a string, got \(e.found)")
            }
        }
        args.nodeList = present(root["Nodes"])
        return args
    }

    private init(document: JanssonDocument) {
        self.document = document
    }

    /// The `v1.NodeList` items (`items` absent or null is an empty list); nil without `Nodes`.
    func nodeItems() throws -> [JanssonValue]? {
        guard let list = nodeList else { return nil }
        guard list.kind == .object else { throw ExtenderRequestError(reason: "Nodes must be a v1.NodeList object") }
        guard let items = Self.present(list["items"]) else { return [] }
        guard items.kind == .array else { throw ExtenderRequestError(reason: "Nodes.items must be an array") }
        return items.elements
    }

    /// The candidates: `NodeNames`, else `metadata.name` of each `Nodes` item (same rule as
    /// `Extender.candidateNames` for the Codable form).
    package func candidateNames() throws -> [String] {
        if let nodeNames { return nodeNames }
        if let items = try nodeItems() { return try Self.names(of: items) }
        throw ExtenderRequestError(reason: "ExtenderArgs has neither Nodes nor NodeNames")
    }

    /// `metadata.name` of each item; an item without a non-empty name cannot be answered for.
    static func names(of items: [JanssonValue]) throws -> [String] {
        try items.enumerated().map { i, item in
            guard let name = item["metadata"]?["name"]?.stringValue, !name.isEmpty else {
                throw ExtenderRequestError(reason: "Nodes.items[\(i)] has no metadata.name")
            }
            return name
        }
    }

    // MARK: - Pod

    private static func readPod(_ pod: JanssonValue) throws -> PodReference {
        guard pod.kind == .object else { throw mismatch("Pod", "an object", pod) }
        guard let metadata = present(pod["metadata"]) else { return PodReference(metadata: nil) }
        guard metadata.kind == .object else { throw mismatch("Pod.metadata", "an object", metadata) }
        func text(_ key: String) throws -> String? {
            guard let v = present(metadata[key]) else { return nil }
            guard let s = v.stringValue else { throw mismatch("Pod.metadata.\(key)", "a string", v) }
            return s
        }
        return PodReference(metadata: .init(name: try text("name"), namespace: try text("namespace"), uid: try text("uid")))
    }

    // MARK: - helpers

    /// Absent and `null` are the same thing for every optional field of the extender types.
    private static func present(_ v: JanssonValue?) -> JanssonValue? {
        guard let v, !v.isNull else { return nil }
        return v
    }

    private static func mismatch(_ path: String, _ expected: String, _ found: JanssonValue) -> ExtenderRequestError {
        ExtenderRequestError(reason: "invalid ExtenderArgs: \(path): expected \(expected), got \(found.kindDescription)")
    }
}
