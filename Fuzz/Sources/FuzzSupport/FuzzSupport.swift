// Small helpers shared by the fuzz entry points: quiet logging and running async code to
// completion from libFuzzer's synchronous callback.
import Dispatch
import Logging

/// Loggers that drop everything: per-input log lines would dominate the run time and the
/// output, and what the code logs is not what the fuzzer checks.
public enum FuzzLogging {
    public static let silent = Logger(label: "edgenode.fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// Runs `body` on the Swift concurrency pool and blocks until it returns. Only for the fuzz
/// driver: libFuzzer calls `LLVMFuzzerTestOneInput` synchronously, one input at a time.
public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await body()
        done.signal()
    }
    done.wait()
    return box.value!
}

/// Carries a result out of the task; written once before the semaphore is signalled.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// Fuzz input: the first byte picks a variant, the rest is the payload.
public struct FuzzInput {
    /// Every byte libFuzzer passed.
    public let all: [UInt8]
    public var selector: UInt8 { all.first ?? 0 }
    public var payload: ArraySlice<UInt8> { all.dropFirst() }
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        all = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    }
}
