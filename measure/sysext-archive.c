/* SPDX-License-Identifier: MIT */
#include "sysext-archive.h"

#include "companion.h"

ms_status sysext_archive_plan(const struct archive_layout *layout, const char *const *names, const uint64_t *sizes,
			      size_t n, uint64_t *ret_size)
{
	struct cpio_writer w;
	ms_status r;

	cpio_writer_init(&w, NULL, 0);
	r = cpio_write_dirs(&w, layout->prefix, layout->dir_mode);
	for (size_t i = 0; r == MS_OK && i < n; i++) {
		r = cpio_begin_file(&w, layout->prefix, names[i], sizes[i], layout->file_mode, NULL, NULL);
		if (r == MS_OK)
			r = cpio_end_file(&w, 1);
	}
	if (r == MS_OK)
		r = cpio_write_trailer(&w);
	*ret_size = w.pos;
	return r;
}

ms_status sysext_archive_fill(uint8_t *buf, uint64_t cap, const struct archive_layout *layout,
			      const char *const *names, const uint64_t *sizes, size_t n, sysext_fill_fn fill, void *ctx,
			      uint64_t *ret_size, size_t *ret_kept)
{
	struct cpio_writer w;
	size_t kept = 0;
	ms_status r;

	*ret_size = 0;
	*ret_kept = 0;
	cpio_writer_init(&w, buf, cap);
	r = cpio_write_dirs(&w, layout->prefix, layout->dir_mode);
	for (size_t i = 0; r == MS_OK && i < n; i++) {
		uint64_t path_at, data_at;
		int keep;

		r = cpio_begin_file(&w, layout->prefix, names[i], sizes[i], layout->file_mode, &path_at, &data_at);
		if (r != MS_OK)
			break;
		keep = fill(ctx, i, (const char *)buf + path_at, buf + data_at, sizes[i]) != 0;
		r = cpio_end_file(&w, keep);
		kept += keep && r == MS_OK;
	}
	if (r == MS_OK && kept > 0)
		r = cpio_write_trailer(&w);
	if (r != MS_OK || kept == 0)
		return r;
	*ret_size = w.pos;
	*ret_kept = kept;
	return MS_OK;
}

ms_status sysext_archive_path(const char *prefix, const char *name, char *out, size_t cap)
{
	size_t a = cpio_strlen(prefix), b = cpio_strlen(name), k = 0;

	if (a + 1 + b > CPIO_PATH_MAX)
		return MS_ERR_LIMIT;
	if (cap < a + 1 + b + 1)
		return MS_ERR_BUFFER_TOO_SMALL;
	for (size_t i = 0; i < a; i++)
		out[k++] = prefix[i];
	out[k++] = '/';
	for (size_t i = 0; i < b; i++)
		out[k++] = name[i];
	out[k] = 0;
	return MS_OK;
}

ms_status sysext_archive_literal_plan(const char *name, uint64_t size, uint64_t *ret_size)
{
	const char *names[1] = { name };

	return sysext_archive_plan(&companion_literal_layout, names, &size, 1, ret_size);
}

static int copy_literal(void *ctx, size_t index, const char *path, uint8_t *data, uint64_t size)
{
	const uint8_t *from = ctx;

	(void)index;
	(void)path;
	for (uint64_t i = 0; i < size; i++)
		data[i] = from[i];
	return 1;
}

ms_status sysext_archive_literal_fill(uint8_t *buf, uint64_t cap, const char *name, const uint8_t *data,
				      uint64_t size, uint64_t *ret_size)
{
	const char *names[1] = { name };
	size_t kept = 0;
	ms_status r = sysext_archive_fill(buf, cap, &companion_literal_layout, names, &size, 1, copy_literal,
					  (void *)data, ret_size, &kept);

	return r == MS_OK && kept != 1 ? MS_ERR_INVALID : r;
}
