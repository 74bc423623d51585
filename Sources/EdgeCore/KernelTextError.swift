// Error for kernel text files (/proc/...) that do not have the expected shape.

/// A /proc file's text could not be understood (or read).
public struct KernelTextError: Error, CustomStringConvertible, Equatable {
    /// The file the text came from, e.g. "/proc/stat".
    public var file: String
    /// What was wrong.
    public var reason: String

    /// An error about `file`.
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

/// Reads a whole /proc text file. Files in /proc report size 0, so this reads until EOF rather than
/// trusting the size (which `String(contentsOfFile:)` handles).
package func readKernelText(_ path: String) throws -> String {
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw KernelTextError(file: path, reason: "cannot read: \(error.localizedDescription)")
    }
}
