// libFuzzer target: `POST /v1/reports` bodies through the controller's ingest path (size
// bound, snake_case JSON decoding, ReportValidation, the registry's node limit) and the
// Authorization header check. The first byte picks which.
import EdgeConfig
import EdgeController
import EdgeCore
import Foundation
import FuzzSupport

let registry = NodeRegistry(score: ControllerConfig.defaults.score,
                            registry: ControllerConfig.Registry(staleAfterSeconds: 15, stalePolicy: .filter, maxNodes: 64))
let ingest = ReportIngest(token: try! BearerToken("fuzz-token-0123456789abcdef"), registry: registry, maxBytes: 1 << 20)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReportIngest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    if input.selector == UInt8(ascii: "A") {
        // An Authorization header as the client sent it (HTTP header values are bytes).
        let outcome = ingest.authorize(String(decoding: input.payload, as: UTF8.self))
        if case .unauthorized(let reason)? = outcome {
            precondition(!reason.contains("fuzz-token-0123456789abcdef"), "401 reason leaks the token")
        }
    } else {
        let outcome = ingest.accept(body: Data(input.all))
        _ = outcome.httpStatus
        _ = try? EdgeJSON.encoder().encode(outcome.response)
    }
    return 0
}
