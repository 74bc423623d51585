// The configuration tests' one way of asking "what does the parser say about this text?".
import XCTest

/// The rendered error `parse` rejects `text` with; fails the calling test (and returns "") when
/// the text is accepted.
func rejection<T>(_ text: String, by parse: (String) throws -> T,
                  file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try parse(text)
        XCTFail("no error for:\n\(text)", file: file, line: line)
        return ""
    } catch {
        return "\(error)"
    }
}
