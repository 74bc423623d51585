// One JSON dialect for every wire format we own (RPC results, reports): snake_case keys,
// sorted keys so that golden files and diffs are stable.
// (The kube-scheduler extender format is PascalCase and has its own coders, EdgeAPI's ExtenderJSON.)
import Foundation

public enum EdgeJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}
