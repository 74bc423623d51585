// The one error type for configuration files: always names the file, and the dotted key or the
// line:column where the problem is, so an operator can fix the file without guessing.

/// A configuration file could not be read, parsed or validated.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Path of the file (as given to `load`/`parse`).
    public var file: String
    /// Dotted key the problem is about, e.g. "telemetry.interval"; nil for file-level problems.
    public var key: String?
    /// Position of a TOML syntax error (1-based); nil otherwise.
    public var line: Int?
    public var column: Int?
    /// What is wrong, and what would be accepted.
    public var reason: String

    /// An error about `file`, optionally about one key or one position in it.
    public init(file: String, key: String? = nil, line: Int? = nil, column: Int? = nil, reason: String) {
        self.file = file
        self.key = key
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// `file: key: reason`, or `file:line:column: reason` for syntax errors.
    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        if let key { return "\(location): \(key): \(reason)" }
        return "\(location): \(reason)"
    }
}
