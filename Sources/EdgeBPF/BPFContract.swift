// The types and limits of bpf/*.h that the agent uses, re-exported one by one from CEdgeShim
// (which includes the very headers the BPF C is built from), so that the agent gets the data
// types without the shim's functions.
@_exported import struct CEdgeShim.edt_class
@_exported import struct CEdgeShim.edt_class_meta
@_exported import struct CEdgeShim.edt_config
@_exported import struct CEdgeShim.edt_prefix_key
@_exported import struct CEdgeShim.edge_peer_hist
@_exported import struct CEdgeShim.edge_peer_key
@_exported import var CEdgeShim.EDGE_MAX_DROP_REASONS
@_exported import var CEdgeShim.EDT_DEFAULT_MARK_MASK
@_exported import var CEdgeShim.EDT_F_ECN
@_exported import var CEdgeShim.EDT_MAX_CLASSES
@_exported import var CEdgeShim.EDT_PREFIX_IPV6_ONLY
@_exported import var CEdgeShim.EDT_SELECTOR_LEN
