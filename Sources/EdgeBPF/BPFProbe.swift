// Which programs of an object the running kernel accepts, found by loading them. A kernel that
// refuses one program fails the whole bpf_object__load, so the loader retries without the
// refused ones instead of giving up on every signal for one missing argument.
import CLibbpf
import Glibc

/// A program the kernel would not load, and the verifier's or libbpf's reason.
public struct BPFRefusal: Sendable, Equatable {
    public let program: String
    public let reason: String
}

public enum BPFProbe {
    /// Loads `program` alone from a fresh object made by `open` (every other program's autoload
    /// off): nil if the kernel accepts it, otherwise why not. The object is closed again.
    public static func refusal(of program: String, open: () throws -> BPFObject) -> String? {
        do {
            let obj = try open()
            for p in obj.programNames where p != program { try obj.setAutoload(p, false) }
            try obj.setAutoload(program, true)
            try obj.load()
            return nil
        } catch let e as BPFError {
            return e.verdict
        } catch {
            return "\(error)"
        }
    }

    /// Opens with `open`, autoloads exactly `wanted`, and loads. If the kernel refuses the
    /// object, each wanted program is loaded alone to find the refused ones, and the object is
    /// opened and loaded again without them.
    /// - Returns: the loaded object and the programs left out, each with its reason.
    public static func loadAccepted(_ wanted: [String], open: () throws -> BPFObject) throws
        -> (object: BPFObject, refused: [BPFRefusal]) {
        func attempt(_ programs: [String]) throws -> BPFObject {
            let obj = try open()
            for p in obj.programNames { try obj.setAutoload(p, programs.contains(p)) }
            try obj.load()
            return obj
        }
        do {
            return (try attempt(wanted), [])
        } catch let first as BPFError {
            var refused: [BPFRefusal] = []
            for p in wanted {
                if let why = refusal(of: p, open: open) { refused.append(BPFRefusal(program: p, reason: why)) }
            }
            // nothing refused alone: the object itself fails (maps, memlock, privileges)
            guard !refused.isEmpty else { throw first }
            let accepted = wanted.filter { p in !refused.contains { $0.program == p } }
            return (try attempt(accepted), refused)
        }
    }
}

extension BPFError {
    /// One line saying why a load failed: the verifier's last words when it spoke (e.g. "func
    /// 'sched_switch' doesn't have 4-th argument; invalid bpf_context access off=32 size=8"),
    /// else libbpf's last line (a missing attach target), else the errno.
    public var verdict: String {
        let lines = (log ?? "").split(separator: "\n").map(trimmed).filter { !$0.isEmpty }
        // inside libbpf's "-- BEGIN/END PROG LOAD LOG --": instruction and register-state lines
        // start with "N:", source lines with ";"; the verdict lines are the others
        let verifier = lines.filter { l in
            !l.hasPrefix("libbpf:") && !l.hasPrefix("--") && !l.hasPrefix(";") && !l.hasPrefix("processed ")
                && !l.hasPrefix("verification time") && !l.hasPrefix("stack depth")
                && !(l.first?.isNumber == true && l.contains(":"))
        }
        let errText = String(cString: strerror(errno))
        if !verifier.isEmpty { return verifier.suffix(2).joined(separator: "; ") + " (\(errText))" }
        let libbpf = lines.filter { $0.hasPrefix("libbpf:") && !$0.contains("failed to load object") && !$0.contains("PROG LOAD LOG") }
        if let last = libbpf.last { return String(last.dropFirst(8)) + " (\(errText))" }
        return "\(operation): \(errText) (errno \(errno))"
    }
}

private func trimmed(_ line: Substring) -> String {
    var s = line
    while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
    return String(s)
}
