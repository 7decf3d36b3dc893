/* SPDX-License-Identifier: MIT */
/*
 * fuzz-pe.c - libFuzzer target for measure/pe.c.
 *
 * Parses the input as a PE file and as a loaded image. Whenever the parser
 * accepts it, the promises pe.h makes must hold: every section's content
 * lies inside the buffer (each byte is read, so ASan catches an overread),
 * each section is found by its own name, the section table ends inside the
 * headers, and the sections are ascending, disjoint and inside SizeOfImage.
 * A file-layout image the loader plan accepts is also placed and relocated
 * (measure/pe-load.h): every copy must stay inside the file and the image.
 * A broken promise aborts with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/pe.h"
#include "measure/pe-load.h"

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz-pe: %s:%d: invariant failed: %s\n", __FILE__,    \
				__LINE__, #cond);                                              \
			abort();                                                               \
		}                                                                              \
	} while (0)

/* Too large for a comfortable stack frame under ASan. */
static struct pe_image img;

static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc ^= p[i];
	sink = acc;
}

static void check_section(const uint8_t *data, size_t size, uint16_t i)
{
	const struct pe_section *s = &img.sections[i];
	const struct pe_section *found;
	uint32_t loaded = pe_section_loaded_size(s);
	size_t off, present;

	pe_section_content(&img, s, &off, &present);
	CHECK(off <= size);
	CHECK(present <= size - off);
	CHECK(present <= loaded);
	if (img.layout == PE_LAYOUT_FILE)
		CHECK(present <= s->raw_size);
	else
		CHECK(present == loaded);
	touch(data + off, present);

	CHECK(s->name[PE_SECTION_NAME_MAX] == '\0');
	found = pe_find_section(&img, s->name);
	CHECK(found != NULL);
	CHECK(strcmp(found->name, s->name) == 0);
	CHECK(found <= s); /* the first section of that name */

	CHECK((uint64_t)s->virtual_address + loaded <= img.size_of_image);
	CHECK(s->virtual_address >= img.size_of_headers);
	if (i > 0) {
		const struct pe_section *prev = &img.sections[i - 1];

		CHECK(s->virtual_address >= (uint64_t)prev->virtual_address + pe_section_loaded_size(prev));
	}
}

static void check_layout(const uint8_t *data, size_t size, enum pe_layout layout)
{
	if (pe_parse(data, size, layout, &img) != MS_OK)
		return;
	CHECK(img.layout == layout);
	CHECK(img.buffer_size == size);
	CHECK(img.n_sections <= PE_MAX_SECTIONS);
	CHECK(img.opt_magic == PE_OPT_MAGIC_PE32 || img.opt_magic == PE_OPT_MAGIC_PE32PLUS);
	CHECK(img.n_data_dirs <= 16);
	CHECK(img.section_table_offset >= img.opt_offset);
	CHECK(pe_section_table_end(&img) >= img.section_table_offset);
	CHECK(pe_section_table_end(&img) <= img.size_of_headers);
	CHECK(img.size_of_headers <= size);
	CHECK(img.size_of_headers <= img.size_of_image);
	touch(data, img.size_of_headers);
	for (uint16_t i = 0; i < img.n_sections; i++)
		check_section(data, size, i);
}

static struct pe_load_plan plan;

/* Place and relocate what pe_load_plan accepts, as the stub would (small images only). */
static void check_load(const uint8_t *data, size_t size)
{
	uint8_t *image;

	if (pe_parse(data, size, PE_LAYOUT_FILE, &img) != MS_OK)
		return;
	if (pe_load_plan(&img, PE_MACHINE_X86_64, &plan) != MS_OK || plan.size_of_image > (16u << 20))
		return;
	CHECK(plan.n_copies >= 1 && plan.n_copies <= PE_LOAD_MAX_COPIES);
	CHECK(plan.entry_point < plan.size_of_image);
	image = calloc(1, plan.size_of_image);
	CHECK(image != NULL);
	for (size_t i = 0; i < plan.n_copies; i++) {
		const struct pe_load_copy *c = &plan.copies[i];

		CHECK((uint64_t)c->src + c->size <= size);
		CHECK((uint64_t)c->dest + c->size <= plan.size_of_image);
		memcpy(image + c->dest, data + c->src, c->size);
	}
	(void)pe_load_relocate(image, &img, &plan, 0x7f5a3000ull);
	free(image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_load(data, size);
	check_layout(data, size, PE_LAYOUT_FILE);
	check_layout(data, size, PE_LAYOUT_MEMORY);
	return 0;
}
