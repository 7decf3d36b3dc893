/* SPDX-License-Identifier: MIT */
/*
 * replay.c - run a fuzz target once on every input of a corpus, without
 * libFuzzer (so gcc + ASan/UBSan builds of the targets run in `make check`).
 *
 *   fuzz-replay-NAME PATH...
 *
 * Each PATH is a file or a directory of files (not recursed into; names
 * starting with '.' are skipped). Every
 * input is read into a heap buffer of exactly its size, so an overread is
 * caught. Fails if no PATH is given, if a directory holds no input, or if a
 * path cannot be read; a crash in the target aborts the run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read @path into a malloc()ed buffer of exactly its size (1 byte if empty). */
static int read_input(const char *path, uint8_t **ret, size_t *ret_size)
{
	FILE *f;
	uint8_t *buf = NULL;
	size_t size = 0;
	int ok = 0;
	long n;

	errno = 0;
	f = fopen(path, "rb");
	if (!f)
		return 0;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		size = (size_t)n;
		buf = malloc(size ? size : 1);
		ok = buf && fread(buf, 1, size, f) == size;
	}
	fclose(f);
	if (!ok) {
		free(buf);
		return 0;
	}
	*ret = buf;
	*ret_size = size;
	return 1;
}

static int run_file(const char *path)
{
	uint8_t *buf;
	size_t size;

	if (!read_input(path, &buf, &size)) {
		fprintf(stderr, "replay: %s: cannot read: %s\n", path, strerror(errno ? errno : EIO));
		return 0;
	}
	LLVMFuzzerTestOneInput(buf, size);
	free(buf);
	return 1;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Run every regular file in @dir; return how many ran, or -1 on error. */
static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long ran = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char path[4096];

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", dir, e->d_name);
			ran = -1;
			break;
		}
		if (!is_regular(path))
			continue;
		if (!run_file(path)) {
			ran = -1;
			break;
		}
		ran++;
	}
	closedir(d);
	return ran;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR-OR-FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (is_dir(argv[i])) {
			long n = run_dir(argv[i]);

			if (n < 0)
				return 1;
			if (n == 0) {
				fprintf(stderr, "replay: %s: no inputs in the directory\n", argv[i]);
				return 1;
			}
			total += n;
		} else {
			if (!run_file(argv[i]))
				return 1;
			total++;
		}
	}
	printf("%s: %ld inputs ran\n", argv[0], total);
	return 0;
}
