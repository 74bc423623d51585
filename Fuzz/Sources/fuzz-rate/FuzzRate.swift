// libFuzzer target: the text forms operators type for rates ("50M", "20mbit", "1.5Gbit") and
// durations ("250ms", "1m30s"), as they arrive in config files and in shaping.set params.
import EdgeCore
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: FuzzInput(data, size).all, as: UTF8.self)
    if let rate = try? BandwidthRate(parsing: text) {
        // An accepted rate is inside the documented bounds, and its rendering parses back.
        precondition(rate.bitsPerSecond >= BandwidthRate.minimum && rate.bitsPerSecond <= BandwidthRate.maximum,
                     "rate out of bounds: \(rate.bitsPerSecond) from \(text.debugDescription)")
        _ = try? BandwidthRate(parsing: rate.description)
    }
    if let seconds = try? DurationParser.seconds(text) {
        precondition(seconds.isFinite && seconds >= 0, "duration not finite/non-negative: \(seconds) from \(text.debugDescription)")
        _ = DurationParser.format(seconds: seconds)
    }
    return 0
}
