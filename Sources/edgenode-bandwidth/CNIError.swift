// The CNI error result (SPEC "Error"): one JSON object on stdout, a non-zero exit. Codes 1-99
// are the spec's; msg is short, details carries the rest (paths, the agent's own message).
import EdgeCore
import Foundation

struct CNIError: Error {
    /// SPEC codes used here.
    enum Code: Int {
        case incompatibleVersion = 1
        case unsupportedField = 2
        case invalidEnvironment = 4
        case ioFailure = 5
        case decodeFailure = 6
        case invalidConfig = 7
        case tryAgainLater = 11
        /// plugin-specific: the agent refused or failed the change
        case agentFailed = 100
        /// plugin-specific: CHECK found the pod's shaping missing or different
        case checkFailed = 101
    }

    var code: Code
    var msg: String
    var details: String

    init(_ code: Code, _ msg: String, details: String = "") {
        self.code = code
        self.msg = msg
        self.details = details
    }

    func json(cniVersion: String) -> Data {
        let value = JSONValue.object(["cniVersion": .string(cniVersion), "code": .int(code.rawValue),
                                      "msg": .string(msg), "details": .string(details)])
        return CNIOutput.encode(value)
    }
}

enum CNIOutput {
    static func encode(_ value: JSONValue) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
