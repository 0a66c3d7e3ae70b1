/* Replay a libFuzzer corpus without libFuzzer: every file (or every file in every directory)
 * named on the command line is fed to LLVMFuzzerTestOneInput once. A crash or sanitizer
 * report aborts the run; otherwise it prints "N passed, 0 failed". */
#include <dirent.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	char *buf;
	size_t len;

	if (read_full_file(path, 64u * 1024 * 1024, &buf, &len) < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent *de;
		DIR *d;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "no such corpus: %s\n", argv[i]);
			failed++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			replay_file(argv[i]) == 0 ? passed++ : failed++;
			continue;
		}
		d = opendir(argv[i]);
		while (d && (de = readdir(d))) {
			char p[PATH_MAX];

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
			replay_file(p) == 0 ? passed++ : failed++;
		}
		if (d)
			closedir(d);
	}
	if (passed + failed == 0)
		failed = 1, fprintf(stderr, "empty corpus\n");
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
