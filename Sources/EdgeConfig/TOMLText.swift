// Writes config values as TOML text, for rendering an effective configuration (`edgectl`, the
// packaged default file) in a form that the config parsers read back to the same value.
import EdgeCore

/// Builds a TOML document section by section.
struct TOMLText {
    private(set) var text = ""

    mutating func section(_ name: String) {
        if !text.isEmpty { text += "\n" }
        text += "[\(name)]\n"
    }

    mutating func key(_ key: String, _ value: String) {
        text += "\(Self.key(key)) = \(value)\n"
    }

    mutating func string(_ key: String, _ value: String) { self.key(key, Self.quote(value)) }
    mutating func bool(_ key: String, _ value: Bool) { self.key(key, value ? "true" : "false") }
    mutating func int(_ key: String, _ value: Int) { self.key(key, String(value)) }
    mutating func number(_ key: String, _ value: Double) { self.key(key, Self.number(value)) }
    mutating func duration(_ key: String, _ seconds: Double) { string(key, DurationParser.format(seconds: seconds)) }

    /// Swift prints the shortest text that reads back as the same Double ("0.3", "100.0", "1e-05"),
    /// all of which are valid TOML floats.
    static func number(_ value: Double) -> String { "\(value)" }

    /// A bare key when it only has letters, digits, "_" and "-", else a quoted key.
    static func key(_ key: String) -> String {
        let bare = !key.isEmpty && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        return bare ? key : quote(key)
    }

    /// A TOML basic string with the escapes TOML requires.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
