/* SPDX-License-Identifier: MIT */
/*
 * eventlog.c - `sysext-stub eventlog`: replay a TCG2 event log per bank and
 * PCR (eventlog-replay.h), compare the result with the TPM's PCRs or with
 * values given on the command line (a PCR matches as the log replays it, or
 * with what systemd's userspace extends after the log on top: PCR 11's boot
 * phases, PCR 13's os-separator; userspace-extends.h), check the log
 * against a prediction in the JSON shape `sysext-stub predict --json`
 * prints (eventlog-expect.h), and report it all (eventlog-report.h).
 *
 * Exit status: 0 when everything compared matches, 1 on any mismatch, 2
 * with a one-line message naming the file when an input is unusable.
 */
#include "eventlog.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "digest.h"
#include "eventlog-components.h"
#include "eventlog-expect.h"
#include "eventlog-replay.h"
#include "eventlog-report.h"
#include "json-writer.h"
#include "userspace-extends.h"
#include "util.h"
#include "measure/uki.h"

#define DEFAULT_LOG "/sys/kernel/security/tpm0/binary_bios_measurements"
#define DEFAULT_TPM_DIR "/sys/class/tpm/tpm0"
#define LOG_SIZE_MAX ((size_t)16 << 20) /* real logs are tens of KiB */
#define PCR_FILE_MAX ((size_t)1024)

enum { EXIT_MATCH = 0, EXIT_MISMATCH = 1, EXIT_BAD_INPUT = 2 };

struct pcr_arg {
	size_t bank; /* index into banks[] */
	unsigned pcr;
	uint8_t value[DIGEST_MAX];
	const char *text;
};

struct options {
	const char *log_path;
	const char *tpm_dir;
	bool tpm_dir_given, no_pcr_values, json, verbose;
	struct pcr_arg *values;
	size_t n_values;
	unsigned bank_mask; /* --bank: bit i selects banks[i]; 0: every bank the log has */
	uint32_t pcr_mask;  /* --pcr: bit n selects PCR n; 0: every PCR the log extends */
	const char *expect_path;
	bool profile_given; /* --profile: check the --expect entries of that UKI profile */
	uint32_t profile;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sysext-stub eventlog [options]\n"
		"Replay a TPM2 event log per bank and PCR and compare it with the TPM's PCRs or with\n"
		"a prediction (sysext-stub predict --json).\n\n"
		"  --log FILE              the event log (default " DEFAULT_LOG ")\n"
		"  --tpm-dir DIR           read actual PCRs from DIR/pcr-<bank>/<N>\n"
		"                          (default " DEFAULT_TPM_DIR ", when it exists)\n"
		"  --pcr-value BANK:N=HEX  an actual PCR value (repeatable; then no --tpm-dir is read)\n"
		"  --no-pcr-values         compare with no PCR values, only print the replay\n"
		"  --bank NAME             only this bank (repeatable; default: every bank in the log)\n"
		"  --pcr N                 only this PCR (repeatable; default: every PCR the log extends)\n"
		"  --expect FILE|DIR       check the log's events against a prediction, or against the\n"
		"                          systemd-pcrlock components in DIR (sysext-stub pcrlock --output)\n"
		"  --profile N             the UKI profile booted, when FILE predicts several\n"
		"  --json                  machine-readable output\n"
		"  --verbose               list every event\n\n"
		"A PCR value matches the replay, or the replay extended with leading words of what\n"
		"systemd's userspace adds after the log (the output names the words it took):\n"
		"  PCR 11  %s\n"
		"  PCR 13  %s\n\n"
		"Exit status: 0 everything compared matches, 1 a mismatch, 2 unusable input.\n",
		userspace_words(PCR_KERNEL_IMAGE), userspace_words(PCR_SYSEXTS));
}

/* The bank called exactly @name (as the log, sysfs and systemd spell it). */
static const struct bank *bank_named(const char *name)
{
	for (size_t i = 0; i < BANK_COUNT; i++)
		if (strcmp(banks[i].name, name) == 0)
			return &banks[i];
	return NULL;
}

/* ------------------------------------------------------------ actual PCR values */

static int parse_pcr_value(const char *arg, struct pcr_arg *ret)
{
	const char *colon = strchr(arg, ':'), *eq = strchr(arg, '=');
	char name[16], num[8];
	const struct bank *b;

	if (!colon || !eq || eq < colon || (size_t)(colon - arg) >= sizeof(name) ||
	    (size_t)(eq - colon - 1) >= sizeof(num))
		return errorf("--pcr-value %s: expected BANK:N=HEX, e.g. sha256:7=3d45...", arg);
	memcpy(name, arg, (size_t)(colon - arg));
	name[colon - arg] = '\0';
	memcpy(num, colon + 1, (size_t)(eq - colon - 1));
	num[eq - colon - 1] = '\0';
	b = bank_named(name);
	if (!b)
		return errorf("--pcr-value %s: unknown bank '%s' (sha1, sha256, sha384, sha512)", arg, name);
	if (parse_uint(num, N_PCRS - 1, &ret->pcr) < 0)
		return errorf("--pcr-value %s: PCR '%s' is not a number 0..23", arg, num);
	if (hex_decode(eq + 1, ret->value, b->size) < 0)
		return errorf("--pcr-value %s: the value must be %zu hex digits for %s", arg, 2 * b->size, b->name);
	ret->bank = bank_index(b);
	ret->text = arg;
	return 0;
}

/* DIR/pcr-<bank>/<N> for the banks and PCRs shown. A missing file means "not available". */
static int read_tpm_dir(const char *dir, bool given, unsigned bank_mask, uint32_t pcrs, struct pcr_values *a)
{
	struct stat st;

	/* Without a TPM (or with an explicit --tpm-dir that is not there): no values, or an error. */
	if (stat(dir, &st) < 0)
		return given ? errorf("--tpm-dir %s: %s", dir, strerror(errno)) : 0;
	if (!S_ISDIR(st.st_mode))
		return given ? errorf("--tpm-dir %s: not a directory", dir) : 0;
	for (size_t b = 0; b < BANK_COUNT; b++) {
		if (!(bank_mask & (1u << b)))
			continue;
		for (unsigned pcr = 0; pcr < N_PCRS; pcr++) {
			char *path = NULL, *text;
			uint8_t *buf = NULL;
			size_t len = 0;
			int r;

			if (!(pcrs & (1u << pcr)))
				continue;
			if (asprintf(&path, "%s/pcr-%s/%u", dir, banks[b].name, pcr) < 0)
				return errorf("out of memory");
			r = read_any_file(path, PCR_FILE_MAX, true, &buf, &len);
			if (r != 0) {
				free(path);
				if (r < 0)
					return -1;
				continue;
			}
			/* The kernel prints upper-case hex and a newline. */
			text = (char *)buf;
			while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'))
				len--;
			text[len] = '\0'; /* within the buffer: read_fd_to_end keeps a NUL past the data */
			if (memchr(text, '\0', len) || hex_decode(text, a->value[b][pcr], banks[b].size) < 0) {
				errorf("%s: not a %s PCR value (%zu hex digits expected)", path, banks[b].name,
				       2 * banks[b].size);
				free(buf);
				free(path);
				return -1;
			}
			a->has[b][pcr] = true;
			free(buf);
			free(path);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ the command */

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_LOG = 256, OPT_TPM_DIR, OPT_PCR_VALUE, OPT_NO_PCR_VALUES, OPT_BANK, OPT_PCR, OPT_EXPECT, OPT_JSON,
	       OPT_VERBOSE, OPT_PROFILE };
	static const struct option longopts[] = {
		{ "log", required_argument, NULL, OPT_LOG },
		{ "tpm-dir", required_argument, NULL, OPT_TPM_DIR },
		{ "pcr-value", required_argument, NULL, OPT_PCR_VALUE },
		{ "no-pcr-values", no_argument, NULL, OPT_NO_PCR_VALUES },
		{ "bank", required_argument, NULL, OPT_BANK },
		{ "pcr", required_argument, NULL, OPT_PCR },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->log_path = DEFAULT_LOG;
	o->tpm_dir = DEFAULT_TPM_DIR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LOG: o->log_path = optarg; break;
		case OPT_TPM_DIR:
			o->tpm_dir = optarg;
			o->tpm_dir_given = true;
			break;
		case OPT_PCR_VALUE: {
			struct pcr_arg *n = realloc(o->values, (o->n_values + 1) * sizeof(*n));

			if (!n)
				return errorf("out of memory");
			o->values = n;
			if (parse_pcr_value(optarg, &o->values[o->n_values]) < 0)
				return -1;
			for (size_t i = 0; i < o->n_values; i++)
				if (o->values[i].bank == n[o->n_values].bank && o->values[i].pcr == n[o->n_values].pcr)
					return errorf("--pcr-value %s: %s PCR %u given twice", optarg,
						      banks[n[o->n_values].bank].name, n[o->n_values].pcr);
			o->n_values++;
			break;
		}
		case OPT_NO_PCR_VALUES: o->no_pcr_values = true; break;
		case OPT_BANK: {
			const struct bank *b = bank_named(optarg);

			if (!b)
				return errorf("--bank %s: unknown bank (sha1, sha256, sha384, sha512)", optarg);
			o->bank_mask |= 1u << bank_index(b);
			break;
		}
		case OPT_PCR: {
			unsigned pcr;

			if (parse_uint(optarg, N_PCRS - 1, &pcr) < 0)
				return errorf("--pcr %s: not a PCR number 0..23", optarg);
			o->pcr_mask |= 1u << pcr;
			break;
		}
		case OPT_EXPECT: o->expect_path = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_VERBOSE: o->verbose = true; break;
		case OPT_PROFILE: {
			unsigned profile;

			if (parse_uint(optarg, UINT32_MAX, &profile) < 0)
				return errorf("--profile %s: not a profile number", optarg);
			o->profile = profile;
			o->profile_given = true;
			break;
		}
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc)
		return errorf("eventlog: unexpected argument '%s'", argv[optind]);
	if (o->no_pcr_values && (o->n_values || o->tpm_dir_given))
		return errorf("eventlog: --no-pcr-values cannot be combined with --pcr-value or --tpm-dir");
	return 0;
}

/*
 * JSON carries UTF-8 only (json-writer.h), and the report repeats the two
 * paths: refused before anything is read or printed.
 */
static int check_json_paths(const struct options *o)
{
	const char *paths[] = { o->log_path, o->expect_path };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (paths[i] && !json_text_ok(paths[i])) {
			char *shown = shown_text(paths[i]);

			errorf("%s: not UTF-8, which JSON cannot carry (rename it, or leave out --json)", SHOWN(shown));
			shown_free(shown);
			return -1;
		}
	return 0;
}

/* The banks shown: those of --bank, which the log must have, or every bank it has. */
static int choose_banks(const struct options *o, const struct replay *rp, unsigned *ret)
{
	for (size_t b = 0; b < BANK_COUNT; b++)
		if (o->bank_mask & ~rp->banks & (1u << b))
			return errorf("--bank %s: %s has no %s digests", banks[b].name, o->log_path, banks[b].name);
	*ret = o->bank_mask ? o->bank_mask : rp->banks;
	return 0;
}

/*
 * The PCRs shown (those of --pcr, or every PCR the log extends and any
 * given a value) and their actual values: --pcr-value, else the TPM's.
 */
static int choose_pcrs(const struct options *o, const struct replay *rp, unsigned shown, uint32_t *ret,
		       struct pcr_values *act)
{
	uint32_t pcrs = 0;

	if (o->pcr_mask) {
		pcrs = o->pcr_mask;
	} else {
		for (unsigned p = 0; p < N_PCRS; p++)
			if (rp->extends[p])
				pcrs |= 1u << p;
	}
	for (size_t i = 0; i < o->n_values; i++) {
		const struct pcr_arg *v = &o->values[i];

		if (!(rp->banks & (1u << v->bank)))
			return errorf("--pcr-value %s: %s has no %s digests", v->text, o->log_path, banks[v->bank].name);
		if (!(shown & (1u << v->bank)) || (o->pcr_mask && !(o->pcr_mask & (1u << v->pcr))))
			continue;
		pcrs |= 1u << v->pcr;
		act->has[v->bank][v->pcr] = true;
		memcpy(act->value[v->bank][v->pcr], v->value, banks[v->bank].size);
	}
	*ret = pcrs;
	if (!o->n_values && !o->no_pcr_values)
		return read_tpm_dir(o->tpm_dir, o->tpm_dir_given, shown, pcrs, act);
	return 0;
}

/*
 * A prediction of several UKI profiles (predict --profile all) is checked for
 * one: --profile N, which must be one of them; with one profile it is that.
 */
static int check_profiles(struct options *o, const struct expect_set *set)
{
	bool found = false, several = false;
	uint32_t first = 0;

	for (size_t i = 0; i < set->n; i++) {
		if (!set->items[i].has_profile)
			continue;
		several |= found && set->items[i].profile != first;
		if (!found)
			first = set->items[i].profile;
		found = true;
		if (o->profile_given && set->items[i].profile == o->profile)
			return 0;
	}
	if (!found)
		return 0; /* a prediction without profiles: --profile changes nothing */
	if (o->profile_given)
		return errorf("--profile %u: %s predicts no such profile", o->profile, o->expect_path);
	if (several)
		return errorf("%s predicts several UKI profiles: give --profile N", o->expect_path);
	o->profile = first;
	return 0;
}

static bool is_directory(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Check each expectation the selection (--bank, --pcr, --profile) leaves, in a bank the log has. */
static void check_expectations(const struct options *o, const struct replay *rp, struct expect_set *set,
			       size_t *ret_checked, size_t *ret_failed)
{
	*ret_checked = *ret_failed = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct expectation *x = &set->items[i];

		if ((o->bank_mask && !(o->bank_mask & (1u << x->bank))) || (o->pcr_mask && !(o->pcr_mask & (1u << x->pcr))) ||
		    (x->has_profile && x->profile != o->profile)) {
			x->result = EXP_NOT_SELECTED;
			continue;
		}
		if (!(rp->banks & (1u << x->bank))) {
			x->result = EXP_SKIPPED;
			continue;
		}
		expectation_check(x, rp);
		(*ret_checked)++;
		*ret_failed += x->result == EXP_FAILED;
	}
}

int cmd_eventlog(int argc, char **argv)
{
	struct options o = { 0 };
	struct replay *rp = calloc(1, sizeof(*rp));
	struct pcr_values *act = calloc(1, sizeof(*act));
	struct expect_set set = { 0 };
	struct eventlog_report rep = { 0 };
	uint8_t *log_buf = NULL;
	size_t log_len = 0;
	int r, ret = EXIT_BAD_INPUT;

	if (!rp || !act) {
		errorf("out of memory");
		goto out;
	}
	r = parse_options(argc, argv, &o);
	if (r != 0) {
		ret = r > 0 ? EXIT_MATCH : EXIT_BAD_INPUT;
		goto out;
	}
	if ((o.json && check_json_paths(&o) < 0) ||
	    read_any_file(o.log_path, LOG_SIZE_MAX, false, &log_buf, &log_len) < 0 ||
	    replay_log(o.log_path, log_buf, log_len, rp) < 0 || choose_banks(&o, rp, &rep.banks) < 0 ||
	    choose_pcrs(&o, rp, rep.banks, &rep.pcrs, act) < 0)
		goto out;
	if (o.expect_path && is_directory(o.expect_path)) {
		/* A systemd-pcrlock component directory (sysext-stub pcrlock --output). */
		if (eventlog_check_components(o.expect_path, rp, o.bank_mask, o.pcr_mask, &set, &rep.checked,
					      &rep.failed) < 0)
			goto out;
	} else if (o.expect_path) {
		if (eventlog_load_expect(o.expect_path, &set) < 0 || check_profiles(&o, &set) < 0)
			goto out;
		check_expectations(&o, rp, &set, &rep.checked, &rep.failed);
	}
	rep.log_path = o.log_path;
	rep.expect_path = o.expect_path;
	rep.rp = rp;
	rep.actual = act;
	rep.set = &set;
	rep.verbose = o.verbose;
	if (eventlog_compare_pcrs(rp, act, rep.banks, rep.pcrs, &rep.mismatches) < 0)
		goto out;
	rep.ok = !rep.mismatches && !rep.failed && !(o.expect_path && rep.checked == 0);
	ret = rep.ok ? EXIT_MATCH : EXIT_MISMATCH;
	if (o.json)
		eventlog_print_json(&rep);
	else
		eventlog_print_text(&rep);
out:
	eventlog_expect_free(&set);
	free(o.values);
	free(log_buf);
	if (rp)
		replay_free(rp);
	free(rp);
	free(act);
	return ret;
}
