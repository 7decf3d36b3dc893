/* SPDX-License-Identifier: MIT */
/*
 * memfs.h - an in-memory volume behind EFI_SIMPLE_FILE_SYSTEM_PROTOCOL and
 * EFI_FILE_PROTOCOL (UEFI 2.10 §13.4, §13.5), with fault knobs on every node.
 *
 * Open resolves paths the way EDK2's FAT driver does, as docs/MEASUREMENTS.md
 * and measure/extensions.h describe it: a leading '\' starts at the root,
 * the name is split at '\', "." and ".." are resolved, each component loses
 * its leading blanks and trailing blanks and dots, a component holding a
 * unit below 0x20 or one of  " * / : < > ? |  is refused, names compare
 * case-insensitively (ASCII), and 2 + the directory's path length + 1 + the
 * name's length + 1 may not exceed 260. Only read access is granted; any
 * attempt to write is a violation.
 *
 * A directory's Read yields "." and ".." first when asked to (FAT
 * subdirectories have them), then its children in the order they were
 * added. Every handle must be closed exactly once.
 */
#ifndef TESTS_EFI_HOST_MEMFS_H
#define TESTS_EFI_HOST_MEMFS_H

#include <efi.h>
#include <efilib.h>
#include <stddef.h>
#include <stdint.h>

/* GetInfo(EFI_FILE_INFO) on a handle of the node. */
enum memfs_info_fault {
	MEMFS_INFO_OK,
	MEMFS_INFO_ERROR,        /* fails with EFI_DEVICE_ERROR */
	MEMFS_INFO_SIZE_ZERO,    /* the size query answers EFI_BUFFER_TOO_SMALL with size 0 */
	MEMFS_INFO_SIZE_SMALL,   /* ... with a size below SIZE_OF_EFI_FILE_INFO */
	MEMFS_INFO_NULL_SUCCESS, /* the size query "succeeds" into no buffer */
	MEMFS_INFO_NO_NUL,       /* the name fills the size announced, without a NUL */
	MEMFS_INFO_GROWS,        /* the second call succeeds claiming more bytes than the first announced */
	MEMFS_INFO_AGAIN,        /* the second call is EFI_BUFFER_TOO_SMALL again */
	MEMFS_INFO_SHRINKS,      /* benign: the second call uses fewer bytes than announced */
	MEMFS_INFO_NOT_DIR,      /* a directory says it is not one */
	MEMFS_INFO_FAULTS
};

/* How the node's entry comes out of its directory's Read. */
enum memfs_entry_fault {
	MEMFS_ENTRY_OK,
	MEMFS_ENTRY_ERROR,          /* Read fails with EFI_DEVICE_ERROR */
	MEMFS_ENTRY_TINY,           /* success with fewer bytes than an EFI_FILE_INFO */
	MEMFS_ENTRY_SHORT,          /* success, the name cut in half without its NUL */
	MEMFS_ENTRY_OVERSIZED,      /* success, claiming more bytes than the buffer holds */
	MEMFS_ENTRY_NO_NUL,         /* the name fills the size announced, without a NUL */
	MEMFS_ENTRY_STUCK,          /* EFI_BUFFER_TOO_SMALL without asking for more */
	MEMFS_ENTRY_TOO_SMALL_TINY, /* EFI_BUFFER_TOO_SMALL asking for less than an EFI_FILE_INFO */
	MEMFS_ENTRY_GROWS,          /* EFI_BUFFER_TOO_SMALL every time, asking for more each time */
	MEMFS_ENTRY_END,            /* an early end of the directory: success with size 0 */
	MEMFS_ENTRY_PADDED,         /* benign: the entry needs 4 KiB more than its name */
	MEMFS_ENTRY_BAD_SIZE_FIELD, /* benign: EFI_FILE_INFO.Size holds garbage */
	MEMFS_ENTRY_FAULTS
};

/* Whether the stub must stop listing at an entry with fault @f (every fault but the benign ones). */
int memfs_entry_fault_ends_listing(enum memfs_entry_fault f);

struct memfs_faults {
	EFI_STATUS open_status; /* Open of this node fails with it; 0: it opens */
	enum memfs_info_fault info;
	enum memfs_entry_fault entry;
	UINTN read_max;         /* a Read returns at most this many bytes (a short read); 0: what was asked */
	BOOLEAN read_fails;     /* a Read at or past offset fail_at fails with fail_status */
	UINT64 fail_at;
	EFI_STATUS fail_status; /* EFI_DEVICE_ERROR if 0 */
	UINTN overreport;       /* a Read that returns data claims this many bytes more than it wrote */
};

struct memfs_node {
	CHAR16 *name; /* no NUL inside; the root's is empty */
	size_t name_len;
	BOOLEAN is_dir;
	UINT8 *data;          /* file: the content a Read returns */
	UINT64 size;
	UINT64 listed_size;   /* what its directory entry and GetInfo say (a file that changed: != size) */
	struct memfs_node *parent;
	struct memfs_node **children;
	size_t n_children, cap_children;
	size_t *index;        /* open addressing over children by folded name: child + 1, 0 empty */
	size_t index_cap;
	BOOLEAN dots;         /* directory: Read yields "." and ".." first */
	size_t path_len;      /* units of its path from the root, EDK2's FullPathLen: 0 for the root */
	struct memfs_faults faults;
	unsigned long opens;  /* successful Opens of it */
};

struct memfs;

struct memfs *memfs_new(void);
/* Free the volume; handles still open are a violation (and freed). */
void memfs_free(struct memfs *fs);
struct memfs_node *memfs_root(struct memfs *fs);

/*
 * Add a file (@data, @size bytes, copied) or a directory below @parent.
 * NULL when the name is empty, holds a NUL, or equals a sibling's ignoring
 * ASCII case (no FAT directory holds two such names).
 */
struct memfs_node *memfs_add(struct memfs *fs, struct memfs_node *parent, const CHAR16 *name, size_t len,
			     BOOLEAN is_dir, const void *data, UINT64 size);
struct memfs_node *memfs_add8(struct memfs *fs, struct memfs_node *parent, const char *name, BOOLEAN is_dir,
			      const void *data, UINT64 size);
/* The directory at ASCII @path ("\\loader\\extensions"), made as needed; subdirectories get dots. */
struct memfs_node *memfs_mkdirs(struct memfs *fs, const char *path);

/* The node Open(@from, @path) would open, or NULL with *@ret_err saying why (fault knobs not applied). */
struct memfs_node *memfs_resolve(struct memfs *fs, struct memfs_node *from, const CHAR16 *path,
				 EFI_STATUS *ret_err);

/* A handle on the volume (EFI_SIMPLE_FILE_SYSTEM_PROTOCOL installed on first use, after efi_host_reset). */
EFI_HANDLE memfs_device(struct memfs *fs);
/* Handles opened and not closed yet. */
size_t memfs_open_handles(const struct memfs *fs);

#endif
