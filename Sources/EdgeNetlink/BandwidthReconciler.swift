import Glibc

/// What `ensureMQFQ` did.
public enum ReconcileResult: Equatable, Sendable {
    /// The device already had the wished layout; nothing was sent.
    case unchanged
    /// mq at the root (with `handle`) and fq under each of `queues` TX queues.
    case appliedMQ(handle: TCHandle, queues: Int, changedQueues: Int)
    /// A single root fq, because mq could not be used; `reason` says why.
    case appliedSingleFQ(reason: String)
}

/// Shaping prerequisites the kernel lacks. Thrown instead of a bare netlink error so the agent
/// can say what to install and keep running.
public enum ShapingSetupError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A qdisc kind is not available (module name, how to get it).
    case featureMissing(String, hint: String)
    /// mq could not be used (`fallbackReason`), and the single root fq tried in its place needs
    /// a feature the kernel lacks.
    case fallbackFeatureMissing(String, hint: String, fallbackReason: String)

    public var description: String {
        switch self {
        case .featureMissing(let feature, let hint): return "\(feature) is not available in this kernel: \(hint)"
        case let .fallbackFeatureMissing(feature, hint, reason):
            return "\(feature) is not available in this kernel: \(hint); it was needed for a single root fq, "
                + "the fallback because \(reason)"
        }
    }

    /// Why mq was not used, when the error came from the single-root-fq fallback.
    public var fallbackReason: String? {
        if case .fallbackFeatureMissing(_, _, let reason) = self { return reason }
        return nil
    }
}

extension NetlinkSocket {
    /// Makes `device` use mq at the root with fq (configured with `fqOptions`) under each TX
    /// queue, as EDT pacing needs, in the style of cilium's bandwidth manager: read what is
    /// there, return `.unchanged` when it already satisfies the wish, otherwise replace.
    ///
    /// - A device mq cannot serve (single TX queue: EOPNOTSUPP; or no sch_mq) gets one root fq
    ///   instead, and the result says why.
    /// - If the kernel has no sch_fq, throws `ShapingSetupError.featureMissing("sch_fq", ...)`
    ///   after putting the device's previous root tree back (`.fallbackFeatureMissing` with the
    ///   reason when it was the single-root-fq fallback that needed it).
    public func ensureMQFQ(device: NetworkDevice, fqOptions: FQOptions) throws -> ReconcileResult {
        let link = try resolve(device)
        let before = try snapshotRoot(device: .index(link.index))
        let qdiscs = try listQdiscs(ifindex: link.index)
        let root = qdiscs.first(where: \.isRoot)
        let queueCount = Int(max(1, link.numTxQueues))

        if let root, root.kind == MQQdisc.kind, !root.isKernelDefault,
           mismatchedQueues(qdiscs, mqHandle: root.handle, queues: queueCount, fqOptions: fqOptions).isEmpty {
            return .unchanged
        }

        // Step 1: an mq root we created (kernel-default mq has handle 0: and cannot parent our
        // children reliably, and an existing mq cannot be "changed", only reused).
        var mqHandle: TCHandle
        if let root, root.kind == MQQdisc.kind, !root.isKernelDefault {
            mqHandle = root.handle
        } else {
            let preferred = TCHandle.qdisc(1)
            let handleFree = !qdiscs.contains { $0.handle.major == preferred.major }
            do {
                try qdisc(.replace, .mq, on: .index(link.index), parent: .root,
                          handle: handleFree ? preferred : .unspecified)
            } catch let error as NetlinkError where error.errno == EOPNOTSUPP || error.isUnknownKind {
                let reason = error.errno == EOPNOTSUPP
                    ? "mq needs a multi-queue device; \(link.name) has \(link.numTxQueues) TX queue(s) (\(error))"
                    : "the kernel has no sch_mq (\(error))"
                return try ensureSingleRootFQ(link: link, fqOptions: fqOptions, reason: reason, before: before)
            }
            guard let created = try listQdiscs(ifindex: link.index).first(where: { $0.isRoot && $0.kind == MQQdisc.kind }) else {
                throw NetlinkParseError("ensureMQFQ on \(link.name)", "mq was accepted but is not the root afterwards")
            }
            mqHandle = created.handle
        }

        // Step 2: fq under every queue that does not already have a matching one.
        let current = try listQdiscs(ifindex: link.index)
        let queues = mismatchedQueues(current, mqHandle: mqHandle, queues: queueCount, fqOptions: fqOptions)
        do {
            for queue in queues {
                try qdisc(.replace, .fq(fqOptions), on: .index(link.index),
                          parent: TCHandle(major: mqHandle.major, minor: queue), handle: .unspecified)
            }
        } catch let error as NetlinkError {
            try? restore(before)
            throw Self.featureError(error) ?? error
        }
        return .appliedMQ(handle: mqHandle, queues: queueCount, changedQueues: queues.count)
    }

    /// Fallback when mq is not possible: one fq at the root.
    private func ensureSingleRootFQ(link: Link, fqOptions: FQOptions, reason: String,
                                    before: QdiscSnapshot) throws -> ReconcileResult {
        if let root = before.root, case .fq(let options) = root.options, options.satisfies(fqOptions) {
            return .unchanged
        }
        do {
            // Unspecified handle: a same-kind root has its options changed, another kind is
            // swapped out (a fixed handle equal to the old root's would be refused as a rename).
            try qdisc(.replace, .fq(fqOptions), on: .index(link.index), parent: .root, handle: .unspecified)
        } catch let error as NetlinkError {
            guard case .featureMissing(let feature, let hint)? = Self.featureError(error) else { throw error }
            throw ShapingSetupError.fallbackFeatureMissing(feature, hint: hint, fallbackReason: reason)
        }
        return .appliedSingleFQ(reason: reason)
    }

    /// TX queue numbers (1-based, the mq class minors) whose child is not a matching fq.
    private func mismatchedQueues(_ qdiscs: [Qdisc], mqHandle: TCHandle, queues: Int, fqOptions: FQOptions) -> [UInt16] {
        (1...queues).map(UInt16.init).filter { queue in
            let parent = TCHandle(major: mqHandle.major, minor: queue)
            guard let child = qdiscs.first(where: { $0.parent == parent }), case .fq(let options) = child.options else {
                return true
            }
            return !options.satisfies(fqOptions)
        }
    }

    private static func featureError(_ error: NetlinkError) -> ShapingSetupError? {
        guard error.isUnknownKind else { return nil }
        return .featureMissing("sch_fq", hint: "load module sch_fq (CONFIG_NET_SCH_FQ)")
    }
}
