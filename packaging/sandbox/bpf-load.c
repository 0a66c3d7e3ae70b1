/* bpf-load: load and attach every program of the given BPF objects, print one line per
 * program, exit 0 if every object loaded and all its loaded programs attached.
 * tests/e2e/test_packaging.sh runs it once with full root and once with only the capability
 * bounding set of the packaged wxguard.service (setpriv): the same programs must load and
 * attach both times. Like the agent's ladder (agent/watch/watch_load.c), an object whose LSM or
 * tracing (fentry, kprobe) programs cannot load or attach (no BPF LSM, no fentry or kprobes,
 * lockdown) is retried with the raw-tracepoint rung alone. */
#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

/* The rungs above raw tracepoints: BPF LSM and tracing programs. */
static bool above_raw_tp(const char *sec)
{
	static const char *const prefixes[] = { "lsm", "fentry", "fexit", "kprobe", "kretprobe" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(sec, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static int load_one(const char *path, bool with_lsm)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	int r, failed = 0;

	if (!obj) {
		fprintf(stderr, "%s: cannot open\n", path);
		return -1;
	}
	if (!with_lsm)
		bpf_object__for_each_program(prog,
					     obj) if (above_raw_tp(bpf_program__section_name(prog)))
			bpf_program__set_autoload(prog, false);
	r = bpf_object__load(obj);
	if (r < 0) {
		fprintf(stderr, "%s: load failed%s: %s\n", path,
			with_lsm ? "" : " (raw tracepoints only)", strerror(-r));
		bpf_object__close(obj);
		return r;
	}
	bpf_object__for_each_program(prog, obj)
	{
		struct bpf_link *link;

		if (!bpf_program__autoload(prog)) {
			printf("%s: %s: not loaded (rung unavailable)\n", path,
			       bpf_program__name(prog));
			continue;
		}
		link = bpf_program__attach(prog);
		if (!link) {
			printf("%s: %s: attach FAILED\n", path, bpf_program__name(prog));
			failed = 1;
			continue;
		}
		printf("%s: %s: loaded and attached\n", path, bpf_program__name(prog));
		bpf_link__destroy(link);
	}
	bpf_object__close(obj);
	return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
	int failed = 0;

	libbpf_set_print(print_fn);
	for (int i = 1; i < argc; i++) {
		if (load_one(argv[i], true) == 0)
			continue;
		fprintf(stderr, "%s: retrying with raw tracepoints only\n", argv[i]);
		if (load_one(argv[i], false) < 0)
			failed = 1;
	}
	return failed;
}
