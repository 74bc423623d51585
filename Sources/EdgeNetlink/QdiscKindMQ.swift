/// `mq`: the multi-queue root. It takes no options; the kernel creates one class per TX queue
/// (`H:1` … `H:N`) with a default child qdisc on each, which we replace with `fq`.
/// Adding it to a single-queue device fails with EOPNOTSUPP.
public enum MQQdisc {
    public static let kind = "mq"
}
