/* SPDX-License-Identifier: MIT */
#include "verity.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "measure/endian.h"

#define READ_CHUNK (1u << 20) /* data read per pread, rounded to whole data blocks */
#define THREADS_MAX 64

/* Superblock field offsets (cryptsetup's struct verity_sb). */
enum { SB_VERSION = 8, SB_HASH_TYPE = 12, SB_UUID = 16, SB_ALGORITHM = 32, SB_DATA_BLOCK = 64, SB_HASH_BLOCK = 68,
       SB_DATA_BLOCKS = 72, SB_SALT_SIZE = 80, SB_SALT = 88 };

/* cryptsetup's VERITY_BLOCK_SIZE_OK: a power of two from 512 bytes to 512 KiB. */
static bool block_size_ok(uint32_t s)
{
	return s >= 512 && s <= 512 * 1024 && (s & (s - 1)) == 0;
}

int verity_sb_parse(const uint8_t sb[VERITY_SB_SIZE], struct verity_params *ret, struct problem *p)
{
	EVP_MD *md;

	memset(ret, 0, sizeof(*ret));
	if (memcmp(sb, "verity\0\0", 8) != 0)
		return refusef(p, "no dm-verity superblock at the start of the hash partition");
	if (le32_read(sb + SB_VERSION) != 1)
		return refusef(p, "dm-verity superblock version %u (only 1 exists)", le32_read(sb + SB_VERSION));
	ret->hash_type = le32_read(sb + SB_HASH_TYPE);
	if (ret->hash_type > 1)
		return refusef(p, "dm-verity hash type %u (0 or 1)", ret->hash_type);
	ret->data_block_size = le32_read(sb + SB_DATA_BLOCK);
	ret->hash_block_size = le32_read(sb + SB_HASH_BLOCK);
	if (!block_size_ok(ret->data_block_size) || !block_size_ok(ret->hash_block_size))
		return refusef(p, "dm-verity block sizes %u/%u (powers of two, 512 bytes to 512 KiB)",
			       ret->data_block_size, ret->hash_block_size);
	ret->data_blocks = le64_read(sb + SB_DATA_BLOCKS);
	if (ret->data_blocks == 0)
		return refusef(p, "dm-verity superblock covers no data blocks");
	memcpy(ret->algorithm, sb + SB_ALGORITHM, 32);
	ret->algorithm[32] = 0;
	for (const char *c = ret->algorithm; *c; c++)
		if (*c < 0x21 || *c > 0x7e)
			return refusef(p, "dm-verity hash algorithm name is not printable");
	md = EVP_MD_fetch(NULL, ret->algorithm, NULL);
	if (!md)
		return refusef(p, "dm-verity hash algorithm '%s' is unknown", ret->algorithm);
	ret->digest_size = (unsigned)EVP_MD_get_size(md);
	EVP_MD_free(md);
	if (ret->digest_size == 0 || ret->digest_size > VERITY_DIGEST_MAX ||
	    ret->digest_size > ret->hash_block_size / 2)
		return refusef(p, "dm-verity hash algorithm '%s' does not fit the %u-byte hash blocks", ret->algorithm,
			       ret->hash_block_size);
	ret->salt_size = le16_read(sb + SB_SALT_SIZE);
	if (ret->salt_size > VERITY_SALT_MAX)
		return refusef(p, "dm-verity salt of %u bytes (at most %u)", ret->salt_size, VERITY_SALT_MAX);
	memcpy(ret->salt, sb + SB_SALT, ret->salt_size);
	memcpy(ret->uuid, sb + SB_UUID, 16);
	return 0;
}

int verity_layout(const struct verity_params *v, struct verity_layout *ret, struct problem *p)
{
	uint64_t pos;

	memset(ret, 0, sizeof(*ret));
	for (ret->bits = 0; (v->digest_size << (ret->bits + 1)) <= v->hash_block_size; ret->bits++)
		;
	/* version 1 pads each hash to a power of two; version 0 packs them */
	ret->stride = v->hash_type ? v->hash_block_size >> ret->bits : v->digest_size;
	while (ret->bits * ret->levels < 64 && (v->data_blocks - 1) >> (ret->bits * ret->levels))
		ret->levels++;
	if (ret->levels > VERITY_LEVELS_MAX)
		return refusef(p, "dm-verity tree of %u levels", ret->levels);
	/* The superblock's 512 bytes, rounded up to a hash block (cryptsetup's VERITY_hash_offset_block). */
	pos = (VERITY_SB_SIZE + v->hash_block_size - 1) / v->hash_block_size;
	for (int i = (int)ret->levels - 1; i >= 0; i--) {
		unsigned shift = ret->bits * (unsigned)(i + 1);
		uint64_t n = shift >= 64 ? 1 : (v->data_blocks >> shift) + ((v->data_blocks & ((UINT64_C(1) << shift) - 1)) != 0);

		ret->level_block[i] = pos;
		ret->level_count[i] = n;
		pos += n;
	}
	ret->end_block = pos;
	return 0;
}

/* ---------------------------------------------------------------- hashing */

struct hasher {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	const struct verity_params *v;
};

static int hash_block(struct hasher *h, const uint8_t *block, size_t len, uint8_t *out)
{
	const struct verity_params *v = h->v;
	int ok = EVP_DigestInit_ex(h->ctx, h->md, NULL);

	if (v->hash_type == 1)
		ok = ok && EVP_DigestUpdate(h->ctx, v->salt, v->salt_size) && EVP_DigestUpdate(h->ctx, block, len);
	else
		ok = ok && EVP_DigestUpdate(h->ctx, block, len) && EVP_DigestUpdate(h->ctx, v->salt, v->salt_size);
	return ok && EVP_DigestFinal_ex(h->ctx, out, NULL) ? 0 : -1;
}

/* State shared by the workers that rebuild level 0 (the hashes of the data). */
struct level0 {
	const struct verity_params *v;
	const struct verity_layout *l;
	const EVP_MD *md;
	const struct byte_source *data, *hash;
	uint8_t *parent;   /* rebuilt level 1, or the root digest when level 0 is the top */
	atomic_uint_fast64_t next;
	atomic_bool stop;
	pthread_mutex_t lock;
	uint64_t first_bad; /* lowest level-0 hash block that differs, UINT64_MAX: none */
	uint64_t first_bad_data; /* ... and the first data block in it whose hash differs */
	struct problem io;
};

struct worker_buf {
	uint8_t *data, *built, *stored;
	size_t chunk;
};

static void record_bad(struct level0 *s, uint64_t unit, const uint8_t *built, const uint8_t *stored)
{
	uint64_t first = unit << s->l->bits;
	uint64_t entries = (uint64_t)1 << s->l->bits;

	pthread_mutex_lock(&s->lock);
	if (unit < s->first_bad) {
		s->first_bad = unit;
		s->first_bad_data = first;
		for (uint64_t e = 0; e < entries; e++)
			if (memcmp(built + e * s->l->stride, stored + e * s->l->stride, s->l->stride) != 0) {
				s->first_bad_data = first + e;
				break;
			}
	}
	pthread_mutex_unlock(&s->lock);
}

static void record_io(struct level0 *s, const struct problem *p)
{
	pthread_mutex_lock(&s->lock);
	if (s->io.kind == PROBLEM_NONE)
		s->io = *p;
	pthread_mutex_unlock(&s->lock);
	atomic_store(&s->stop, true);
}

/* One level-0 hash block: hash its data blocks, compare with the stored block, hash it into the parent. */
static int do_unit(struct level0 *s, struct hasher *h, struct worker_buf *b, uint64_t unit, struct problem *p)
{
	const struct verity_params *v = s->v;
	const struct verity_layout *l = s->l;
	uint64_t first = unit << l->bits, last = first + ((uint64_t)1 << l->bits);
	size_t per_read = b->chunk / v->data_block_size;

	if (last > v->data_blocks)
		last = v->data_blocks;
	memset(b->built, 0, v->hash_block_size);
	for (uint64_t blk = first; blk < last;) {
		size_t n = (size_t)(last - blk) < per_read ? (size_t)(last - blk) : per_read;

		if (bsrc_read(s->data, blk * v->data_block_size, b->data, n * v->data_block_size, "data", p) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (hash_block(h, b->data + i * v->data_block_size, v->data_block_size,
				       b->built + (blk - first + i) * l->stride) < 0)
				return ioerrorf(p, "OpenSSL %s failed", v->algorithm);
		blk += n;
	}
	if (bsrc_read(s->hash, (l->level_block[0] + unit) * v->hash_block_size, b->stored, v->hash_block_size,
		      "hash block", p) < 0)
		return -1;
	if (memcmp(b->built, b->stored, v->hash_block_size) != 0)
		record_bad(s, unit, b->built, b->stored);
	if (l->levels == 1)
		return hash_block(h, b->built, v->hash_block_size, s->parent) < 0 ? ioerrorf(p, "OpenSSL failed") : 0;
	return hash_block(h, b->built, v->hash_block_size,
			  s->parent + (unit >> l->bits) * v->hash_block_size + (unit & ((UINT64_C(1) << l->bits) - 1)) * l->stride) <
				 0 ?
		       ioerrorf(p, "OpenSSL failed") :
		       0;
}

static void *worker(void *arg)
{
	struct level0 *s = arg;
	const struct verity_params *v = s->v;
	struct hasher h = { EVP_MD_CTX_new(), s->md, v };
	struct worker_buf b;
	struct problem p = { 0 };

	/* whole data blocks, at most READ_CHUNK, no more than one hash block's worth or the whole data */
	b.chunk = READ_CHUNK < v->data_block_size ? v->data_block_size : READ_CHUNK / v->data_block_size * v->data_block_size;
	if (b.chunk / v->data_block_size > (UINT64_C(1) << s->l->bits))
		b.chunk = (size_t)(UINT64_C(1) << s->l->bits) * v->data_block_size;
	if (b.chunk / v->data_block_size > v->data_blocks)
		b.chunk = (size_t)v->data_blocks * v->data_block_size;
	b.data = malloc(b.chunk);
	b.built = malloc(v->hash_block_size);
	b.stored = malloc(v->hash_block_size);
	if (!h.ctx || !b.data || !b.built || !b.stored) {
		ioerrorf(&p, "out of memory");
		record_io(s, &p);
	} else {
		while (!atomic_load(&s->stop)) {
			uint64_t unit = atomic_fetch_add(&s->next, 1);

			if (unit >= s->l->level_count[0])
				break;
			if (do_unit(s, &h, &b, unit, &p) < 0) {
				record_io(s, &p);
				break;
			}
		}
	}
	free(b.data);
	free(b.built);
	free(b.stored);
	EVP_MD_CTX_free(h.ctx);
	return NULL;
}

static unsigned pick_threads(unsigned threads, uint64_t units)
{
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned)n : 1;
	}
	if (threads > THREADS_MAX)
		threads = THREADS_MAX;
	if (threads > units)
		threads = (unsigned)units;
	return threads ? threads : 1;
}

static int rebuild_level0(struct level0 *s, unsigned threads, struct problem *p)
{
	pthread_t tid[THREADS_MAX];
	unsigned n = pick_threads(threads, s->l->level_count[0]), started = 0;

	for (; n > 1 && started < n; started++) /* one worker runs here, without a thread */
		if (pthread_create(&tid[started], NULL, worker, s) != 0)
			break;
	if (started == 0)
		worker(s);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (s->io.kind != PROBLEM_NONE) {
		*p = s->io;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- upper levels and the verdict */

/*
 * Levels 1..top from the rebuilt level below (@level1, the caller's), each
 * block compared with the stored one. *bad_level and *bad_block: the first
 * stored block that differs.
 */
static int rebuild_upper(const struct verity_params *v, const struct verity_layout *l, struct hasher *h,
			 const struct byte_source *hash, const uint8_t *level1, uint8_t *root, int *bad_level,
			 uint64_t *bad_block, struct problem *p)
{
	uint8_t *stored = malloc(v->hash_block_size);
	uint8_t *owned = NULL, *parent = NULL; /* levels allocated here */
	const uint8_t *level = level1;
	int r = -1;

	if (!stored)
		return ioerrorf(p, "out of memory");
	for (unsigned lv = 1; lv < l->levels; lv++) {
		bool top = lv + 1 == l->levels;

		if (!top && !(parent = calloc(l->level_count[lv + 1], v->hash_block_size))) {
			ioerrorf(p, "out of memory");
			goto out;
		}
		for (uint64_t k = 0; k < l->level_count[lv]; k++) {
			const uint8_t *blk = level + k * v->hash_block_size;
			uint8_t *dst = top ? root :
					     parent + (k >> l->bits) * v->hash_block_size +
						     (k & ((UINT64_C(1) << l->bits) - 1)) * l->stride;

			if (bsrc_read(hash, (l->level_block[lv] + k) * v->hash_block_size, stored, v->hash_block_size,
				      "hash block", p) < 0)
				goto out;
			if (*bad_level < 0 && memcmp(blk, stored, v->hash_block_size) != 0)
				*bad_level = (int)lv, *bad_block = l->level_block[lv] + k;
			if (hash_block(h, blk, v->hash_block_size, dst) < 0) {
				ioerrorf(p, "OpenSSL failed");
				goto out;
			}
		}
		free(owned);
		owned = parent;
		level = parent;
		parent = NULL;
	}
	r = 0;
out:
	free(owned);
	free(parent);
	free(stored);
	return r;
}

static int sizes_fit(const struct verity_params *v, const struct verity_layout *l, const struct byte_source *data,
		     const struct byte_source *hash, struct problem *p)
{
	if (v->data_blocks > data->size / v->data_block_size)
		return refusef(p, "the superblock covers %llu data blocks of %u bytes, the data partition has %llu bytes",
			       (unsigned long long)v->data_blocks, v->data_block_size, (unsigned long long)data->size);
	if (l->end_block > hash->size / v->hash_block_size)
		return refusef(p, "the hash tree needs %llu blocks of %u bytes, the hash partition has %llu bytes",
			       (unsigned long long)l->end_block, v->hash_block_size, (unsigned long long)hash->size);
	return 0;
}

static int verdict(const struct verity_params *v, const struct verity_layout *l, const struct level0 *s,
		   bool root_ok, int bad_level, uint64_t bad_block, struct problem *p)
{
	if (!root_ok && s->first_bad != UINT64_MAX)
		return refusef(p, "data block %llu (byte %llu of the data partition) does not match its hash",
			       (unsigned long long)s->first_bad_data,
			       (unsigned long long)(s->first_bad_data * v->data_block_size));
	if (!root_ok && bad_level > 0)
		return refusef(p, "hash block %llu (level %d) does not match the hashes below it",
			       (unsigned long long)bad_block, bad_level);
	if (!root_ok)
		return refusef(p, "the data's root hash differs from the signed root hash");
	if (s->first_bad != UINT64_MAX)
		return refusef(p, "hash partition block %llu (level 0) is corrupt: the data matches the root hash, "
			       "the stored hashes do not", (unsigned long long)(l->level_block[0] + s->first_bad));
	if (bad_level > 0)
		return refusef(p, "hash partition block %llu (level %d) is corrupt", (unsigned long long)bad_block,
			       bad_level);
	return 0;
}

int verity_check(const struct verity_params *v, const struct byte_source *data, const struct byte_source *hash,
		 const uint8_t *root, size_t root_len, unsigned threads, uint64_t *ret_bytes, struct problem *p)
{
	struct verity_layout l;
	struct level0 s = { .v = v, .l = &l, .data = data, .hash = hash, .first_bad = UINT64_MAX };
	struct hasher h = { NULL, NULL, v };
	uint8_t built_root[VERITY_DIGEST_MAX];
	uint64_t bad_block = 0;
	int bad_level = -1, r = -1;
	EVP_MD *md = NULL;

	if (root_len != v->digest_size)
		return refusef(p, "the root hash has %zu bytes, %s gives %u", root_len, v->algorithm, v->digest_size);
	if (verity_layout(v, &l, p) < 0 || sizes_fit(v, &l, data, hash, p) < 0)
		return -1;
	md = EVP_MD_fetch(NULL, v->algorithm, NULL);
	h.ctx = EVP_MD_CTX_new();
	h.md = md;
	s.md = md;
	pthread_mutex_init(&s.lock, NULL);
	if (!md || !h.ctx) {
		ioerrorf(p, "OpenSSL cannot hash with %s", v->algorithm);
		goto out;
	}
	if (l.levels == 0) { /* one data block: its hash is the root */
		uint8_t *blk = malloc(v->data_block_size);

		r = !blk ? ioerrorf(p, "out of memory") : bsrc_read(data, 0, blk, v->data_block_size, "data", p);
		if (r == 0 && hash_block(&h, blk, v->data_block_size, built_root) < 0)
			r = ioerrorf(p, "OpenSSL failed");
		free(blk);
		if (r < 0)
			goto out;
	} else {
		s.parent = l.levels == 1 ? built_root : calloc(l.level_count[1], v->hash_block_size);
		if (!s.parent) {
			ioerrorf(p, "out of memory");
			goto out;
		}
		if (rebuild_level0(&s, threads, p) < 0)
			goto out;
		if (l.levels > 1 && rebuild_upper(v, &l, &h, hash, s.parent, built_root, &bad_level, &bad_block, p) < 0)
			goto out;
	}
	r = verdict(v, &l, &s, memcmp(built_root, root, root_len) == 0, bad_level, bad_block, p);
	if (r == 0 && ret_bytes)
		*ret_bytes = v->data_blocks * v->data_block_size;
out:
	if (s.parent && s.parent != built_root)
		free(s.parent);
	pthread_mutex_destroy(&s.lock);
	EVP_MD_CTX_free(h.ctx);
	EVP_MD_free(md);
	return r;
}
