/* SPDX-License-Identifier: MIT */
#include "tcglog.h"

#include "endian.h"

/* TCG_PCR_EVENT (the SHA-1 format header record). */
#define HDR_PCR 0
#define HDR_TYPE 4
#define HDR_DIGEST 8
#define HDR_EVENT_SIZE 28
#define HDR_EVENT 32

/* TCG_EfiSpecIDEvent, relative to the header record's event data. */
#define SPEC_SIGNATURE_SIZE 16
#define SPEC_PLATFORM_CLASS 16
#define SPEC_VERSION_MINOR 20
#define SPEC_VERSION_MAJOR 21
#define SPEC_ERRATA 22
#define SPEC_UINTN_SIZE 23
#define SPEC_N_ALGS 24
#define SPEC_ALGS 28
#define SPEC_ALG_ENTRY_SIZE 4

/* TCG_PCR_EVENT2: PCRIndex, EventType, TPML_DIGEST_VALUES.count. */
#define EV2_FIXED 12

static const uint8_t spec_id_03[SPEC_SIGNATURE_SIZE] = "Spec ID Event03";
static const uint8_t spec_id_00[SPEC_SIGNATURE_SIZE] = "Spec ID Event00";
static const uint8_t startup_locality[16] = "StartupLocality";

/* Digest sizes of the algorithms whose size we know (TCG Algorithm Registry). */
static const struct tcglog_alg known_algs[] = {
	{ 0x0004, 20 }, /* sha1 */
	{ 0x000b, 32 }, /* sha256 */
	{ 0x000c, 48 }, /* sha384 */
	{ 0x000d, 64 }, /* sha512 */
	{ 0x0012, 32 }, /* sm3_256 */
	{ 0x0027, 32 }, /* sha3_256 */
	{ 0x0028, 48 }, /* sha3_384 */
	{ 0x0029, 64 }, /* sha3_512 */
};

static const struct {
	uint32_t type;
	const char *name;
} event_types[] = {
	{ 0x00000000, "EV_PREBOOT_CERT" },
	{ 0x00000001, "EV_POST_CODE" },
	{ 0x00000002, "EV_UNUSED" },
	{ 0x00000003, "EV_NO_ACTION" },
	{ 0x00000004, "EV_SEPARATOR" },
	{ 0x00000005, "EV_ACTION" },
	{ 0x00000006, "EV_EVENT_TAG" },
	{ 0x00000007, "EV_S_CRTM_CONTENTS" },
	{ 0x00000008, "EV_S_CRTM_VERSION" },
	{ 0x00000009, "EV_CPU_MICROCODE" },
	{ 0x0000000a, "EV_PLATFORM_CONFIG_FLAGS" },
	{ 0x0000000b, "EV_TABLE_OF_DEVICES" },
	{ 0x0000000c, "EV_COMPACT_HASH" },
	{ 0x0000000d, "EV_IPL" },
	{ 0x0000000e, "EV_IPL_PARTITION_DATA" },
	{ 0x0000000f, "EV_NONHOST_CODE" },
	{ 0x00000010, "EV_NONHOST_CONFIG" },
	{ 0x00000011, "EV_NONHOST_INFO" },
	{ 0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS" },
	{ 0x80000000, "EV_EFI_EVENT_BASE" },
	{ 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
	{ 0x80000002, "EV_EFI_VARIABLE_BOOT" },
	{ 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
	{ 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
	{ 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
	{ 0x80000006, "EV_EFI_GPT_EVENT" },
	{ 0x80000007, "EV_EFI_ACTION" },
	{ 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
	{ 0x80000009, "EV_EFI_HANDOFF_TABLES" },
	{ 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
	{ 0x8000000b, "EV_EFI_HANDOFF_TABLES2" },
	{ 0x8000000c, "EV_EFI_VARIABLE_BOOT2" },
	{ 0x8000000d, "EV_EFI_GPT_EVENT2" },
	{ 0x80000010, "EV_EFI_HCRTM_EVENT" },
	{ 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" },
	{ 0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
	{ 0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
	{ 0x800000e3, "EV_EFI_SPDM_DEVICE_POLICY" },
	{ 0x800000e4, "EV_EFI_SPDM_DEVICE_AUTHORITY" },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static ms_status fail(struct tcglog *log, ms_status r, const char *what, uint32_t index, size_t offset)
{
	log->status = r;
	log->error = what;
	log->error_index = index;
	log->error_offset = offset;
	return r;
}

static ms_status fail_value(struct tcglog *log, ms_status r, const char *what, uint32_t index, size_t offset,
			    uint32_t value)
{
	log->has_error_value = true;
	log->error_value = value;
	return fail(log, r, what, index, offset);
}

static ms_status check_alg(struct tcglog *log, uint32_t i, size_t at)
{
	const struct tcglog_alg *a = &log->algs[i];

	if (a->size == 0)
		return fail_value(log, MS_ERR_INVALID, "spec header: digest size 0 for algorithm", 0, at, a->alg_id);
	if (a->size > TCGLOG_DIGEST_MAX)
		return fail_value(log, MS_ERR_LIMIT, "spec header: digest size too large", 0, at, a->size);
	for (size_t k = 0; k < ARRAY_SIZE(known_algs); k++)
		if (known_algs[k].alg_id == a->alg_id && known_algs[k].size != a->size)
			return fail_value(log, MS_ERR_INVALID,
					  "spec header: wrong digest size for a known algorithm", 0, at,
					  a->alg_id);
	for (uint32_t k = 0; k < i; k++)
		if (log->algs[k].alg_id == a->alg_id)
			return fail_value(log, MS_ERR_INVALID, "spec header: algorithm listed twice", 0, at,
					  a->alg_id);
	return MS_OK;
}

ms_status tcglog_init(struct tcglog *log, const void *buf, size_t len)
{
	const uint8_t *p = buf, *spec;
	uint32_t event_size, n_algs;
	size_t need;

	if (!log)
		return MS_ERR_INVALID;
	*log = (struct tcglog){ .buf = p, .len = len, .status = MS_OK };
	if (!buf && len)
		return fail(log, MS_ERR_INVALID, "no buffer", 0, 0);
	if (len < HDR_EVENT)
		return fail(log, MS_ERR_TRUNCATED, "log too short for its header record", 0, 0);
	if (le32_read(p + HDR_PCR) != 0 || le32_read(p + HDR_TYPE) != TCG_EV_NO_ACTION)
		return fail(log, MS_ERR_BAD_MAGIC,
			    "the first record is not an EV_NO_ACTION Spec ID event in PCR 0 (not a TCG2 crypto-agile log)",
			    0, 0);
	event_size = le32_read(p + HDR_EVENT_SIZE);
	if (event_size < SPEC_SIGNATURE_SIZE)
		return fail_value(log, MS_ERR_BAD_MAGIC, "header record too small for a Spec ID event", 0, 0,
				  event_size);
	if (event_size > len - HDR_EVENT)
		return fail_value(log, MS_ERR_TRUNCATED, "log ends inside the header record", 0, 0, event_size);
	spec = p + HDR_EVENT;
	if (bytes_equal(spec, spec_id_00, SPEC_SIGNATURE_SIZE))
		return fail(log, MS_ERR_UNSUPPORTED, "a SHA-1-only (TPM 1.2, Spec ID Event00) log", 0, 0);
	if (!bytes_equal(spec, spec_id_03, SPEC_SIGNATURE_SIZE))
		return fail(log, MS_ERR_BAD_MAGIC, "the header record is not a \"Spec ID Event03\" event", 0, 0);
	if (event_size < SPEC_ALGS)
		return fail_value(log, MS_ERR_TRUNCATED, "Spec ID event too short", 0, 0, event_size);

	log->platform_class = le32_read(spec + SPEC_PLATFORM_CLASS);
	log->spec_version_minor = spec[SPEC_VERSION_MINOR];
	log->spec_version_major = spec[SPEC_VERSION_MAJOR];
	log->spec_errata = spec[SPEC_ERRATA];
	log->uintn_size = spec[SPEC_UINTN_SIZE];
	if (log->spec_version_major != 2)
		return fail_value(log, MS_ERR_UNSUPPORTED, "Spec ID event: spec major version is not 2", 0, 0,
				  log->spec_version_major);
	n_algs = le32_read(spec + SPEC_N_ALGS);
	if (n_algs == 0)
		return fail(log, MS_ERR_LIMIT, "Spec ID event lists no algorithms", 0, 0);
	if (n_algs > TCGLOG_MAX_ALGS)
		return fail_value(log, MS_ERR_LIMIT, "Spec ID event lists too many algorithms", 0, 0, n_algs);
	/* n_algs <= 16: no overflow. */
	need = SPEC_ALGS + (size_t)n_algs * SPEC_ALG_ENTRY_SIZE + 1;
	if (need > event_size)
		return fail_value(log, MS_ERR_TRUNCATED, "Spec ID event too short for its algorithm list", 0, 0,
				  event_size);
	log->n_algs = n_algs;
	for (uint32_t i = 0; i < n_algs; i++) {
		const uint8_t *e = spec + SPEC_ALGS + (size_t)i * SPEC_ALG_ENTRY_SIZE;
		ms_status r;

		log->algs[i].alg_id = le16_read(e);
		log->algs[i].size = le16_read(e + 2);
		r = check_alg(log, i, 0);
		if (r != MS_OK)
			return r;
	}
	log->vendor_info_size = spec[need - 1];
	log->vendor_info = spec + need;
	/* Firmware may pad the event: bytes after vendorInfo are ignored. */
	if (log->vendor_info_size > event_size - need)
		return fail_value(log, MS_ERR_TRUNCATED, "Spec ID event too short for its vendor info", 0, 0,
				  log->vendor_info_size);

	log->header = (struct tcglog_event){
		.index = 0,
		.offset = 0,
		.size = HDR_EVENT + (size_t)event_size,
		.pcr = 0,
		.type = TCG_EV_NO_ACTION,
		.n_digests = 1,
		.data = spec,
		.data_size = event_size,
	};
	log->header.digests[0] = (struct tcglog_digest){ 0x0004, TCGLOG_SHA1_SIZE, p + HDR_DIGEST };
	log->pos = log->header.size;
	log->next_index = 1;
	return MS_OK;
}

const struct tcglog_alg *tcglog_find_alg(const struct tcglog *log, uint16_t alg_id)
{
	for (uint32_t i = 0; i < log->n_algs && i < TCGLOG_MAX_ALGS; i++)
		if (log->algs[i].alg_id == alg_id)
			return &log->algs[i];
	return NULL;
}

ms_status tcglog_next(struct tcglog *log, struct tcglog_event *ev)
{
	const uint8_t *p;
	size_t at, left, pos;
	uint32_t count, seen = 0, event_size, index;

	if (!log || !ev)
		return MS_ERR_INVALID;
	if (log->status != MS_OK)
		return log->status;
	if (log->pos == log->len)
		return MS_ERR_NOT_FOUND;
	/* pos <= len always holds: it only ever advances past bytes checked to exist. */
	at = log->pos;
	p = log->buf + at;
	left = log->len - at;
	index = log->next_index;

	if (left < EV2_FIXED)
		return fail(log, MS_ERR_TRUNCATED, "log ends inside a record header", index, at);
	ev->index = index;
	ev->offset = at;
	ev->pcr = le32_read(p);
	ev->type = le32_read(p + 4);
	count = le32_read(p + 8);
	if (ev->pcr >= TCGLOG_PCR_COUNT)
		return fail_value(log, MS_ERR_OUT_OF_BOUNDS, "PCR index above 23", index, at, ev->pcr);
	if (count > TCGLOG_MAX_ALGS)
		return fail_value(log, MS_ERR_LIMIT, "absurd digest count", index, at, count);
	if (count != log->n_algs)
		return fail_value(log, MS_ERR_INVALID,
				  "digest count differs from the number of algorithms in the spec header", index, at,
				  count);

	pos = EV2_FIXED;
	ev->n_digests = count;
	for (uint32_t i = 0; i < count; i++) {
		const struct tcglog_alg *a;
		uint16_t alg;
		uint32_t bit;

		if (left - pos < 2)
			return fail(log, MS_ERR_TRUNCATED, "log ends inside a digest", index, at);
		alg = le16_read(p + pos);
		a = tcglog_find_alg(log, alg);
		if (!a)
			return fail_value(log, MS_ERR_UNSUPPORTED, "digest of an algorithm not in the spec header",
					  index, at, alg);
		bit = 1u << (uint32_t)(a - log->algs);
		if (seen & bit)
			return fail_value(log, MS_ERR_INVALID, "two digests of one algorithm", index, at, alg);
		seen |= bit;
		pos += 2;
		if (left - pos < a->size)
			return fail(log, MS_ERR_TRUNCATED, "log ends inside a digest", index, at);
		ev->digests[i] = (struct tcglog_digest){ alg, a->size, p + pos };
		pos += a->size;
	}
	if (left - pos < 4)
		return fail(log, MS_ERR_TRUNCATED, "log ends inside a record header", index, at);
	event_size = le32_read(p + pos);
	pos += 4;
	if (event_size > TCGLOG_EVENT_DATA_MAX)
		return fail_value(log, MS_ERR_LIMIT, "absurd event size", index, at, event_size);
	if (event_size > left - pos)
		return fail_value(log, MS_ERR_TRUNCATED, "log ends inside the event data", index, at, event_size);
	ev->data = p + pos;
	ev->data_size = event_size;
	pos += event_size;
	ev->size = pos;
	log->pos = at + pos;
	log->next_index++;
	return MS_OK;
}

const struct tcglog_digest *tcglog_event_digest(const struct tcglog_event *ev, uint16_t alg_id)
{
	for (uint32_t i = 0; i < ev->n_digests && i < TCGLOG_MAX_ALGS; i++)
		if (ev->digests[i].alg_id == alg_id)
			return &ev->digests[i];
	return NULL;
}

bool tcglog_event_is_extended(const struct tcglog_event *ev)
{
	return ev->type != TCG_EV_NO_ACTION;
}

bool tcglog_startup_locality(const struct tcglog_event *ev, uint8_t *ret_locality)
{
	/* TCG_EfiStartupLocalityEvent: Signature[16] "StartupLocality\0", StartupLocality u8. */
	if (ev->type != TCG_EV_NO_ACTION || ev->data_size != sizeof(startup_locality) + 1 || !ev->data)
		return false;
	if (!bytes_equal(ev->data, startup_locality, sizeof(startup_locality)))
		return false;
	if (ret_locality)
		*ret_locality = ev->data[sizeof(startup_locality)];
	return true;
}

void tcglog_initial_pcr_value(uint32_t pcr, uint8_t startup_locality_value, uint8_t *out, size_t size)
{
	for (size_t i = 0; i < size; i++)
		out[i] = 0;
	if (size > 0 && pcr == 0 && (startup_locality_value == 3 || startup_locality_value == 4))
		out[size - 1] = startup_locality_value;
}

static char printable(uint32_t c)
{
	return c >= 0x20 && c < 0x7f ? (char)c : '?';
}

size_t tcglog_describe_text(const uint8_t *data, size_t size, char *out, size_t out_size)
{
	size_t n = 0;

	if (!out || out_size == 0)
		return 0;
	if (!data)
		size = 0;
	if (size >= 2 && size % 2 == 0 && data[1] == 0) {
		for (size_t i = 0; i + 1 < size && n + 1 < out_size; i += 2) {
			uint16_t u = le16_read(data + i);

			if (u == 0)
				break;
			/* A surrogate pair is one (non-ASCII) character. */
			if (u >= 0xd800 && u <= 0xdbff && i + 3 < size) {
				uint16_t lo = le16_read(data + i + 2);

				if (lo >= 0xdc00 && lo <= 0xdfff)
					i += 2;
			}
			out[n++] = printable(u);
		}
	} else {
		for (size_t i = 0; i < size && n + 1 < out_size; i++) {
			if (data[i] == 0)
				break;
			out[n++] = printable(data[i]);
		}
	}
	out[n] = '\0';
	return n;
}

ms_status tcglog_event_tag(const uint8_t *data, size_t size, uint32_t *ret_id, const uint8_t **ret_data,
			   uint32_t *ret_size)
{
	uint32_t tagged_size;

	if (!data || size < 8)
		return MS_ERR_TRUNCATED;
	tagged_size = le32_read(data + 4);
	if (tagged_size > size - 8)
		return MS_ERR_TRUNCATED;
	if (tagged_size != size - 8)
		return MS_ERR_INVALID;
	if (ret_id)
		*ret_id = le32_read(data);
	if (ret_data)
		*ret_data = data + 8;
	if (ret_size)
		*ret_size = tagged_size;
	return MS_OK;
}

const char *tcglog_event_type_name(uint32_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(event_types); i++)
		if (event_types[i].type == type)
			return event_types[i].name;
	return NULL;
}

bool tcglog_event_type_from_name(const char *name, uint32_t *ret_type)
{
	if (!name)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(event_types); i++) {
		const char *a = event_types[i].name;
		size_t k = 0;

		/* Names are short: the loop ends at the first difference or NUL. */
		while (a[k] && a[k] == name[k])
			k++;
		if (a[k] == '\0' && name[k] == '\0') {
			if (ret_type)
				*ret_type = event_types[i].type;
			return true;
		}
	}
	return false;
}
