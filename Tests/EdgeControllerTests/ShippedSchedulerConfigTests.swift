// The KubeSchedulerConfiguration we ship (packaging/examples/kube-scheduler-config.yaml) against
// what we ship beside it: it must parse as YAML (python3-yaml, the same parser family kube-scheduler's
// sigs.k8s.io/yaml accepts), name kube-scheduler's own API group and kind, and call a controller
// where one listens: 127.0.0.1 (kube-scheduler runs with hostNetwork on the control-plane host)
// on the port of the shipped controller.toml, as `edge-controller --check-config` reads it.
import EdgeTestSupport
import Foundation
import XCTest

final class ShippedSchedulerConfigTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The YAML as JSON, through python3's yaml.safe_load.
    func shippedYAML() throws -> [String: Any] {
        try requireExecutable("/usr/bin/python3", package: "python3")
        let probe = try sh(["/usr/bin/python3", "-c", "import yaml"], check: false)
        if probe.status != 0 { try unmet("needs python3-yaml (make deps installs it)") }
        let path = Self.root.appendingPathComponent("packaging/examples/kube-scheduler-config.yaml").path
        let r = try sh(["/usr/bin/python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", path])
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    func testShippedSchedulerConfigParsesAndCallsTheShippedControllerPort() throws {
        let doc = try shippedYAML()
        XCTAssertEqual(doc["apiVersion"] as? String, "kubescheduler.config.k8s.io/v1")
        XCTAssertEqual(doc["kind"] as? String, "KubeSchedulerConfiguration")
        let extenders = try XCTUnwrap(doc["extenders"] as? [[String: Any]])
        XCTAssertEqual(extenders.count, 1)
        let e = extenders[0]
        XCTAssertEqual(e["filterVerb"] as? String, "filter")
        XCTAssertEqual(e["prioritizeVerb"] as? String, "prioritize")
        XCTAssertEqual(e["nodeCacheCapable"] as? Bool, true)
        XCTAssertEqual(e["ignorable"] as? Bool, true)
        let weight = try XCTUnwrap(e["weight"] as? Int)
        XCTAssertTrue((1...100).contains(weight), "weight \(weight)")
        // httpTimeout: a Go duration; the worst case in docs/kube-scheduler.md assumes 1s
        XCTAssertEqual(e["httpTimeout"] as? String, "1s")

        let prefix = try XCTUnwrap(e["urlPrefix"] as? String)
        let url = try XCTUnwrap(URLComponents(string: prefix), prefix)
        XCTAssertEqual(url.scheme, "http")
        XCTAssertEqual(url.host, "127.0.0.1", "kube-scheduler (hostNetwork) calls its own host's controller")
        XCTAssertFalse(prefix.contains(".svc"), "no Service is shipped")

        // the port the shipped controller.toml listens on, as the controller itself reads the file
        let conffile = Self.root.appendingPathComponent("packaging/etc/edgenode/controller.toml").path
        // The shipped token file (/etc/edgenode/token) does not exist on a build machine, so
        // --check-config prints the effective configuration and then exits 2 for the missing file.
        let effective = try sh([try Products.path("edge-controller"), "--check-config", "--config", conffile], check: false).stdout
        let listen = try XCTUnwrap(effective.split(separator: "\n").first { $0.hasPrefix("listen = ") }, effective)
        let address = listen.dropFirst("listen = ".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let port = try XCTUnwrap(address.split(separator: ":").last.flatMap { Int($0) }, address)
        XCTAssertEqual(url.port, port, "urlPrefix \(prefix) vs server.listen \(address)")
        let host = address.split(separator: ":").dropLast().joined(separator: ":")
        XCTAssertTrue(host.hasPrefix("127.") || host == "0.0.0.0", "controller.toml listens on \(host): 127.0.0.1 must reach it")
    }
}
