/* SPDX-License-Identifier: MIT */
/*
 * test-tcglog.c - unit tests for measure/tcglog.c.
 *
 * Logs are assembled byte by byte by the small builder below and then
 * copied into a heap buffer of exactly their size, so AddressSanitizer
 * reports any read past the end. Hostile variants change one field of a
 * well-formed log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure/endian.h"
#include "measure/tcglog.h"

#define ALG_SHA1 0x0004
#define ALG_SHA256 0x000b
#define ALG_SHA384 0x000c

/* ------------------------------------------------------------ builder */

struct builder {
	uint8_t buf[8192];
	size_t len;
};

static struct builder B;
static uint8_t *exact; /* the exact-size copy handed to the parser */
static struct tcglog L;
static struct tcglog_event E;

static void put(const void *d, size_t n)
{
	assert_true(B.len + n <= sizeof(B.buf));
	memcpy(B.buf + B.len, d, n);
	B.len += n;
}

static void put8(uint8_t v)
{
	put(&v, 1);
}

static void put16(uint16_t v)
{
	uint8_t b[2];

	le16_write(b, v);
	put(b, 2);
}

static void put32(uint32_t v)
{
	uint8_t b[4];

	le32_write(b, v);
	put(b, 4);
}

static void fill(uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(v);
}

struct alg_spec {
	uint16_t id, size;
};

static const struct alg_spec two_banks[] = { { ALG_SHA1, 20 }, { ALG_SHA256, 32 } };

/* Offsets of header fields in the builder output (for corrupting them). */
#define OFF_HDR_PCR 0
#define OFF_HDR_TYPE 4
#define OFF_HDR_EVENT_SIZE 28
#define OFF_SIGNATURE 32
#define OFF_MAJOR (32 + 21)
#define OFF_N_ALGS (32 + 24)
#define OFF_ALGS (32 + 28)

static void header(const struct alg_spec *algs, uint32_t n, const char *vendor, size_t padding)
{
	size_t vlen = vendor ? strlen(vendor) : 0;
	uint32_t size = (uint32_t)(28 + 4 * n + 1 + vlen + padding);

	B.len = 0;
	put32(0);
	put32(TCG_EV_NO_ACTION);
	fill(0, 20);
	put32(size);
	put("Spec ID Event03", 16);
	put32(0);      /* platformClass: client */
	put8(0);       /* specVersionMinor */
	put8(2);       /* specVersionMajor */
	put8(0);       /* specErrata */
	put8(2);       /* uintnSize: UINT64 */
	put32(n);
	for (uint32_t i = 0; i < n; i++) {
		put16(algs[i].id);
		put16(algs[i].size);
	}
	put8((uint8_t)vlen);
	if (vlen)
		put(vendor, vlen);
	fill(0, padding);
}

/* One TCG_PCR_EVENT2 with each digest filled with @digest_byte + its index. */
static void event2(uint32_t pcr, uint32_t type, const struct alg_spec *algs, uint32_t n, uint8_t digest_byte,
		   const void *data, uint32_t size)
{
	put32(pcr);
	put32(type);
	put32(n);
	for (uint32_t i = 0; i < n; i++) {
		put16(algs[i].id);
		fill((uint8_t)(digest_byte + i), algs[i].size);
	}
	put32(size);
	if (size)
		put(data, size);
}

static size_t utf16(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; *s; s++) {
		out[n++] = (uint8_t)*s;
		out[n++] = 0;
	}
	out[n++] = 0;
	out[n++] = 0;
	return n;
}

static ms_status init_exact(size_t len)
{
	free(exact);
	exact = malloc(len ? len : 1);
	assert_non_null(exact);
	memcpy(exact, B.buf, len);
	return tcglog_init(&L, exact, len);
}

static ms_status init_log(void)
{
	return init_exact(B.len);
}

static int teardown(void **state)
{
	(void)state;
	free(exact);
	exact = NULL;
	return 0;
}

/* A log like OVMF's: locality event, CRTM version, one IPL, one tagged event. */
static size_t boundaries[8];
static size_t n_boundaries;

static void build_typical_log(void)
{
	static const uint8_t locality[17] = "StartupLocality\0\3";
	uint8_t desc[64];
	size_t desc_len = utf16(".extra/sysext/a.sysext.raw", desc);
	uint8_t tag[8 + 13];

	le32_write(tag, 0x8f3b22ec);
	le32_write(tag + 4, 13);
	memcpy(tag + 8, "Linux initrd", 13);

	n_boundaries = 0;
	header(two_banks, 2, "ovmf", 0);
	boundaries[n_boundaries++] = B.len;
	event2(0, TCG_EV_NO_ACTION, two_banks, 2, 0, locality, sizeof(locality));
	boundaries[n_boundaries++] = B.len;
	event2(0, TCG_EV_S_CRTM_VERSION, two_banks, 2, 0x10, "\0\0", 2);
	boundaries[n_boundaries++] = B.len;
	event2(13, TCG_EV_IPL, two_banks, 2, 0x20, desc, (uint32_t)desc_len);
	boundaries[n_boundaries++] = B.len;
	event2(9, TCG_EV_EVENT_TAG, two_banks, 2, 0x30, tag, sizeof(tag));
	boundaries[n_boundaries++] = B.len;
}

static void assert_digest(const struct tcglog_event *ev, uint16_t alg, uint16_t size, uint8_t byte)
{
	const struct tcglog_digest *d = tcglog_event_digest(ev, alg);

	assert_non_null(d);
	assert_int_equal(d->alg_id, alg);
	assert_int_equal(d->size, size);
	for (uint16_t i = 0; i < size; i++)
		assert_int_equal(d->bytes[i], byte);
}

/* ------------------------------------------------------------ valid logs */

static void test_typical_log(void **state)
{
	uint8_t loc = 0xff;
	char text[64];
	uint32_t tag_id, tag_size;
	const uint8_t *tag_data;

	(void)state;
	build_typical_log();
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(L.n_algs, 2);
	assert_int_equal(L.algs[0].alg_id, ALG_SHA1);
	assert_int_equal(L.algs[0].size, 20);
	assert_int_equal(L.algs[1].alg_id, ALG_SHA256);
	assert_int_equal(L.algs[1].size, 32);
	assert_int_equal(L.spec_version_major, 2);
	assert_int_equal(L.uintn_size, 2);
	assert_int_equal(L.vendor_info_size, 4);
	assert_memory_equal(L.vendor_info, "ovmf", 4);
	assert_int_equal(L.header.index, 0);
	assert_int_equal(L.header.type, TCG_EV_NO_ACTION);
	assert_int_equal(L.header.size, boundaries[0]);
	assert_false(tcglog_event_is_extended(&L.header));
	assert_non_null(tcglog_find_alg(&L, ALG_SHA256));
	assert_null(tcglog_find_alg(&L, ALG_SHA384));

	assert_int_equal(tcglog_next(&L, &E), MS_OK);
	assert_int_equal(E.index, 1);
	assert_int_equal(E.offset, boundaries[0]);
	assert_int_equal(E.type, TCG_EV_NO_ACTION);
	assert_false(tcglog_event_is_extended(&E));
	assert_true(tcglog_startup_locality(&E, &loc));
	assert_int_equal(loc, 3);

	assert_int_equal(tcglog_next(&L, &E), MS_OK);
	assert_int_equal(E.index, 2);
	assert_int_equal(E.pcr, 0);
	assert_int_equal(E.type, TCG_EV_S_CRTM_VERSION);
	assert_true(tcglog_event_is_extended(&E));
	assert_false(tcglog_startup_locality(&E, &loc));
	assert_int_equal(E.n_digests, 2);
	assert_digest(&E, ALG_SHA1, 20, 0x10);
	assert_digest(&E, ALG_SHA256, 32, 0x11);
	assert_null(tcglog_event_digest(&E, ALG_SHA384));

	assert_int_equal(tcglog_next(&L, &E), MS_OK);
	assert_int_equal(E.index, 3);
	assert_int_equal(E.offset, boundaries[2]);
	assert_int_equal(E.size, boundaries[3] - boundaries[2]);
	assert_int_equal(E.pcr, 13);
	assert_int_equal(E.type, TCG_EV_IPL);
	assert_digest(&E, ALG_SHA256, 32, 0x21);
	tcglog_describe_text(E.data, E.data_size, text, sizeof(text));
	assert_string_equal(text, ".extra/sysext/a.sysext.raw");

	assert_int_equal(tcglog_next(&L, &E), MS_OK);
	assert_int_equal(E.pcr, 9);
	assert_int_equal(E.type, TCG_EV_EVENT_TAG);
	assert_int_equal(tcglog_event_tag(E.data, E.data_size, &tag_id, &tag_data, &tag_size), MS_OK);
	assert_int_equal(tag_id, 0x8f3b22ec);
	assert_int_equal(tag_size, 13);
	assert_string_equal((const char *)tag_data, "Linux initrd");

	assert_int_equal(tcglog_next(&L, &E), MS_ERR_NOT_FOUND);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_NOT_FOUND);
}

static void test_header_only_log(void **state)
{
	(void)state;
	header(two_banks, 2, NULL, 0);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(L.vendor_info_size, 0);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_NOT_FOUND);
}

static void test_padded_header_and_unknown_algorithm_accepted(void **state)
{
	static const struct alg_spec algs[] = { { ALG_SHA256, 32 }, { 0x1234, 24 } };

	(void)state;
	header(algs, 2, "v", 7);
	event2(7, TCG_EV_SEPARATOR, algs, 2, 0x40, "\0\0\0\0", 4);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(L.algs[1].alg_id, 0x1234);
	assert_int_equal(tcglog_next(&L, &E), MS_OK);
	assert_digest(&E, 0x1234, 24, 0x41);
	assert_int_equal(E.data_size, 4);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_NOT_FOUND);
}

static void test_digest_order_may_differ_from_header(void **state)
{
	static const struct alg_spec reversed[] = { { ALG_SHA256, 32 }, { ALG_SHA1, 20 } };

	(void)state;
	header(two_banks, 2, NULL, 0);
	event2(4, 0x80000003, reversed, 2, 0x50, NULL, 0);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_OK);
	assert_int_equal(E.digests[0].alg_id, ALG_SHA256);
	assert_digest(&E, ALG_SHA256, 32, 0x50);
	assert_digest(&E, ALG_SHA1, 20, 0x51);
	assert_int_equal(E.data_size, 0);
}

/* Cutting the log anywhere but at a record boundary is reported as truncation. */
static void test_every_truncation(void **state)
{
	size_t full;

	(void)state;
	build_typical_log();
	full = B.len;
	for (size_t cut = 0; cut < full; cut++) {
		bool boundary = false;
		ms_status r;

		for (size_t i = 0; i < n_boundaries; i++)
			boundary |= boundaries[i] == cut;
		r = init_exact(cut);
		for (int guard = 0; r == MS_OK && guard < 10; guard++)
			r = tcglog_next(&L, &E);
		if (boundary) {
			assert_int_equal(r, MS_ERR_NOT_FOUND);
		} else if (r != MS_ERR_TRUNCATED) {
			fail_msg("cut at %zu: status %d, expected truncated", cut, r);
		}
	}
}

/* ------------------------------------------------------------ bad headers */

static void test_empty_and_tiny_logs(void **state)
{
	(void)state;
	assert_int_equal(tcglog_init(&L, NULL, 0), MS_ERR_TRUNCATED);
	B.len = 0;
	fill(0, 31);
	assert_int_equal(init_log(), MS_ERR_TRUNCATED);
	assert_int_equal(tcglog_init(NULL, B.buf, 1), MS_ERR_INVALID);
	assert_int_equal(tcglog_init(&L, NULL, 5), MS_ERR_INVALID);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_INVALID); /* sticky */
	assert_int_equal(tcglog_next(NULL, &E), MS_ERR_INVALID);
}

static void test_header_wrong_type_or_pcr(void **state)
{
	(void)state;
	header(two_banks, 2, NULL, 0);
	le32_write(B.buf + OFF_HDR_TYPE, TCG_EV_SEPARATOR);
	assert_int_equal(init_log(), MS_ERR_BAD_MAGIC);
	assert_non_null(L.error);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_BAD_MAGIC);

	header(two_banks, 2, NULL, 0);
	le32_write(B.buf + OFF_HDR_PCR, 1);
	assert_int_equal(init_log(), MS_ERR_BAD_MAGIC);

	/* A TPM 1.2 style log starts with an ordinary event. */
	B.len = 0;
	put32(0);
	put32(TCG_EV_S_CRTM_VERSION);
	fill(0xaa, 20);
	put32(2);
	put16(0);
	assert_int_equal(init_log(), MS_ERR_BAD_MAGIC);
}

static void test_header_signature(void **state)
{
	(void)state;
	header(two_banks, 2, NULL, 0);
	memcpy(B.buf + OFF_SIGNATURE, "Spec ID Event02", 16);
	assert_int_equal(init_log(), MS_ERR_BAD_MAGIC);

	header(two_banks, 2, NULL, 0);
	memcpy(B.buf + OFF_SIGNATURE, "Spec ID Event00", 16);
	assert_int_equal(init_log(), MS_ERR_UNSUPPORTED);

	header(two_banks, 2, NULL, 0);
	le32_write(B.buf + OFF_HDR_EVENT_SIZE, 15);
	assert_int_equal(init_log(), MS_ERR_BAD_MAGIC);

	header(two_banks, 2, NULL, 0);
	le32_write(B.buf + OFF_HDR_EVENT_SIZE, 27);
	assert_int_equal(init_log(), MS_ERR_TRUNCATED);

	header(two_banks, 2, NULL, 0);
	le32_write(B.buf + OFF_HDR_EVENT_SIZE, 0xffffffff);
	assert_int_equal(init_log(), MS_ERR_TRUNCATED);
	assert_true(L.has_error_value);
	assert_int_equal(L.error_value, 0xffffffff);

	header(two_banks, 2, NULL, 0);
	B.buf[OFF_MAJOR] = 1;
	assert_int_equal(init_log(), MS_ERR_UNSUPPORTED);
}

static void test_header_algorithm_list(void **state)
{
	struct alg_spec many[TCGLOG_MAX_ALGS + 1];

	(void)state;
	header(two_banks, 0, NULL, 0);
	assert_int_equal(init_log(), MS_ERR_LIMIT);

	for (uint16_t i = 0; i <= TCGLOG_MAX_ALGS; i++)
		many[i] = (struct alg_spec){ (uint16_t)(0x100 + i), 32 };
	header(many, TCGLOG_MAX_ALGS, NULL, 0);
	assert_int_equal(init_log(), MS_OK);
	header(many, TCGLOG_MAX_ALGS + 1, NULL, 0);
	assert_int_equal(init_log(), MS_ERR_LIMIT);

	/* The count claims more entries than the event holds. */
	header(two_banks, 2, NULL, 0);
	le32_write(B.buf + OFF_N_ALGS, 3);
	assert_int_equal(init_log(), MS_ERR_TRUNCATED);

	{
		static const struct alg_spec dup[] = { { ALG_SHA256, 32 }, { ALG_SHA256, 32 } };
		static const struct alg_spec wrong_size[] = { { ALG_SHA256, 20 } };
		static const struct alg_spec zero[] = { { 0x1234, 0 } };
		static const struct alg_spec huge[] = { { 0x1234, 65 } };

		header(dup, 2, NULL, 0);
		assert_int_equal(init_log(), MS_ERR_INVALID);
		header(wrong_size, 1, NULL, 0);
		assert_int_equal(init_log(), MS_ERR_INVALID);
		assert_int_equal(L.error_value, ALG_SHA256);
		header(zero, 1, NULL, 0);
		assert_int_equal(init_log(), MS_ERR_INVALID);
		header(huge, 1, NULL, 0);
		assert_int_equal(init_log(), MS_ERR_LIMIT);
	}

	/* vendorInfoSize reaching past the event. */
	header(two_banks, 2, "abc", 0);
	B.buf[OFF_ALGS + 8] = 4;
	assert_int_equal(init_log(), MS_ERR_TRUNCATED);
}

/* ------------------------------------------------------------ bad events */

static void test_event_unknown_algorithm(void **state)
{
	static const struct alg_spec other[] = { { ALG_SHA1, 20 }, { ALG_SHA384, 48 } };
	size_t end_of_first;

	(void)state;
	header(two_banks, 2, NULL, 0);
	event2(0, TCG_EV_S_CRTM_VERSION, two_banks, 2, 0, NULL, 0);
	event2(0, TCG_EV_S_CRTM_VERSION, other, 2, 0, NULL, 0);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_OK);
	end_of_first = E.offset + E.size;
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_UNSUPPORTED);
	assert_int_equal(L.error_index, 2);
	assert_int_equal(L.error_offset, end_of_first);
	assert_true(L.has_error_value);
	assert_int_equal(L.error_value, ALG_SHA384);
	assert_non_null(L.error);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_UNSUPPORTED); /* sticky */
}

static void test_event_digest_count(void **state)
{
	static const struct alg_spec dup[] = { { ALG_SHA1, 20 }, { ALG_SHA1, 20 } };

	(void)state;
	header(two_banks, 2, NULL, 0);
	event2(0, TCG_EV_S_CRTM_VERSION, two_banks, 1, 0, NULL, 0);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_INVALID);
	assert_int_equal(L.error_value, 1);

	header(two_banks, 2, NULL, 0);
	event2(0, TCG_EV_S_CRTM_VERSION, dup, 2, 0, NULL, 0);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_INVALID);

	header(two_banks, 2, NULL, 0);
	put32(0);
	put32(TCG_EV_S_CRTM_VERSION);
	put32(0x7fffffff);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_LIMIT);
}

static void test_event_pcr_out_of_range(void **state)
{
	(void)state;
	header(two_banks, 2, NULL, 0);
	event2(23, TCG_EV_IPL, two_banks, 2, 0, NULL, 0);
	event2(24, TCG_EV_IPL, two_banks, 2, 0, NULL, 0);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_OK);
	assert_int_equal(E.pcr, 23);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_OUT_OF_BOUNDS);
	assert_int_equal(L.error_value, 24);

	header(two_banks, 2, NULL, 0);
	event2(0xffffffff, TCG_EV_NO_ACTION, two_banks, 2, 0, NULL, 0);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_OUT_OF_BOUNDS);
}

static void test_event_sizes(void **state)
{
	size_t size_at;

	(void)state;
	header(two_banks, 2, NULL, 0);
	event2(4, TCG_EV_IPL, two_banks, 2, 0, "abcd", 4);
	size_at = B.len - 8;
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_OK);

	le32_write(B.buf + size_at, 5);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_TRUNCATED);

	le32_write(B.buf + size_at, 0xffffffff);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_LIMIT);
	assert_int_equal(L.error_value, 0xffffffff);

	le32_write(B.buf + size_at, TCGLOG_EVENT_DATA_MAX + 1);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_LIMIT);

	/* Shorter than announced: the rest is read as another record. */
	le32_write(B.buf + size_at, 0);
	assert_int_equal(init_log(), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_OK);
	assert_int_equal(tcglog_next(&L, &E), MS_ERR_TRUNCATED);
}

/* ------------------------------------------------------------ helpers */

static void test_startup_locality_and_initial_value(void **state)
{
	uint8_t v[32], loc;
	struct tcglog_event ev = { .type = TCG_EV_NO_ACTION };

	(void)state;
	ev.data = (const uint8_t *)"StartupLocality\0\4";
	ev.data_size = 17;
	assert_true(tcglog_startup_locality(&ev, &loc));
	assert_int_equal(loc, 4);
	ev.data_size = 16;
	assert_false(tcglog_startup_locality(&ev, &loc));
	ev.data = (const uint8_t *)"StartupLocalitx\0\4";
	ev.data_size = 17;
	assert_false(tcglog_startup_locality(&ev, &loc));
	ev.data = (const uint8_t *)"StartupLocality\0\3";
	ev.type = TCG_EV_IPL;
	assert_false(tcglog_startup_locality(&ev, &loc));

	memset(v, 0xee, sizeof(v));
	tcglog_initial_pcr_value(0, 3, v, 32);
	for (int i = 0; i < 31; i++)
		assert_int_equal(v[i], 0);
	assert_int_equal(v[31], 3);
	tcglog_initial_pcr_value(0, 4, v, 20);
	assert_int_equal(v[19], 4);
	tcglog_initial_pcr_value(0, 0, v, 32);
	assert_int_equal(v[31], 0);
	tcglog_initial_pcr_value(0, 2, v, 32); /* only 3 and 4 change PCR 0 */
	assert_int_equal(v[31], 0);
	tcglog_initial_pcr_value(1, 3, v, 32);
	assert_int_equal(v[31], 0);
}

static void test_describe_text(void **state)
{
	uint8_t u[128];
	char out[64];
	size_t n;

	(void)state;
	n = utf16(".linux", u);
	assert_int_equal(tcglog_describe_text(u, n, out, sizeof(out)), 6);
	assert_string_equal(out, ".linux");
	/* Without the NUL. */
	assert_int_equal(tcglog_describe_text(u, n - 2, out, sizeof(out)), 6);
	/* Cut to the buffer. */
	assert_int_equal(tcglog_describe_text(u, n, out, 4), 3);
	assert_string_equal(out, ".li");
	/* Non-ASCII and control characters; a surrogate pair is one character. */
	{
		static const uint8_t t[] = { 'a', 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde, 0x0a, 0, 'z', 0, 0x00, 0xd8, 'q', 0 };

		tcglog_describe_text(t, sizeof(t), out, sizeof(out));
		assert_string_equal(out, "a???z?q");
	}
	/* 8-bit text, as GRUB and EV_EFI_ACTION write it. */
	assert_int_equal(tcglog_describe_text((const uint8_t *)"grub_cmd: ls\x01\xff", 14, out, sizeof(out)), 14);
	assert_string_equal(out, "grub_cmd: ls??");
	assert_int_equal(tcglog_describe_text((const uint8_t *)"Exit Boot Services Invocation", 29, out, sizeof(out)),
			 29);
	assert_int_equal(tcglog_describe_text((const uint8_t *)"ab\0cd", 5, out, sizeof(out)), 2);
	assert_int_equal(tcglog_describe_text(NULL, 10, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(tcglog_describe_text(u, 0, out, sizeof(out)), 0);
	assert_int_equal(tcglog_describe_text(u, n, out, 0), 0);
	assert_int_equal(tcglog_describe_text(u, n, out, 1), 0);
	assert_string_equal(out, "");
}

static void test_event_tag(void **state)
{
	uint8_t t[16];
	uint32_t id = 0, size = 0;
	const uint8_t *data = NULL;

	(void)state;
	le32_write(t, 0x8f3b22ed);
	le32_write(t + 4, 8);
	memcpy(t + 8, "abcdefgh", 8);
	assert_int_equal(tcglog_event_tag(t, 16, &id, &data, &size), MS_OK);
	assert_int_equal(id, 0x8f3b22ed);
	assert_int_equal(size, 8);
	assert_ptr_equal(data, t + 8);
	assert_int_equal(tcglog_event_tag(t, 15, &id, &data, &size), MS_ERR_TRUNCATED);
	le32_write(t + 4, 7);
	assert_int_equal(tcglog_event_tag(t, 16, &id, &data, &size), MS_ERR_INVALID);
	le32_write(t + 4, 0xffffffff);
	assert_int_equal(tcglog_event_tag(t, 16, &id, &data, &size), MS_ERR_TRUNCATED);
	assert_int_equal(tcglog_event_tag(t, 7, &id, &data, &size), MS_ERR_TRUNCATED);
	le32_write(t + 4, 0);
	assert_int_equal(tcglog_event_tag(t, 8, &id, &data, &size), MS_OK);
	assert_int_equal(size, 0);
	assert_int_equal(tcglog_event_tag(NULL, 8, &id, &data, &size), MS_ERR_TRUNCATED);
}

static void test_event_type_names(void **state)
{
	uint32_t t = 0;

	(void)state;
	assert_string_equal(tcglog_event_type_name(TCG_EV_IPL), "EV_IPL");
	assert_string_equal(tcglog_event_type_name(TCG_EV_EVENT_TAG), "EV_EVENT_TAG");
	assert_string_equal(tcglog_event_type_name(TCG_EV_NO_ACTION), "EV_NO_ACTION");
	assert_string_equal(tcglog_event_type_name(0x80000003), "EV_EFI_BOOT_SERVICES_APPLICATION");
	assert_null(tcglog_event_type_name(0x12345678));
	assert_true(tcglog_event_type_from_name("EV_IPL", &t));
	assert_int_equal(t, TCG_EV_IPL);
	assert_true(tcglog_event_type_from_name("EV_EFI_ACTION", &t));
	assert_int_equal(t, TCG_EV_EFI_ACTION);
	assert_false(tcglog_event_type_from_name("EV_IP", &t));
	assert_false(tcglog_event_type_from_name("EV_IPLX", &t));
	assert_false(tcglog_event_type_from_name("userspace", &t));
	assert_false(tcglog_event_type_from_name("", &t));
	assert_false(tcglog_event_type_from_name(NULL, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_typical_log, teardown),
		cmocka_unit_test_teardown(test_header_only_log, teardown),
		cmocka_unit_test_teardown(test_padded_header_and_unknown_algorithm_accepted, teardown),
		cmocka_unit_test_teardown(test_digest_order_may_differ_from_header, teardown),
		cmocka_unit_test_teardown(test_every_truncation, teardown),
		cmocka_unit_test_teardown(test_empty_and_tiny_logs, teardown),
		cmocka_unit_test_teardown(test_header_wrong_type_or_pcr, teardown),
		cmocka_unit_test_teardown(test_header_signature, teardown),
		cmocka_unit_test_teardown(test_header_algorithm_list, teardown),
		cmocka_unit_test_teardown(test_event_unknown_algorithm, teardown),
		cmocka_unit_test_teardown(test_event_digest_count, teardown),
		cmocka_unit_test_teardown(test_event_pcr_out_of_range, teardown),
		cmocka_unit_test_teardown(test_event_sizes, teardown),
		cmocka_unit_test(test_startup_locality_and_initial_value),
		cmocka_unit_test(test_describe_text),
		cmocka_unit_test(test_event_tag),
		cmocka_unit_test(test_event_type_names),
	};

	return cmocka_run_group_tests_name("tcglog", tests, NULL, NULL);
}
