/* SPDX-License-Identifier: MIT */
#include "squashfs.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "inflate.h"
#include "measure/endian.h"

/* On-disk format: squashfs 4.0 (the Linux kernel's fs/squashfs/squashfs_fs.h). */
#define META_SIZE 8192
#define META_UNCOMPRESSED 0x8000
#define DATA_UNCOMPRESSED (1u << 24)
#define DATA_SIZE_MASK (DATA_UNCOMPRESSED - 1)
#define NO_FRAGMENT 0xffffffffu
#define COMP_GZIP 1
#define DIR_ENTRIES_MAX 256
#define DIR_SIZE_MAX (UINT64_C(64) << 20)

enum { T_DIR = 1, T_FILE = 2, T_SYMLINK = 3, T_LDIR = 8, T_LFILE = 9, T_LSYMLINK = 10 };

struct sqfs {
	struct byte_source src;
	uint32_t block_size;
	uint16_t compression;
	uint32_t fragments;
	uint64_t inode_table, dir_table, frag_table, bytes_used, root;
	/* one decompressed metadata block */
	uint64_t meta_pos, meta_next;
	size_t meta_len;
	bool meta_valid;
	uint8_t meta[META_SIZE];
	uint8_t raw[META_SIZE];
	uint8_t *block, *cblock; /* one data block, decompressed and as stored */
};

/* Where reading in a metadata table continues. */
struct cursor {
	uint64_t table, block; /* block: byte offset of the metadata block from the table's start */
	size_t offset;         /* into the block's decompressed bytes */
};

static int decompress(struct sqfs *fs, const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len,
		      const char *what, struct problem *p)
{
	enum inflate_status s;

	if (fs->compression != COMP_GZIP)
		return unsupportedf(p, "squashfs compressor %u (only gzip and uncompressed are read here)", fs->compression);
	s = inflate_zlib(in, in_len, out, cap, out_len);
	if (s != INFLATE_OK)
		return refusef(p, "squashfs %s: %s", what, inflate_strerror(s));
	return 0;
}

static int load_meta(struct sqfs *fs, uint64_t pos, struct problem *p)
{
	uint8_t h[2];
	size_t size;

	if (fs->meta_valid && fs->meta_pos == pos)
		return 0;
	fs->meta_valid = false;
	if (pos >= fs->bytes_used)
		return refusef(p, "squashfs metadata at byte %llu lies past the file system's end", (unsigned long long)pos);
	if (bsrc_read(&fs->src, pos, h, 2, "squashfs metadata header", p) < 0)
		return -1;
	size = le16_read(h) & ~META_UNCOMPRESSED;
	if (size == 0 || size > META_SIZE)
		return refusef(p, "squashfs metadata block of %zu bytes", size);
	if (bsrc_read(&fs->src, pos + 2, fs->raw, size, "squashfs metadata", p) < 0)
		return -1;
	if (le16_read(h) & META_UNCOMPRESSED) {
		memcpy(fs->meta, fs->raw, size);
		fs->meta_len = size;
	} else if (decompress(fs, fs->raw, size, fs->meta, META_SIZE, &fs->meta_len, "metadata", p) < 0) {
		return -1;
	}
	fs->meta_pos = pos;
	fs->meta_next = pos + 2 + size;
	fs->meta_valid = true;
	return 0;
}

static int meta_read(struct sqfs *fs, struct cursor *c, void *buf, size_t len, struct problem *p)
{
	uint8_t *out = buf;

	while (len > 0) {
		size_t n;

		if (c->block > UINT64_MAX - c->table || load_meta(fs, c->table + c->block, p) < 0)
			return c->block > UINT64_MAX - c->table ? refusef(p, "squashfs metadata offset overflows") : -1;
		if (c->offset > fs->meta_len)
			return refusef(p, "squashfs metadata offset %zu past a %zu-byte block", c->offset, fs->meta_len);
		n = fs->meta_len - c->offset < len ? fs->meta_len - c->offset : len;
		memcpy(out, fs->meta + c->offset, n);
		out += n, len -= n, c->offset += n;
		if (c->offset == fs->meta_len) {
			c->block = fs->meta_next - c->table;
			c->offset = 0;
		}
	}
	return 0;
}

struct inode {
	unsigned type;
	uint16_t mode;
	uint64_t size;
	/* directories */
	uint64_t dir_block;
	size_t dir_offset;
	/* files */
	uint64_t blocks_start;
	uint32_t frag, frag_offset;
	struct cursor list; /* the block size list (files) or the target (symlinks) */
};

static int read_inode(struct sqfs *fs, uint64_t ref, struct inode *in, struct problem *p)
{
	struct cursor c = { fs->inode_table, ref >> 16, ref & 0xffff };
	uint8_t h[16], b[40];

	memset(in, 0, sizeof(*in));
	if (meta_read(fs, &c, h, sizeof(h), p) < 0)
		return -1;
	in->type = le16_read(h);
	in->mode = le16_read(h + 2);
	switch (in->type) {
	case T_DIR: /* block_index, link_count, file_size (16 bit), block_offset, parent */
		if (meta_read(fs, &c, b, 16, p) < 0)
			return -1;
		in->dir_block = le32_read(b);
		in->size = le16_read(b + 8);
		in->dir_offset = le16_read(b + 10);
		break;
	case T_LDIR: /* link_count, file_size, block_index, parent, index_count, block_offset, xattr */
		if (meta_read(fs, &c, b, 24, p) < 0)
			return -1;
		in->size = le32_read(b + 4);
		in->dir_block = le32_read(b + 8);
		in->dir_offset = le16_read(b + 18);
		break;
	case T_FILE: /* blocks_start, fragment, offset, file_size */
		if (meta_read(fs, &c, b, 16, p) < 0)
			return -1;
		in->blocks_start = le32_read(b);
		in->frag = le32_read(b + 4);
		in->frag_offset = le32_read(b + 8);
		in->size = le32_read(b + 12);
		break;
	case T_LFILE: /* blocks_start, file_size, sparse, link_count, fragment, offset, xattr */
		if (meta_read(fs, &c, b, 40, p) < 0)
			return -1;
		in->blocks_start = le64_read(b);
		in->size = le64_read(b + 8);
		in->frag = le32_read(b + 28);
		in->frag_offset = le32_read(b + 32);
		break;
	case T_SYMLINK:
	case T_LSYMLINK: /* link_count, target_size, target */
		if (meta_read(fs, &c, b, 8, p) < 0)
			return -1;
		in->size = le32_read(b + 4);
		break;
	default:
		break; /* devices, fifos, sockets: nothing to read */
	}
	in->list = c;
	return 0;
}

static int op_stat(void *f, uint64_t ino, struct imgfs_stat *ret, struct problem *p)
{
	struct inode in;

	if (read_inode(f, ino, &in, p) < 0)
		return -1;
	ret->type = in.type == T_FILE || in.type == T_LFILE      ? IMGFS_REG :
		    in.type == T_DIR || in.type == T_LDIR        ? IMGFS_DIR :
		    in.type == T_SYMLINK || in.type == T_LSYMLINK ? IMGFS_LNK :
								    IMGFS_OTHER;
	ret->size = in.size;
	if (ret->type == IMGFS_DIR)
		ret->size = in.size >= 3 ? in.size - 3 : 0; /* the stored size counts "." and ".." as 3 bytes */
	return 0;
}

/* Data block @k of a file (or the fragment holding its tail) into fs->block; *ret_len its length. */
static int load_block(struct sqfs *fs, uint64_t pos, uint32_t entry, size_t want, size_t *ret_len, struct problem *p)
{
	size_t size = entry & DATA_SIZE_MASK;

	if (size == 0) { /* a sparse block: zeros */
		memset(fs->block, 0, fs->block_size);
		*ret_len = fs->block_size;
		return 0;
	}
	if (size > fs->block_size)
		return refusef(p, "squashfs data block of %zu bytes (blocks are %u)", size, fs->block_size);
	if (pos >= fs->bytes_used || size > fs->bytes_used - pos)
		return refusef(p, "squashfs data block at byte %llu lies past the file system's end", (unsigned long long)pos);
	if (entry & DATA_UNCOMPRESSED) {
		if (bsrc_read(&fs->src, pos, fs->block, size, "squashfs data", p) < 0)
			return -1;
		*ret_len = size;
	} else {
		if (bsrc_read(&fs->src, pos, fs->cblock, size, "squashfs data", p) < 0 ||
		    decompress(fs, fs->cblock, size, fs->block, fs->block_size, ret_len, "data", p) < 0)
			return -1;
	}
	if (*ret_len < want)
		return refusef(p, "squashfs data block holds %zu bytes, the file needs %zu", *ret_len, want);
	return 0;
}

static int load_fragment(struct sqfs *fs, const struct inode *in, size_t want, size_t *ret_len, struct problem *p)
{
	uint8_t ptr[8], e[16];
	struct cursor c;

	if (in->frag >= fs->fragments)
		return refusef(p, "squashfs fragment %u of %u", in->frag, fs->fragments);
	if (bsrc_read(&fs->src, fs->frag_table + 8 * (uint64_t)(in->frag / 512), ptr, 8, "squashfs fragment table", p) < 0)
		return -1;
	c = (struct cursor){ 0, le64_read(ptr), (in->frag % 512) * 16 };
	if (meta_read(fs, &c, e, sizeof(e), p) < 0)
		return -1;
	if (load_block(fs, le64_read(e), le32_read(e + 8), 0, ret_len, p) < 0)
		return -1;
	if (in->frag_offset > *ret_len || want > *ret_len - in->frag_offset)
		return refusef(p, "squashfs fragment %u: tail of %zu bytes at %u does not fit", in->frag, want, in->frag_offset);
	return 0;
}

static int read_file(struct sqfs *fs, struct inode *in, uint64_t off, uint8_t *out, size_t len, struct problem *p)
{
	uint64_t bs = fs->block_size, full = in->size / bs, pos = in->blocks_start;
	bool tail_in_frag = in->frag != NO_FRAGMENT;
	uint64_t nblocks = tail_in_frag ? full : (in->size + bs - 1) / bs;

	for (uint64_t k = 0; len > 0; k++) {
		uint64_t start = k * bs, end = start + bs < in->size ? start + bs : in->size;
		size_t got, n;
		uint8_t e[4];
		const uint8_t *data;

		if (k < nblocks) {
			if (meta_read(fs, &in->list, e, 4, p) < 0)
				return -1;
			if (off < end) {
				if (load_block(fs, pos, le32_read(e), (size_t)(end - start), &got, p) < 0)
					return -1;
				data = fs->block;
			} else {
				data = NULL;
			}
			pos += le32_read(e) & DATA_SIZE_MASK;
		} else {
			if (load_fragment(fs, in, (size_t)(end - start), &got, p) < 0)
				return -1;
			data = fs->block + in->frag_offset;
		}
		if (!data)
			continue;
		n = (size_t)(end - off) < len ? (size_t)(end - off) : len;
		memcpy(out, data + (off - start), n);
		out += n, off += n, len -= n;
	}
	return 0;
}

static int op_read(void *f, uint64_t ino, uint64_t off, void *buf, size_t len, struct problem *p)
{
	struct sqfs *fs = f;
	struct inode in;

	if (read_inode(fs, ino, &in, p) < 0)
		return -1;
	if (off > in.size || len > in.size - off)
		return refusef(p, "squashfs: read past a file's end");
	if (in.type == T_SYMLINK || in.type == T_LSYMLINK) {
		struct cursor c = in.list;
		uint8_t skip[256];

		for (uint64_t o = off; o > 0;) { /* targets are short; skip to @off */
			size_t n = o < sizeof(skip) ? (size_t)o : sizeof(skip);

			if (meta_read(fs, &c, skip, n, p) < 0)
				return -1;
			o -= n;
		}
		return meta_read(fs, &c, buf, len, p);
	}
	if (in.type != T_FILE && in.type != T_LFILE)
		return refusef(p, "squashfs: not a file");
	return read_file(fs, &in, off, buf, len, p);
}

static int op_readdir(void *f, uint64_t dir, imgfs_dirent_cb cb, void *userdata, struct problem *p)
{
	struct sqfs *fs = f;
	struct inode in;
	struct cursor c;
	uint64_t left;
	char name[IMGFS_NAME_MAX + 2];

	if (read_inode(fs, dir, &in, p) < 0)
		return -1;
	if (in.type != T_DIR && in.type != T_LDIR)
		return refusef(p, "squashfs: not a directory");
	if (in.size > DIR_SIZE_MAX)
		return refusef(p, "squashfs directory of %llu bytes", (unsigned long long)in.size);
	left = in.size >= 3 ? in.size - 3 : 0;
	c = (struct cursor){ fs->dir_table, in.dir_block, in.dir_offset };
	while (left > 0) {
		uint8_t h[12];
		uint32_t count;

		if (left < sizeof(h) || meta_read(fs, &c, h, sizeof(h), p) < 0)
			return left < sizeof(h) ? refusef(p, "squashfs directory: truncated header") : -1;
		left -= sizeof(h);
		count = le32_read(h) + 1;
		if (count > DIR_ENTRIES_MAX)
			return refusef(p, "squashfs directory header with %u entries", count);
		for (uint32_t i = 0; i < count; i++) {
			uint8_t e[8];
			size_t nlen;
			int r;

			if (left < sizeof(e) || meta_read(fs, &c, e, sizeof(e), p) < 0)
				return left < sizeof(e) ? refusef(p, "squashfs directory: truncated entry") : -1;
			left -= sizeof(e);
			nlen = le16_read(e + 6) + 1u;
			if (nlen > IMGFS_NAME_MAX + 1 || left < nlen)
				return refusef(p, "squashfs directory: a name of %zu bytes", nlen);
			if (meta_read(fs, &c, name, nlen, p) < 0)
				return -1;
			left -= nlen;
			if (memchr(name, 0, nlen) || memchr(name, '/', nlen))
				return refusef(p, "squashfs directory: a name with '/' or NUL");
			r = cb(name, nlen, (uint64_t)le32_read(h + 4) << 16 | le16_read(e), userdata);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

static void op_close(void *f)
{
	struct sqfs *fs = f;

	free(fs->block);
	free(fs->cblock);
	free(fs);
}

static const struct imgfs_ops squashfs_ops = { "squashfs", op_stat, op_read, op_readdir, op_close };

int squashfs_open(const struct byte_source *src, struct imgfs *ret, struct problem *p)
{
	uint8_t sb[96];
	struct sqfs *fs;
	uint16_t block_log;

	if (bsrc_read(src, 0, sb, sizeof(sb), "squashfs superblock", p) < 0)
		return -1;
	if (le32_read(sb) != SQUASHFS_MAGIC)
		return refusef(p, "no squashfs superblock");
	if (le16_read(sb + 28) != 4 || le16_read(sb + 30) != 0)
		return unsupportedf(p, "squashfs version %u.%u (4.0 is read here)", le16_read(sb + 28), le16_read(sb + 30));
	block_log = le16_read(sb + 22);
	if (block_log < 12 || block_log > 20 || le32_read(sb + 12) != 1u << block_log)
		return refusef(p, "squashfs block size %u (2^%u)", le32_read(sb + 12), block_log);
	if (le64_read(sb + 40) > src->size)
		return refusef(p, "squashfs of %llu bytes in %llu bytes", (unsigned long long)le64_read(sb + 40),
			       (unsigned long long)src->size);
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return ioerrorf(p, "out of memory");
	fs->src = *src;
	fs->block_size = 1u << block_log;
	fs->compression = le16_read(sb + 20);
	fs->fragments = le32_read(sb + 16);
	fs->root = le64_read(sb + 32) & ((UINT64_C(1) << 48) - 1);
	fs->bytes_used = le64_read(sb + 40);
	fs->inode_table = le64_read(sb + 64);
	fs->dir_table = le64_read(sb + 72);
	fs->frag_table = le64_read(sb + 80);
	fs->block = malloc(fs->block_size);
	fs->cblock = malloc(fs->block_size);
	if (!fs->block || !fs->cblock) {
		op_close(fs);
		return ioerrorf(p, "out of memory");
	}
	if (fs->inode_table >= fs->bytes_used || fs->dir_table >= fs->bytes_used) {
		op_close(fs);
		return refusef(p, "squashfs tables lie past the file system's end");
	}
	*ret = (struct imgfs){ &squashfs_ops, fs, fs->root };
	return 0;
}
