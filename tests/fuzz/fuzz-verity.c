/* SPDX-License-Identifier: MIT */
/*
 * fuzz-verity.c - libFuzzer target for the dm-verity side of `validate`
 * (host-tools/verity.c): superblock parsing, tree layout and the full
 * check.
 *
 * Input: 4 bytes of parameters (hash type; data and hash block size as
 * 512 << (0..3); a salt length 0..63; the data block count 1..64), then the
 * data blocks' content (repeated to fill them), ending in 4 bytes that
 * choose a byte to flip. The target builds the hash tree itself, by the
 * kernel's layout written out independently here (one level at a time,
 * then laid out top level first), formats a superblock, and asserts: the
 * check accepts the untouched image and its root; with one byte flipped
 * inside the data the tree covers, or anywhere inside the tree, it
 * refuses; a root with one bit changed is refused.
 * The raw input is also parsed as a superblock and, when it parses,
 * checked against itself (anything but a crash goes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "host-tools/verity.h"
#include "measure/endian.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-verity: %s:%d: invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

struct tree {
	unsigned hash_type, dbs, hbs, salt_len, digest;
	uint64_t blocks;
	uint8_t salt[64];
	uint8_t *data, *hash;
	size_t hash_len;
	uint8_t root[32];
};

static void H(const struct tree *t, const uint8_t *block, size_t len, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	CHECK(c && EVP_DigestInit_ex(c, EVP_sha256(), NULL));
	if (t->hash_type)
		CHECK(EVP_DigestUpdate(c, t->salt, t->salt_len) && EVP_DigestUpdate(c, block, len));
	else
		CHECK(EVP_DigestUpdate(c, block, len) && EVP_DigestUpdate(c, t->salt, t->salt_len));
	CHECK(EVP_DigestFinal_ex(c, out, NULL));
	EVP_MD_CTX_free(c);
}

/*
 * Build the tree bottom-up into a list of levels, then lay them out top
 * first after the superblock's block: the dm-verity format, from its
 * description rather than from verity.c's arithmetic.
 */
static void build(struct tree *t)
{
	unsigned per = 1, stride;
	uint8_t *levels[64];
	uint64_t count[64], n = t->blocks, pos;
	const uint8_t *below = t->data;
	size_t below_bs = t->dbs;
	int L = 0;

	while (per * 2 * t->digest <= t->hbs)
		per *= 2;
	stride = t->hash_type ? t->hbs / per : t->digest;
	if (n == 1) { /* no tree: the root is the hash of the one block */
		H(t, t->data, t->dbs, t->root);
		t->hash_len = t->hbs;
		t->hash = calloc(1, t->hash_len);
		CHECK(t->hash);
		return;
	}
	while (n > 1) {
		uint64_t blocks = (n + per - 1) / per;

		levels[L] = calloc(blocks, t->hbs);
		CHECK(levels[L]);
		for (uint64_t i = 0; i < n; i++)
			H(t, below + i * below_bs, below_bs, levels[L] + (i / per) * t->hbs + (i % per) * stride);
		count[L] = blocks;
		below = levels[L], below_bs = t->hbs, n = blocks;
		L++;
	}
	H(t, levels[L - 1], t->hbs, t->root);
	t->hash_len = t->hbs;
	for (int i = 0; i < L; i++)
		t->hash_len += count[i] * t->hbs;
	t->hash = calloc(1, t->hash_len);
	CHECK(t->hash);
	pos = t->hbs;
	for (int i = L - 1; i >= 0; i--) {
		memcpy(t->hash + pos, levels[i], count[i] * t->hbs);
		pos += count[i] * t->hbs;
		free(levels[i]);
	}
}

static void superblock(const struct tree *t)
{
	uint8_t *sb = t->hash;

	memcpy(sb, "verity\0\0", 8);
	le32_write(sb + 8, 1);
	le32_write(sb + 12, t->hash_type);
	memcpy(sb + 32, "sha256", 7);
	le32_write(sb + 64, t->dbs);
	le32_write(sb + 68, t->hbs);
	le64_write(sb + 72, t->blocks);
	le16_write(sb + 80, (uint16_t)t->salt_len);
	memcpy(sb + 88, t->salt, t->salt_len);
}

static int check(const struct tree *t, const uint8_t *root)
{
	struct byte_source d = bsrc_memory(t->data, t->blocks * t->dbs), h = bsrc_memory(t->hash, t->hash_len);
	struct verity_params v;
	struct problem p = { 0 };
	uint64_t bytes = 0;
	int r;

	CHECK(verity_sb_parse(t->hash, &v, &p) == 0);
	r = verity_check(&v, &d, &h, root, 32, 1, &bytes, &p);
	CHECK(r == 0 ? bytes == t->blocks * t->dbs : p.kind == PROBLEM_REFUSED && strlen(p.text) > 0);
	return r;
}

static void raw_as_superblock(const uint8_t *data, size_t size)
{
	struct verity_params v;
	struct verity_layout l;
	struct problem p = { 0 };
	uint8_t sb[VERITY_SB_SIZE] = { 0 }, root[64] = { 0 };
	struct byte_source s = bsrc_memory(data, size);

	memcpy(sb, data, size < sizeof(sb) ? size : sizeof(sb));
	if (verity_sb_parse(sb, &v, &p) < 0 || verity_layout(&v, &l, &p) < 0)
		return;
	CHECK(l.levels <= VERITY_LEVELS_MAX && l.end_block >= 1);
	(void)verity_check(&v, &s, &s, root, v.digest_size, 2, NULL, &p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tree t = { 0 };
	uint32_t pick;
	uint8_t root[32];

	raw_as_superblock(data, size);
	if (size < 9)
		return 0;
	t.hash_type = data[0] & 1;
	t.dbs = 512u << ((data[0] >> 1) & 3);
	t.hbs = 512u << ((data[0] >> 3) & 3);
	t.salt_len = data[1] & 63;
	t.blocks = 1 + data[2] % 64;
	t.digest = 32;
	memcpy(t.salt, data + 3, t.salt_len < size - 3 ? t.salt_len : size - 3);
	pick = le32_read(data + size - 4);
	t.data = malloc(t.blocks * t.dbs);
	CHECK(t.data);
	for (size_t i = 0; i < t.blocks * t.dbs; i++)
		t.data[i] = data[3 + i % (size - 7)];
	build(&t);
	superblock(&t);
	CHECK(check(&t, t.root) == 0);
	memcpy(root, t.root, 32);
	root[pick % 32] ^= 1;
	CHECK(check(&t, root) < 0);
	if (pick & 0x80000000u) { /* a byte of the tree: stored blocks are compared whole, padding included */
		size_t tree = t.hash_len - t.hbs;

		if (tree) {
			t.hash[t.hbs + (pick >> 1) % tree] ^= 1;
			CHECK(check(&t, t.root) < 0);
		}
	} else {
		t.data[(pick >> 1) % (t.blocks * t.dbs)] ^= 1;
		CHECK(check(&t, t.root) < 0);
	}
	free(t.data);
	free(t.hash);
	return 0;
}
