// Pure logic of pod shaping: the [shaping] mark_mask and [[shaping.class]] keys, the mark's
// byte layout, and the kernel-release report on pod timestamps.
@testable import EdgeAgent
import EdgeBPF
import EdgeConfig
import XCTest

final class PodShapingUnitTests: XCTestCase {
    func parse(_ text: String) throws -> AgentConfig { try AgentConfig.parse(text: text, file: "agent.toml") }

    func rejected(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try parse(text)
            XCTFail("accepted: \(text)", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testMarkMaskDefaultsValidationAndRoundTrip() throws {
        XCTAssertEqual(try parse("").shaping.markMask, 0xFFE0_0000)
        XCTAssertEqual(try parse("[shaping]\nmark_mask = 0x00ffe000\n").shaping.markMask, 0x00FF_E000)
        XCTAssertEqual(try parse("[shaping]\nmark_mask = 0\n").shaping.markMask, 0)
        let gap = rejected("[shaping]\nmark_mask = 0xff0ff000\n")
        XCTAssertTrue(gap.contains("shaping.mark_mask") && gap.contains("contiguous"), gap)
        let narrow = rejected("[shaping]\nmark_mask = 0xff00\n")
        XCTAssertTrue(narrow.contains("11 bits") && narrow.contains("0xff00"), narrow)
        XCTAssertTrue(rejected("[shaping]\nmark_mask = -1\n").contains("shaping.mark_mask"))
        XCTAssertTrue(rejected("[shaping]\nmark_mask = \"0xffe00000\"\n").contains("an integer"))
        var c = AgentConfig.defaults
        c.shaping.markMask = 0x0007_FF00
        XCTAssertEqual(try parse(c.tomlText), c)
    }

    func testShapingClassTablesParseValidateAndRoundTrip() throws {
        let text = """
            [[shaping.class]]
            selector = "10.0.0.0/24"
            rate = "50M"

            [[shaping.class]]
            selector = "unit:backup.service"
            rate = "20mbit"
            horizon = "40ms"
            """
        let c = try parse(text)
        XCTAssertEqual(c.shaping.classes, [AgentConfig.ShapingClass(selector: "10.0.0.0/24", rate: "50M"),
                                           AgentConfig.ShapingClass(selector: "unit:backup.service", rate: "20mbit", horizon: "40ms")])
        XCTAssertEqual(try parse(c.tomlText), c, "tomlText writes the classes back")
        let noRate = rejected("[[shaping.class]]\nselector = \"10.0.0.1\"\n")
        XCTAssertTrue(noRate.contains("shaping.class[1].rate") && noRate.contains("required"), noRate)
        let badRate = rejected("[[shaping.class]]\nselector = \"10.0.0.1\"\nrate = \"fast\"\n")
        XCTAssertTrue(badRate.contains("shaping.class[1].rate"), badRate)
        let badHorizon = rejected("[[shaping.class]]\nselector = \"10.0.0.1\"\nrate = \"5M\"\nhorizon = \"2h\"\n")
        XCTAssertTrue(badHorizon.contains("shaping.class[1].horizon"), badHorizon)
        let unknown = rejected("[[shaping.class]]\nselector = \"10.0.0.1\"\nrate = \"5M\"\nburst = 3\n")
        XCTAssertTrue(unknown.contains("shaping.class[1].burst") && unknown.contains("unknown key"), unknown)
        let twice = rejected("[[shaping.class]]\nselector = \"10.0.0.1\"\nrate = \"5M\"\n[[shaping.class]]\nselector = \"10.0.0.1\"\nrate = \"6M\"\n")
        XCTAssertTrue(twice.contains("shaping.class[2].selector") && twice.contains("twice"), twice)
        let notArray = rejected("[shaping]\nclass = \"10.0.0.1 5M\"\n")
        XCTAssertTrue(notArray.contains("array of tables"), notArray)
    }

    func testMarkConfigBytes() {
        XCTAssertEqual(withUnsafeBytes(of: edt_config(markMask: 0xFFE0_0000)) { Array($0) }, [0, 0, 0xE0, 0xFF, 21, 0, 0, 0])
        XCTAssertEqual(withUnsafeBytes(of: edt_config(markMask: 0)) { Array($0) }, [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(edt_config.defaultMarkMask, AgentConfig.Shaping.defaultMarkMask)
    }

    func testPodTimestampReportByKernelRelease() {
        XCTAssertEqual(NetnsTimestamps.report(kernelRelease: "6.18.0-1-amd64").kept, true)
        XCTAssertEqual(NetnsTimestamps.report(kernelRelease: "5.18.0").kept, true)
        let old = NetnsTimestamps.report(kernelRelease: "5.15.0-91-generic")
        XCTAssertEqual(old.kept, false)
        XCTAssertTrue(old.text.contains("< 5.18") && old.text.contains("BBR"), old.text)
        XCTAssertEqual(NetnsTimestamps.report(kernelRelease: "4.19.0-26-amd64").kept, false)
        XCTAssertNil(NetnsTimestamps.report(kernelRelease: "weird").kept)
        XCTAssertFalse(NetnsTimestamps.runningRelease().isEmpty)
    }
}
