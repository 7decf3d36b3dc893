/* SPDX-License-Identifier: MIT */
/*
 * tpm-fake.c - see tpm-fake.h. The structures are written here from the
 * specifications, not taken from efi-lib/tcg2.c, so a layout mistake there
 * shows up as a malformed event.
 */
#include "tpm-fake.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "efi-host.h"
#include "internal.h"

/* TCG EFI Protocol Specification rev. 1.22 §6.4.4 / UEFI 2.10 §38.4.1 (both packed). */
struct event_header {
	UINT32 header_size;
	UINT16 header_version;
	UINT32 index;
	UINT32 event_type;
} __attribute__((packed));

struct event {
	UINT32 size;
	struct event_header header;
	UINT8 event[];
} __attribute__((packed));

/* EFI_TCG2_BOOT_SERVICE_CAPABILITY (§6.4.1, natural alignment). */
struct boot_service_capability {
	UINT8 size;
	struct {
		UINT8 major, minor;
	} structure_version, protocol_version;
	UINT32 hash_algorithm_bitmap;
	UINT32 supported_event_logs;
	BOOLEAN tpm_present_flag;
	UINT16 max_command_size;
	UINT16 max_response_size;
	UINT32 manufacturer_id;
	UINT32 number_of_pcr_banks;
	UINT32 active_pcr_banks;
};

struct tcg2 {
	EFI_STATUS(EFIAPI *get_capability)(struct tcg2 *, struct boot_service_capability *);
	void *get_event_log;
	EFI_STATUS(EFIAPI *hash_log_extend_event)(struct tcg2 *, UINT64, EFI_PHYSICAL_ADDRESS, UINT64, struct event *);
	void *submit_command, *get_active_pcr_banks, *set_active_pcr_banks, *get_result_of_set_active_pcr_banks;
};

struct cc {
	void *get_capability;
	void *get_event_log;
	EFI_STATUS(EFIAPI *hash_log_extend_event)(struct cc *, UINT64, EFI_PHYSICAL_ADDRESS, UINT64, struct event *);
	EFI_STATUS(EFIAPI *map_pcr_to_mr_index)(struct cc *, UINT32, UINT32 *);
};

#define EV_HEADER_SIZE ((UINT32)sizeof(struct event_header))
#define PCR_MAX 23

static struct {
	struct tpm_fake_setup setup;
	struct tpm_fake_event *events;
	size_t n, cap;
	unsigned long calls;
} fake;

static EFI_GUID tcg2_guid = { 0x607f766c, 0x7455, 0x42be, { 0x93, 0x0b, 0xe4, 0xd7, 0x6d, 0xb2, 0x72, 0x0f } };
static EFI_GUID cc_guid = { 0x96751a3d, 0x72f4, 0x41a6, { 0xa7, 0x94, 0xed, 0x5d, 0x0e, 0x67, 0xae, 0x6b } };

UINT32 tpm_fake_cc_index(UINT32 pcr)
{
	return pcr >= 8 && pcr <= 15 ? 3 : 1;
}

static void sha256(const void *data, UINT64 len, unsigned char out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(data, (size_t)len, out, &n, EVP_sha256(), NULL))
		abort();
}

/* The description of @ev (UTF-16, must end in a NUL inside the event) into @out; 0 if malformed. */
static int event_description(const struct event *ev, char out[TPM_FAKE_DESC_MAX])
{
	UINT32 bytes = ev->size - (UINT32)sizeof(UINT32) - EV_HEADER_SIZE;
	const UINT8 *p = ev->event;
	size_t units = bytes / 2, k = 0;

	if (bytes % 2 || units == 0 || (p[bytes - 2] | p[bytes - 1]) != 0)
		return 0;
	for (size_t i = 0; i + 1 < units && k + 1 < TPM_FAKE_DESC_MAX; i++) {
		UINT16 u = (UINT16)(p[2 * i] | p[2 * i + 1] << 8);

		if (u == 0)
			return 0; /* a NUL inside the description */
		out[k++] = u < 0x100 ? (char)u : '?';
	}
	out[k] = 0;
	return 1;
}

static EFI_STATUS record(enum tpm_fake_proto proto, UINT64 flags, EFI_PHYSICAL_ADDRESS data, UINT64 len,
			 struct event *ev)
{
	const char *name = proto == TPM_FAKE_TCG2 ? "TCG2" : "CC";
	struct tpm_fake_event *e;
	EFI_STATUS status = EFI_SUCCESS;

	fake.calls++;
	if (!ev || ev->size < sizeof(UINT32) + EV_HEADER_SIZE || ev->header.header_size != EV_HEADER_SIZE ||
	    ev->header.header_version != 1) {
		efi_host_violation("%s HashLogExtendEvent: malformed event header", name);
		return EFI_INVALID_PARAMETER;
	}
	if (flags != 0 || (len && !data)) {
		efi_host_violation("%s HashLogExtendEvent: flags 0x%lx, data %p for %lu bytes", name,
				   (unsigned long)flags, (void *)(UINTN)data, (unsigned long)len);
		return EFI_INVALID_PARAMETER;
	}
	if (proto == TPM_FAKE_TCG2 && ev->header.index > PCR_MAX)
		return EFI_INVALID_PARAMETER;
	efi_host_reserve(&fake.events, &fake.cap, fake.n, sizeof(*fake.events));
	e = &fake.events[fake.n++];
	memset(e, 0, sizeof(*e));
	e->proto = proto;
	e->index = ev->header.index;
	e->type = ev->header.event_type;
	e->data = (const void *)(UINTN)data;
	e->len = len;
	if (!event_description(ev, e->desc))
		efi_host_violation("%s HashLogExtendEvent: the description is not a NUL-terminated UTF-16 string", name);
	sha256(e->data, len, e->sha256);
	if (len <= TPM_FAKE_COPY_MAX) {
		e->copy = malloc(len ? len : 1);
		if (!e->copy)
			abort();
		memcpy(e->copy, e->data, len);
	}
	if (fake.setup.fail_at && fake.calls == fake.setup.fail_at)
		status = fake.setup.fail_status;
	e->status = status;
	return status;
}

static EFI_STATUS EFIAPI tcg2_get_capability(struct tcg2 *this, struct boot_service_capability *cap)
{
	UINT8 size;

	if (!this || !cap)
		return EFI_INVALID_PARAMETER;
	size = cap->size;
	if (size < offsetof(struct boot_service_capability, max_command_size))
		return EFI_BUFFER_TOO_SMALL;
	memset(cap, 0, size < sizeof(*cap) ? size : sizeof(*cap));
	cap->size = size;
	cap->structure_version.major = cap->protocol_version.major = 1;
	cap->structure_version.minor = cap->protocol_version.minor = 1;
	cap->hash_algorithm_bitmap = 0x2; /* SHA-256 */
	cap->supported_event_logs = 0x2; /* TCG 2.0 */
	cap->tpm_present_flag = fake.setup.tpm_present;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI tcg2_hash_log_extend_event(struct tcg2 *this, UINT64 flags, EFI_PHYSICAL_ADDRESS data,
						    UINT64 len, struct event *ev)
{
	if (!this)
		return EFI_INVALID_PARAMETER;
	return record(TPM_FAKE_TCG2, flags, data, len, ev);
}

static EFI_STATUS EFIAPI cc_hash_log_extend_event(struct cc *this, UINT64 flags, EFI_PHYSICAL_ADDRESS data,
						  UINT64 len, struct event *ev)
{
	if (!this)
		return EFI_INVALID_PARAMETER;
	return record(TPM_FAKE_CC, flags, data, len, ev);
}

static EFI_STATUS EFIAPI cc_map_pcr_to_mr_index(struct cc *this, UINT32 pcr, UINT32 *mr)
{
	if (!this || !mr || pcr > PCR_MAX)
		return EFI_INVALID_PARAMETER;
	if (fake.setup.cc_map_fails)
		return EFI_DEVICE_ERROR;
	*mr = tpm_fake_cc_index(pcr);
	return EFI_SUCCESS;
}

static struct tcg2 tcg2_protocol = {
	.get_capability = tcg2_get_capability,
	.hash_log_extend_event = tcg2_hash_log_extend_event,
};

static struct cc cc_protocol = {
	.hash_log_extend_event = cc_hash_log_extend_event,
	.map_pcr_to_mr_index = cc_map_pcr_to_mr_index,
};

static void *locate(const EFI_GUID *guid)
{
	if (fake.setup.tcg2 && memcmp(guid, &tcg2_guid, sizeof(*guid)) == 0)
		return &tcg2_protocol;
	if (fake.setup.cc && memcmp(guid, &cc_guid, sizeof(*guid)) == 0)
		return &cc_protocol;
	return NULL;
}

void tpm_fake_setup(const struct tpm_fake_setup *s)
{
	for (size_t i = 0; i < fake.n; i++)
		free(fake.events[i].copy);
	fake.n = 0;
	fake.calls = 0;
	fake.setup = *s;
	efi_host_set_locate(locate);
}

size_t tpm_fake_event_count(void)
{
	return fake.n;
}

const struct tpm_fake_event *tpm_fake_event(size_t i)
{
	return i < fake.n ? &fake.events[i] : NULL;
}
