// Typed, strict access to a parsed TOML config file. Every read names its dotted key, so all errors
// come out as `ConfigError`s that say which key is wrong and what would be accepted. Sections and keys
// are checked against the known lists before any value is read: a misspelt key is an error, never
// silently ignored.
import EdgeCore
import Foundation
import TOMLKit

/// A parsed TOML config file (the root table).
struct ConfigDocument {
    let file: String
    let root: TOMLTable

    /// Reads a file's text; errors name the file.
    static func readText(path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError(file: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw ConfigError(file: path, reason: "is a directory, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, reason: "cannot be read (check its permissions)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, reason: "is not valid UTF-8 text")
        }
        return text
    }

    /// Parses TOML text; a syntax error becomes a ConfigError with line and column.
    init(text: String, file: String) throws {
        self.file = file
        if text.utf8.contains(0) {
            throw ConfigError(file: file, reason: "contains a NUL byte, which TOML does not allow")
        }
        switch TOMLHeaderGuard.firstAssertTrigger(in: text) {
        case .namelessHeader(let line, let column)?:
            throw ConfigError(file: file, line: line, column: column,
                              reason: "TOML syntax error: table header without a name (expected a key or a quoted key after '[')")
        case .braceInArray(let line, let column)?:
            throw ConfigError(file: file, line: line, column: column,
                              reason: "TOML syntax error: expected a value or ']' in an array, saw '}'")
        case .dateSpaceDigit(let line, let column)?:
            throw ConfigError(file: file, line: line, column: column,
                              reason: "TOML syntax error: a date followed by a space and one digit is neither a date nor a date-time")
        case nil:
            break
        }
        do {
            root = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ConfigError(file: file, line: e.source.begin.line, column: e.source.begin.column,
                              reason: "TOML syntax error: \(e.description)")
        }
    }

    /// Rejects top-level keys that are not one of the known sections, or are not tables.
    func checkSections(_ known: [String]) throws {
        for key in root.keys.sorted() {
            guard known.contains(key) else {
                throw ConfigError(file: file, key: key,
                                  reason: "unknown section (known sections: \(known.joined(separator: ", ")))")
            }
            guard root[key]?.type == .table else {
                throw ConfigError(file: file, key: key,
                                  reason: "expected a section [\(key)], got \(describe(root[key]!))")
            }
        }
    }

    /// A section's table (empty when absent) restricted to `keys`.
    func section(_ name: String, keys: [String]) throws -> ConfigSection {
        let table = root[name]?.table
        let s = ConfigSection(file: file, path: name, table: table)
        try s.checkKeys(keys)
        return s
    }
}

/// One TOML table with a dotted path, read key by key with defaults.
struct ConfigSection {
    let file: String
    /// Dotted path of this table, e.g. "score.weights".
    let path: String
    /// nil when the section is absent from the file (every key takes its default).
    let table: TOMLTable?

    /// Keys present in the file, sorted (so that error order does not depend on hashing).
    var presentKeys: [String] { (table?.keys ?? []).sorted() }

    func dotted(_ key: String) -> String { "\(path).\(key)" }

    func error(_ key: String, _ reason: String) -> ConfigError {
        ConfigError(file: file, key: dotted(key), reason: reason)
    }

    func checkKeys(_ known: [String]) throws {
        for key in presentKeys where !known.contains(key) {
            throw error(key, "unknown key (known keys in [\(path)]: \(known.joined(separator: ", ")))")
        }
    }

    private func value(_ key: String) -> TOMLValueConvertible? { table?[key] }

    private func wrongType(_ key: String, expected: String, got v: TOMLValueConvertible) -> ConfigError {
        error(key, "expected \(expected), got \(describe(v))")
    }

    func string(_ key: String, default def: String) throws -> String {
        guard let v = value(key) else { return def }
        guard let s = v.string else { throw wrongType(key, expected: "a string", got: v) }
        return s
    }

    /// A string where "" means "not set".
    func optionalString(_ key: String, default def: String = "") throws -> String? {
        let s = try string(key, default: def)
        return s.isEmpty ? nil : s
    }

    func bool(_ key: String, default def: Bool) throws -> Bool {
        guard let v = value(key) else { return def }
        guard let b = v.bool else { throw wrongType(key, expected: "true or false", got: v) }
        return b
    }

    func int(_ key: String, default def: Int, range: ClosedRange<Int>) throws -> Int {
        guard let v = value(key) else { return def }
        guard let i = v.int else { throw wrongType(key, expected: "an integer", got: v) }
        guard range.contains(i) else {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(i)")
        }
        return i
    }

    /// A finite number; integers are accepted too ("weight = 2").
    func number(_ key: String, default def: Double) throws -> Double {
        guard let v = value(key) else { return def }
        return try Self.number(v, key: dotted(key), file: file)
    }

    static func number(_ v: TOMLValueConvertible, key: String, file: String) throws -> Double {
        let d: Double
        if let i = v.int {
            d = Double(i)
        } else if let x = v.double {
            d = x
        } else {
            throw ConfigError(file: file, key: key, reason: "expected a number, got \(describe(v))")
        }
        guard d.isFinite else { throw ConfigError(file: file, key: key, reason: "must be a finite number, got \(d)") }
        return d
    }

    /// A number that must satisfy `check`; `rule` says what is allowed in the error.
    func number(_ key: String, default def: Double, rule: String, _ check: (Double) -> Bool) throws -> Double {
        let d = try number(key, default: def)
        guard check(d) else { throw error(key, "must be \(rule), got \(d)") }
        return d
    }

    /// A duration string in seconds, within `range` (seconds).
    func duration(_ key: String, default def: String, range: ClosedRange<Double>) throws -> Double {
        let text = try string(key, default: def)
        return try durationValue(key, text: text, range: range)
    }

    /// A duration where "" means "not set".
    func optionalDuration(_ key: String, range: ClosedRange<Double>) throws -> Double? {
        let text = try string(key, default: "")
        return text.isEmpty ? nil : try durationValue(key, text: text, range: range)
    }

    private func durationValue(_ key: String, text: String, range: ClosedRange<Double>) throws -> Double {
        let seconds: Double
        do {
            seconds = try DurationParser.seconds(text)
        } catch {
            throw self.error(key, "expected a duration such as \"1s\" or \"500ms\", got \"\(text)\"")
        }
        guard range.contains(seconds) else {
            throw self.error(key, "must be between \(DurationParser.format(seconds: range.lowerBound)) and "
                + "\(DurationParser.format(seconds: range.upperBound)), got \"\(text)\"")
        }
        return seconds
    }

    /// One of a fixed set of words.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default def: T) throws -> T where T.RawValue == String {
        let s = try string(key, default: def.rawValue)
        guard let v = T(rawValue: s) else {
            let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            throw error(key, "expected \(allowed), got \"\(s)\"")
        }
        return v
    }

    /// A "host:port" address, or nil for "" when `allowEmpty`.
    func listenAddress(_ key: String, default def: String, allowEmpty: Bool) throws -> ListenAddress? {
        let s = try string(key, default: def)
        if s.isEmpty {
            guard allowEmpty else { throw error(key, "must not be empty; expected host:port such as \"127.0.0.1:8477\"") }
            return nil
        }
        do {
            return try ListenAddress(parsing: s)
        } catch let e as ListenAddress.Error {
            throw error(key, "expected host:port such as \"127.0.0.1:9464\" or \"[::1]:9464\"; \(e.reason), got \"\(s)\"")
        }
    }

    /// An absolute path; "" gives nil when `allowEmpty`.
    func absolutePath(_ key: String, default def: String, allowEmpty: Bool, maxBytes: Int = 4095) throws -> String? {
        let s = try string(key, default: def)
        if s.isEmpty {
            guard allowEmpty else { throw error(key, "must not be empty; expected an absolute path") }
            return nil
        }
        guard s.hasPrefix("/") else { throw error(key, "expected an absolute path (starting with \"/\"), got \"\(s)\"") }
        guard s.utf8.count <= maxBytes else {
            throw error(key, "path is \(s.utf8.count) bytes long, at most \(maxBytes) are allowed")
        }
        return s
    }

    /// A nested table (e.g. `score.weights`), nil when absent.
    func subsection(_ key: String, keys: [String]?) throws -> ConfigSection? {
        guard let v = value(key) else { return nil }
        guard let t = v.table else { throw wrongType(key, expected: "a table", got: v) }
        let s = ConfigSection(file: file, path: dotted(key), table: t)
        if let keys { try s.checkKeys(keys) }
        return s
    }

    /// The raw value of a key (for tables of free-form keys such as drop weights).
    func raw(_ key: String) -> TOMLValueConvertible? { value(key) }
}

/// "integer 5", "string \"abc\"", "table" ... for error messages.
func describe(_ v: TOMLValueConvertible) -> String {
    switch v.type {
    case .string: return "string \"\(v.string ?? "")\""
    case .int: return "integer \(v.int.map(String.init) ?? "")"
    case .double: return "number \(v.double.map { "\($0)" } ?? "")"
    case .bool: return v.bool == true ? "true" : "false"
    case .table: return "a table"
    case .array: return "an array"
    case .date, .time, .dateTime: return "a \(v.type.description)"
    }
}
