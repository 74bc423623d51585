// Inputs the fuzz-config target (Fuzz/) found to crash config parsing, kept as tests: each must
// now be a ConfigError naming the file and line, never an abort inside toml++.
@testable import EdgeConfig
import XCTest

final class ConfigRegressionTests: XCTestCase {
    /// The fuzzer's input: toml++'s parse_key asserted on `[ = "-1s"` and aborted the daemon.
    static let fuzzArtifact = "[ = \"-1s\"\n[raçent\nmetricname = \"x\n"

    /// The second find: `[` alone on its line, the name looked for on the next line.
    static let fuzzArtifact2 = "[\nrtt_p99 = -\u{CA}\ncp u= \"x\"\n"

    /// The third: a byte order mark, then `[` and bytes that are not UTF-8 (decoded as U+FFFD).
    static let fuzzArtifact3 = "\u{FEFF}[\u{FFFD}\u{FFFD}window\u{FFFD}p-[st]_\n"

    func testTableHeadersWithoutANameAreConfigErrors() {
        let cases = [Self.fuzzArtifact, Self.fuzzArtifact2, Self.fuzzArtifact3, "\u{FEFF}[ = 1\n", "[\n", "[", "[[\n", "[ \r\n", "[ = \"x\"\n", "[=]\n", "[ #\n", "[ ,\n", "[\t=\n", "[[ = 1\n", "  [ = 1\n",
                     "[agent]\nnode_name = \"a\"\n[ = 2\n"]
        for text in cases {
            for parse in [{ try AgentConfig.parse(text: $0, file: "agent.toml") as Any },
                          { try ControllerConfig.parse(text: $0, file: "controller.toml") as Any }] {
                XCTAssertThrowsError(try parse(text), text.debugDescription) { error in
                    let message = "\(error)"
                    XCTAssertTrue(message.contains("table header without a name"), message)
                    XCTAssertTrue(message.contains(".toml"), message)
                }
            }
        }
        XCTAssertThrowsError(try AgentConfig.parse(text: "[agent]\nnode_name = \"a\"\n[ = 2\n", file: "agent.toml")) {
            XCTAssertTrue("\($0)".contains("3"), "names line 3: \($0)")
        }
    }

    /// Each text must fail to parse, as agent.toml and as controller.toml, with a syntax error at
    /// its line and column whose reason starts with `reason`.
    func assertSyntaxErrors(_ cases: [(text: String, line: Int, column: Int)], saying reason: String,
                            file: StaticString = #filePath, line callLine: UInt = #line) {
        for (text, line, column) in cases {
            for parse in [{ try AgentConfig.parse(text: $0, file: "agent.toml") as Any },
                          { try ControllerConfig.parse(text: $0, file: "controller.toml") as Any }] {
                XCTAssertThrowsError(try parse(text), text.debugDescription, file: file, line: callLine) { error in
                    XCTAssertTrue("\(error)".contains(":\(line):\(column): TOML syntax error: \(reason)"),
                                  "\(text.debugDescription): \(error)", file: file, line: callLine)
                }
            }
        }
    }

    /// The fourth find (session 2): `}` where an array expects a value; toml++'s parse_value asserted.
    static let fuzzArtifact4 = "server = { listen = \"[:\u{FFFD}\u{FFFD}:1]:R0\" }\nregistry = { mnodes =[19, }\n"

    func testBraceWhereAnArrayExpectsAValueIsAConfigError() {
        let cases = [(Self.fuzzArtifact4, 2, 27), ("x = [}\n", 1, 6), ("x = [1, }\n", 1, 9), ("x = [ # c\n}\n", 2, 1),
                     ("x = { a = [ } }\n", 1, 13), ("x = [[1, }]]\n", 1, 10), ("x = [{ a = 1 }, }\n", 1, 17)]
        assertSyntaxErrors(cases, saying: "expected a value or ']' in an array, saw '}'")
        // Inline tables inside arrays and '}' inside strings are fine.
        XCTAssertNil(TOMLHeaderGuard.firstAssertTrigger(in: "x = [{ a = 1 }, { b = \"}\" }]\ny = \"[}\"\n"))
    }

    /// The fifth find: a ten-character date-like value, a space, one digit, a terminator; toml++
    /// reads on for a date-time with a space and asserts in its scan.
    static let fuzzArtifact5 = "[agent]\nnod = \"3tt= -n0s\"\nmax_pg---------------sp =7\u{7F}------od 9  = \"30s\"\nmax_pgs = \"e\"0"

    func testDateFollowedByASpaceAndOneDigitIsAConfigError() {
        let cases = [(Self.fuzzArtifact5, 3, 26), ("x = 2024-01-01 1\n", 1, 5), ("x = [2024-01-01 1]\n", 1, 6),
                     ("x = {a=2024-01-01 1,}\n", 1, 8), ("x = 2024-01-01 1#c\n", 1, 5), ("x = 2\u{FFFD}\u{FFFD}4-01-01 7 \n", 1, 5)]
        assertSyntaxErrors(cases, saying: "a date followed by a space")
        // Real dates and date-times, with a space or a 'T', and a date at the end of the text, are fine.
        for valid in ["x = 2024-01-01\n", "x = 2024-01-01 12:00:00\n", "x = 2024-01-01T12:00:00Z\n", "x = 2024-01-01 1",
                      "x = [2024-01-01, 2024-01-02]\n", "x = \"2024-01-01 1 \"\n"] {
            XCTAssertNil(TOMLHeaderGuard.firstAssertTrigger(in: valid), valid.debugDescription)
        }
    }

    func testValidFilesWithBracketsInValuesAndStringsStillParse() throws {
        // Lines starting with '[' inside arrays and multi-line strings are values, not headers.
        let controller = """
            [score.bounds]
            rtt_p99 = [
              0, 200]
            cpu = [ 0,
            1 ]
            # [ = in a comment
            [registry] # comment after a header
            stale_after = "15s"
            """
        XCTAssertNoThrow(try ControllerConfig.parse(text: controller, file: "controller.toml"))
        let agent = """
            [agent]
            node_name = "n-1"
            [ telemetry ]
            interval = "1s"
            """
        XCTAssertEqual(try AgentConfig.parse(text: agent, file: "agent.toml").agent.nodeName, "n-1")
    }
}
