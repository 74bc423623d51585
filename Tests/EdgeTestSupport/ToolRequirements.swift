// Programs a test runs that are not part of the package (Debian packages from `make deps`).
import Foundation

/// Needs the executable at `path`; `package` is the Debian package that installs it.
/// Skips locally, fails under CI=true (see `unmet`).
public func requireExecutable(_ path: String, package: String,
                              file: StaticString = #filePath, line: UInt = #line) throws {
    if !FileManager.default.isExecutableFile(atPath: path) {
        try unmet("needs \(path): apt-get install \(package) (make deps does)", file: file, line: line)
    }
}
