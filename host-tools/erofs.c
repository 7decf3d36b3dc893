/* SPDX-License-Identifier: MIT */
#include "erofs.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "measure/endian.h"

/* On-disk format: the Linux kernel's fs/erofs/erofs_fs.h (6.1 to 6.12). */
#define FEATURE_COMPAT_SB_CHKSUM 0x1
#define FEATURE_INCOMPAT_KNOWN 0x7fu /* up to xattr prefixes; later ones change inodes or metadata */
#define FEATURE_INCOMPAT_DEVICE_TABLE 0x8u
#define ISLOT_BITS 5 /* inodes are addressed in 32-byte slots */
#define INODE_COMPACT 32
#define INODE_EXTENDED 64
#define DIRENT_SIZE 12
#define DIR_SIZE_MAX (UINT64_C(64) << 20) /* a larger directory is refused rather than walked */
#define NULL_ADDR 0xffffffffu
#define CHUNK_FORMAT_BLKBITS_MASK 0x1f
#define CHUNK_FORMAT_INDEXES 0x20

enum { LAYOUT_FLAT_PLAIN = 0, LAYOUT_COMPRESSED_FULL = 1, LAYOUT_FLAT_INLINE = 2, LAYOUT_COMPRESSED_COMPACT = 3,
       LAYOUT_CHUNK_BASED = 4 };

struct erofs {
	struct byte_source src;
	unsigned blkbits;
	uint64_t meta_base; /* byte offset of the metadata area */
	uint64_t root_nid;
};

struct inode {
	uint64_t nid, pos;      /* slot number, and the inode's byte offset */
	unsigned layout, isize, xattr_isize;
	uint16_t mode;
	uint64_t size;
	uint32_t raw;           /* raw_blkaddr, or the chunk format */
};

static int read_inode(struct erofs *fs, uint64_t nid, struct inode *ret, struct problem *p)
{
	uint8_t b[INODE_EXTENDED];
	uint16_t format, icount;

	if (nid > (UINT64_MAX - fs->meta_base) >> ISLOT_BITS)
		return refusef(p, "erofs inode %llu lies outside the image", (unsigned long long)nid);
	ret->nid = nid;
	ret->pos = fs->meta_base + (nid << ISLOT_BITS);
	if (bsrc_read(&fs->src, ret->pos, b, INODE_COMPACT, "erofs inode", p) < 0)
		return -1;
	format = le16_read(b);
	if (format & ~0xfu)
		return unsupportedf(p, "erofs inode %llu: format 0x%x (a newer erofs)", (unsigned long long)nid, format);
	ret->layout = (format >> 1) & 7;
	icount = le16_read(b + 2);
	ret->mode = le16_read(b + 4);
	ret->raw = le32_read(b + 16);
	if (format & 1) {
		if (bsrc_read(&fs->src, ret->pos, b, INODE_EXTENDED, "erofs inode", p) < 0)
			return -1;
		ret->isize = INODE_EXTENDED;
		ret->size = le64_read(b + 8);
	} else {
		ret->isize = INODE_COMPACT;
		ret->size = le32_read(b + 8);
	}
	ret->xattr_isize = icount ? 12 + 4 * (icount - 1u) : 0;
	if (ret->layout > LAYOUT_CHUNK_BASED)
		return refusef(p, "erofs inode %llu: unknown data layout %u", (unsigned long long)nid, ret->layout);
	return 0;
}

/*
 * Where byte @off of inode @in lies on disk, and how many bytes from
 * there are contiguous (*ret_len, at most @want). *ret_pos = UINT64_MAX: a
 * hole (zeros).
 */
static int map(struct erofs *fs, const struct inode *in, uint64_t off, uint64_t want, uint64_t *ret_pos,
	       uint64_t *ret_len, struct problem *p)
{
	uint64_t blksz = UINT64_C(1) << fs->blkbits, nblocks = (in->size + blksz - 1) >> fs->blkbits;

	switch (in->layout) {
	case LAYOUT_FLAT_PLAIN:
	case LAYOUT_FLAT_INLINE: {
		uint64_t lastblk = in->layout == LAYOUT_FLAT_INLINE && nblocks ? nblocks - 1 : nblocks;
		uint64_t tail_start = lastblk << fs->blkbits;

		if (off < tail_start) {
			*ret_pos = ((uint64_t)in->raw << fs->blkbits) + off;
			*ret_len = tail_start - off < want ? tail_start - off : want;
			return 0;
		}
		/* the tail sits right after the inode and its xattrs, inside one block */
		*ret_pos = in->pos + in->isize + in->xattr_isize + (off - tail_start);
		*ret_len = in->size - off < want ? in->size - off : want;
		if (((in->pos + in->isize + in->xattr_isize) & (blksz - 1)) + (in->size - tail_start) > blksz)
			return refusef(p, "erofs inode %llu: inline data crosses a block boundary",
				       (unsigned long long)in->nid);
		return 0;
	}
	case LAYOUT_CHUNK_BASED: {
		unsigned chunkbits = fs->blkbits + (in->raw & CHUNK_FORMAT_BLKBITS_MASK);
		unsigned unit = in->raw & CHUNK_FORMAT_INDEXES ? 8 : 4;
		uint64_t chunk = off >> chunkbits, within = off & ((UINT64_C(1) << chunkbits) - 1);
		uint64_t base = (in->pos + in->isize + in->xattr_isize + unit - 1) / unit * unit;
		uint8_t e[8];
		uint32_t blk;

		if (chunkbits > 48 || chunk > (UINT64_MAX - base) / unit)
			return refusef(p, "erofs inode %llu: chunks of 2^%u bytes", (unsigned long long)in->nid, chunkbits);
		if (bsrc_read(&fs->src, base + chunk * unit, e, unit, "erofs chunk index", p) < 0)
			return -1;
		if (unit == 8 && le16_read(e + 2) != 0)
			return unsupportedf(p, "erofs inode %llu: data on an extra device", (unsigned long long)in->nid);
		blk = le32_read(e + (unit == 8 ? 4 : 0));
		*ret_pos = blk == NULL_ADDR ? UINT64_MAX : ((uint64_t)blk << fs->blkbits) + within;
		*ret_len = (UINT64_C(1) << chunkbits) - within < want ? (UINT64_C(1) << chunkbits) - within : want;
		return 0;
	}
	default:
		return unsupportedf(p, "erofs inode %llu is compressed (not read here)", (unsigned long long)in->nid);
	}
}

static int read_data(struct erofs *fs, const struct inode *in, uint64_t off, void *buf, size_t len,
		     struct problem *p)
{
	uint8_t *out = buf;

	if (off > in->size || len > in->size - off)
		return refusef(p, "erofs inode %llu: read past its end", (unsigned long long)in->nid);
	while (len > 0) {
		uint64_t pos = 0, n = 0;

		if (map(fs, in, off, len, &pos, &n, p) < 0)
			return -1;
		if (n == 0)
			return refusef(p, "erofs inode %llu: empty extent", (unsigned long long)in->nid);
		if (pos == UINT64_MAX)
			memset(out, 0, (size_t)n);
		else if (bsrc_read(&fs->src, pos, out, (size_t)n, "erofs data", p) < 0)
			return -1;
		out += n, off += n, len -= (size_t)n;
	}
	return 0;
}

static int op_stat(void *f, uint64_t ino, struct imgfs_stat *ret, struct problem *p)
{
	struct inode in;

	if (read_inode(f, ino, &in, p) < 0)
		return -1;
	switch (in.mode & 0170000) {
	case 0100000: ret->type = IMGFS_REG; break;
	case 0040000: ret->type = IMGFS_DIR; break;
	case 0120000: ret->type = IMGFS_LNK; break;
	default: ret->type = IMGFS_OTHER;
	}
	ret->size = in.size;
	return 0;
}

static int op_read(void *f, uint64_t ino, uint64_t off, void *buf, size_t len, struct problem *p)
{
	struct inode in;

	return read_inode(f, ino, &in, p) < 0 ? -1 : read_data(f, &in, off, buf, len, p);
}

/* One directory block: its entries, each name checked to lie inside the block. */
static int dir_block(const uint8_t *b, size_t blen, uint64_t nid, imgfs_dirent_cb cb, void *userdata,
		     struct problem *p)
{
	size_t n, first;

	if (blen < DIRENT_SIZE)
		return refusef(p, "erofs directory %llu: a block of %zu bytes", (unsigned long long)nid, blen);
	first = le16_read(b + 8);
	if (first < DIRENT_SIZE || first % DIRENT_SIZE || first >= blen)
		return refusef(p, "erofs directory %llu: bad first name offset %zu", (unsigned long long)nid, first);
	n = first / DIRENT_SIZE;
	for (size_t i = 0; i < n; i++) {
		size_t off = le16_read(b + i * DIRENT_SIZE + 8);
		size_t end = i + 1 < n ? le16_read(b + (i + 1) * DIRENT_SIZE + 8) : blen;
		uint64_t child = le64_read(b + i * DIRENT_SIZE);
		int r;

		if (off < first || end > blen || end <= off)
			return refusef(p, "erofs directory %llu: bad name offsets", (unsigned long long)nid);
		if (i + 1 == n) /* the last name runs to the end of the block or the first NUL */
			end = off + strnlen((const char *)b + off, end - off);
		if (end == off || end - off > IMGFS_NAME_MAX)
			return refusef(p, "erofs directory %llu: a name of %zu bytes", (unsigned long long)nid, end - off);
		if ((end - off == 1 && b[off] == '.') || (end - off == 2 && b[off] == '.' && b[off + 1] == '.'))
			continue;
		r = cb((const char *)b + off, end - off, child, userdata);
		if (r != 0)
			return r;
	}
	return 0;
}

static int op_readdir(void *f, uint64_t dir, imgfs_dirent_cb cb, void *userdata, struct problem *p)
{
	struct erofs *fs = f;
	uint64_t blksz = UINT64_C(1) << fs->blkbits;
	struct inode in;
	uint8_t *b;
	int r = 0;

	if (read_inode(fs, dir, &in, p) < 0)
		return -1;
	if ((in.mode & 0170000) != 0040000)
		return refusef(p, "erofs inode %llu is not a directory", (unsigned long long)dir);
	if (in.size > DIR_SIZE_MAX)
		return refusef(p, "erofs directory %llu has %llu bytes", (unsigned long long)dir, (unsigned long long)in.size);
	b = malloc(blksz);
	if (!b)
		return ioerrorf(p, "out of memory");
	for (uint64_t off = 0; off < in.size && r == 0; off += blksz) {
		size_t blen = in.size - off < blksz ? (size_t)(in.size - off) : (size_t)blksz;

		r = read_data(fs, &in, off, b, blen, p);
		if (r == 0)
			r = dir_block(b, blen, dir, cb, userdata, p);
	}
	free(b);
	return r;
}

static void op_close(void *f)
{
	free(f);
}

static const struct imgfs_ops erofs_ops = { "erofs", op_stat, op_read, op_readdir, op_close };

int erofs_open(const struct byte_source *src, struct imgfs *ret, struct problem *p)
{
	uint8_t sb[128];
	struct erofs *fs;
	uint32_t incompat;
	unsigned blkbits;

	if (bsrc_read(src, EROFS_SUPER_OFFSET, sb, sizeof(sb), "erofs superblock", p) < 0)
		return -1;
	if (le32_read(sb) != EROFS_MAGIC)
		return refusef(p, "no erofs superblock");
	blkbits = sb[12];
	if (blkbits < 9 || blkbits > 16)
		return refusef(p, "erofs block size 2^%u", blkbits);
	incompat = le32_read(sb + 80);
	if (incompat & ~FEATURE_INCOMPAT_KNOWN)
		return unsupportedf(p, "erofs features 0x%x (newer than this reader)", incompat & ~FEATURE_INCOMPAT_KNOWN);
	if ((incompat & FEATURE_INCOMPAT_DEVICE_TABLE) && le16_read(sb + 86) != 0)
		return unsupportedf(p, "erofs with %u extra devices", le16_read(sb + 86));
	if (sb[90] != 0)
		return unsupportedf(p, "erofs directory blocks larger than the block size");
	if (le32_read(sb + 8) & FEATURE_COMPAT_SB_CHKSUM) {
		/* crc32c of the superblock's block from byte 1024 on, the checksum field taken as 0 (the kernel's check) */
		size_t len = (size_t)1 << blkbits > EROFS_SUPER_OFFSET ? ((size_t)1 << blkbits) - EROFS_SUPER_OFFSET : 128;
		uint8_t *blk = malloc(len);
		uint32_t want = le32_read(sb + 4), got;

		if (!blk)
			return ioerrorf(p, "out of memory");
		if (bsrc_read(src, EROFS_SUPER_OFFSET, blk, len, "erofs superblock", p) < 0) {
			free(blk);
			return -1;
		}
		le32_write(blk + 4, 0);
		got = crc32c_raw(~0u, blk, len);
		free(blk);
		if (got != want)
			return refusef(p, "erofs superblock checksum mismatch");
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return ioerrorf(p, "out of memory");
	fs->src = *src;
	fs->blkbits = blkbits;
	fs->meta_base = (uint64_t)le32_read(sb + 40) << blkbits;
	fs->root_nid = le16_read(sb + 14);
	*ret = (struct imgfs){ &erofs_ops, fs, fs->root_nid };
	return 0;
}
