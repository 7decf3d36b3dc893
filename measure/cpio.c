/* SPDX-License-Identifier: MIT */
#include "cpio.h"

static const char hex_lower[] = "0123456789abcdef";

size_t cpio_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

void cpio_writer_init(struct cpio_writer *w, uint8_t *buf, uint64_t cap)
{
	w->buf = buf;
	w->cap = buf ? cap : UINT64_MAX;
	w->pos = 0;
	w->next_inode = 1;
	w->file_start = 0;
	w->file_size = 0;
	w->file_open = 0;
}

/* Reserve @n bytes at the current position; returns the pointer or NULL when counting. */
static ms_status advance(struct cpio_writer *w, uint64_t n, uint8_t **ret)
{
	if (n > w->cap || w->pos > w->cap - n)
		return w->buf ? MS_ERR_BUFFER_TOO_SMALL : MS_ERR_OVERFLOW;
	*ret = w->buf ? w->buf + w->pos : NULL;
	w->pos += n;
	return MS_OK;
}

static ms_status pad4(struct cpio_writer *w)
{
	uint64_t n = (4 - (w->pos & 3)) & 3;
	uint8_t *p;
	ms_status r = advance(w, n, &p);

	if (r == MS_OK && p)
		for (uint64_t i = 0; i < n; i++)
			p[i] = 0;
	return r;
}

static void put_hex8(uint8_t *p, uint32_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)hex_lower[v & 0xf];
		v >>= 4;
	}
}

/* Header + "<a>[/<b>]" + NUL + padding. */
static ms_status write_entry(struct cpio_writer *w, uint32_t inode, uint32_t mode, uint32_t size,
			     const char *a, size_t a_len, const char *b, size_t b_len, uint64_t *ret_path_offset)
{
	size_t path_len = a_len + (b ? 1 + b_len : 0);
	uint32_t fields[13] = { inode, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, (uint32_t)path_len + 1, 0 };
	uint8_t *p;
	ms_status r;

	if (path_len > CPIO_PATH_MAX)
		return MS_ERR_LIMIT;
	r = advance(w, CPIO_HEADER_SIZE, &p);
	if (r != MS_OK)
		return r;
	if (p) {
		const char *magic = "070701";

		for (int i = 0; i < 6; i++)
			p[i] = (uint8_t)magic[i];
		for (int i = 0; i < 13; i++)
			put_hex8(p + 6 + 8 * i, fields[i]);
	}
	if (ret_path_offset)
		*ret_path_offset = w->pos;
	r = advance(w, path_len + 1, &p);
	if (r != MS_OK)
		return r;
	if (p) {
		size_t k = 0;

		for (size_t i = 0; i < a_len; i++)
			p[k++] = (uint8_t)a[i];
		if (b) {
			p[k++] = '/';
			for (size_t i = 0; i < b_len; i++)
				p[k++] = (uint8_t)b[i];
		}
		p[k] = 0;
	}
	return pad4(w);
}

ms_status cpio_write_dirs(struct cpio_writer *w, const char *prefix, uint32_t dir_mode)
{
	size_t len = cpio_strlen(prefix);

	if (len == 0 || prefix[0] == '/' || prefix[len - 1] == '/' || w->file_open)
		return MS_ERR_INVALID;
	/* One entry per component: ".extra", then ".extra/sysext". */
	for (size_t end = 1; end <= len; end++) {
		ms_status r;
		uint32_t mode;

		if (end < len && prefix[end] != '/')
			continue;
		mode = CPIO_MODE_DIR | (end == len ? (dir_mode & 07777) : 0555);
		r = write_entry(w, w->next_inode, mode, 0, prefix, end, NULL, 0, NULL);
		if (r != MS_OK)
			return r;
		w->next_inode++;
	}
	return MS_OK;
}

ms_status cpio_begin_file(struct cpio_writer *w, const char *prefix, const char *name, uint64_t size,
			  uint32_t file_mode, uint64_t *ret_path_offset, uint64_t *ret_data_offset)
{
	uint8_t *p;
	ms_status r;

	if (w->file_open || !name[0])
		return MS_ERR_INVALID;
	if (size > CPIO_FILE_SIZE_MAX)
		return MS_ERR_LIMIT;
	w->file_start = w->pos;
	r = write_entry(w, w->next_inode, CPIO_MODE_FILE | (file_mode & 07777), (uint32_t)size, prefix,
			cpio_strlen(prefix), name, cpio_strlen(name), ret_path_offset);
	if (r == MS_OK && ret_data_offset)
		*ret_data_offset = w->pos;
	if (r == MS_OK)
		r = advance(w, size, &p);
	if (r != MS_OK) {
		w->pos = w->file_start;
		return r;
	}
	w->file_size = size;
	w->file_open = 1;
	return MS_OK;
}

ms_status cpio_end_file(struct cpio_writer *w, int keep)
{
	ms_status r;

	if (!w->file_open)
		return MS_ERR_INVALID;
	w->file_open = 0;
	if (!keep) {
		w->pos = w->file_start;
		return MS_OK;
	}
	r = pad4(w);
	if (r != MS_OK) {
		w->pos = w->file_start;
		return r;
	}
	w->next_inode++;
	return MS_OK;
}

ms_status cpio_write_trailer(struct cpio_writer *w)
{
	static const char name[] = "TRAILER!!!";
	uint8_t *p;
	ms_status r;

	if (w->file_open)
		return MS_ERR_INVALID;
	r = write_entry(w, 0, 0, 0, name, sizeof(name) - 1, NULL, 0, NULL);
	if (r != MS_OK)
		return r;
	/* systemd writes the trailer's namesize with an upper-case digit. */
	if (w->buf) {
		p = w->buf + w->pos - CPIO_TRAILER_SIZE;
		p[6 + 8 * 11 + 7] = 'B';
	}
	return MS_OK;
}
