// Two scratch network namespaces joined by a veth pair, for the shaping benchmark: traffic from
// the "tx" side to the "rx" side leaves through `txDevice`, the device that gets shaped.
// Set up with iproute2 (creating links is not the shaper's job), deleted on deinit. The netlink
// handle a Shaper of `txDevice` needs is in EdgeAgentLab (`txNetlink()`), so this stays plain.
import Foundation

public final class VethLab {
    public var txNamespace: String { tx.name }
    public var rxNamespace: String { rx.name }
    public let txDevice = "veth-tx"
    public let rxDevice = "veth-rx"
    public let txAddress = "10.203.0.1"
    public let rxAddress = "10.203.0.2"
    private let tx: ScratchNetns
    private let rx: ScratchNetns

    /// Creates the namespaces and a veth pair with `queues` TX/RX queues on each end.
    public init(prefix: String = "edgelab", queues: Int = 4) throws {
        let tag = UInt32.random(in: 0...UInt32.max)
        tx = try ScratchNetns(named: "\(prefix)-\(tag)-tx")
        rx = try ScratchNetns(named: "\(prefix)-\(tag)-rx")
        try Veth.add(VethEnd(txDevice, in: tx.name, address: txAddress + "/24"),
                     VethEnd(rxDevice, in: rx.name, address: rxAddress + "/24"), queues: queues)
    }
}
