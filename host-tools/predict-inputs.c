/* SPDX-License-Identifier: MIT */
#include "predict-inputs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util.h"
#include "measure/extdir.h"
#include "measure/sysext-archive.h"

#define UKI_SIZE_MAX ((uint64_t)4 << 30)
/*
 * The first systemd-stub whose addons are predicted: 257 added the
 * initrd and microcode addons and the order 262 still has
 * (docs/MEASUREMENTS.md); 254-256 are not modelled.
 */
#define SYSTEMD_ADDONS_SINCE 257
#define SYSTEMD_DEFAULT_VERSION 252 /* Debian 12's systemd-stub */

/*
 * @esp_path (an ESP path, '\\'-separated, case-insensitive as FAT is) below
 * the host directory @root: each component matched exactly, else without
 * regard to ASCII case. A new string, or NULL when it does not exist.
 */
static char *esp_host_path(const char *root, const char *esp_path)
{
	char *path = strdup(root), *copy = strdup(esp_path), *save = NULL;

	if (!path || !copy)
		goto fail;
	for (char *c = copy; *c; c++)
		if (*c == '/')
			*c = '\\';
	for (char *part = strtok_r(copy, "\\", &save); part; part = strtok_r(NULL, "\\", &save)) {
		char *next = NULL, *found = NULL;
		struct dirent *de;
		DIR *d;

		if (asprintf(&next, "%s/%s", path, part) < 0)
			goto fail;
		if (access(next, F_OK) != 0 && (d = opendir(path))) {
			while (!found && (de = readdir(d)))
				if (strcasecmp(de->d_name, part) == 0)
					found = de->d_name;
			if (found) {
				free(next);
				if (asprintf(&next, "%s/%s", path, found) < 0)
					next = NULL;
			}
			closedir(d);
		}
		free(path);
		path = next;
		if (!path || access(path, F_OK) != 0)
			goto fail;
	}
	free(copy);
	return path;
fail:
	free(path);
	free(copy);
	return NULL;
}

/* *@slot = the host path of @esp_path below --esp when it exists and *@slot is unset (owned by @o). */
static int default_from_esp(struct predict_options *o, const char **slot, const char *esp_path)
{
	char *p;

	if (*slot || o->n_owned >= sizeof(o->owned) / sizeof(o->owned[0]))
		return 0;
	p = esp_host_path(o->esp, esp_path);
	if (p) {
		o->owned[o->n_owned++] = p;
		*slot = p;
	}
	return 0;
}

/* --esp: the UKI at --esp-path and the directories the stub reads, where they exist. */
static int resolve_esp(struct predict_options *o)
{
	uint16_t in[EXTDIR_IMAGE_PATH_MAX], out[EXTDIR_IMAGE_PATH_MAX];
	char extra[EXTDIR_IMAGE_PATH_MAX];
	size_t n;

	if (!o->esp)
		return 0;
	if (!o->esp_path)
		return errorf("--esp needs --esp-path (where the UKI is on the ESP, e.g. \\EFI\\Linux\\uki.efi)");
	n = strlen(o->esp_path);
	if (n >= EXTDIR_IMAGE_PATH_MAX)
		return errorf("--esp-path: longer than %d characters", EXTDIR_IMAGE_PATH_MAX - 1);
	for (size_t i = 0; i < n; i++)
		in[i] = (uint8_t)o->esp_path[i];
	if (extdir_from_image_path(in, n, out, EXTDIR_IMAGE_PATH_MAX) != MS_OK)
		return errorf("--esp-path '%s': not the path of a file", o->esp_path);
	for (n = 0; out[n]; n++)
		extra[n] = (char)out[n];
	extra[n] = 0;
	if (!o->uki) {
		default_from_esp(o, &o->uki, o->esp_path);
		if (!o->uki)
			return errorf("%s: no %s below it (give --uki)", o->esp, o->esp_path);
	}
	default_from_esp(o, &o->extra_dir, extra);
	default_from_esp(o, &o->global_dir, EXTDIR_GLOBAL);
	default_from_esp(o, &o->global_cred_dir, EXTDIR_GLOBAL_CREDENTIALS);
	default_from_esp(o, &o->global_addon_dir, EXTDIR_GLOBAL_ADDONS);
	return 0;
}

int predict_resolve_defaults(struct predict_options *o)
{
	if (o->systemd_version == 0)
		o->systemd_version = o->scheme == PREDICT_SCHEME_SYSTEMD ? SYSTEMD_DEFAULT_VERSION
									 : uki_order_version(UKI_ORDER_DEFAULT);
	if (o->banks == 0)
		o->banks = (1u << BANK_COUNT) - 1;
	return resolve_esp(o);
}

bool predict_have_sysext_input(const struct predict_options *o)
{
	return o->extra_dir || o->global_dir || o->global_cred_dir || o->global_addon_dir || o->n_files ||
	       o->n_manifests || o->n_global_manifests || o->esp;
}

const struct sysext_set *predict_set(const struct predict_inputs *in, enum ext_kind kind, enum sel_dir_role role)
{
	const struct companion_target *t = companion_target_for(kind, role);

	return t ? &in->sets[t - companion_targets] : NULL;
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

/* The profile asked for must be one the stub would boot (it refuses the others). */
static int check_profile(const struct predict_options *o, const struct loaded_uki *u, enum uki_order order)
{
	if (o->profile == 0)
		return 0;
	if (o->scheme == PREDICT_SCHEME_SYSTEMD && order < UKI_ORDER_SYSTEMD_257)
		return errorf("--profile: systemd-stub %u knows no profiles (v257+)", o->systemd_version);
	if (u && uki_profile_check(&u->img, o->profile) != MS_OK)
		return errorf("%s: has no profile %u (it has %u); the stub refuses to boot \"@%u\"", o->uki, o->profile,
			      uki_profile_count(&u->img), o->profile);
	return 0;
}

int predict_profiles(struct predict_options *o, uint32_t **ret, size_t *ret_n)
{
	struct loaded_uki u = { 0 };
	uint32_t n = 1;

	*ret = NULL;
	*ret_n = 0;
	if (o->all_profiles) {
		if (predict_resolve_defaults(o) < 0)
			return -1;
		if (!o->uki)
			return errorf("--profile all needs --uki");
		if (load_uki(o->uki, &u) < 0) {
			free(u.buf);
			return -1;
		}
		n = uki_profile_count(&u.img);
		n = n ? n : 1;
		free(u.buf);
	}
	*ret = calloc(n, sizeof(**ret));
	if (!*ret)
		return errorf("out of memory");
	for (uint32_t i = 0; i < n; i++)
		(*ret)[i] = o->all_profiles ? i : o->profile;
	*ret_n = n;
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

/* The directory, the manifests and the kinds of companion file those manifests name, for a directory role. */
static const char *dir_of(const struct predict_options *o, enum sel_dir_role role)
{
	switch (role) {
	case SEL_DIR_PER_UKI: return o->extra_dir;
	case SEL_DIR_GLOBAL: return o->global_dir;
	case SEL_DIR_GLOBAL_CREDENTIALS: return o->global_cred_dir;
	case SEL_DIR_GLOBAL_ADDONS: return o->global_addon_dir;
	}
	return NULL;
}

/* --manifest describes the per-UKI directory; --global-manifest \loader\extensions and \loader\credentials. */
static bool manifest_covers(bool global, enum sel_dir_role role)
{
	return global ? role != SEL_DIR_PER_UKI : role == SEL_DIR_PER_UKI;
}

/* The kinds the targets a manifest covers take (lines naming them are not errors). */
static unsigned manifest_kinds(bool global)
{
	unsigned kinds = 0;

	for (size_t i = 0; i < companion_target_count; i++)
		if (manifest_covers(global, companion_targets[i].role))
			kinds |= EXT_KIND_BIT(companion_targets[i].kind);
	return kinds;
}

/* Whether the scheme hands @t over: always ours; systemd-stub from the release that added it. */
static bool scheme_reads(const struct predict_options *o, const struct companion_target *t)
{
	return o->scheme == PREDICT_SCHEME_SYSEXT_STUB || o->systemd_version >= t->systemd_since;
}

/*
 * The set of target @i: its directory, the files given for it, the manifest
 * lines naming its kind. @first_of_role: report the directory's entries that
 * are no companion file (with --verbose) from this set only.
 */
static int collect_set(const struct predict_options *o, struct predict_inputs *in, size_t i, bool first_of_role)
{
	const struct companion_target *t = &companion_targets[i];
	struct sysext_set *s = &in->sets[i];
	size_t dir_len = t->role == SEL_DIR_PER_UKI ? in->extra_dir_len
			 : t->role == SEL_DIR_GLOBAL_CREDENTIALS ? EXTDIR_GLOBAL_CREDENTIALS_LEN
								 : EXTDIR_GLOBAL_LEN;
	const char *dir = dir_of(o, t->role);

	sysext_set_init(s, t, rule_for(o), o->scheme == PREDICT_SCHEME_SYSEXT_STUB, dir_len);
	if (!in->read[i])
		return sysext_set_finish(s);
	if (dir && sysext_set_add_dir(s, dir, o->verbose && first_of_role) < 0)
		return -1;
	for (size_t k = 0; k < o->n_files; k++)
		if (o->files[k].kind == t->kind && o->files[k].role == t->role &&
		    sysext_set_add_file(s, o->files[k].path) < 0)
			return -1;
	for (int global = 0; global < 2; global++) {
		const char *const *m = global ? o->global_manifests : o->manifests;
		size_t n = global ? o->n_global_manifests : o->n_manifests;

		for (size_t k = 0; manifest_covers(global, t->role) && k < n; k++)
			if (sysext_set_add_manifest(s, m[k], manifest_kinds(global) & ~EXT_KIND_BIT(t->kind)) < 0)
				return -1;
	}
	return sysext_set_finish(s);
}

/* The ESP directory of a role, for messages. */
static const char *role_dir_name(enum sel_dir_role role)
{
	switch (role) {
	case SEL_DIR_PER_UKI: return "the per-UKI .extra.d";
	case SEL_DIR_GLOBAL: return EXTDIR_GLOBAL;
	case SEL_DIR_GLOBAL_CREDENTIALS: return EXTDIR_GLOBAL_CREDENTIALS;
	case SEL_DIR_GLOBAL_ADDONS: return EXTDIR_GLOBAL_ADDONS;
	}
	return "?";
}

/* Inputs given for targets this systemd-stub does not hand over: said once per directory, they do not count. */
static void warn_unread(const struct predict_options *o, const struct predict_inputs *in)
{
	unsigned warned = 0;

	for (size_t i = 0; i < companion_target_count; i++) {
		const struct companion_target *t = &companion_targets[i];
		bool given = t->role != SEL_DIR_PER_UKI && dir_of(o, t->role) != NULL;

		for (size_t k = 0; k < o->n_files; k++)
			given |= o->files[k].kind == t->kind && o->files[k].role == t->role;
		if (in->read[i] || !given || (warned & (1u << t->role)))
			continue;
		warnf("systemd-stub %u does not read %s for /%s (v%u+): ignored", o->systemd_version,
		      role_dir_name(t->role), t->layout.prefix, t->systemd_since);
		warned |= 1u << t->role;
	}
}

/*
 * The .uname in effect for @profile as the stub compares it (its string
 * ends at a NUL or the file's bytes), or NULL.
 */
static const uint8_t *uki_uname(const struct loaded_uki *u, uint32_t profile, size_t *ret_len)
{
	const struct pe_section *s = u->buf ? uki_section(&u->img, profile, ".uname") : NULL;
	size_t offset = 0;
	uint32_t size;

	*ret_len = 0;
	if (!s)
		return NULL;
	uki_section_bytes(&u->img, s, &offset, ret_len, &size);
	return *ret_len ? u->buf + offset : NULL;
}

/*
 * The addons, \loader\addons first, then the per-UKI directory, each picked
 * by the selection rule and read by the stub's addon rule (addon-list.h).
 */
static int load_addons(const struct predict_options *o, struct predict_inputs *in)
{
	static const enum sel_dir_role roles[2] = { SEL_DIR_GLOBAL_ADDONS, SEL_DIR_PER_UKI };
	bool ours = o->scheme == PREDICT_SCHEME_SYSEXT_STUB, reads = ours || o->systemd_version >= SYSTEMD_ADDONS_SINCE;
	size_t uname_len;
	const uint8_t *uname = uki_uname(&in->uki, o->profile, &uname_len);

	addon_list_init(&in->addons, ours ? ADDON_RULE_OURS : ADDON_RULE_SYSTEMD, uname, uname_len);
	for (size_t r = 0; r < 2; r++) {
		struct sysext_set *s = &in->addon_sets[r];
		const char *dir = dir_of(o, roles[r]);
		bool given = roles[r] == SEL_DIR_GLOBAL_ADDONS && dir;

		sysext_set_init_addons(s, roles[r], rule_for(o), ours,
				       roles[r] == SEL_DIR_PER_UKI ? in->extra_dir_len : EXTDIR_GLOBAL_ADDONS_LEN);
		for (size_t k = 0; k < o->n_files; k++)
			if (o->files[k].kind == EXT_KIND_ADDON && o->files[k].role == roles[r]) {
				given = true;
				if (reads && sysext_set_add_file(s, o->files[k].path) < 0)
					return -1;
			}
		if (!reads) {
			if (given)
				warnf("addons are predicted for systemd-stub %u and later only: ignored",
				      SYSTEMD_ADDONS_SINCE);
			continue;
		}
		if ((dir && sysext_set_add_dir(s, dir, false) < 0) || sysext_set_finish(s) < 0)
			return -1;
		for (size_t i = 0; i < s->n; i++)
			if (addon_list_add(&in->addons, s->files[i].name, s->files[i].path) < 0)
				return -1;
	}
	return 0;
}

int predict_load_inputs(const struct predict_options *o, struct predict_inputs *in)
{
	unsigned roles_seen = 0;

	in->order = UKI_ORDER_DEFAULT;
	(void)uki_order_for_version(o->systemd_version, &in->order);
	in->banks = o->banks;
	if (o->uki && load_uki(o->uki, &in->uki) < 0)
		return -1;
	if (check_profile(o, o->uki ? &in->uki : NULL, in->order) < 0 || per_uki_dir_len(o, &in->extra_dir_len) < 0)
		return -1;
	for (size_t i = 0; i < companion_target_count; i++) {
		const struct companion_target *t = &companion_targets[i];

		in->read[i] = scheme_reads(o, t);
		if (collect_set(o, in, i, !(roles_seen & (1u << t->role))) < 0)
			return -1;
		roles_seen |= 1u << t->role;
	}
	return load_addons(o, in);
}

int predict_choose_banks(const struct predict_options *o, struct predict_inputs *in)
{
	/* Warned only now: a command that fails on its options should print its one error, no warning before it. */
	warn_unread(o, in);
	for (size_t b = 0; b < BANK_COUNT; b++) {
		bool all = true;

		for (size_t i = 0; i < companion_target_count; i++)
			all &= sysext_set_can_digest(&in->sets[i], b);
		if ((in->banks & (1u << b)) && !all) {
			warnf("no %s digest for every file (manifest): %s not predicted", banks[b].name, banks[b].name);
			in->banks &= ~(1u << b);
		}
	}
	if (in->banks == 0)
		return errorf("no bank can be predicted with these inputs");
	return 0;
}

int predict_read_sets(const struct predict_options *o, struct predict_inputs *in, bool want_archives)
{
	for (size_t i = 0; want_archives && i < companion_target_count; i++)
		if (!sysext_set_has_bytes(&in->sets[i]))
			return errorf("a manifest has digests only: the archives (cpio, PCR 9, --scheme=systemd) need the files");
	for (size_t i = 0; i < companion_target_count; i++) {
		enum initrd_slot slot = companion_targets[i].slot;

		if (sysext_set_read(&in->sets[i], in->banks, o->threads, want_archives ? &in->archive[slot] : NULL,
				    &in->archive_size[slot]) < 0)
			return -1;
	}
	return 0;
}

int predict_build_archives(const struct predict_options *o, struct predict_inputs *in)
{
	/* Ours reads signature files next to the sysexts (stub/signatures.c); systemd-stub passes .pcrsig on as it is. */
	bool ours = o->scheme == PREDICT_SCHEME_SYSEXT_STUB;

	if (signature_archives_build(in->uki.buf, &in->uki.img, o->profile, ours ? o->extra_dir : NULL,
				     in->extra_dir_len, ours ? o->global_dir : NULL, ours ? 0 : o->systemd_version,
				     &in->sa) < 0)
		return -1;
	for (size_t slot = 0; slot < INITRD_SLOTS; slot++)
		if (in->sa.archive[slot]) {
			in->archive[slot] = in->sa.archive[slot];
			in->archive_size[slot] = in->sa.size[slot];
		}
	return 0;
}

void predict_inputs_free(struct predict_inputs *in)
{
	for (size_t i = 0; i < companion_target_count; i++) {
		free(in->archive[companion_targets[i].slot]);
		sysext_set_free(&in->sets[i]);
	}
	signature_archives_free(&in->sa);
	for (size_t r = 0; r < 2; r++)
		sysext_set_free(&in->addon_sets[r]);
	addon_list_free(&in->addons);
	free(in->uki.buf);
	memset(in, 0, sizeof(*in));
}
