/* SPDX-License-Identifier: MIT */
#include "initrd-media.h"

#include <efilib.h>

#include "efi-defs.h"
#include "log.h"
#include "mem.h"
#include "timing.h"

struct initrd_media {
	EFI_LOAD_FILE_PROTOCOL load_file2; /* first: the protocol pointer is the object */
	EFI_HANDLE handle;
	UINTN n;
	struct initrd_piece pieces[INITRD_MAX_PIECES];
	UINT64 offsets[INITRD_MAX_PIECES];
	UINTN fill_order[INITRD_MAX_PIECES]; /* piece indexes, by fill rank */
	UINT64 total;
	BOOLEAN released; /* delivered once, owned pieces freed */
};

/* Free the pieces we own; returns the bytes given back. */
static UINT64 release_owned(struct initrd_media *m)
{
	UINT64 bytes = 0;

	for (UINTN i = 0; i < m->n; i++) {
		struct initrd_piece *p = &m->pieces[i];

		if (p->release) {
			p->release(p->ctx);
			p->release = NULL;
			p->ctx = NULL;
		}
		if (p->pages == 0)
			continue;
		mem_free_pages((EFI_PHYSICAL_ADDRESS)(UINTN)p->data, p->pages);
		bytes += (UINT64)p->pages * EFI_PAGE_SIZE;
		p->data = NULL;
		p->pages = 0;
	}
	return bytes;
}

static EFI_GUID load_file2_guid = SYSEXT_EFI_LOAD_FILE2_PROTOCOL_GUID;

static const struct vendor_media_device_path initrd_device_path = {
	.vendor = {
		.Header = {
			.Type = MEDIA_DEVICE_PATH,
			.SubType = MEDIA_VENDOR_DP,
			.Length = { sizeof(VENDOR_DEVICE_PATH), 0 },
		},
		.Guid = LINUX_INITRD_MEDIA_GUID,
	},
	.end = {
		.Type = END_DEVICE_PATH_TYPE,
		.SubType = END_ENTIRE_DEVICE_PATH_SUBTYPE,
		.Length = { sizeof(EFI_DEVICE_PATH), 0 },
	},
};

static EFI_STATUS EFIAPI initrd_load_file2(struct _EFI_LOAD_FILE_PROTOCOL *this,
					   EFI_DEVICE_PATH *file_path __attribute__((unused)),
					   BOOLEAN boot_policy, UINTN *buffer_size, VOID *buffer)
{
	struct initrd_media *m = (struct initrd_media *)this;
	UINT8 *out = buffer;
	struct mem_usage u;
	UINT64 freed;

	timing_lap(TIMING_KERNEL_STUB);
	if (!this || !buffer_size)
		return EFI_INVALID_PARAMETER;
	/* LoadFile2 never serves boot-manager (BootPolicy) requests. */
	if (boot_policy)
		return EFI_UNSUPPORTED;
	if (m->total == 0 || m->released)
		return EFI_NOT_FOUND;
	if (!buffer || *buffer_size < m->total) {
		*buffer_size = m->total;
		return EFI_BUFFER_TOO_SMALL;
	}
	for (UINTN k = 0; k < m->n; k++) {
		UINTN i = m->fill_order[k];
		UINT64 end = i + 1 < m->n ? m->offsets[i + 1] : m->total;
		UINT64 piece_end = m->offsets[i] + m->pieces[i].size;

		if (m->pieces[i].fill)
			m->pieces[i].fill(m->pieces[i].ctx, out + m->offsets[i]);
		else
			mem_copy(out + m->offsets[i], m->pieces[i].data, m->pieces[i].size);
		/* Zero the alignment padding after the piece. */
		if (end > piece_end)
			mem_zero(out + piece_end, end - piece_end);
	}
	*buffer_size = m->total;
	timing_lap(TIMING_INITRD_COPY);

	/*
	 * The kernel has its copy (which it measures into PCR 9 itself); ours
	 * was measured before it was registered, or just now in the kernel's
	 * buffer by a fill piece, and is not needed again.
	 */
	freed = release_owned(m);
	m->released = TRUE;
	timing_lap(TIMING_INITRD_RELEASE);
	mem_usage(&u);
	log_info(L"initrd (%lu bytes) handed to the kernel; %lu bytes released, memory: %lu bytes held, peak %lu",
		 m->total, freed, u.held, u.peak);
	timing_export();
	return EFI_SUCCESS;
}

/* Sort the pieces by their slots' fill rank (measure/initrd.h), keeping the given order among equals. */
static void plan_fill_order(struct initrd_media *m)
{
	for (UINTN i = 0; i < m->n; i++) {
		unsigned rank = initrd_fill_rank(m->pieces[i].slot);
		UINTN j = i;

		for (; j > 0 && initrd_fill_rank(m->pieces[m->fill_order[j - 1]].slot) > rank; j--)
			m->fill_order[j] = m->fill_order[j - 1];
		m->fill_order[j] = i;
	}
}

EFI_STATUS initrd_register(const struct initrd_piece *pieces, UINTN n, struct initrd_media **ret)
{
	UINT64 sizes[INITRD_MAX_PIECES];
	struct initrd_media *m;
	EFI_STATUS err;

	if (n > INITRD_MAX_PIECES || !ret)
		return EFI_INVALID_PARAMETER;
	m = mem_alloc_zero(sizeof(*m));
	if (!m)
		return EFI_OUT_OF_RESOURCES;
	m->load_file2.LoadFile = initrd_load_file2;
	m->n = n;
	for (UINTN i = 0; i < n; i++) {
		m->pieces[i] = pieces[i];
		sizes[i] = pieces[i].size;
	}
	plan_fill_order(m);
	if (initrd_layout(sizes, n, m->offsets, &m->total) != MS_OK ||
	    m->total > (UINT64)(UINTN)-1) {
		mem_free(m);
		return EFI_BAD_BUFFER_SIZE;
	}

	/* Fails with EFI_ALREADY_STARTED if the device path exists elsewhere. */
	err = BS->InstallMultipleProtocolInterfaces(&m->handle, &DevicePathProtocol,
						    (void *)&initrd_device_path, &load_file2_guid,
						    &m->load_file2, NULL);
	if (EFI_ERROR(err)) {
		mem_free(m);
		return err;
	}
	*ret = m;
	return EFI_SUCCESS;
}

void initrd_unregister(struct initrd_media *m)
{
	EFI_STATUS err;

	if (!m)
		return;
	err = BS->UninstallMultipleProtocolInterfaces(m->handle, &DevicePathProtocol,
						      (void *)&initrd_device_path, &load_file2_guid,
						      &m->load_file2, NULL);
	/* Never free memory a still-installed protocol points to. */
	if (EFI_ERROR(err)) {
		log_error_status(err, L"cannot uninstall the initrd LoadFile2 protocol");
		return;
	}
	(void)release_owned(m);
	mem_free(m);
}
