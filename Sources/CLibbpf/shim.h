// The C boundary: CLibbpf. Only the thin wrapper targets import this module.
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
