// `[controller] urls`: an agent pushes to several controllers (one per control-plane host); the
// single `url` key keeps working and comes first.
import EdgeConfig
import XCTest

final class AgentControllerURLsTests: XCTestCase {
    func parse(_ controller: String) throws -> AgentConfig.Controller {
        try AgentConfig.parse(text: "[controller]\n" + controller, file: "agent.toml").controller
    }

    func testURLAndURLsMakeOnePushListInOrderWithoutDuplicates() throws {
        XCTAssertEqual(try parse("").pushURLs, [])
        XCTAssertEqual(try parse("url = \"http://cp-1:8477\"\n").pushURLs, ["http://cp-1:8477"])
        let c = try parse("url = \"http://cp-1:8477\"\nurls = [\"https://cp-2:8477\", \"http://cp-1:8477\", \"https://cp-3:8477\"]\n")
        XCTAssertEqual(c.pushURLs, ["http://cp-1:8477", "https://cp-2:8477", "https://cp-3:8477"])
        XCTAssertEqual(try parse("urls = [\"http://a:1\", \"http://b:2\"]\n").pushURLs, ["http://a:1", "http://b:2"], "urls alone")
        let full = try AgentConfig.parse(text: "[controller]\nurls = [\"http://a:1\", \"http://b:2\"]\n", file: "agent.toml")
        XCTAssertEqual(try AgentConfig.parse(text: full.tomlText, file: "round.toml"), full)
    }

    func testBadURLsAreErrorsNamingTheKey() throws {
        for (text, reason) in [("urls = \"http://a:1\"\n", "expected an array"),
                               ("urls = [1]\n", "element 1 is"),
                               ("urls = [\"http://a:1\", \"ftp://b\"]\n", "expected an http:// or https:// URL")] {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertTrue("\(error)".contains("controller.urls"), "\(error)")
                XCTAssertTrue("\(error)".contains(reason), "\(error)")
            }
        }
    }
}
