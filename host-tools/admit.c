/* SPDX-License-Identifier: MIT */
#include "admit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "validate.h"
#include "measure/initrd.h"
#include "measure/companion.h"

#define REFUSED_DIR "/run/sysext-stub/refused"
#define CMDLINE_KEY "sysext-stub.admit="

/* Where systemd-stub and sysext-stub put extensions, and what systemd-sysext/-confext take from each. */
static const struct {
	const char *dir;
	enum extension_class cls;
} dirs[] = {
	{ "/" SYSEXT_PREFIX, EXTENSION_SYSEXT },
	{ "/" SYSEXT_GLOBAL_PREFIX, EXTENSION_SYSEXT },
	/* measure/companion.c's confext archives (ours and systemd-stub's). */
	{ "/" INITRD_EXTRA_PREFIX "/confext", EXTENSION_CONFEXT },
	{ "/" INITRD_EXTRA_PREFIX "/global_confext", EXTENSION_CONFEXT },
};

struct admit {
	const char *root;     /* "" for the real root */
	const char *cmdline;  /* the kernel command line file */
	bool strict;
	unsigned threads;
	unsigned admitted, refused, failed;
};

/* One line to stderr; with a syslog priority prefix when stderr is the journal (sd-daemon(3)). */
static void logf_(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(int prio, const char *fmt, ...)
{
	va_list ap;

	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>", prio);
	fputs("sysext-stub-admit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* sysext-stub.admit=strict on the kernel command line (the last such word counts). */
static void read_mode(struct admit *a)
{
	uint8_t *buf = NULL;
	size_t len;
	const char *value = NULL;
	int fd = open(a->cmdline, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read_fd_to_end(fd, a->cmdline, 1 << 20, 0, &buf, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return; /* no command line: the default */
	}
	close(fd);
	for (char *w = strtok((char *)buf, " \t\n"); w; w = strtok(NULL, " \t\n"))
		if (strncmp(w, CMDLINE_KEY, strlen(CMDLINE_KEY)) == 0)
			value = w + strlen(CMDLINE_KEY);
	if (value && strcmp(value, "strict") == 0)
		a->strict = true;
	else if (value && strcmp(value, "default") != 0)
		logf_(4, "%s%s: unknown value, admitting the good images (the default)", CMDLINE_KEY, value);
	free(buf);
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, r = -1;
	char buf[1 << 16];
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (out < 0)
		goto done;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		for (ssize_t o = 0; o < n;) {
			ssize_t w = write(out, buf + o, (size_t)(n - o));

			if (w < 0)
				goto done;
			o += w;
		}
	r = n == 0 ? 0 : -1;
done:
	if (out >= 0 && close(out) < 0)
		r = -1;
	if (r < 0 && out >= 0)
		unlink(to);
	close(in);
	return r;
}

/* Move @path to the refused directory for @dir (a tmpfs of its own: rename, else copy and remove). */
static int move_away(struct admit *a, const char *dir, const char *name, const char *path, char **ret_to)
{
	const char *sub = strrchr(dir, '/') + 1;
	char *base = NULL, *to = NULL;
	int r = -1;

	if (asprintf(&base, "%s%s/%s", a->root, REFUSED_DIR, sub) < 0 || asprintf(&to, "%s/%s", base, name) < 0)
		goto out;
	for (char *s = base + strlen(a->root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		(void)mkdir(base, 0755);
		*s = '/';
	}
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		goto out;
	if (rename(path, to) == 0 || (errno == EXDEV && copy_file(path, to) == 0 && unlink(path) == 0))
		r = 0;
out:
	free(base);
	if (r == 0)
		*ret_to = to;
	else
		free(to);
	return r;
}

static void handle(struct admit *a, struct validator *v, const char *dir, const char *name, enum extension_class cls)
{
	struct image_report rep;
	char *path = NULL, *to = NULL;

	if (asprintf(&path, "%s%s/%s", a->root, dir, name) < 0) {
		a->failed++;
		return;
	}
	validate_image(v, path, (int)cls, &rep);
	if (rep.verdict == VERDICT_OK) {
		a->admitted++;
	} else if (a->strict) {
		a->refused++;
		logf_(3, "%s/%s: %s: %s: %s (sysext-stub.admit=strict: refusing to boot)", dir, name,
		      rep.verdict == VERDICT_REFUSED ? "refused" : "cannot check", rep.check, rep.problem.text);
	} else if (move_away(a, dir, name, path, &to) == 0) {
		a->refused++;
		logf_(4, "%s/%s: %s: %s: %s; moved to %s", dir, name, rep.verdict == VERDICT_REFUSED ? "refused" : "cannot check",
		      rep.check, rep.problem.text, to + strlen(a->root));
	} else if (unlink(path) == 0) {
		a->refused++;
		logf_(3, "%s/%s: %s: %s; could not move it (%m), removed it", dir, name, rep.check, rep.problem.text);
	} else {
		a->failed++;
		logf_(3, "%s/%s: %s: %s; could neither move nor remove it (%m)", dir, name, rep.check, rep.problem.text);
	}
	image_report_free(&rep);
	free(to);
	free(path);
}

static int by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The images systemd-sysext would consider in one directory: regular files named *.raw, in name order. */
static void admit_dir(struct admit *a, struct validator *v, const char *dir, enum extension_class cls)
{
	char *full = NULL, **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (asprintf(&full, "%s%s", a->root, dir) < 0 || !(d = opendir(full))) {
		free(full);
		return;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char **nn;

		if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".raw") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			a->failed++;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		handle(a, v, dir, names[i], cls);
		free(names[i]);
	}
	free(names);
	free(full);
}

static int parse_args(int argc, char **argv, struct admit *a)
{
	enum { OPT_ROOT = 1, OPT_CMDLINE, OPT_STRICT, OPT_THREADS };
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT: a->root = strcmp(optarg, "/") == 0 ? "" : optarg; break;
		case OPT_CMDLINE: a->cmdline = optarg; break;
		case OPT_STRICT: a->strict = true; break;
		case OPT_THREADS:
			if (parse_uint(optarg, 64, &a->threads) < 0 || a->threads == 0)
				return errorf("--threads: '%s' is not 1..64", optarg);
			break;
		case 'h':
			fputs("Usage: sysext-stub admit [--strict] [--root DIR] [--cmdline FILE] [--threads N]\n\n"
			      "In the initrd, before systemd-sysext: validate every image in /.extra/sysext,\n"
			      "/.extra/global_sysext, /.extra/confext and /.extra/global_confext; move each refused one\n"
			      "to " REFUSED_DIR "/<dir>/ with one log line. --strict (or sysext-stub.admit=strict\n"
			      "in --cmdline, default /proc/cmdline): fail instead, so the boot stops.\n",
			      stdout);
			return 1;
		default:
			return errorf("try 'sysext-stub admit --help'");
		}
	}
	if (optind < argc)
		return errorf("unexpected argument '%s'", argv[optind]);
	return 0;
}

int cmd_admit(int argc, char **argv)
{
	struct admit a = { .root = "", .cmdline = "/proc/cmdline" };
	struct validate_options o = { .os_release = "auto", .cls = -1, .scope = "initrd" };
	struct validator *v;
	int r = parse_args(argc, argv, &a);

	if (r != 0)
		return r == 1 ? 0 : 2;
	if (!a.strict)
		read_mode(&a);
	o.root = a.root;
	o.threads = a.threads;
	v = validator_new(&o);
	if (!v) {
		logf_(3, "cannot validate (see above)%s", a.strict ? "; sysext-stub.admit=strict: refusing to boot" : "");
		return a.strict ? 1 : 0;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		admit_dir(&a, v, dirs[i].dir, dirs[i].cls);
	validator_free(v);
	if (a.admitted + a.refused + a.failed)
		logf_(6, "%u image(s) admitted, %u refused%s", a.admitted, a.refused, a.failed ? ", errors" : "");
	/* By default a bad image never stops the boot (it is logged); strict stops it for any. */
	return a.strict && (a.refused || a.failed) ? 1 : 0;
}
