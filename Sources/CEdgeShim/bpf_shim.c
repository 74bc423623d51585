// Thin C over libbpf for what Swift cannot call directly. No policy here: every function maps
// one libbpf/kernel call and returns its result unchanged (negative errno or NULL + errno).
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "edge_bpf_shim.h"

struct bpf_object *edge_bpf_open_mem(const void *buf, size_t len, const char *name)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct bpf_object *obj = bpf_object__open_mem(buf, len, &opts);
	long err = libbpf_get_error(obj);

	if (err) {
		errno = (int)-err;
		return NULL;
	}
	return obj;
}

int edge_bpf_var_offset(struct bpf_object *obj, const char *section, const char *var,
			size_t *offset, size_t *size)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_type *sec;
	const struct btf_var_secinfo *vi;
	int id, i;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, section, BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vi = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vi++) {
		const struct btf_type *v = btf__type_by_id(btf, vi->type);
		if (strcmp(btf__name_by_offset(btf, v->name_off), var) == 0) {
			*offset = vi->offset;
			*size = vi->size;
			return 0;
		}
	}
	return -ENOENT;
}

// libbpf logs through a process-wide callback; keep the last 64 KiB so a failed load can say why.
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[65536];
static size_t log_len;
static int log_verbose;

static int log_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[4096];
	int n;

	if (level == LIBBPF_DEBUG && !log_verbose)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n <= 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	pthread_mutex_lock(&log_lock);
	if (log_len + (size_t)n >= sizeof(log_buf)) {
		// keep the tail: the verifier's verdict is at the end
		size_t drop = log_len + (size_t)n - sizeof(log_buf) + 1;
		if (drop > log_len)
			drop = log_len;
		memmove(log_buf, log_buf + drop, log_len - drop);
		log_len -= drop;
	}
	memcpy(log_buf + log_len, line, (size_t)n);
	log_len += (size_t)n;
	pthread_mutex_unlock(&log_lock);
	return n;
}

void edge_bpf_log_capture(int verbose)
{
	log_verbose = verbose;
	libbpf_set_print(log_cb);
}

size_t edge_bpf_log_take(char *buf, size_t cap)
{
	size_t n;

	if (cap == 0)
		return 0;
	pthread_mutex_lock(&log_lock);
	n = log_len < cap - 1 ? log_len : cap - 1;
	memcpy(buf, log_buf + (log_len - n), n);
	buf[n] = 0;
	log_len = 0;
	pthread_mutex_unlock(&log_lock);
	return n;
}

// loaded once: parsing vmlinux BTF costs ~10 ms and it never changes while we run
static struct btf *vmlinux_btf;
static pthread_once_t vmlinux_btf_once = PTHREAD_ONCE_INIT;

static void load_vmlinux_btf(void)
{
	vmlinux_btf = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux_btf))
		vmlinux_btf = NULL;
}

static struct btf *kernel_btf(void)
{
	pthread_once(&vmlinux_btf_once, load_vmlinux_btf);
	return vmlinux_btf;
}

int edge_btf_kernel_enum(const char *enum_name,
			 void (*cb)(void *ctx, int64_t value, const char *name), void *ctx)
{
	struct btf *btf = kernel_btf();
	const struct btf_type *t;
	int id, i;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	for (i = 0; i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;
		cb(ctx, e->val, btf__name_by_offset(btf, e->name_off));
	}
	return btf_vlen(t);
}

int edge_btf_kernel_has_type(const char *name)
{
	static const int kinds[] = { BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_ENUM,
				     BTF_KIND_TYPEDEF, BTF_KIND_FUNC };
	struct btf *btf = kernel_btf();
	size_t i;

	if (!btf)
		return 0;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (btf__find_by_name_kind(btf, name, kinds[i]) > 0)
			return 1;
	return 0;
}

int edge_btf_kernel_tracepoint_args(const char *tracepoint)
{
	char name[128];
	struct btf *btf = kernel_btf();
	const struct btf_type *t;
	int id;

	if (!btf)
		return -ENOENT;
	if (snprintf(name, sizeof(name), "btf_trace_%s", tracepoint) >= (int)sizeof(name))
		return -ENAMETOOLONG;
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -ENOENT;
	// typedef void (*btf_trace_X)(void *__data, args...): typedef -> pointer -> func proto
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -EINVAL;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -EINVAL;
	return btf_vlen(t) - 1;
}

int edge_bpf_prog_stats(int prog_fd, uint64_t *run_time_ns, uint64_t *run_cnt, uint32_t *id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int err;

	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	if (err)
		return -errno;
	*run_time_ns = info.run_time_ns;
	*run_cnt = info.run_cnt;
	*id = info.id;
	return 0;
}

int edge_bpf_test_run(int prog_fd, const void *data, uint32_t data_size, void *data_out,
		      uint32_t *data_out_size, void *ctx, uint32_t ctx_size, uint32_t *retval,
		      uint32_t repeat, uint32_t *duration_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = data, .data_size_in = data_size,
		    .data_out = data_out, .data_size_out = data_out_size ? *data_out_size : 0,
		    .ctx_in = ctx, .ctx_size_in = ctx_size,
		    .ctx_out = ctx, .ctx_size_out = ctx_size,
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err)
		return -errno;
	*retval = opts.retval;
	if (data_out_size)
		*data_out_size = opts.data_size_out;
	if (duration_ns)
		*duration_ns = opts.duration;
	return 0;
}
