// libbpf pieces Swift cannot import (LIBBPF_OPTS, va_list callbacks, inline BTF accessors) and
// the BPF objects embedded into the binary. Forward declarations only: <bpf/libbpf.h> is
// imported by Swift through the CLibbpf module and must not be included here a second time.
#pragma once
#include <stddef.h>
#include <stdint.h>

struct bpf_object;

/// The embedded ELF object called `name` ("telemetry", "edt"), or NULL if there is none.
const unsigned char *edge_bpf_embedded_object(const char *name, size_t *len);

/// bpf_object__open_mem with an object name. NULL with errno set on failure.
struct bpf_object *edge_bpf_open_mem(const void *buf, size_t len, const char *name);

/// Offset and size of a global variable in the object's `section` (".rodata", ".bss"), found
/// through the object's BTF. 0 on success, -ENOENT if absent.
int edge_bpf_var_offset(struct bpf_object *obj, const char *section, const char *var,
                        size_t *offset, size_t *size);

/// Route libbpf's log lines (warnings, verifier output) into an in-process ring that
/// edge_bpf_log_take() drains; debug lines are kept only when `verbose` is set.
void edge_bpf_log_capture(int verbose);
/// Copies the captured log (NUL-terminated, truncated to cap) and clears it. Returns its length.
size_t edge_bpf_log_take(char *buf, size_t cap);

/// Calls `cb` for every enumerator of the kernel's `enum enum_name` (from vmlinux BTF).
/// Returns the number of enumerators, or a negative errno.
int edge_btf_kernel_enum(const char *enum_name,
                         void (*cb)(void *ctx, int64_t value, const char *name), void *ctx);

/// Whether the kernel's BTF has a struct/union/enum/typedef/func of this name (for probing).
int edge_btf_kernel_has_type(const char *name);

/// How many arguments tp_btf programs on `tracepoint` get (the params of the kernel's
/// btf_trace_<tracepoint> prototype after its __data pointer), or a negative errno.
int edge_btf_kernel_tracepoint_args(const char *tracepoint);

/// Cumulative run time and run count of a program (needs kernel.bpf_stats_enabled=1).
int edge_bpf_prog_stats(int prog_fd, uint64_t *run_time_ns, uint64_t *run_cnt, uint32_t *id);

/// BPF_PROG_TEST_RUN: run `prog_fd` on `data` (a packet) with an optional __sk_buff context.
int edge_bpf_test_run(int prog_fd, const void *data, uint32_t data_size, void *data_out,
                      uint32_t *data_out_size, void *ctx, uint32_t ctx_size, uint32_t *retval,
                      uint32_t repeat, uint32_t *duration_ns);

