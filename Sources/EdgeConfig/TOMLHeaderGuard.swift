// Guards toml++ (inside TOMLKit) against inputs it does not report as parse errors but asserts on
// (SIGABRT in our builds; undefined behaviour where NDEBUG turns the assert into an assumption),
// so that the daemon exits 78 with `file: line: reason` instead. All were found by the fuzz-config
// target (Fuzz/); the scan runs before the text reaches toml++:
//  - a table header with no name (`[ =`, `[ #`, `[=]`): parser::parse_key asserts;
//  - a `}` where an array expects a value (`x = [}`, `x = [1, }`): parse_array hands the `}` to
//    parse_value, which asserts that it is not looking at a value terminator;
//  - a date-like value, a space and one digit (`x = 2024-01-01 1`): parse_value reads on in case it
//    is a date-time written with a space, and its scan asserts on the terminator after the digit.
// The scan works on Unicode scalars, as toml++ does, so columns and the 10-character date test
// count characters, not bytes.

enum TOMLHeaderGuard {
    /// What the scan found, with its 1-based position.
    enum Finding: Equatable {
        case namelessHeader(line: Int, column: Int)
        case braceInArray(line: Int, column: Int)
        case dateSpaceDigit(line: Int, column: Int)
    }

    /// The 1-based line and column of a table header without a name; nil if none.
    static func firstNamelessHeader(in text: String) -> (line: Int, column: Int)? {
        if case .namelessHeader(let line, let column)? = firstAssertTrigger(in: text) { return (line, column) }
        return nil
    }

    /// The first input toml++ would assert on, if any. A nameless header is a `[` or `[[` at the
    /// start of a line, outside any value, whose first character is neither a key character, a
    /// quote nor `]` on the same line.
    static func firstAssertTrigger(in text: String) -> Finding? {
        let bytes = text.unicodeScalars.map(\.value)
        func ascii(_ c: Unicode.Scalar) -> UInt32 { c.value }
        // toml++ skips a byte order mark before the first line, so this does too.
        var i = bytes.first == 0xFEFF ? 1 : 0, line = 1, lineStart = i
        var open: [UInt32] = []       // open [ and { of a value (arrays, inline tables), innermost last
        var lineHasContent = false    // a non-blank byte seen on this line (outside strings)
        func at(_ k: Int) -> UInt32? { k < bytes.count ? bytes[k] : nil }
        func isKeyByte(_ b: UInt32) -> Bool {
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
        }
        /// Skips a string starting at `i` (quote `q`), multi-line if tripled; counts newlines.
        func skipString(_ q: UInt32) {
            let triple = at(i + 1) == q && at(i + 2) == q
            i += triple ? 3 : 1
            while i < bytes.count {
                let b = bytes[i]
                if b == ascii("\\") && q == ascii("\"") { i += 2; continue }
                if b == ascii("\n") {
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
        /// toml++'s value terminators: whitespace, line breaks, `]`, `}`, `,` and `#`.
        func isTerminator(_ c: UInt32) -> Bool {
            [ascii(" "), ascii("\t"), ascii("\n"), ascii("\r"), ascii("]"), ascii("}"), ascii(","), ascii("#")].contains(c)
        }
        func isDigit(_ c: UInt32?) -> Bool { c.map { $0 >= ascii("0") && $0 <= ascii("9") } ?? false }
        /// A token starting at `k` that toml++ takes for the date of a date-time with a space (ten
        /// characters of digits and '-', starting with a digit, '-' at 4 and 7), then one space,
        /// then a single digit followed by a terminator.
        func isDateSpaceDigitTrap(at k: Int) -> Bool {
            guard isDigit(at(k)), k == 0 || isTerminator(bytes[k - 1]) || [ascii("="), ascii("["), ascii("{")].contains(bytes[k - 1]),
                  k + 12 < bytes.count, bytes[k + 4] == ascii("-"), bytes[k + 7] == ascii("-"),
                  bytes[k + 10] == ascii(" "), isDigit(bytes[k + 11]), isTerminator(bytes[k + 12]) else { return false }
            // toml++ only takes that branch for some of these tokens (no '+', '.', ':', 't', 'z', …);
            // flagging all of them is safe: a value followed by a space and a digit is never valid TOML.
            return !bytes[k..<(k + 10)].contains(where: isTerminator)
        }
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case ascii("\n"):
                line += 1
                lineStart = i + 1
                lineHasContent = false
                i += 1
            case ascii(" "), ascii("\t"), ascii("\r"):
                i += 1
            case ascii("#"):
                while i < bytes.count && bytes[i] != ascii("\n") { i += 1 }
            case ascii("\""), ascii("'"):
                lineHasContent = true
                skipString(b)
            case ascii("["):
                if open.isEmpty && !lineHasContent {
                    // A table header: look at the first byte of its name.
                    var k = i + 1
                    if at(k) == ascii("[") { k += 1 }
                    while at(k) == ascii(" ") || at(k) == ascii("\t") { k += 1 }
                    // The name must start on the header's own line: toml++ also asserts when it
                    // has to look for it on the next one (`[` then a newline, or `[` at the end).
                    guard let c = at(k), isKeyByte(c) || c == ascii("\"") || c == ascii("'")
                            || c == ascii("]") else {
                        return .namelessHeader(line: line, column: k - lineStart + 1)
                    }
                    // Skip the header itself (its brackets are not a value).
                    while let c = at(i), c != ascii("\n"), c != ascii("#") {
                        if c == ascii("\"") || c == ascii("'") { skipString(c) } else { i += 1 }
                    }
                    lineHasContent = true
                } else {
                    open.append(b)
                    lineHasContent = true
                    i += 1
                }
            case ascii("{"):
                open.append(b)
                lineHasContent = true
                i += 1
            case ascii("}"):
                // Valid TOML only closes an inline table with '}': directly inside an array it is
                // always an error, and the one toml++ asserts on instead of reporting.
                if open.last == ascii("[") { return .braceInArray(line: line, column: i - lineStart + 1) }
                _ = open.popLast()
                lineHasContent = true
                i += 1
            case ascii("]"):
                _ = open.popLast()
                lineHasContent = true
                i += 1
            default:
                if isDateSpaceDigitTrap(at: i) { return .dateSpaceDigit(line: line, column: i - lineStart + 1) }
                lineHasContent = true
                i += 1
            }
        }
        return nil
    }
}
