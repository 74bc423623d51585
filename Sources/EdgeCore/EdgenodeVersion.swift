// The version every edgenode binary reports; packaging overrides it at build time with
// -Xswiftc -DEDGENODE_VERSION_… only through this one constant.
public enum EdgenodeVersion {
    public static let current = "0.1.0"
}
