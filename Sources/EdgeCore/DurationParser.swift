// Durations in config files: a number followed by a unit, optionally several in a row ("1m30s").
// Units: h, m, s, ms, us (or µs). Parsed to Double seconds, which is what every consumer (timers,
// the aggregator, the registry) works in; config fields holding them end in `Seconds`.
import Foundation

/// Parses and formats durations such as "250ms", "1s", "1.5s", "2m", "1h", "1m30s".
public enum DurationParser {
    /// The text is not a duration.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        /// The text that was given.
        public var input: String
        /// What is wrong with it.
        public var reason: String
        public var description: String { "invalid duration \"\(input)\": \(reason)" }
    }

    /// Seconds per unit. Sub-second units divide (by 1e3, 1e6) rather than multiply by an inexact
    /// fraction, so that "100ms" is exactly the Double nearest to 0.1.
    private static let units: [(name: String, perSecond: Double, seconds: Double)] = [
        ("h", 1, 3600), ("m", 1, 60), ("s", 1, 1), ("ms", 1e3, 1), ("us", 1e6, 1), ("µs", 1e6, 1),
    ]

    /// The duration in seconds (≥ 0).
    public static func seconds(_ text: String) throws -> Double {
        guard !text.isEmpty else { throw Error(input: text, reason: "empty") }
        var rest = Substring(text)
        var total = 0.0
        while !rest.isEmpty {
            let numberText = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !numberText.isEmpty else {
                throw Error(input: text, reason: "expected a number at \"\(rest)\"")
            }
            guard numberText.filter({ $0 == "." }).count <= 1,
                  numberText.contains(where: { $0 != "." }),
                  let value = Double(numberText.hasPrefix(".") ? "0" + numberText : String(numberText))
            else {
                throw Error(input: text, reason: "\"\(numberText)\" is not a number")
            }
            rest = rest.dropFirst(numberText.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard !unitText.isEmpty else {
                throw Error(input: text, reason: "missing unit after \"\(numberText)\" (use h, m, s, ms or us)")
            }
            guard let unit = units.first(where: { $0.name == unitText }) else {
                throw Error(input: text, reason: "unknown unit \"\(unitText)\" (use h, m, s, ms or us)")
            }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.seconds / unit.perSecond
        }
        guard total.isFinite else { throw Error(input: text, reason: "too large") }
        return total
    }

    /// Shortest exact text for `seconds` in one unit (h, m, s, ms or us) that parses back to the same
    /// value, e.g. 0.25 → "250ms", 90 → "90s", 7200 → "2h".
    public static func format(seconds: Double) -> String {
        if seconds == 0 { return "0s" }
        for unit in units where unit.name != "µs" {
            let value = seconds / unit.seconds * unit.perSecond
            guard value.rounded() == value, abs(value) < 1e15 else { continue }
            let text = "\(Int64(value))\(unit.name)"
            if (try? Self.seconds(text)) == seconds { return text }
        }
        // Not a whole number of microseconds: plain decimal seconds.
        var text = String(format: "%.9f", seconds)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + "s"
    }
}
