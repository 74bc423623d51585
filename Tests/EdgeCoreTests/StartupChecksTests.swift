// The rules both `--check-config` and the daemons apply (StartupChecks.swift, issue 17 item 7):
// the values alone, then the files the daemons open at start.
import EdgeConfig
import Foundation
import XCTest

final class StartupChecksTests: XCTestCase {
    func controller(_ text: String) throws -> ControllerConfig { try ControllerConfig.parse(text: text, file: "c.toml") }
    func agent(_ text: String) throws -> AgentConfig { try AgentConfig.parse(text: text, file: "a.toml") }

    func testNoTokenIsOnlyAcceptedOnLoopback() throws {
        for host in ["0.0.0.0:8477", "10.1.2.3:8477", "[::]:8477"] {
            let e = rejection("[server]\nlisten = \"\(host)\"\ntoken_file = \"\"", by: controller)
            XCTAssertTrue(e.hasPrefix("c.toml: server.token_file: is empty but server.listen"), e)
            XCTAssertTrue(e.contains("is not a loopback address"), e)
        }
        for host in ["127.0.0.1:8477", "[::1]:8477", "localhost:8477"] {
            XCTAssertNil(try controller("[server]\nlisten = \"\(host)\"\ntoken_file = \"\"").server.tokenFile, host)
        }
        // a token makes any address acceptable
        XCTAssertNoThrow(try controller("[server]\nlisten = \"0.0.0.0:8477\"\ntoken_file = \"/etc/edgenode/token\""))
    }

    func testTheDaemonAppliesTheSameRuleToAConfigBuiltInCode() throws {
        var c = ControllerConfig.defaults
        c.server.tokenFile = nil
        c.server.listen = ListenAddress(host: "0.0.0.0", port: 8477)
        XCTAssertThrowsError(try c.validateForStart(file: "x")) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "server.token_file")
        }
    }

    func testPinPathWithDotDotIsRefused() {
        for p in ["/sys/fs/bpf/../edgenode", "/sys/fs/bpf/edgenode/.."] {
            let e = rejection("[shaping]\npin_path = \"\(p)\"", by: agent)
            XCTAssertEqual(e, "a.toml: shaping.pin_path: must not contain \"..\", got \"\(p)\"")
        }
        XCTAssertEqual(try agent("[shaping]\npin_path = \"/sys/fs/bpf/a..b\"").shaping.pinPath, "/sys/fs/bpf/a..b")
    }

    func testStartupFilesNameTheirKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-files-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = dir.appendingPathComponent("token").path
        let empty = dir.appendingPathComponent("empty").path
        try "secret\n".write(toFile: token, atomically: true, encoding: .utf8)
        try " \n".write(toFile: empty, atomically: true, encoding: .utf8)

        XCTAssertEqual(try controller("[server]\ntoken_file = \"\(token)\"").startupFileProblems(), [])
        XCTAssertEqual(try controller("[server]\ntoken_file = \"\(empty)\"").startupFileProblems(),
                       ["server.token_file \(empty): file is empty"])
        XCTAssertEqual(try controller("[server]\ntoken_file = \"\(dir.path)/none\"").startupFileProblems(),
                       ["server.token_file \(dir.path)/none: cannot open: No such file or directory"])
        XCTAssertEqual(try controller("[server]\ntoken_file = \"\(dir.path)\"").startupFileProblems(),
                       ["server.token_file \(dir.path): not a regular file"])
        let tls = try controller("[server]\ntoken_file = \"\(token)\"\ntls_cert = \"\(dir.path)/c.pem\"\ntls_key = \"\(dir.path)/k.pem\"")
        XCTAssertEqual(tls.startupFileProblems().map { $0.split(separator: " ").first! }, ["server.tls_cert", "server.tls_key"])

        // the agent reads its token only when it pushes
        XCTAssertEqual(try agent("[controller]\ntoken_file = \"\(dir.path)/none\"").startupFileProblems(), [])
        XCTAssertEqual(try agent("[controller]\nurl = \"http://c:8477\"\ntoken_file = \"\(dir.path)/none\"\nca_file = \"\(token)\"")
                           .startupFileProblems(),
                       ["controller.token_file \(dir.path)/none: cannot open: No such file or directory"])
    }
}
