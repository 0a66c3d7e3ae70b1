/* agent/watch/watch_btf.c: where the kernel's BTF is found, in order, and what is passed over. Real
 * files in a temporary root: BTF blobs generated with libbpf, an ELF with a .BTF section (the
 * watcher's own BPF object), an ELF without one, an empty file, a missing directory. */
#include "testlib.h"

#include <bpf/btf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/watch/watch_btf.h"
#include "common/fileio.h"

#define REL "5.10.0-99-test"

struct fx {
	char *dir;
	struct sysroot *sr;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = wxg_test_mkdtemp();
	assert_int_equal(sysroot_new(f->dir, &f->sr), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sysroot_free(f->sr);
	wxg_test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static const char *at(struct fx *f, const char *abs)
{
	static char buf[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", f->dir, abs);
	return buf[i];
}

/* A raw BTF blob: with a struct task_struct (a kernel's) or without (not a kernel's). */
static void write_btf(struct fx *f, const char *abs, bool kernel)
{
	struct btf *btf = btf__new_empty();
	const void *data;
	__u32 size;
	int id;

	assert_non_null(btf);
	id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	assert_true(id > 0);
	assert_true(btf__add_struct(btf, kernel ? "task_struct" : "something_else", 4) > 0);
	assert_int_equal(btf__add_field(btf, "pid", id, 0, 0), 0);
	data = btf__raw_data(btf, &size);
	assert_non_null(data);
	wxg_test_write(at(f, abs), ""); /* parent directories */
	assert_int_equal(write_file_atomic(at(f, abs), data, size, 0644), 0);
	btf__free(btf);
}

static void copy_to(struct fx *f, const char *src, const char *abs)
{
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(read_full_file(src, 64 << 20, &data, &len), 0);
	wxg_test_write(at(f, abs), "");
	assert_int_equal(write_file_atomic(at(f, abs), data, len, 0644), 0);
	free(data);
}

static void test_watch_btf_kernel_own_comes_first_and_needs_no_custom_path(void **state)
{
	struct fx *f = *state;
	struct watch_btf b;

	write_btf(f, "/sys/kernel/btf/vmlinux", true);
	write_btf(f, "/usr/lib/wxguard/btf/" REL ".btf", true);
	assert_int_equal(watch_btf_find(f->sr, REL, &b), 0);
	assert_int_equal(b.source, WATCH_BTF_KERNEL);
	assert_string_equal(b.path, at(f, "/sys/kernel/btf/vmlinux"));
	assert_null(watch_btf_custom_path(&b));
	assert_string_equal(watch_btf_source_to_string(b.source), "kernel");
}

static void test_watch_btf_empty_sysfs_file_and_elf_without_btf_are_passed_over(void **state)
{
	struct fx *f = *state;
	char self[PATH_MAX], obj[PATH_MAX];
	struct watch_btf b;
	ssize_t n;

	/* /dev/null bind-mounted over the kernel's: empty; a vmlinux stripped of its .BTF. */
	wxg_test_write(at(f, "/sys/kernel/btf/vmlinux"), "");
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = 0;
	copy_to(f, self, "/boot/vmlinux-" REL);
	/* an ELF with a .BTF section that describes task_struct: the watcher's own BPF object */
	snprintf(obj, sizeof(obj), "%s/bpf/watch.bpf.o", wxg_test_build_dir());
	copy_to(f, obj, "/lib/modules/" REL "/build/vmlinux");
	write_btf(f, "/usr/lib/wxguard/btf/" REL ".btf", true);

	assert_int_equal(watch_btf_find(f->sr, REL, &b), 0);
	assert_int_equal(b.source, WATCH_BTF_VMLINUX);
	assert_string_equal(b.path, at(f, "/lib/modules/" REL "/build/vmlinux"));
	assert_string_equal(watch_btf_custom_path(&b), b.path);
	assert_string_equal(b.looked,
			    "/sys/kernel/btf/vmlinux, /boot/vmlinux-" REL ", /lib/modules/" REL
			    "/vmlinux, /lib/modules/" REL "/build/vmlinux");
}

static void test_watch_btf_shipped_file_is_the_last_resort(void **state)
{
	struct fx *f = *state;
	struct watch_btf b;

	/* a BTF that is not a kernel's (no task_struct), then the shipped one */
	write_btf(f, "/boot/vmlinux-" REL, false);
	write_btf(f, "/usr/lib/wxguard/btf/" REL ".btf", true);
	write_btf(f, "/usr/lib/wxguard/btf/5.4.0-1-other.btf", true);
	assert_int_equal(watch_btf_find(f->sr, REL, &b), 0);
	assert_int_equal(b.source, WATCH_BTF_SHIPPED);
	assert_string_equal(b.path, at(f, "/usr/lib/wxguard/btf/" REL ".btf"));
	assert_string_equal(watch_btf_source_to_string(b.source), "shipped");
}

static void test_watch_btf_none_says_where_it_looked(void **state)
{
	struct fx *f = *state;
	struct watch_btf b;
	char why[1024];

	/* nothing at all: no /sys, no /boot, no shipped directory; another release's file */
	write_btf(f, "/usr/lib/wxguard/btf/5.4.0-1-other.btf", true);
	assert_int_equal(watch_btf_find(f->sr, REL, &b), -ENOENT);
	assert_int_equal(b.source, WATCH_BTF_NONE);
	assert_string_equal(b.path, "");
	assert_null(watch_btf_custom_path(&b));
	assert_false(watch_kernel_bpf_usable(&b, NULL, REL, why, sizeof(why)));
	assert_string_equal(why,
			    "kernel " REL " has no BTF (looked in: /sys/kernel/btf/vmlinux, "
			    "/boot/vmlinux-" REL ", /lib/modules/" REL "/vmlinux, /lib/modules/" REL
			    "/build/vmlinux, /usr/lib/wxguard/btf/" REL ".btf)");
}

static void test_watch_btf_no_ring_buffer_is_unusable_whatever_the_btf(void **state)
{
	struct fx *f = *state;
	struct watch_kernel_features feat = { .bpf = true, .ringbuf = false };
	struct watch_btf b;
	char why[256];

	write_btf(f, "/sys/kernel/btf/vmlinux", true);
	assert_int_equal(watch_btf_find(f->sr, "4.19.90-test", &b), 0);
	assert_false(watch_kernel_bpf_usable(&b, &feat, "4.19.90-test", why, sizeof(why)));
	assert_string_equal(why, "kernel 4.19.90-test has no BPF ring buffer (5.8 and later)");
	feat.ringbuf = true;
	assert_true(watch_kernel_bpf_usable(&b, &feat, "4.19.90-test", why, sizeof(why)));
}

static void test_watch_btf_refused_bpf_is_not_taken_for_an_old_kernel(void **state)
{
	struct fx *f = *state;
	struct watch_kernel_features feat = { .bpf = false, .ringbuf = false };
	struct watch_btf b;
	char why[256];

	write_btf(f, "/sys/kernel/btf/vmlinux", true);
	assert_int_equal(watch_btf_find(f->sr, "6.1.0-test", &b), 0);
	assert_false(watch_kernel_bpf_usable(&b, &feat, "6.1.0-test", why, sizeof(why)));
	assert_string_equal(
		why, "bpf() is refused here (no CAP_BPF, kernel lockdown or a system call filter)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_watch_btf_kernel_own_comes_first_and_needs_no_custom_path, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_btf_empty_sysfs_file_and_elf_without_btf_are_passed_over, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_btf_refused_bpf_is_not_taken_for_an_old_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_btf_shipped_file_is_the_last_resort,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_btf_none_says_where_it_looked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_btf_no_ring_buffer_is_unusable_whatever_the_btf, setup,
			teardown),
	};
	return cmocka_run_group_tests_name("watch_btf", tests, NULL, NULL);
}
