/* SPDX-License-Identifier: MIT */
/*
 * verity.h - dm-verity as veritysetup formats it and the kernel reads it:
 * the superblock at the start of the hash partition (checked as
 * cryptsetup's VERITY_read_sb does), the hash tree's layout (the kernel's
 * dm-verity level placement: top level first, right after the
 * superblock's block), and a full check: every data block hashed with
 * OpenSSL on several threads, every hash block rebuilt and compared with
 * the stored one, and the root compared with the expected root hash.
 */
#ifndef HOST_TOOLS_VERITY_H
#define HOST_TOOLS_VERITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "byte-source.h"
#include "problem.h"

#define VERITY_SB_SIZE 512
#define VERITY_SALT_MAX 256
#define VERITY_DIGEST_MAX 64
#define VERITY_LEVELS_MAX 64

struct verity_params {
	uint32_t hash_type; /* 1: H(salt || block) (what veritysetup writes), 0: H(block || salt) (Chrome OS) */
	uint32_t data_block_size, hash_block_size;
	uint64_t data_blocks;
	char algorithm[33]; /* OpenSSL digest name, e.g. "sha256" */
	unsigned digest_size;
	uint16_t salt_size;
	uint8_t salt[VERITY_SALT_MAX];
	uint8_t uuid[16];
};

struct verity_layout {
	unsigned bits;     /* log2 of hashes per hash block */
	unsigned stride;   /* bytes per hash in a hash block */
	unsigned levels;   /* 0: one data block, whose hash is the root */
	uint64_t level_block[VERITY_LEVELS_MAX]; /* first hash block of level i (0 = hashes of data) */
	uint64_t level_count[VERITY_LEVELS_MAX]; /* hash blocks at level i */
	uint64_t end_block;  /* hash blocks the whole tree needs, superblock's included */
};

/*
 * Parse a superblock (the first VERITY_SB_SIZE bytes of the hash
 * partition). The algorithm must be one OpenSSL knows. 0, or -1 with a
 * refusal in @p.
 */
int verity_sb_parse(const uint8_t sb[VERITY_SB_SIZE], struct verity_params *ret, struct problem *p);

/* Where each level of the tree lies in the hash partition. 0, or -1 (a refusal) for an impossible tree. */
int verity_layout(const struct verity_params *v, struct verity_layout *ret, struct problem *p);

/*
 * Check @data and @hash (the two partitions) against @root (root_len
 * bytes): the partitions are large enough, each stored hash block equals
 * the one rebuilt from the data, and the rebuilt root equals @root.
 * @threads workers hash the data (0: one per online CPU). On success
 * @ret_bytes (may be NULL) gets the data bytes hashed. 0, or -1 with @p
 * filled: a refusal naming the first block that differs, or a read error.
 */
int verity_check(const struct verity_params *v, const struct byte_source *data, const struct byte_source *hash,
		 const uint8_t *root, size_t root_len, unsigned threads, uint64_t *ret_bytes, struct problem *p);

#endif
