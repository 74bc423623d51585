// The device that carries the default route, from /proc/net/route (IPv4): the egress the
// shaper manages when the configuration names none.
import Foundation

public enum DefaultRouteDevice {
    /// The interface of the lowest-metric default route (destination and mask 0, RTF_UP) in
    /// /proc/net/route text, nil if there is none.
    public static func parse(_ text: String) -> String? {
        var best: (device: String, metric: Int)?
        for line in text.split(separator: "\n").dropFirst() {  // header line first
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
            guard f.count >= 8, f[1] == "00000000", f[7] == "00000000",
                  let flags = Int(f[3], radix: 16), flags & 0x1 != 0, let metric = Int(f[6]) else { continue }
            if best == nil || metric < best!.metric { best = (String(f[0]), metric) }
        }
        return best?.device
    }

    /// Reads `path` (default /proc/net/route) and finds the default route's device.
    public static func find(routeTable path: String = "/proc/net/route") throws -> String {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ShapingError.unknownDevice("cannot read \(path) to find the default route's device: \(error.localizedDescription)")
        }
        guard let device = parse(text) else {
            throw ShapingError.unknownDevice("no IPv4 default route in \(path): set [shaping] device in the configuration")
        }
        return device
    }
}
