/* SPDX-License-Identifier: MIT */
#include "tcg2.h"

#include <efilib.h>

#include "fault.h"
#include "log.h"
#include "mem.h"

#define TCG2_PROTOCOL_GUID \
	{ 0x607f766c, 0x7455, 0x42be, { 0x93, 0x0b, 0xe4, 0xd7, 0x6d, 0xb2, 0x72, 0x0f } }
#define CC_MEASUREMENT_PROTOCOL_GUID \
	{ 0x96751a3d, 0x72f4, 0x41a6, { 0xa7, 0x94, 0xed, 0x5d, 0x0e, 0x67, 0xae, 0x6b } }

struct tcg2_version {
	UINT8 major, minor;
};

struct tcg2_capability {
	UINT8 size;
	struct tcg2_version structure_version, protocol_version;
	UINT32 hash_algorithm_bitmap;
	UINT32 supported_event_logs;
	BOOLEAN tpm_present;
	UINT16 max_command_size, max_response_size;
	UINT32 manufacturer_id;
	UINT32 number_of_pcr_banks;
	UINT32 active_pcr_banks;
};

/* EFI_TCG2_EVENT and EFI_CC_EVENT share this packed layout (header 14 bytes). */
struct measure_event {
	UINT32 size;
	UINT32 header_size;
	UINT16 header_version;
	UINT32 index; /* PCR (TPM) or MR index (CC) */
	UINT32 event_type;
	UINT8 data[];
} __attribute__((packed));

struct tcg2_protocol {
	EFI_STATUS(EFIAPI *get_capability)(struct tcg2_protocol *, struct tcg2_capability *);
	void *get_event_log;
	EFI_STATUS(EFIAPI *hash_log_extend_event)(struct tcg2_protocol *, UINT64 flags, EFI_PHYSICAL_ADDRESS data,
						  UINT64 len, struct measure_event *event);
};

struct cc_protocol {
	void *get_capability;
	void *get_event_log;
	EFI_STATUS(EFIAPI *hash_log_extend_event)(struct cc_protocol *, UINT64 flags, EFI_PHYSICAL_ADDRESS data,
						  UINT64 len, struct measure_event *event);
	EFI_STATUS(EFIAPI *map_pcr_to_mr_index)(struct cc_protocol *, UINT32 pcr, UINT32 *mr);
};

BOOLEAN measurer_init(struct measurer *m)
{
	EFI_GUID tcg2_guid = TCG2_PROTOCOL_GUID, cc_guid = CC_MEASUREMENT_PROTOCOL_GUID;
	struct tcg2_protocol *tcg2 = NULL;
	struct tcg2_capability cap;

	SetMem(m, sizeof(*m), 0);
	if (!EFI_ERROR(BS->LocateProtocol(&cc_guid, NULL, (void **)&m->cc)) && m->cc)
		log_info(L"confidential-computing measurement protocol found");
	else
		m->cc = NULL;
	if (!EFI_ERROR(BS->LocateProtocol(&tcg2_guid, NULL, (void **)&tcg2)) && tcg2) {
		SetMem(&cap, sizeof(cap), 0);
		cap.size = sizeof(cap);
		/* The protocol may exist without a TPM behind it. */
		if (!EFI_ERROR(tcg2->get_capability(tcg2, &cap)) && cap.tpm_present)
			m->tcg2 = tcg2;
	}
	return m->tcg2 || m->cc;
}

/* TCG_PCClientTaggedEvent (PC Client PFP §10.4.2.1): the event data of an EV_EVENT_TAG event. */
struct tagged_event_header {
	UINT32 tag;
	UINT32 size; /* of the data that follows: the description, UTF-16 with its NUL */
} __attribute__((packed));

/*
 * An event of @type for @index described by @description (UTF-16 with its
 * NUL): for EV_IPL the description is the event data, for EV_EVENT_TAG it
 * follows the tag header (@tag).
 */
static struct measure_event *make_event(UINT32 index, UINT32 type, UINT32 tag, const CHAR16 *description)
{
	UINTN desc_size = (StrLen(description) + 1) * sizeof(CHAR16);
	UINTN head = type == EV_EVENT_TAG ? sizeof(struct tagged_event_header) : 0;
	struct measure_event *ev = mem_alloc_zero(sizeof(*ev) + head + desc_size);

	if (!ev)
		return NULL;
	ev->size = sizeof(*ev) + head + desc_size;
	ev->header_size = sizeof(*ev) - sizeof(ev->size);
	ev->header_version = 1;
	ev->index = index;
	ev->event_type = type;
	if (head) {
		struct tagged_event_header h = { .tag = tag, .size = (UINT32)desc_size };

		CopyMem(ev->data, &h, sizeof(h));
	}
	CopyMem(ev->data + head, (void *)description, desc_size);
	return ev;
}

/*
 * EFI_VOLUME_FULL from either protocol means the register was extended and
 * only the log entry was lost: count it as measured, warn once per boot.
 */
static EFI_STATUS absorb_log_full(struct measurer *m, EFI_STATUS err)
{
	if (err != EFI_VOLUME_FULL)
		return err;
	if (!m->warned_log_full)
		log_warn(L"TPM event log is full: measurements go on without log entries");
	m->warned_log_full = TRUE;
	return EFI_SUCCESS;
}

/*
 * One event into @pcr over @len bytes at @data: EV_IPL, or EV_EVENT_TAG
 * with @tag. Confidential computing first, then the TPM, as systemd-stub
 * and shim do; the CC log gets EV_IPL either way (systemd-stub v261+).
 */
static EFI_STATUS measure_event(struct measurer *m, UINT32 pcr, UINT32 type, UINT32 tag, const void *data,
				UINT64 len, const CHAR16 *description)
{
	struct measure_event *ev;
	EFI_STATUS err = EFI_SUCCESS;

	if (m->cc) {
		struct cc_protocol *cc = m->cc;
		UINT32 mr;

		err = cc->map_pcr_to_mr_index(cc, pcr, &mr);
		if (EFI_ERROR(err))
			return err;
		ev = make_event(mr, EV_IPL, 0, description);
		if (!ev)
			return EFI_OUT_OF_RESOURCES;
		err = absorb_log_full(m, cc->hash_log_extend_event(cc, 0, (EFI_PHYSICAL_ADDRESS)(UINTN)data, len, ev));
		mem_free(ev);
		if (EFI_ERROR(err))
			return err;
	}
	if (m->tcg2) {
		struct tcg2_protocol *tcg2 = m->tcg2;

		ev = make_event(pcr, type, tag, description);
		if (!ev)
			return EFI_OUT_OF_RESOURCES;
		err = tcg2->hash_log_extend_event(tcg2, 0, (EFI_PHYSICAL_ADDRESS)(UINTN)data, len, ev);
		mem_free(ev);
		if (!EFI_ERROR(err) && fault_hit16(description, FAULT_LOG_FULL))
			err = EFI_VOLUME_FULL;
		err = absorb_log_full(m, err);
	}
	return err;
}

EFI_STATUS measure_ipl(struct measurer *m, UINT32 pcr, const void *data, UINT64 len, const CHAR16 *description)
{
	return measure_event(m, pcr, EV_IPL, 0, data, len, description);
}

EFI_STATUS measure_tagged(struct measurer *m, UINT32 pcr, UINT32 tag, const void *data, UINT64 len,
			  const CHAR16 *description)
{
	return measure_event(m, pcr, EV_EVENT_TAG, tag, data, len, description);
}
