/* SPDX-License-Identifier: MIT */
/*
 * lazy-archive.h - an archive of companion files (system extensions,
 * configuration extensions, credentials) written straight into
 * the kernel's initrd buffer, when the kernel's EFI stub asks for the
 * initrd through LoadFile2 (efi-lib/initrd-media.h), with no archive of
 * our own and no copy (issue 19 part 2; SECURITY.md, "The lazy handover").
 *
 * At stub time the files are listed and planned (stub/companion-archive.h:
 * the shared selection and layout, the largest file given up while the
 * memory for the whole archive cannot be had), and only the plan is
 * kept: names, sizes, the directory. At fill time the cpio headers are
 * written into the kernel's buffer and each file is read into its place
 * there and measured in place: its path event, then its content event.
 * The bytes measured are the bytes handed over.
 *
 * The layout is fixed by then, so a file can no longer be left out. A
 * file that cannot be read (whole), or whose measurement fails, is
 * handed over zero-filled, and its content event is over those zeros
 * (measured again after a failed measurement): never an unmeasured byte,
 * and never the PCR value of a state in which that file was approved.
 * Each such file gets one log line.
 */
#ifndef STUB_LAZY_ARCHIVE_H
#define STUB_LAZY_ARCHIVE_H

#include <efi.h>

#include "efi-lib/initrd-media.h"
#include "efi-lib/tcg2.h"
#include "measure/companion.h"

#include "listing.h"

struct lazy_archive;

/*
 * Plan the archive of the files of @t's kind that @l kept. *@ret is NULL
 * when nothing is left to hand over (every failure is logged; a plan that
 * cannot be made skips that kind from @l). @m must outlive the archive:
 * it measures at fill time.
 */
void lazy_archive_plan(const struct dir_listing *l, const struct companion_target *t, struct measurer *m,
		       BOOLEAN can_measure, struct lazy_archive **ret);

/*
 * Give the archives in @archives (@n of them, NULL entries skipped; the
 * kinds planned from @l) the directory they read from at fill time, when
 * every reader at stub time is done with it: @l is left zeroed
 * (listing_close() then has nothing to close), and its path is copied for
 * the messages. The last of them to be freed closes it. An archive that
 * never got its directory hands over zeros only, no file, and says so.
 */
void lazy_archives_adopt(struct lazy_archive *const *archives, UINTN n, struct dir_listing *l);

/*
 * The LoadFile2 piece of @a: its size, its fill and release functions.
 * A successful initrd_register() takes @a over (it is freed after the
 * fill, or at initrd_unregister()).
 */
void lazy_archive_piece(struct lazy_archive *a, struct initrd_piece *ret);

/* Free @a and close its directory; NULL is ignored. */
void lazy_archive_free(struct lazy_archive *a);

#endif
