// Plain-text tables and number formats for edgectl's default (human) output.
import EdgeCore
import Foundation

struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ cells: String...) { rows.append(cells) }

    /// Two spaces between columns; a column whose cells are all numbers (or "-") is right-aligned.
    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        let numeric = header.indices.map { i in
            !rows.isEmpty && rows.allSatisfy { i >= $0.count || $0[i] == "-" || $0[i].isEmpty || Self.isNumeric($0[i]) }
        }
        return all.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return numeric[i] ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func isNumeric(_ s: String) -> Bool {
        Double(s.trimmingCharacters(in: CharacterSet(charactersIn: "%"))) != nil
    }
}

enum Fmt {
    /// Milliseconds with 3 significant decimals, or "-" when the signal is absent.
    static func ms(_ v: Double?) -> String {
        guard let v else { return "-" }
        return v < 1 ? String(format: "%.3f", v) : String(format: "%.2f", v)
    }

    static func ratio(_ v: Double?) -> String {
        guard let v else { return "-" }
        return String(format: "%.4f", v)
    }

    static func percent(_ v: Double?) -> String {
        guard let v else { return "-" }
        return String(format: "%.1f%%", v * 100)
    }

    static func rate(_ v: Double) -> String { String(format: "%.2f", v) }

    static func seconds(_ v: Double) -> String {
        v < 120 ? String(format: "%.0fs", v) : v < 7200 ? String(format: "%.0fm", v / 60) : String(format: "%.1fh", v / 3600)
    }
}

/// Prints any Encodable as the daemons' JSON (snake_case, sorted keys), pretty for people.
func printJSON<T: Encodable>(_ value: T) throws {
    let e = EdgeJSONPretty.encoder
    print(String(decoding: try e.encode(value), as: UTF8.self))
}

enum EdgeJSONPretty {
    static var encoder: JSONEncoder {
        let e = EdgeJSON.encoder()
        e.outputFormatting.insert(.prettyPrinted)
        return e
    }
}
