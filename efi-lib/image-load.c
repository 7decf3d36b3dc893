/* SPDX-License-Identifier: MIT */
#include "image-load.h"

#include <efilib.h>

#include "mem.h"

/* The longest path a file-path node carries (its length is a 16-bit field). */
#define FILE_NODE_PATH_MAX ((0xffff - sizeof(EFI_DEVICE_PATH)) / sizeof(CHAR16) - 1)

/* @device's device path without its end node, then a file-path node for @path, then the end node. */
static EFI_STATUS file_device_path(EFI_HANDLE device, const CHAR16 *path, EFI_DEVICE_PATH **ret)
{
	EFI_DEVICE_PATH *dev = NULL, *end;
	FILEPATH_DEVICE_PATH *file;
	UINTN dev_size, path_units = StrLen(path) + 1, node_size;
	UINT8 *p;
	EFI_STATUS err;

	err = BS->HandleProtocol(device, &DevicePathProtocol, (void **)&dev);
	if (EFI_ERROR(err) || !dev)
		return EFI_ERROR(err) ? err : EFI_NOT_FOUND;
	if (path_units > FILE_NODE_PATH_MAX)
		return EFI_INVALID_PARAMETER;
	dev_size = DevicePathSize(dev) - sizeof(EFI_DEVICE_PATH);
	node_size = sizeof(EFI_DEVICE_PATH) + path_units * sizeof(CHAR16);
	p = mem_alloc_zero(dev_size + node_size + sizeof(EFI_DEVICE_PATH));
	if (!p)
		return EFI_OUT_OF_RESOURCES;
	CopyMem(p, dev, dev_size);
	file = (FILEPATH_DEVICE_PATH *)(p + dev_size);
	file->Header.Type = MEDIA_DEVICE_PATH;
	file->Header.SubType = MEDIA_FILEPATH_DP;
	SetDevicePathNodeLength(&file->Header, node_size);
	CopyMem(file->PathName, (void *)path, path_units * sizeof(CHAR16));
	end = (EFI_DEVICE_PATH *)(p + dev_size + node_size);
	SetDevicePathEndNode(end);
	*ret = (EFI_DEVICE_PATH *)p;
	return EFI_SUCCESS;
}

EFI_STATUS image_load_file(EFI_HANDLE parent, EFI_HANDLE device, const CHAR16 *path, EFI_HANDLE *ret_image,
			   EFI_LOADED_IMAGE **ret_loaded)
{
	EFI_DEVICE_PATH *dp = NULL;
	EFI_HANDLE image = NULL;
	EFI_STATUS err;

	*ret_image = NULL;
	*ret_loaded = NULL;
	err = file_device_path(device, path, &dp);
	if (EFI_ERROR(err))
		return err;
	/* BootPolicy FALSE: exactly this file; no source buffer, so the firmware reads (and verifies) it. */
	err = BS->LoadImage(FALSE, parent, dp, NULL, 0, &image);
	mem_free(dp);
	if (EFI_ERROR(err)) {
		/* A security violation may still leave a loaded image behind: never keep it. */
		image_unload(image);
		return err;
	}
	err = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)ret_loaded);
	if (EFI_ERROR(err) || !*ret_loaded) {
		image_unload(image);
		*ret_loaded = NULL;
		return EFI_ERROR(err) ? err : EFI_LOAD_ERROR;
	}
	*ret_image = image;
	return EFI_SUCCESS;
}

void image_unload(EFI_HANDLE image)
{
	if (image)
		(void)BS->UnloadImage(image);
}
