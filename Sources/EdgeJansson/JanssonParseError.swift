// Why a byte buffer is not a JSON document, in jansson's words and with its position.

/// A parse failure: jansson's message and where in the input it stopped.
public struct JanssonParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// jansson's message, e.g. `unexpected token near ']'` (bytes quoted from invalid input
    /// appear as U+FFFD, so the text is always valid Unicode).
    public let text: String
    /// 1-based line of the failure.
    public let line: Int
    /// 1-based column (in bytes) of the failure on that line; 0 when the input was empty.
    public let column: Int
    /// Byte offset from the start of the input where parsing stopped.
    public let position: Int

    public init(text: String, line: Int, column: Int, position: Int) {
        self.text = text
        self.line = line
        self.column = column
        self.position = position
    }

    public var description: String { "\(text) (line \(line), column \(column))" }
}
