// The shared secret agents present as `Authorization: Bearer <token>`.
import Foundation

/// Why a token file could not be used.
public struct BearerTokenError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "token file \(path): \(reason)" }
}

/// A bearer token held in memory; compared in constant time, never logged.
public struct BearerToken: Sendable, CustomStringConvertible {
    private let secret: [UInt8]

    /// Uses `token` as is (tests, and callers that read it elsewhere). Must not be empty.
    public init(_ token: String) throws {
        let bytes = Array(token.utf8)
        guard !bytes.isEmpty else { throw BearerTokenError(path: "<memory>", reason: "token is empty") }
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw BearerTokenError(path: "<memory>", reason: "token must be printable ASCII without spaces")
        }
        secret = bytes
    }

    /// Reads the token from a file; surrounding whitespace (the trailing newline editors add) is ignored.
    public init(contentsOfFile path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BearerTokenError(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw BearerTokenError(path: path, reason: "not UTF-8 text")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw BearerTokenError(path: path, reason: "file is empty") }
        do {
            try self.init(token)
        } catch let e as BearerTokenError {
            throw BearerTokenError(path: path, reason: e.reason)
        }
    }

    /// Never prints the secret.
    public var description: String { "BearerToken(\(secret.count) bytes)" }

    /// Compares in time that depends only on the secret's length, so that response timing does not
    /// reveal how many leading bytes of a guess were right.
    public func matches<C: Collection>(_ presented: C) -> Bool where C.Element == UInt8 {
        var diff: UInt64 = UInt64(truncatingIfNeeded: presented.count ^ secret.count)
        var it = presented.makeIterator()
        for byte in secret {
            let p = it.next() ?? 0
            diff |= UInt64(byte ^ p)
        }
        return diff == 0
    }

    /// Checks an `Authorization` header value. Returns nil when it carries this token, otherwise the
    /// reason it does not (safe to log: it never contains what the client sent).
    public func check(authorization: String?) -> String? {
        guard let header = authorization else { return "missing Authorization header" }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return "Authorization header is not a Bearer token"
        }
        let presented = parts[1].trimmingCharacters(in: .whitespaces)
        return matches(presented.utf8) ? nil : "wrong bearer token"
    }
}
