// libbpf prints through one process-wide callback; we capture it so a failed load can carry the
// verifier's message in its error instead of writing to stderr behind the logger's back.
import CEdgeShim

public enum BPFLog {
    /// Install the capture (idempotent). `verbose` keeps libbpf's debug lines too.
    public static func capture(verbose: Bool = false) {
        edge_bpf_log_capture(verbose ? 1 : 0)
    }

    /// Drains what was captured since the last call.
    public static func take() -> String? {
        var buf = [CChar](repeating: 0, count: 65536)
        let n = edge_bpf_log_take(&buf, buf.count)
        guard n > 0 else { return nil }
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
