// Guards toml++ (inside TOMLKit) against inputs it does not report as parse errors but asserts on
// (SIGABRT in our builds; undefined behaviour where NDEBUG turns the assert into an assumption),
// so that the daemon exits 78 with `file: line: reason` instead. Both were found by the fuzz-config
// target (Fuzz/); the scan runs before the text reaches toml++:
//  - a table header with no name (`[ =`, `[ #`, `[=]`): parser::parse_key asserts;
//  - a `}` where an array expects a value (`x = [}`, `x = [1, }`): parse_array hands the `}` to
//    parse_value, which asserts that it is not looking at a value terminator.

enum TOMLHeaderGuard {
    /// What the scan found, with its 1-based position.
    enum Finding: Equatable {
        case namelessHeader(line: Int, column: Int)
        case braceInArray(line: Int, column: Int)
    }

    /// The 1-based line and column of a table header without a name; nil if none.
    static func firstNamelessHeader(in text: String) -> (line: Int, column: Int)? {
        if case .namelessHeader(let line, let column)? = firstAssertTrigger(in: text) { return (line, column) }
        return nil
    }

    /// The first input toml++ would assert on, if any (header without a name, or `}` in an array).
    /// The 1-based line and column of a table header (`[` or `[[` at the start of a line, outside
    /// any value) whose first character is neither a key character, a quote nor `]` on the same
    /// line; nil if none.
    static func firstAssertTrigger(in text: String) -> Finding? {
        let bytes = Array(text.utf8)
        // toml++ skips a UTF-8 byte order mark before the first line, so this does too.
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        var i = bytes.starts(with: bom) ? 3 : 0, line = 1, lineStart = i
        var open: [UInt8] = []        // open [ and { of a value (arrays, inline tables), innermost last
        var lineHasContent = false    // a non-blank byte seen on this line (outside strings)
        func at(_ k: Int) -> UInt8? { k < bytes.count ? bytes[k] : nil }
        func isKeyByte(_ b: UInt8) -> Bool {
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
        }
        /// Skips a string starting at `i` (quote `q`), multi-line if tripled; counts newlines.
        func skipString(_ q: UInt8) {
            let triple = at(i + 1) == q && at(i + 2) == q
            i += triple ? 3 : 1
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\\") && q == UInt8(ascii: "\"") { i += 2; continue }
                if b == UInt8(ascii: "\n") {
                    if !triple { return }  // unterminated: toml++ reports it
                    line += 1
                    lineStart = i + 1
                }
                if b == q && (!triple || (at(i + 1) == q && at(i + 2) == q)) {
                    i += triple ? 3 : 1
                    while triple && at(i) == q { i += 1 }  // up to two quotes may close the content
                    return
                }
                i += 1
            }
        }
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\n"):
                line += 1
                lineStart = i + 1
                lineHasContent = false
                i += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                i += 1
            case UInt8(ascii: "#"):
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                lineHasContent = true
                skipString(b)
            case UInt8(ascii: "["):
                if open.isEmpty && !lineHasContent {
                    // A table header: look at the first byte of its name.
                    var k = i + 1
                    if at(k) == UInt8(ascii: "[") { k += 1 }
                    while at(k) == UInt8(ascii: " ") || at(k) == UInt8(ascii: "\t") { k += 1 }
                    // The name must start on the header's own line: toml++ also asserts when it
                    // has to look for it on the next one (`[` then a newline, or `[` at the end).
                    guard let c = at(k), isKeyByte(c) || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'")
                            || c == UInt8(ascii: "]") else {
                        return .namelessHeader(line: line, column: k - lineStart + 1)
                    }
                    // Skip the header itself (its brackets are not a value).
                    while let c = at(i), c != UInt8(ascii: "\n"), c != UInt8(ascii: "#") {
                        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") { skipString(c) } else { i += 1 }
                    }
                    lineHasContent = true
                } else {
                    open.append(b)
                    lineHasContent = true
                    i += 1
                }
            case UInt8(ascii: "{"):
                open.append(b)
                lineHasContent = true
                i += 1
            case UInt8(ascii: "}"):
                // Valid TOML only closes an inline table with '}': directly inside an array it is
                // always an error, and the one toml++ asserts on instead of reporting.
                if open.last == UInt8(ascii: "[") { return .braceInArray(line: line, column: i - lineStart + 1) }
                _ = open.popLast()
                lineHasContent = true
                i += 1
            case UInt8(ascii: "]"):
                _ = open.popLast()
                lineHasContent = true
                i += 1
            default:
                lineHasContent = true
                i += 1
            }
        }
        return nil
    }
}
