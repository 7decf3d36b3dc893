/* SPDX-License-Identifier: MIT */
/*
 * tcglog.h - iterator over a TCG PC Client "crypto agile" event log, the
 * format of /sys/kernel/security/tpm0/binary_bios_measurements and of
 * EFI_TCG2_PROTOCOL.GetEventLog(EFI_TCG2_EVENT_LOG_FORMAT_TCG_2).
 *
 * Layout (TCG PC Client Platform Firmware Profile, all little-endian):
 *
 *   TCG_PCR_EVENT   PCRIndex u32, EventType u32 (EV_NO_ACTION), SHA-1 digest[20],
 *                   EventSize u32, Event = TCG_EfiSpecIDEvent:
 *                     "Spec ID Event03\0", platformClass u32, specVersionMinor u8,
 *                     specVersionMajor u8, specErrata u8, uintnSize u8,
 *                     numberOfAlgorithms u32, {algorithmId u16, digestSize u16}[n],
 *                     vendorInfoSize u8, vendorInfo[]
 *   TCG_PCR_EVENT2  PCRIndex u32, EventType u32, count u32,
 *   (repeated)      {hashAlg u16, digest[digestSize from the header]}[count],
 *                   EventSize u32, Event[EventSize]
 *
 * Nothing is copied or allocated: digests and event data point into the
 * caller's buffer. Every size is checked before it is used; the iterator is
 * safe on hostile logs (tests/test-tcglog.c, tests/fuzz/fuzz-tcglog.c).
 *
 * EV_NO_ACTION events are returned like any other, but they were never
 * extended into a PCR: a caller replaying the log must skip them (see
 * tcglog_event_is_extended()). One of them matters for replay anyway:
 * "StartupLocality" (tcglog_startup_locality()).
 */
#ifndef MEASURE_TCGLOG_H
#define MEASURE_TCGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Event types (TCG PC Client PFP, section 10.4.1); TCG_ prefix: efi-lib has its own EV_IPL. */
#define TCG_EV_PREBOOT_CERT 0x00000000u
#define TCG_EV_POST_CODE 0x00000001u
#define TCG_EV_NO_ACTION 0x00000003u
#define TCG_EV_SEPARATOR 0x00000004u
#define TCG_EV_ACTION 0x00000005u
#define TCG_EV_EVENT_TAG 0x00000006u
#define TCG_EV_S_CRTM_CONTENTS 0x00000007u
#define TCG_EV_S_CRTM_VERSION 0x00000008u
#define TCG_EV_IPL 0x0000000du
#define TCG_EV_EFI_ACTION 0x80000007u

#define TCGLOG_PCR_COUNT 24           /* PCR indices 0..23 */
#define TCGLOG_MAX_ALGS 16            /* algorithms in one log (real TPMs have at most ~5 banks) */
#define TCGLOG_DIGEST_MAX 64          /* largest digest accepted (SHA-512, SHA3-512) */
#define TCGLOG_EVENT_DATA_MAX (16u << 20) /* larger event data is "absurd", not merely truncated */
#define TCGLOG_SHA1_SIZE 20

struct tcglog_alg {
	uint16_t alg_id; /* TPM_ALG_ID: 0x0004 sha1, 0x000b sha256, 0x000c sha384, 0x000d sha512, ... */
	uint16_t size;   /* digest bytes, from the spec header */
};

struct tcglog_digest {
	uint16_t alg_id;
	uint16_t size;
	const uint8_t *bytes; /* into the log buffer */
};

struct tcglog_event {
	uint32_t index;  /* 0: the Spec ID header record; 1, 2, ...: the records after it */
	size_t offset;   /* of the record in the log */
	size_t size;     /* of the whole record */
	uint32_t pcr;    /* 0..TCGLOG_PCR_COUNT-1 */
	uint32_t type;   /* TCG_EV_* */
	uint32_t n_digests;
	struct tcglog_digest digests[TCGLOG_MAX_ALGS]; /* in log order; the header's one SHA-1 digest */
	const uint8_t *data;                           /* event data, into the log buffer */
	uint32_t data_size;
};

struct tcglog {
	const uint8_t *buf;
	size_t len;
	size_t pos; /* offset of the next record */

	/* From the Spec ID Event03 header. */
	uint32_t platform_class;
	uint8_t spec_version_minor, spec_version_major, spec_errata, uintn_size;
	uint32_t n_algs;
	struct tcglog_alg algs[TCGLOG_MAX_ALGS];
	const uint8_t *vendor_info;
	uint8_t vendor_info_size;
	struct tcglog_event header; /* the first record itself */

	uint32_t next_index;
	/*
	 * After an error (which is sticky: every later call returns it again):
	 * a static English description, and the index and offset of the record
	 * at fault. error_value, when has_error_value, is the offending number
	 * (an algorithm id, a size, a PCR index).
	 */
	ms_status status;
	const char *error;
	uint32_t error_index;
	size_t error_offset;
	bool has_error_value;
	uint32_t error_value;
};

/*
 * Validate the header record of buf[0..len) and set up the iterator.
 * Errors: MS_ERR_TRUNCATED (log too short for its header), MS_ERR_BAD_MAGIC
 * (the first record is not an EV_NO_ACTION "Spec ID Event03" record in PCR
 * 0), MS_ERR_UNSUPPORTED (a SHA-1-only "Spec ID Event00" log, spec major
 * version not 2), MS_ERR_LIMIT (0 or more than TCGLOG_MAX_ALGS algorithms,
 * a digest size above TCGLOG_DIGEST_MAX), MS_ERR_INVALID (a duplicate
 * algorithm, a digest size of 0 or wrong for a known algorithm).
 */
ms_status tcglog_init(struct tcglog *log, const void *buf, size_t len);

/*
 * The next record. Returns MS_OK and fills *ev, or MS_ERR_NOT_FOUND at the
 * clean end of the log, or an error: MS_ERR_TRUNCATED (the log ends inside
 * a record), MS_ERR_LIMIT (event data above TCGLOG_EVENT_DATA_MAX, a digest
 * count above TCGLOG_MAX_ALGS), MS_ERR_UNSUPPORTED (a digest of an algorithm
 * the header does not list), MS_ERR_INVALID (a digest count other than the
 * header's number of algorithms, or one algorithm twice),
 * MS_ERR_OUT_OF_BOUNDS (PCR index above 23). log->error says which.
 */
ms_status tcglog_next(struct tcglog *log, struct tcglog_event *ev);

/* The digest of @alg_id in @ev, or NULL. */
const struct tcglog_digest *tcglog_event_digest(const struct tcglog_event *ev, uint16_t alg_id);

/* The header's entry for @alg_id, or NULL if the log has no such bank. */
const struct tcglog_alg *tcglog_find_alg(const struct tcglog *log, uint16_t alg_id);

/* False for EV_NO_ACTION: such events are informational and never extended. */
bool tcglog_event_is_extended(const struct tcglog_event *ev);

/*
 * Whether @ev is the "StartupLocality" EV_NO_ACTION event (OVMF and other
 * firmware log it when the TPM was started from a locality other than 0);
 * if so *ret_locality gets its one-byte locality.
 */
bool tcglog_startup_locality(const struct tcglog_event *ev, uint8_t *ret_locality);

/*
 * The value PCR @pcr holds before the first extend, into out[0..size):
 * zeros, except PCR 0 after a startup from locality 3 or 4, whose last byte
 * is the locality (TCG PC Client PFP, "StartupLocality" event). Pass
 * locality 0 when the log has no StartupLocality event.
 */
void tcglog_initial_pcr_value(uint32_t pcr, uint8_t startup_locality, uint8_t *out, size_t size);

/*
 * Best-effort printable ASCII of an event's text into out[0..out_size),
 * always NUL-terminated (out_size > 0). UTF-16LE is assumed when the size is
 * even and the second byte is 0 (EV_IPL descriptions of systemd and this
 * stub, EV_S_CRTM_VERSION); otherwise 8-bit text (EV_EFI_ACTION, GRUB's
 * EV_IPL strings). Stops at the first NUL. Non-ASCII and control characters
 * become '?' (a UTF-16 surrogate pair a single '?'). Returns the length
 * written, excluding the NUL; longer text is cut.
 */
size_t tcglog_describe_text(const uint8_t *data, size_t size, char *out, size_t out_size);

/*
 * Decode EV_EVENT_TAG data (TCG_PCClientTaggedEvent: taggedEventID u32,
 * taggedEventDataSize u32, taggedEventData[]). The data must fill the event
 * exactly; otherwise MS_ERR_TRUNCATED or MS_ERR_INVALID.
 */
ms_status tcglog_event_tag(const uint8_t *data, size_t size, uint32_t *ret_id, const uint8_t **ret_data,
			   uint32_t *ret_size);

/* "EV_IPL" etc. for the event types of the TCG PC Client PFP, NULL for others. */
const char *tcglog_event_type_name(uint32_t type);

/* The event type called @name (as tcglog_event_type_name() spells it); false if unknown. */
bool tcglog_event_type_from_name(const char *name, uint32_t *ret_type);

#endif
