// The BPF objects, embedded with C23 #embed: the agent is one self-contained binary, and a
// compiled-in byte array keeps swiftc out of it (a Swift array literal of ~50 KB is very slow).
// `make bpf` compiles bpf/*.bpf.c into bpfobj/ before `swift build`.
#include <string.h>
#include "edge_bpf_shim.h"

#if !__has_embed("bpfobj/telemetry.bpf.o")
#error "BPF objects missing: run `make bpf` (compiles bpf/*.bpf.c into Sources/CEdgeShim/bpfobj/)"
#endif

// libelf reads the ELF headers in place: keep them aligned.
static const unsigned char telemetry_obj[] __attribute__((aligned(8))) = {
#embed "bpfobj/telemetry.bpf.o"
};

#if __has_embed("bpfobj/edt.bpf.o")
static const unsigned char edt_obj[] __attribute__((aligned(8))) = {
#embed "bpfobj/edt.bpf.o"
};
#define EDGE_HAVE_EDT 1
#endif

const unsigned char *edge_bpf_embedded_object(const char *name, size_t *len)
{
	if (strcmp(name, "telemetry") == 0) {
		*len = sizeof(telemetry_obj);
		return telemetry_obj;
	}
#ifdef EDGE_HAVE_EDT
	if (strcmp(name, "edt") == 0) {
		*len = sizeof(edt_obj);
		return edt_obj;
	}
#endif
	*len = 0;
	return NULL;
}
