/* SPDX-License-Identifier: MIT */
/*
 * esp.h - files on the volume the stub was loaded from, through
 * EFI_SIMPLE_FILE_SYSTEM_PROTOCOL. Absence is not an error: callers get
 * EFI_NOT_FOUND and move on.
 */
#ifndef EFI_LIB_ESP_H
#define EFI_LIB_ESP_H

#include <efi.h>

/* Root directory of the file system on @device. */
EFI_STATUS esp_open_root(EFI_HANDLE device, EFI_FILE_HANDLE *ret);

/* Open @path (e.g. L"\\loader\\extensions") below @root as a directory. */
EFI_STATUS esp_open_dir(EFI_FILE_HANDLE root, const CHAR16 *path, EFI_FILE_HANDLE *ret);

/*
 * Next entry of @dir into *@buf (grown as needed; caller frees with
 * mem_free). *@ret_done is TRUE at the end of the directory.
 */
EFI_STATUS esp_next_entry(EFI_FILE_HANDLE dir, EFI_FILE_INFO **buf, UINTN *buf_size, BOOLEAN *ret_done);

/* The most one Read call of esp_read_file() asks for: firmware FAT drivers misbehave on very large reads. */
#define ESP_READ_CHUNK (16u << 20)

/*
 * Read file @name in @dir into @dest, which holds exactly @size bytes: the
 * size the directory listing announced. A file that turns out shorter or
 * longer is an error (EFI_END_OF_FILE / EFI_BAD_BUFFER_SIZE), and so is a
 * Read that claims more bytes than it was asked for (EFI_PROTOCOL_ERROR).
 * A Read that claims exactly what was asked but wrote less cannot be told
 * apart: what @dest then holds is what is measured and handed over.
 */
EFI_STATUS esp_read_file(EFI_FILE_HANDLE dir, const CHAR16 *name, UINT8 *dest, UINT64 size);

void esp_close(EFI_FILE_HANDLE f);

#endif
