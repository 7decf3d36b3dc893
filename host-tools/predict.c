/* SPDX-License-Identifier: MIT */
/*
 * predict.c - `sysext-stub predict`: the PCR values a boot will produce,
 * computed offline from the same measure/ code the stub runs.
 *
 * What is predicted (docs/MEASUREMENTS.md has the rules):
 *   PCR 11  UKI sections, canonical order, + boot phases (systemd-measure)
 *   PCR 12  the profile (not 0), a passed-in command line (only when the
 *           UKI has no .cmdline), the addons' command line, SMBIOS words
 *           (--kernel-cmdline-extra), the addons' devicetrees, credentials
 *           and confexts: per file (ours) or per archive, then the addons'
 *           microcode and initrds (host-tools/addon-list.c)
 *   PCR 13  the sysexts: per file (sysext-stub) or per archive (systemd)
 *   PCR 9   what the Linux EFI stub measures: load options, then the initrd
 *
 * predict_compute() runs the steps of predict-inputs.h, then one function
 * per PCR.
 */
#include "predict.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "predict-inputs.h"
#include "predict-uki.h"
#include "prediction.h"
#include "userspace-extends.h"
#include "util.h"
#include "measure/cmdline.h"
#include "measure/initrd.h"
#include "measure/pe.h"
#include "measure/sysext-archive.h"
#include "measure/uki.h"

static void usage(FILE *f)
{
	fputs("Usage: sysext-stub predict [options]\n"
	      "Predict PCR values before booting (docs/MEASUREMENTS.md).\n\n",
	      f);
	predict_input_usage(f);
	fputs("What to predict:\n"
	      "  --pcr N                9, 11, 12 or 13 (repeatable; default: all the inputs allow)\n"
	      "Output:\n"
	      "  --json                 systemd-measure-style JSON with every event\n",
	      f);
}

enum { OPT_PCR = PREDICT_OPT_END, OPT_JSON };

/* --pcr and --json. */
static int own_option(struct predict_options *o, int c, const char *arg)
{
	unsigned v;

	if (c == OPT_JSON) {
		o->json = true;
		return 0;
	}
	if (parse_uint(arg, 23, &v) < 0)
		return errorf("--pcr: invalid value '%s'", arg);
	if (v != 9 && v != 11 && v != 12 && v != 13)
		return errorf("--pcr: %u is not predicted (9, 11, 12, 13)", v);
	o->pcrs |= 1u << v;
	return 0;
}

static int parse_args(int argc, char **argv, struct predict_options *o)
{
	static const struct option longopts[] = {
		PREDICT_INPUT_LONGOPTS,
		{ "pcr", required_argument, NULL, OPT_PCR },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	return predict_getopt(argc, argv, "predict", "h", longopts, usage, o, own_option);
}

/* ---------------------------------------------------------------- which PCRs */

/*
 * o->pcrs: as asked, or whatever the inputs allow; each must have its
 * inputs. That PCR 9 also needs the sysexts' bytes (not a manifest's
 * digests) is checked when they are read (predict_read_sets()).
 */
static int resolve_pcrs(struct predict_options *o, const struct predict_inputs *in)
{
	if (o->pcrs == 0) {
		bool bytes = true, pcr12_files = false;

		for (size_t i = 0; i < companion_target_count; i++) {
			bytes &= sysext_set_has_bytes(&in->sets[i]);
			pcr12_files |= companion_targets[i].pcr == PCR_KERNEL_PARAMETERS && in->sets[i].n > 0;
		}
		pcr12_files |= in->addons.n > 0;
		if (o->uki)
			o->pcrs |= 1u << PCR_KERNEL_IMAGE;
		if (predict_have_sysext_input(o) || o->uki)
			o->pcrs |= 1u << PCR_SYSEXTS;
		if (o->cmdline || o->profile != 0 || o->cmdline_extra || pcr12_files)
			o->pcrs |= 1u << PCR_KERNEL_PARAMETERS;
		if (o->uki && o->scheme == PREDICT_SCHEME_SYSEXT_STUB && bytes)
			o->pcrs |= 1u << PCR_LINUX_INITRD;
		o->pcrs &= ~o->pcrs_never;
	}
	if ((o->pcrs & (1u << PCR_KERNEL_IMAGE)) && !o->uki)
		return errorf("PCR 11 needs --uki");
	if ((o->pcrs & (1u << PCR_LINUX_INITRD)) && !o->uki)
		return errorf("PCR 9 needs --uki (its .initrd and command line)");
	if ((o->pcrs & (1u << PCR_LINUX_INITRD)) && o->scheme != PREDICT_SCHEME_SYSEXT_STUB)
		return errorf("PCR 9 is predicted for sysext-stub only");
	return 0;
}

/* The archives are hashed whole for PCR 9, and for PCRs 12 and 13 in systemd-stub's scheme. */
static bool wants_archives(const struct predict_options *o)
{
	return (o->pcrs & (1u << PCR_LINUX_INITRD)) ||
	       (o->scheme == PREDICT_SCHEME_SYSTEMD &&
		(o->pcrs & ((1u << PCR_SYSEXTS) | (1u << PCR_KERNEL_PARAMETERS))));
}

/* ---------------------------------------------------------------- PCR 11: the UKI */

/* Hash the bytes of @s as the stub uses and measures them (uki_section_bytes), straight from the file. */
static int feed_section(struct multi_digest *md, const struct loaded_uki *u, const struct pe_section *s)
{
	size_t offset, present;
	uint32_t size;

	uki_section_bytes(&u->img, s, &offset, &present, &size);
	if (multi_digest_update(md, u->buf + offset, present) < 0)
		return -1;
	return multi_digest_update_zeros(md, size - present);
}

static int predict_sections(struct prediction *p, const struct loaded_uki *u, const char *path, enum uki_order order,
			    uint32_t profile)
{
	struct uki_measured_section list[UKI_MAX_MEASURED];
	size_t n = uki_measured_sections(&u->img, order, profile, list);

	for (size_t i = 0; i < n; i++) {
		uint8_t d[BANK_COUNT][DIGEST_MAX] = { { 0 } };
		struct multi_digest md;

		if (prediction_add_data(p, PCR_KERNEL_IMAGE, PRED_EV_IPL, list[i].name, path, list[i].name,
					strlen(list[i].name) + 1) < 0 ||
		    multi_digest_init(&md, p->banks) < 0)
			return -1;
		if (feed_section(&md, u, list[i].section) < 0) {
			multi_digest_free(&md);
			return -1;
		}
		if (multi_digest_final(&md, d) < 0 ||
		    prediction_add_digests(p, PCR_KERNEL_IMAGE, PRED_EV_IPL, list[i].name, path, d) < 0)
			return -1;
	}
	return 0;
}

static int predict_pcr11(struct prediction *p, const struct predict_options *o, const struct predict_inputs *in)
{
	const char *const *default_phases;
	size_t n_default = userspace_default_phases(&default_phases);
	size_t n = o->phases_given ? o->n_phases : n_default;

	if (predict_sections(p, &in->uki, o->uki, in->order, o->profile) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (prediction_add_phase(p, o->phases_given ? o->phases[i] : default_phases[i]) < 0)
			return -1;
	return 0;
}

/* ---------------------------------------------------------------- PCR 12: the command line */

/*
 * The command line the kernel gets, as UTF-16 with NUL; *ret_passed_in: from --cmdline.
 * Like the stub (stub.c choose_cmdline), the buffer is sized from the source: no length limit.
 */
static int effective_cmdline(const struct predict_options *o, const struct loaded_uki *u, uint16_t **ret, bool *ret_passed_in)
{
	const struct pe_section *s = u && u->buf ? uki_section(&u->img, o->profile, ".cmdline") : NULL;
	bool section_wins = s != NULL;
	uint16_t *out = NULL;
	ms_status m = MS_ERR_NOT_FOUND;

	*ret = NULL;
	*ret_passed_in = false;
	if (o->scheme == PREDICT_SCHEME_SYSTEMD && !o->secure_boot && o->cmdline)
		section_wins = false; /* systemd-stub lets LoadOptions override .cmdline without Secure Boot */
	if (o->cmdline && section_wins)
		warnf("--cmdline is ignored: the UKI has a .cmdline, which the stub always uses");
	if (section_wins) {
		size_t offset, present;
		uint32_t size;

		/*
		 * Only the bytes the file holds: the loader's zero fill past
		 * them ends the command line anyway, and sizing by VirtualSize
		 * would let a tiny hostile UKI ask for gigabytes here.
		 */
		uki_section_bytes(&u->img, s, &offset, &present, &size);
		out = calloc(present + 1, sizeof(uint16_t));
		if (!out)
			return errorf("out of memory");
		m = cmdline_from_section(u->buf + offset, present, out, present + 1);
	} else if (o->cmdline) {
		/* Exactly what the stub does with LoadOptions holding this string. */
		size_t n = strlen(o->cmdline);
		uint16_t *opts = calloc(n + 1, sizeof(uint16_t));
		uint32_t profile;

		out = calloc(n + 1, sizeof(uint16_t));
		if (!opts || !out) {
			free(opts);
			free(out);
			return errorf("out of memory");
		}
		for (size_t i = 0; i < n; i++)
			opts[i] = (uint8_t)o->cmdline[i];
		m = cmdline_from_load_options(opts, (n + 1) * sizeof(uint16_t), &profile, out, n + 1);
		free(opts);
		if (profile != 0) {
			free(out);
			return errorf("--cmdline: a leading '@%u' selects a UKI profile; give --profile %u and the rest",
				      profile, profile);
		}
		if (m == MS_ERR_INVALID)
			warnf("--cmdline: not printable ASCII; the stub would ignore it");
		*ret_passed_in = m == MS_OK;
	}
	if (m != MS_OK) {
		free(out);
		return 0;
	}
	*ret = out;
	return 0;
}

static char *utf16_to_ascii(const uint16_t *s)
{
	size_t n = cmdline_len16(s);
	char *a = malloc(n + 1);

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		a[i] = s[i] < 0x80 ? (char)s[i] : '?';
	a[n] = 0;
	return a;
}

/* ---------------------------------------------------------------- PCRs 12 and 13: the companion files */

/* Our scheme: per file, the path with NUL, then the content, into the target's PCR. */
static int predict_files(struct prediction *p, const struct companion_target *t, const struct sysext_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct sysext_file *f = &s->files[i];
		char path[CPIO_PATH_MAX + 1];
		ms_status m = sysext_archive_path(s->prefix, f->name, path, sizeof(path));

		if (m != MS_OK)
			return errorf("%s: %s", f->name, ms_strerror(m));
		if (prediction_add_data(p, t->pcr, PRED_EV_IPL, path, f->path, path, strlen(path) + 1) < 0 ||
		    prediction_add_digests(p, t->pcr, PRED_EV_IPL, path, f->path, f->digest) < 0)
			return -1;
	}
	return 0;
}

/* systemd-stub's scheme: one event over the archive's bytes. */
static int predict_archive(struct prediction *p, const struct companion_target *t, const struct predict_inputs *in)
{
	if (in->archive_size[t->slot] == 0)
		return 0;
	return prediction_add_data(p, t->pcr, PRED_EV_IPL, t->systemd_description, NULL, in->archive[t->slot],
				   in->archive_size[t->slot]);
}

/* The companion files of initrd slot @slot if they are measured into @pcr (measure/companion.c). */
static int predict_companion_slot(struct prediction *p, const struct predict_options *o,
				  const struct predict_inputs *in, enum initrd_slot slot, uint32_t pcr)
{
	for (size_t i = 0; i < companion_target_count; i++) {
		const struct companion_target *t = &companion_targets[i];

		if (t->slot != slot || t->pcr != pcr || !in->read[i])
			continue;
		return o->scheme == PREDICT_SCHEME_SYSEXT_STUB ? predict_files(p, t, &in->sets[i]) : predict_archive(p, t, in);
	}
	return 0;
}

/*
 * What goes into @pcr from the initrd's pieces: the companion files and
 * the addons' pieces, in the order the stub fills them when the kernel
 * takes the initrd (initrd_fill_rank, measure/initrd.h), which is also
 * systemd-stub 262's order at stub time.
 */
static int predict_filled(struct prediction *p, const struct predict_options *o, const struct predict_inputs *in,
			  uint32_t pcr)
{
	for (unsigned rank = 0; rank < INITRD_FILL_RANKS; rank++)
		for (unsigned slot = 0; slot < INITRD_SLOTS; slot++) {
			if (initrd_fill_rank(slot) != rank)
				continue;
			if (predict_companion_slot(p, o, in, slot, pcr) < 0 ||
			    (pcr == ADDON_PCR && addon_list_predict_slot(&in->addons, p, slot) < 0))
				return -1;
		}
	return 0;
}

/* One PCR 12 EV_IPL event over @cmdline, UTF-16 with its NUL, described by it (a passed-in line, SMBIOS words). */
static int predict_cmdline_event(struct prediction *p, const uint16_t *cmdline)
{
	char *desc = utf16_to_ascii(cmdline);
	int r = desc ? prediction_add_data(p, PCR_KERNEL_PARAMETERS, PRED_EV_IPL, desc, NULL, cmdline,
					   (cmdline_len16(cmdline) + 1) * sizeof(uint16_t))
		     : errorf("out of memory");

	free(desc);
	return r;
}

/* The SMBIOS words as the stub reads them (ours, systemd-stub 254+), or *@ret NULL. */
static int smbios_words(const struct predict_options *o, uint16_t **ret)
{
	*ret = NULL;
	if (!o->cmdline_extra || (o->scheme == PREDICT_SCHEME_SYSTEMD && o->systemd_version < 254))
		return 0;
	return predict_cmdline_words(o->cmdline_extra, ret);
}

/*
 * In systemd-stub 262's order: the profile (not 0), a command line passed
 * in (@passed), the addons' command line, the SMBIOS @words, the addons'
 * devicetrees, the credentials and confexts, the addons' initrd pieces.
 */
static int predict_pcr12(struct prediction *p, const struct predict_options *o, const struct predict_inputs *in,
			 const uint16_t *passed, const uint16_t *words)
{
	if (o->profile != 0 && predict_profile_event(p, o->profile) < 0)
		return -1;
	if (passed && predict_cmdline_event(p, passed) < 0)
		return -1;
	if (addon_list_predict(&in->addons, p, ADDON_EVENTS_CMDLINE) < 0)
		return -1;
	if (words && predict_cmdline_event(p, words) < 0)
		return -1;
	if (addon_list_predict(&in->addons, p, ADDON_EVENTS_DEVICETREES) < 0)
		return -1;
	return predict_filled(p, o, in, PCR_KERNEL_PARAMETERS);
}

static int set_initial(struct prediction *p, const struct predict_options *o)
{
	for (size_t i = 0; i < o->n_initial; i++) {
		const struct bank *b = NULL;

		for (size_t k = 0; k < BANK_COUNT; k++)
			if (strlen(o->initial[i]) == 2 * banks[k].size)
				b = &banks[k];
		if (!b || hex_decode(o->initial[i], p->initial13[bank_index(b)], b->size) < 0)
			return errorf("--initial: '%s' is not 40, 64, 96 or 128 hex digits", o->initial[i]);
		p->has_initial[bank_index(b)] = true;
	}
	return 0;
}

static int predict_pcr13(struct prediction *p, const struct predict_options *o, const struct predict_inputs *in)
{
	if (set_initial(p, o) < 0 || predict_filled(p, o, in, PCR_SYSEXTS) < 0)
		return -1;
	if (o->os_separator &&
	    prediction_add_data(p, PCR_SYSEXTS, PRED_USERSPACE, USERSPACE_OS_SEPARATOR, NULL, USERSPACE_OS_SEPARATOR,
				strlen(USERSPACE_OS_SEPARATOR)) < 0)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- PCR 9: what Linux's EFI stub measures */

/*
 * The initrd's pieces in the stub's slot order (measure/initrd.h): the
 * .ucode and .initrd in effect for @profile (measure/uki.h), the generated
 * archives, the addons' pieces (several per slot).
 */
static size_t initrd_pieces(const struct predict_inputs *in, uint32_t profile, struct initrd_span out[INITRD_MAX_PIECES])
{
	const struct loaded_uki *u = &in->uki;
	size_t n = 0;

	for (size_t slot = 0; slot < INITRD_SLOTS; slot++) {
		const char *section = slot == INITRD_SLOT_UCODE ? ".ucode" : slot == INITRD_SLOT_EMBEDDED ? ".initrd" : NULL;
		const struct pe_section *s = section ? uki_section(&u->img, profile, section) : NULL;

		if (slot == INITRD_SLOT_UCODE_ADDONS || slot == INITRD_SLOT_ADDON_INITRDS) {
			n += addon_list_pieces(&in->addons, slot, out + n, INITRD_MAX_PIECES - n);
		} else if (s) {
			size_t offset, present;
			uint32_t size;

			uki_section_bytes(&u->img, s, &offset, &present, &size);
			out[n++] = (struct initrd_span){ u->buf + offset, present, size };
		} else if (!section && in->archive_size[slot]) {
			out[n++] = (struct initrd_span){ in->archive[slot], in->archive_size[slot], in->archive_size[slot] };
		}
	}
	return n;
}

/*
 * PCR 9's initrd event: the pieces laid out as the stub serves them
 * (measure/initrd.c), hashed piece by piece without building the
 * concatenation.
 */
static int predict_initrd(struct prediction *p, const struct predict_inputs *in, const char *path, uint32_t profile)
{
	struct initrd_span pieces[INITRD_MAX_PIECES];
	uint64_t sizes[INITRD_MAX_PIECES], offsets[INITRD_MAX_PIECES], total, pos = 0;
	uint8_t d[BANK_COUNT][DIGEST_MAX] = { { 0 } };
	size_t n = initrd_pieces(in, profile, pieces);
	struct multi_digest md;

	for (size_t i = 0; i < n; i++)
		sizes[i] = pieces[i].size;
	if (initrd_layout(sizes, n, offsets, &total) != MS_OK)
		return errorf("the initrd is too large");
	if (total == 0)
		return 0;
	if (multi_digest_init(&md, p->banks) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (multi_digest_update_zeros(&md, offsets[i] - pos) < 0 ||
		    multi_digest_update(&md, pieces[i].data, pieces[i].present) < 0 ||
		    multi_digest_update_zeros(&md, pieces[i].size - pieces[i].present) < 0) {
			multi_digest_free(&md);
			return -1;
		}
		pos = offsets[i] + sizes[i];
	}
	if (multi_digest_update_zeros(&md, total - pos) < 0) {
		multi_digest_free(&md);
		return -1;
	}
	if (multi_digest_final(&md, d) < 0)
		return -1;
	return prediction_add_digests(p, PCR_LINUX_INITRD, PRED_EV_EVENT_TAG, "Linux initrd", path, d);
}

static int predict_pcr9(struct prediction *p, const struct predict_options *o, const struct predict_inputs *in,
			const uint16_t *cmdline)
{
	if (cmdline && prediction_add_data(p, PCR_LINUX_INITRD, PRED_EV_EVENT_TAG, "LOADED_IMAGE::LoadOptions", NULL,
					   cmdline, (cmdline_len16(cmdline) + 1) * sizeof(uint16_t)) < 0)
		return -1;
	return predict_initrd(p, in, o->uki, o->profile);
}

/*
 * The command line the kernel gets: @cmdline, then the addons' joined line
 * (measure/addon.h), then the SMBIOS @words, as systemd-stub 262 appends
 * them; *@ret NULL when there is none.
 */
static int kernel_cmdline(const uint16_t *cmdline, const struct addon_list *l, const uint16_t *words, uint16_t **ret)
{
	uint16_t *joined = NULL, *out = NULL;
	int r = 0;

	*ret = NULL;
	if (cmdline) {
		size_t n = (cmdline_len16(cmdline) + 1) * sizeof(uint16_t);

		if (!(out = malloc(n)))
			return errorf("out of memory");
		memcpy(out, cmdline, n);
	}
	r = addon_list_cmdline(l, &joined);
	if (r == 0 && joined)
		r = predict_cmdline_append(&out, joined);
	if (r == 0 && words)
		r = predict_cmdline_append(&out, words);
	free(joined);
	if (r < 0) {
		free(out);
		return -1;
	}
	*ret = out;
	return 0;
}

/* ---------------------------------------------------------------- the flow */

/* The PCRs of o->pcrs, from the loaded inputs, into @p. */
static int predict_pcrs(struct prediction *p, const struct predict_options *o, const struct predict_inputs *in)
{
	uint16_t *cmdline = NULL, *words = NULL, *full = NULL;
	bool passed_in = false;
	int r = -1;

	if ((o->pcrs & (1u << PCR_KERNEL_IMAGE)) && predict_pcr11(p, o, in) < 0)
		return -1;
	/* Always: it warns about a --cmdline the UKI overrides. */
	if (effective_cmdline(o, o->uki ? &in->uki : NULL, &cmdline, &passed_in) < 0 || smbios_words(o, &words) < 0)
		goto out;
	if ((o->pcrs & (1u << PCR_KERNEL_PARAMETERS)) && predict_pcr12(p, o, in, passed_in ? cmdline : NULL, words) < 0)
		goto out;
	if ((o->pcrs & (1u << PCR_SYSEXTS)) && predict_pcr13(p, o, in) < 0)
		goto out;
	if (o->pcrs & (1u << PCR_LINUX_INITRD)) {
		if (kernel_cmdline(cmdline, &in->addons, words, &full) < 0 || predict_pcr9(p, o, in, full) < 0)
			goto out;
	}
	r = 0;
out:
	free(full);
	free(words);
	free(cmdline);
	return r;
}

int predict_compute(struct predict_options *o, struct prediction *ret)
{
	struct predict_inputs in = { 0 };
	struct prediction p = { 0 };
	int r = -1;

	memset(ret, 0, sizeof(*ret));
	if (predict_resolve_defaults(o) < 0 || predict_load_inputs(o, &in) < 0 || resolve_pcrs(o, &in) < 0 || predict_choose_banks(o, &in) < 0 ||
	    predict_read_sets(o, &in, wants_archives(o)) < 0 ||
	    (wants_archives(o) && o->uki && predict_build_archives(o, &in) < 0))
		goto out;
	p.banks = in.banks;
	p.pcrs = o->pcrs;
	p.has_profile = o->profile_given;
	p.profile = o->profile;
	if (predict_pcrs(&p, o, &in) < 0)
		goto out;
	*ret = p;
	memset(&p, 0, sizeof(p)); /* now owned by *ret */
	r = 0;
out:
	predict_inputs_free(&in);
	prediction_free(&p);
	return r;
}

/* One prediction per profile asked for (--profile all: every one), printed as one document. */
static int predict_all(struct predict_options *o)
{
	struct prediction *ps = NULL;
	uint32_t *profiles = NULL;
	size_t n = 0, done = 0;
	int r = predict_profiles(o, &profiles, &n);

	if (r == 0 && !(ps = calloc(n, sizeof(*ps))))
		r = errorf("out of memory");
	for (; r == 0 && done < n; done++) {
		o->profile = profiles[done];
		r = predict_compute(o, &ps[done]);
	}
	if (r == 0) {
		if (o->json)
			r = prediction_print_json_many(ps, n, stdout);
		else
			prediction_print_table_many(ps, n, stdout);
	}
	if (r == 0 && fflush(stdout) != 0)
		r = errorf("cannot write the output: %s", strerror(errno));
	for (size_t i = 0; ps && i < done; i++)
		prediction_free(&ps[i]);
	free(ps);
	free(profiles);
	return r;
}

int cmd_predict(int argc, char **argv)
{
	struct predict_options o = { 0 };
	int r = parse_args(argc, argv, &o);

	if (r == 0)
		r = predict_all(&o);
	predict_options_free(&o);
	return r == 1 ? 0 : r < 0 ? 1 : 0;
}
