// Umbrella header of the C shim. Each part keeps its own header; none of them includes
// libbpf/libmnl/systemd headers (those come from the system library modules, and a second
// textual include of them breaks clean builds).
#pragma once
#include "edge_bpf_shim.h"
#include "edge_nl_shim.h"
#include "edge_bpf_contract.h"
