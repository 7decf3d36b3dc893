/* SPDX-License-Identifier: MIT */
#include "predict-inputs.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "measure/extdir.h"
#include "measure/sysext-archive.h"

#define UKI_SIZE_MAX ((uint64_t)4 << 30)
#define SYSTEMD_DEFAULT_VERSION 252 /* Debian 12's systemd-stub */

void predict_resolve_defaults(struct predict_options *o)
{
	if (o->systemd_version == 0)
		o->systemd_version = o->scheme == PREDICT_SCHEME_SYSTEMD ? SYSTEMD_DEFAULT_VERSION
									 : uki_order_version(UKI_ORDER_DEFAULT);
	if (o->banks == 0)
		o->banks = (1u << BANK_COUNT) - 1;
}

bool predict_have_sysext_input(const struct predict_options *o)
{
	return o->extra_dir || o->global_dir || o->n_sysexts || o->n_global_sysexts || o->n_manifests ||
	       o->n_global_manifests;
}

static int load_uki(const char *path, struct loaded_uki *u)
{
	ms_status m;

	if (read_file(path, UKI_SIZE_MAX, &u->buf, &u->len) < 0)
		return -1;
	m = pe_parse(u->buf, u->len, PE_LAYOUT_FILE, &u->img);
	if (m != MS_OK)
		return errorf("%s: not a valid PE image: %s", path, ms_strerror(m));
	if (!pe_find_section(&u->img, ".linux"))
		return errorf("%s: not a UKI: no .linux section", path);
	return 0;
}

static enum ext_rule rule_for(const struct predict_options *o)
{
	if (o->scheme == PREDICT_SCHEME_SYSEXT_STUB)
		return EXT_RULE_SYSEXT_STUB;
	return o->systemd_version >= 256 ? EXT_RULE_SYSTEMD_256 : EXT_RULE_SYSTEMD_252;
}

/*
 * The per-UKI directory's path length on the ESP, derived from --esp-path
 * as the stub derives it from its own path (measure/extdir.c); without
 * --esp-path the shortest there is, so that only names no UKI path lets
 * the firmware open are skipped.
 */
static int per_uki_dir_len(const struct predict_options *o, size_t *ret)
{
	uint16_t in[EXTDIR_IMAGE_PATH_MAX], out[EXTDIR_IMAGE_PATH_MAX];
	size_t n, len = 0;

	*ret = EXTDIR_MIN_LEN;
	if (!o->esp_path)
		return 0;
	n = strlen(o->esp_path);
	if (n >= EXTDIR_IMAGE_PATH_MAX)
		return errorf("--esp-path: longer than %d characters", EXTDIR_IMAGE_PATH_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		if ((uint8_t)o->esp_path[i] >= 0x80)
			return errorf("--esp-path '%s': only ASCII paths are supported", o->esp_path);
		in[i] = (uint8_t)o->esp_path[i];
	}
	if (extdir_from_image_path(in, n, out, EXTDIR_IMAGE_PATH_MAX) != MS_OK)
		return errorf("--esp-path '%s': not the path of a file", o->esp_path);
	while (out[len])
		len++;
	*ret = len;
	return 0;
}

static int collect_set(const struct predict_options *o, struct sysext_set *s, const char *prefix, size_t dir_len,
		       const char *dir, const char *const *files, size_t n_files, const char *const *manifests,
		       size_t n_manifests)
{
	sysext_set_init(s, prefix, rule_for(o), o->scheme == PREDICT_SCHEME_SYSEXT_STUB, dir_len);
	if (dir && sysext_set_add_dir(s, dir, o->verbose) < 0)
		return -1;
	for (size_t i = 0; i < n_files; i++)
		if (sysext_set_add_file(s, files[i]) < 0)
			return -1;
	for (size_t i = 0; i < n_manifests; i++)
		if (sysext_set_add_manifest(s, manifests[i]) < 0)
			return -1;
	return sysext_set_finish(s);
}

int predict_load_inputs(const struct predict_options *o, struct predict_inputs *in)
{
	bool g;

	in->order = UKI_ORDER_DEFAULT;
	(void)uki_order_for_version(o->systemd_version, &in->order);
	in->global_read = g = o->scheme == PREDICT_SCHEME_SYSEXT_STUB || o->systemd_version >= 258;
	in->banks = o->banks;
	if (o->uki && load_uki(o->uki, &in->uki) < 0)
		return -1;
	if (per_uki_dir_len(o, &in->extra_dir_len) < 0 ||
	    collect_set(o, &in->per_uki, SYSEXT_PREFIX, in->extra_dir_len, o->extra_dir, o->sysexts, o->n_sysexts,
			o->manifests, o->n_manifests) < 0)
		return -1;
	return collect_set(o, &in->global, SYSEXT_GLOBAL_PREFIX, EXTDIR_GLOBAL_LEN, g ? o->global_dir : NULL,
			   g ? o->global_sysexts : NULL, g ? o->n_global_sysexts : 0, g ? o->global_manifests : NULL,
			   g ? o->n_global_manifests : 0);
}

int predict_choose_banks(const struct predict_options *o, struct predict_inputs *in)
{
	/* Warned only now: a command that fails on its options should print its one error, no warning before it. */
	if (!in->global_read && (o->global_dir || o->n_global_sysexts || o->n_global_manifests))
		warnf("systemd-stub %u does not read \\loader\\extensions (v258+): global sysexts ignored",
		      o->systemd_version);
	for (size_t b = 0; b < BANK_COUNT; b++)
		if ((in->banks & (1u << b)) &&
		    (!sysext_set_can_digest(&in->per_uki, b) || !sysext_set_can_digest(&in->global, b))) {
			warnf("no %s digest for every sysext (manifest): %s not predicted", banks[b].name, banks[b].name);
			in->banks &= ~(1u << b);
		}
	if (in->banks == 0)
		return errorf("no bank can be predicted with these inputs");
	return 0;
}

int predict_read_sets(const struct predict_options *o, struct predict_inputs *in, bool want_archives)
{
	if (want_archives && !(sysext_set_has_bytes(&in->per_uki) && sysext_set_has_bytes(&in->global)))
		return errorf("a manifest has digests only: the archives (cpio, PCR 9, --scheme=systemd) need the files");
	if (sysext_set_read(&in->per_uki, in->banks, o->threads, want_archives ? &in->archive[INITRD_SLOT_SYSEXT] : NULL,
			    &in->archive_size[INITRD_SLOT_SYSEXT]) < 0)
		return -1;
	return sysext_set_read(&in->global, in->banks, o->threads,
			       want_archives ? &in->archive[INITRD_SLOT_GLOBAL_SYSEXT] : NULL,
			       &in->archive_size[INITRD_SLOT_GLOBAL_SYSEXT]);
}

int predict_build_archives(const struct predict_options *o, struct predict_inputs *in)
{
	/* Ours reads signature files next to the sysexts (stub/signatures.c); systemd-stub passes .pcrsig on as it is. */
	bool ours = o->scheme == PREDICT_SCHEME_SYSEXT_STUB;

	if (signature_archives_build(in->uki.buf, &in->uki.img, ours ? o->extra_dir : NULL, in->extra_dir_len,
				     ours && in->global_read ? o->global_dir : NULL, &in->sa) < 0)
		return -1;
	in->archive[INITRD_SLOT_PCRSIG] = in->sa.signature;
	in->archive_size[INITRD_SLOT_PCRSIG] = in->sa.signature_size;
	in->archive[INITRD_SLOT_PCRPKEY] = in->sa.public_key;
	in->archive_size[INITRD_SLOT_PCRPKEY] = in->sa.public_key_size;
	return 0;
}

void predict_inputs_free(struct predict_inputs *in)
{
	free(in->archive[INITRD_SLOT_SYSEXT]);
	free(in->archive[INITRD_SLOT_GLOBAL_SYSEXT]);
	signature_archives_free(&in->sa);
	free(in->uki.buf);
	sysext_set_free(&in->per_uki);
	sysext_set_free(&in->global);
	memset(in, 0, sizeof(*in));
}
