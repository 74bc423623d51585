// Where the package's own executables are: beside the test bundle in .build/<config>/.
// Integration tests run the real binaries, as an operator would (started as the lab's
// `DaemonProcess`).
import Foundation

public enum Products {
    public static var directory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // .build/debug/edgenodePackageTests.xctest (a file on Linux, a bundle elsewhere)
        while url.pathComponents.count > 1 && !FileManager.default.fileExists(atPath: url.appendingPathComponent("edge-agent").path) {
            url.deleteLastPathComponent()
        }
        return url
    }

    public static func path(_ name: String) throws -> String {
        let p = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: p) else {
            throw MissingRequirement(description: "\(name) not built at \(p): run `swift build --build-tests` (make test does)")
        }
        return p
    }
}
