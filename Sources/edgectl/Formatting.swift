// Plain-text tables and number formats for edgectl's default (human) output.
//
// Everything shown comes from a daemon, and a node's report (node name, agent version) from
// anyone holding the controller token: text is printed with control characters escaped and
// its width bounded, numbers with a bounded width whatever their value, so that no answer can
// move the cursor, forge table rows or recolour the terminal.
import EdgeCore
import EdgeTelemetry
import Foundation

struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }
    init(columns: [String]) { header = columns }

    /// Cells are made safe to print here, once for every table (see `Fmt.text`).
    mutating func add(_ cells: String...) { add(row: cells) }
    mutating func add(row cells: [String]) { rows.append(cells.map { Fmt.text($0) }) }

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
    /// The widest text cell; longer text ends in "…".
    static let maxTextWidth = 64

    /// `s` made safe for a terminal: C0/C1 controls, DEL and bidirectional overrides become
    /// visible escapes (`\x1b`, `\u{202e}`), and the result is cut to `width` characters.
    static func text(_ s: String, width: Int = maxTextWidth) -> String {
        var out = ""
        var count = 0
        for scalar in s.unicodeScalars {
            let piece: String
            switch scalar.value {
            case 0x00..<0x20, 0x7f: piece = String(format: "\\x%02x", scalar.value)
            case 0x80..<0xa0, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069:
                piece = "\\u{" + String(scalar.value, radix: 16) + "}"
            default: piece = String(scalar)
            }
            if count + piece.count > width {
                return out + "…"
            }
            out += piece
            count += piece.count
        }
        return out
    }

    /// `v` with `decimals` decimals; very large or small magnitudes in %g (at most 9
    /// characters), NaN and infinities spelled out, so no value can widen a column without bound.
    static func fixed(_ v: Double, _ decimals: Int) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        if abs(v) >= 1e9 { return String(format: "%.3g", v) }
        return String(format: "%.\(decimals)f", v)
    }

    /// Milliseconds with 3 significant decimals, or "-" when the signal is absent.
    static func ms(_ v: Double?) -> String {
        guard let v else { return "-" }
        return v < 1 ? fixed(v, 3) : fixed(v, 2)
    }

    static func ratio(_ v: Double?) -> String {
        guard let v else { return "-" }
        return fixed(v, 4)
    }

    static func percent(_ v: Double?) -> String {
        guard let v else { return "-" }
        return fixed(v * 100, 1) + "%"
    }

    static func rate(_ v: Double) -> String { fixed(v, 2) }

    /// A catalogue signal's value in the format the catalogue gives it; "-" when absent.
    static func signal(_ v: Double?, _ format: SignalFormat) -> String {
        switch format {
        case .milliseconds: return ms(v)
        case .ratio: return ratio(v)
        case .percent: return percent(v)
        case .rate: return v.map(rate) ?? "-"
        case .count: return v.map { fixed($0, 0) } ?? "-"
        case .seconds: return v.map(seconds) ?? "-"
        }
    }

    static func seconds(_ v: Double) -> String {
        guard v.isFinite else { return fixed(v, 0) + "s" }
        return v < 120 ? fixed(v, 0) + "s" : v < 7200 ? fixed(v / 60, 0) + "m" : fixed(v / 3600, 1) + "h"
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
