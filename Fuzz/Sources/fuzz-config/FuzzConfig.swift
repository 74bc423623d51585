// libFuzzer target: agent.toml and controller.toml as a daemon reads them at start-up
// (TOMLKit over C++ toml++, then edgenode's own validation). The first byte picks the file kind.
import EdgeConfig
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let text = String(decoding: input.payload, as: UTF8.self)
    if input.selector & 1 == 0 {
        _ = try? AgentConfig.parse(text: text, file: "agent.toml")
    } else {
        _ = try? ControllerConfig.parse(text: text, file: "controller.toml")
    }
    return 0
}
