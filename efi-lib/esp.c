/* SPDX-License-Identifier: MIT */
#include "esp.h"

#include <efilib.h>

#include "fault.h"
#include "mem.h"

EFI_STATUS esp_open_root(EFI_HANDLE device, EFI_FILE_HANDLE *ret)
{
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
	EFI_STATUS err;

	if (!device)
		return EFI_NOT_FOUND;
	err = BS->HandleProtocol(device, &FileSystemProtocol, (void **)&fs);
	if (EFI_ERROR(err))
		return err;
	return fs->OpenVolume(fs, ret);
}

/*
 * Whether @info, @size bytes as the firmware returned them, holds a whole
 * EFI_FILE_INFO with a NUL-terminated name: firmware answers are checked
 * before anything reads the name (StrLen) or the attributes.
 */
static BOOLEAN file_info_ok(const EFI_FILE_INFO *info, UINTN size)
{
	UINTN name_units;

	if (!info || size < SIZE_OF_EFI_FILE_INFO + sizeof(CHAR16))
		return FALSE;
	name_units = (size - SIZE_OF_EFI_FILE_INFO) / sizeof(CHAR16);
	for (UINTN i = 0; i < name_units; i++)
		if (info->FileName[i] == 0)
			return TRUE;
	return FALSE;
}

/* GetInfo(EFI_FILE_INFO) of @f into a fresh buffer, checked by file_info_ok(). */
static EFI_STATUS get_file_info(EFI_FILE_HANDLE f, EFI_FILE_INFO **ret)
{
	EFI_FILE_INFO *info = NULL;
	UINTN size = 0, first;
	EFI_STATUS err;

	err = f->GetInfo(f, &GenericFileInfo, &size, NULL);
	if (err != EFI_BUFFER_TOO_SMALL)
		return EFI_ERROR(err) ? err : EFI_PROTOCOL_ERROR; /* "success" into no buffer: not a usable answer */
	first = size;
	info = size >= SIZE_OF_EFI_FILE_INFO ? mem_alloc_zero(size) : NULL;
	if (!info)
		return size < SIZE_OF_EFI_FILE_INFO ? EFI_PROTOCOL_ERROR : EFI_OUT_OF_RESOURCES;
	err = f->GetInfo(f, &GenericFileInfo, &size, info);
	if (!EFI_ERROR(err) && (size > first || !file_info_ok(info, size)))
		err = EFI_PROTOCOL_ERROR;
	if (EFI_ERROR(err)) {
		mem_free(info);
		return err;
	}
	*ret = info;
	return EFI_SUCCESS;
}

EFI_STATUS esp_open_dir(EFI_FILE_HANDLE root, const CHAR16 *path, EFI_FILE_HANDLE *ret)
{
	EFI_FILE_HANDLE dir = NULL;
	EFI_FILE_INFO *info = NULL;
	EFI_STATUS err;

	err = root->Open(root, &dir, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(err))
		return err;
	/* A file where a directory is expected is reported, not read as one. */
	err = get_file_info(dir, &info);
	if (!EFI_ERROR(err) && !(info->Attribute & EFI_FILE_DIRECTORY))
		err = EFI_LOAD_ERROR;
	mem_free(info);
	if (EFI_ERROR(err)) {
		dir->Close(dir);
		return err;
	}
	*ret = dir;
	return EFI_SUCCESS;
}

EFI_STATUS esp_next_entry(EFI_FILE_HANDLE dir, EFI_FILE_INFO **buf, UINTN *buf_size, BOOLEAN *ret_done)
{
	UINTN size = *buf_size;
	EFI_STATUS err;

	err = dir->Read(dir, &size, *buf);
	if (err == EFI_BUFFER_TOO_SMALL) {
		/* A size that could not even hold the header is no answer to grow a buffer for. */
		if (size <= *buf_size || size < SIZE_OF_EFI_FILE_INFO)
			return EFI_PROTOCOL_ERROR;
		mem_free(*buf);
		*buf = mem_alloc_zero(size);
		if (!*buf) {
			*buf_size = 0;
			return EFI_OUT_OF_RESOURCES;
		}
		*buf_size = size;
		err = dir->Read(dir, &size, *buf);
	}
	if (EFI_ERROR(err))
		return err;
	*ret_done = size == 0;
	/* An entry must fit the buffer and hold a NUL-terminated name before anyone reads it. */
	if (!*ret_done && (size > *buf_size || !file_info_ok(*buf, size)))
		return EFI_PROTOCOL_ERROR;
	return EFI_SUCCESS;
}

EFI_STATUS esp_read_file(EFI_FILE_HANDLE dir, const CHAR16 *name, UINT8 *dest, UINT64 size)
{
	EFI_FILE_HANDLE f = NULL;
	UINT64 done = 0;
	UINT8 probe;
	UINTN n;
	EFI_STATUS err;

	/* Fault build only: the file shrinks to half its size while we read it. */
	UINT64 readable = fault_hit16(name, FAULT_SHRINK) ? size / 2 : size;

	err = dir->Open(dir, &f, (CHAR16 *)name, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(err))
		return err;
	while (done < size) {
		UINTN asked;

		n = size - done > ESP_READ_CHUNK ? ESP_READ_CHUNK : (UINTN)(size - done);
		if (done + n > readable)
			n = (UINTN)(readable - done);
		asked = n;
		err = f->Read(f, &n, dest + done);
		if (EFI_ERROR(err))
			goto out;
		/* No more than @asked bytes were written: believing more would hand over what the pages held. */
		if (n > asked) {
			err = EFI_PROTOCOL_ERROR;
			goto out;
		}
		if (n == 0) {
			err = EFI_END_OF_FILE; /* shorter than the listing said */
			goto out;
		}
		done += n;
	}
	/* Longer than the listing said: the planned layout would be wrong. */
	n = 1;
	err = f->Read(f, &n, &probe);
	if (!EFI_ERROR(err) && n != 0)
		err = EFI_BAD_BUFFER_SIZE;
out:
	f->Close(f);
	return err;
}

void esp_close(EFI_FILE_HANDLE f)
{
	if (f)
		f->Close(f);
}
