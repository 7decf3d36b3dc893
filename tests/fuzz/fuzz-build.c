/* SPDX-License-Identifier: MIT */
/*
 * fuzz-build.c - libFuzzer target for the UKI writer: build_assemble()
 * (host-tools/build.c) and the checksum of host-tools/pe-edit.c, as
 * `sysext-stub build` runs them, in a round trip through pe_parse().
 *
 * Input: bytes 0-1 (16 bits, little-endian) say which parts are given
 * (bit i: part i of build_parts_init(), .osrel .cmdline .uname .pcrpkey
 * .initrd .linux .pcrsig .dtb .hwids .splash .ucode); for each given part,
 * a 16-bit little-endian length L and then its bytes (L + 1 of them;
 * missing bytes are a pattern); the rest is the stub. Seeds:
 * tests/fuzz/make-build-seeds.py.
 *
 * When the writer accepts the input, the result parses as a PE file and
 * has, checked field by field against the stub and the parts: the stub's
 * sections unchanged (headers and raw data); then one section per given
 * part, in order, named after it, VirtualSize its size, read-only
 * initialised data, VirtualAddress right after the section before rounded
 * up to SectionAlignment, raw data right after the stub's last byte kept
 * (or the part before) rounded up to FileAlignment, holding the part and
 * zero padding; SizeOfImage the end of the last section, the file ending
 * with it, no symbol table, no certificate table, and a CheckSum that an
 * independent implementation of the PE checksum agrees with. Each part is
 * found by its name, and each measured one is what PCR 11 measures
 * (measure/uki.c). A stub pe_parse() refuses is refused. Messages go to
 * /dev/null.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-tools/build.h"
#include "measure/endian.h"
#include "measure/pe.h"
#include "measure/uki.h"

static FILE *real_stderr; /* stderr itself goes to /dev/null */

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(real_stderr ? real_stderr : stderr,                            \
				"fuzz-build: %s:%d: invariant failed: %s\n", __FILE__, __LINE__,  \
				#cond);                                                        \
			abort();                                                               \
		}                                                                              \
	} while (0)

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* The classic PE checksum, written from the PE/COFF description: 16-bit words summed with end-around carry, the
 * CheckSum field counted as zero, plus the file length. */
static uint32_t ref_checksum(const uint8_t *b, size_t len, size_t checksum_at)
{
	uint8_t *copy = malloc(len + 1);
	uint32_t sum = 0;

	CHECK(copy != NULL);
	memcpy(copy, b, len);
	copy[len] = 0; /* an odd last byte is the low half of a word */
	memset(copy + checksum_at, 0, 4);
	for (size_t i = 0; i < len; i += 2) {
		sum += copy[i] | (uint32_t)copy[i + 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	free(copy);
	return (uint32_t)((sum & 0xffff) + len);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void check_result(const uint8_t *stub, size_t stub_len, const struct pe_image *in, const struct build_part *parts,
			 const uint8_t *out, size_t out_len)
{
	struct pe_image *img = calloc(1, sizeof(*img));
	struct uki_measured_section measured[UKI_MAX_MEASURED];
	uint64_t kept = in->size_of_headers, va, raw;
	const struct pe_section *last = &in->sections[in->n_sections - 1];
	size_t n_measured, k;

	CHECK(img != NULL);
	CHECK(pe_parse(out, out_len, PE_LAYOUT_FILE, img) == MS_OK);
	for (uint16_t i = 0; i < in->n_sections; i++) {
		const struct pe_section *s = &in->sections[i], *o = &img->sections[i];

		CHECK(strcmp(s->name, o->name) == 0 && s->virtual_size == o->virtual_size &&
		      s->virtual_address == o->virtual_address && s->raw_size == o->raw_size &&
		      s->raw_offset == o->raw_offset && s->characteristics == o->characteristics);
		if (s->raw_size) {
			CHECK((uint64_t)s->raw_offset + s->raw_size <= stub_len);
			CHECK(memcmp(out + s->raw_offset, stub + s->raw_offset, s->raw_size) == 0);
			if ((uint64_t)s->raw_offset + s->raw_size > kept)
				kept = (uint64_t)s->raw_offset + s->raw_size;
		}
	}
	va = align_up((uint64_t)last->virtual_address + pe_section_loaded_size(last), in->section_alignment);
	raw = align_up(kept, in->file_alignment);
	k = in->n_sections;
	for (size_t i = 0; i < BUILD_N_PARTS; i++) {
		const struct pe_section *o;

		if (!parts[i].arg)
			continue;
		CHECK(k < img->n_sections);
		o = &img->sections[k++];
		CHECK(strcmp(o->name, parts[i].section) == 0);
		CHECK(o->virtual_size == parts[i].size && o->virtual_address == va);
		CHECK(o->raw_offset == raw && o->raw_size == align_up(parts[i].size, in->file_alignment));
		CHECK(o->characteristics == (PE_SCN_CNT_INITIALIZED_DATA | PE_SCN_MEM_READ));
		CHECK(memcmp(out + raw, parts[i].data, parts[i].size) == 0);
		CHECK(all_zero(out + raw + parts[i].size, o->raw_size - parts[i].size));
		CHECK(pe_find_section(img, parts[i].section) == o);
		va += align_up(parts[i].size, in->section_alignment);
		raw += o->raw_size;
	}
	CHECK(k == img->n_sections);
	CHECK(img->size_of_image == va && out_len == raw);
	CHECK(img->symbol_table_offset == 0 && img->cert_table_size == 0 && img->cert_table_offset == 0);
	CHECK(le32_read(out + img->opt_offset + 64) == ref_checksum(out, out_len, img->opt_offset + 64));

	/* Every measured part is what PCR 11 takes for its name. */
	n_measured = uki_measured_sections(img, UKI_ORDER_DEFAULT, 0, measured);
	for (size_t i = 0; i < BUILD_N_PARTS; i++) {
		int found = 0;

		if (!parts[i].arg || !uki_section_is_measured(parts[i].section))
			continue;
		for (size_t m = 0; m < n_measured; m++)
			if (strcmp(measured[m].name, parts[i].section) == 0) {
				CHECK(measured[m].section == pe_find_section(img, parts[i].section));
				found = 1;
			}
		CHECK(found);
	}
	free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct build_part parts[BUILD_N_PARTS];
	struct pe_image *in;
	uint8_t *bufs[BUILD_N_PARTS] = { NULL }, *out = (uint8_t *)&parts, *stub;
	size_t at = 2, out_len = 7, stub_len;
	unsigned mask;
	int r;

	if (!real_stderr) {
		real_stderr = stderr;
		stderr = fopen("/dev/null", "w");
		CHECK(stderr != NULL);
	}
	if (size < 2)
		return 0;
	mask = data[0] | (unsigned)data[1] << 8;
	build_parts_init(parts);
	for (size_t i = 0; i < BUILD_N_PARTS; i++) {
		size_t len;

		if (!(mask & (1u << i)))
			continue;
		len = (at + 2 <= size ? (size_t)(data[at] | data[at + 1] << 8) : 0) + 1;
		at += 2;
		bufs[i] = malloc(len);
		CHECK(bufs[i] != NULL);
		for (size_t b = 0; b < len; b++)
			bufs[i][b] = at + b < size ? data[at + b] : (uint8_t)(0xa5 ^ b);
		at += len;
		parts[i].arg = parts[i].option;
		parts[i].data = bufs[i];
		parts[i].size = len;
	}
	stub_len = at < size ? size - at : 0;
	stub = malloc(stub_len ? stub_len : 1); /* exactly its size: ASan sees overreads */
	in = calloc(1, sizeof(*in));
	CHECK(stub && in);
	memcpy(stub, data + (at < size ? at : size), stub_len);

	r = build_assemble("stub.efi", stub, stub_len, parts, BUILD_N_PARTS, NULL, &out, &out_len);
	if (pe_parse(stub, stub_len, PE_LAYOUT_FILE, in) != MS_OK) {
		CHECK(r < 0);
	} else if (r == 0) {
		CHECK(in->n_sections > 0 && in->subsystem == PE_SUBSYSTEM_EFI_APPLICATION);
		check_result(stub, stub_len, in, parts, out, out_len);
		free(out);
	}
	if (r < 0)
		CHECK(out == (uint8_t *)&parts && out_len == 7); /* nothing handed back */
	for (size_t i = 0; i < BUILD_N_PARTS; i++)
		free(bufs[i]);
	free(stub);
	free(in);
	return 0;
}
