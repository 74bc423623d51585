// The non-zero slots of one interval's histogram delta. A one-second RTT delta touches a handful of
// the 512 slots, so holding intervals in this form keeps a 30-interval window with hundreds of peers
// small (a dense histogram is 4 KiB), and adding/evicting an interval costs only its non-zero slots.

struct SparseSlotCounts: Sendable {
    private(set) var slots: [UInt16] = []
    private(set) var counts: [UInt64] = []
    /// Sum of `counts` (wrapping).
    private(set) var total: UInt64 = 0

    init(_ histogram: LogLinearHistogram) {
        for (s, c) in histogram.counts.enumerated() where c != 0 {
            slots.append(UInt16(s))
            counts.append(c)
            total = total &+ c
        }
    }

    var isEmpty: Bool { slots.isEmpty }

    /// Adds these counts into a dense histogram.
    func add(into histogram: inout LogLinearHistogram) {
        for i in slots.indices {
            histogram.add(count: counts[i], toSlot: Int(slots[i]))
        }
    }

    /// Removes these counts from a dense histogram they were earlier added to.
    func subtract(from histogram: inout LogLinearHistogram) {
        for i in slots.indices {
            histogram.subtract(count: counts[i], fromSlot: Int(slots[i]))
        }
    }
}
