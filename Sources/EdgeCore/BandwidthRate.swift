// Bandwidth rates for the shaper, written the ways operators already write them:
//   tc units (case-insensitive, decimal): "50mbit", "1.5Gbit", "800kbit"; "12mbps" is BYTES per second
//     as in tc(8); binary "10mibit"/"1gibps" too;
//   Kubernetes quantities (kubernetes.io/egress-bandwidth, case-sensitive): "50M", "1G", "500k",
//     binary "10Mi", "1Gi"; a lower-case "m" there means milli and is refused rather than guessed;
//   a plain number: bit/s.
// Our own text form, "50Mbit/s", parses back too.

/// A shaping rate in bit/s, between 1 Mbit/s and 100 Gbit/s inclusive.
public struct BandwidthRate: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// Bits per second.
    public let bitsPerSecond: UInt64

    /// Smallest accepted rate, 1 Mbit/s.
    public static let minimum: UInt64 = 1_000_000
    /// Largest accepted rate, 100 Gbit/s.
    public static let maximum: UInt64 = 100_000_000_000

    /// The text is not a rate, or the rate is out of range.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        /// The text that was given.
        public var input: String
        /// What is wrong with it.
        public var reason: String
        public var description: String {
            "invalid rate \"\(input)\": \(reason). \(BandwidthRate.acceptedForms)"
        }
    }

    static let acceptedForms = "Accepted: tc units such as \"50mbit\", \"1.5gbit\", \"12mbps\" (bytes/s), "
        + "Kubernetes quantities such as \"50M\", \"1G\", \"10Mi\", or a plain number of bit/s; "
        + "from 1Mbit/s to 100Gbit/s"

    /// tc(8) units, matched case-insensitively: multiplier to bit/s.
    private static let tcUnits: [String: Double] = {
        var u: [String: Double] = [:]
        let decimal: [(String, Double)] = [("", 1), ("k", 1e3), ("m", 1e6), ("g", 1e9), ("t", 1e12)]
        let binary: [(String, Double)] = [("ki", 1024), ("mi", 1_048_576), ("gi", 1_073_741_824), ("ti", 1_099_511_627_776)]
        for (prefix, factor) in decimal + binary {
            u[prefix + "bit"] = factor
            u[prefix + "bps"] = factor * 8  // tc: bps = bytes per second
        }
        return u
    }()

    /// Kubernetes quantity suffixes, matched case-sensitively: multiplier to bit/s.
    private static let quantitySuffixes: [String: Double] = [
        "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
        "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776,
        "Pi": 1_125_899_906_842_624, "Ei": 1_152_921_504_606_846_976,
    ]

    /// A rate from a number of bit/s.
    /// - Throws: `ParseError` outside 1 Mbit/s … 100 Gbit/s.
    public init(bitsPerSecond: UInt64) throws {
        guard bitsPerSecond >= Self.minimum && bitsPerSecond <= Self.maximum else {
            throw ParseError(input: String(bitsPerSecond),
                             reason: "\(Self.render(bitsPerSecond)) is outside 1Mbit/s to 100Gbit/s")
        }
        self.bitsPerSecond = bitsPerSecond
    }

    /// Parses any of the accepted forms (see the file comment).
    public init(parsing input: String) throws {
        func fail(_ reason: String) -> ParseError { ParseError(input: input, reason: reason) }
        var text = Substring(input)
        if text.lowercased().hasSuffix("bit/s") { text = text.dropLast(2) }

        let numberText = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = String(text.dropFirst(numberText.count))
        guard !numberText.isEmpty else {
            throw fail(input.isEmpty ? "empty" : "expected a number first")
        }
        guard numberText.filter({ $0 == "." }).count <= 1, numberText.contains(where: { $0 != "." }),
              let number = Double(numberText.hasPrefix(".") ? "0" + numberText : String(numberText))
        else {
            throw fail("\"\(numberText)\" is not a number")
        }

        let factor: Double
        if unit.isEmpty {
            factor = 1
        } else if let f = Self.quantitySuffixes[unit] {
            factor = f
        } else if let f = Self.tcUnits[unit.lowercased()] {
            factor = f
        } else if unit == "m" {
            throw fail("in a Kubernetes quantity \"m\" means milli (\(numberText)m = \(numberText)/1000 bit/s); "
                + "write \"\(numberText)M\" or \"\(numberText)mbit\" for megabits per second")
        } else if unit == "K" {
            throw fail("\"K\" is not a unit; write \"\(numberText)k\" or \"\(numberText)kbit\" for kilobits per second")
        } else {
            throw fail("unknown unit \"\(unit)\"")
        }

        let bits = (number * factor).rounded()
        guard bits >= Double(Self.minimum) && bits <= Double(Self.maximum) else {
            let shown = bits < 1e15 ? Self.render(UInt64(bits)) : "\(bits)bit/s"
            throw fail("\(shown) is outside 1Mbit/s to 100Gbit/s")
        }
        self.bitsPerSecond = UInt64(bits)
    }

    /// Bytes per second (rounded down), the unit the EDT program computes departure times in.
    public var bytesPerSecond: UInt64 { bitsPerSecond / 8 }

    /// E.g. "50Mbit/s", "1.5Gbit/s", "800kbit/s".
    public var description: String { Self.render(bitsPerSecond) }

    private static func render(_ bits: UInt64) -> String {
        let units: [(String, UInt64)] = [("Gbit/s", 1_000_000_000), ("Mbit/s", 1_000_000), ("kbit/s", 1000)]
        for (name, size) in units where bits >= size {
            if bits % size == 0 { return "\(bits / size)\(name)" }
            return "\(Double(bits) / Double(size))\(name)"
        }
        return "\(bits)bit/s"
    }

    public static func < (a: BandwidthRate, b: BandwidthRate) -> Bool { a.bitsPerSecond < b.bitsPerSecond }

    /// Encoded as its text form ("50Mbit/s"); decoded from any accepted form.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch let e as ParseError {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: e.description)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
