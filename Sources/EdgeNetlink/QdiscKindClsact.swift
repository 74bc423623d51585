/// `clsact`: the hook point for tc BPF programs. It is not a root qdisc: it always sits at
/// parent `ffff:fff1` with handle `ffff:`, and exposes the ingress (`ffff:fff2`) and egress
/// (`ffff:fff3`) hooks filters attach to. It takes no options.
public enum ClsactQdisc {
    public static let kind = "clsact"
    public static let parent = TCHandle.clsactParent
    public static let handle = TCHandle.clsactHandle
}
