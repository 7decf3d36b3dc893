/* SPDX-License-Identifier: MIT */
/* memfs.c - see memfs.h. */
#include "memfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efi-host.h"
#include "internal.h"

/* EDK2's EFI_PATH_STRING_LENGTH: "X:" + path + '\' + name + NUL must fit. */
#define FAT_PATH_LIMIT 260
#define PADDING 4096
#define GARBAGE_SIZE_FIELD 0xdeadbeefcafeULL

struct handle {
	EFI_FILE_PROTOCOL proto; /* first: the protocol pointer is the handle */
	struct memfs *fs;
	struct memfs_node *node;
	UINT64 pos;          /* file: byte offset; directory: entry index */
	unsigned info_calls; /* GetInfo calls so far (the first is the size query) */
	struct handle *next;
};

struct memfs {
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL sfs; /* first: the protocol pointer is the volume */
	struct memfs_node *root;
	struct handle *open;
	size_t n_open;
	EFI_HANDLE device;
};

static const CHAR16 dot_name[] = { '.', 0 }, dotdot_name[] = { '.', '.', 0 };

int memfs_entry_fault_ends_listing(enum memfs_entry_fault f)
{
	return f != MEMFS_ENTRY_OK && f != MEMFS_ENTRY_PADDED && f != MEMFS_ENTRY_BAD_SIZE_FIELD;
}

/* ------------------------------------------------------------ the tree */

static CHAR16 fold(CHAR16 c)
{
	return c >= 'A' && c <= 'Z' ? (CHAR16)(c + ('a' - 'A')) : c;
}

static int names_eq(const CHAR16 *a, size_t a_len, const CHAR16 *b, size_t b_len)
{
	if (a_len != b_len)
		return 0;
	for (size_t i = 0; i < a_len; i++)
		if (fold(a[i]) != fold(b[i]))
			return 0;
	return 1;
}

static size_t name_hash(const CHAR16 *s, size_t len)
{
	size_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ fold(s[i])) * 1099511628211ULL;
	return h;
}

static void index_put(struct memfs_node *dir, size_t child)
{
	const struct memfs_node *c = dir->children[child];
	size_t mask = dir->index_cap - 1, at = name_hash(c->name, c->name_len) & mask;

	while (dir->index[at])
		at = (at + 1) & mask;
	dir->index[at] = child + 1;
}

static struct memfs_node *find_child(const struct memfs_node *dir, const CHAR16 *name, size_t len)
{
	size_t mask, at;

	if (!dir->index_cap)
		return NULL;
	mask = dir->index_cap - 1;
	for (at = name_hash(name, len) & mask; dir->index[at]; at = (at + 1) & mask) {
		struct memfs_node *c = dir->children[dir->index[at] - 1];

		if (names_eq(c->name, c->name_len, name, len))
			return c;
	}
	return NULL;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		abort();
	return p;
}

static void add_child(struct memfs_node *dir, struct memfs_node *c)
{
	efi_host_reserve(&dir->children, &dir->cap_children, dir->n_children, sizeof(*dir->children));
	dir->children[dir->n_children++] = c;
	if (2 * dir->n_children > dir->index_cap) {
		free(dir->index);
		dir->index_cap = dir->index_cap ? dir->index_cap * 4 : 32;
		dir->index = xcalloc(dir->index_cap, sizeof(*dir->index));
		for (size_t i = 0; i < dir->n_children; i++)
			index_put(dir, i);
	} else {
		index_put(dir, dir->n_children - 1);
	}
}

struct memfs_node *memfs_add(struct memfs *fs, struct memfs_node *parent, const CHAR16 *name, size_t len,
			     BOOLEAN is_dir, const void *data, UINT64 size)
{
	struct memfs_node *n;

	(void)fs;
	if (!parent || !parent->is_dir || len == 0 || find_child(parent, name, len))
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (name[i] == 0)
			return NULL;
	n = xcalloc(1, sizeof(*n));
	n->name = xcalloc(len + 1, sizeof(CHAR16));
	memcpy(n->name, name, len * sizeof(CHAR16));
	n->name_len = len;
	n->is_dir = is_dir;
	n->parent = parent;
	n->path_len = parent->path_len + 1 + len;
	if (!is_dir) {
		n->data = xcalloc(1, size);
		if (size)
			memcpy(n->data, data, size);
		n->size = n->listed_size = size;
	}
	add_child(parent, n);
	return n;
}

struct memfs_node *memfs_add8(struct memfs *fs, struct memfs_node *parent, const char *name, BOOLEAN is_dir,
			      const void *data, UINT64 size)
{
	size_t len = strlen(name);
	CHAR16 *u = xcalloc(len + 1, sizeof(CHAR16));
	struct memfs_node *n;

	for (size_t i = 0; i < len; i++)
		u[i] = (CHAR16)(unsigned char)name[i];
	n = memfs_add(fs, parent, u, len, is_dir, data, size);
	free(u);
	return n;
}

struct memfs_node *memfs_mkdirs(struct memfs *fs, const char *path)
{
	struct memfs_node *dir = fs->root;
	char part[256];

	while (*path) {
		size_t n = 0;
		struct memfs_node *next;

		while (*path == '\\')
			path++;
		while (path[n] && path[n] != '\\' && n + 1 < sizeof(part)) {
			part[n] = path[n];
			n++;
		}
		part[n] = 0;
		path += n;
		if (!n)
			break;
		next = memfs_add8(fs, dir, part, TRUE, NULL, 0);
		if (next) {
			next->dots = TRUE;
		} else {
			CHAR16 u[256];

			efi_host_ascii_to16(part, u, 256);
			next = find_child(dir, u, n);
			if (!next || !next->is_dir)
				return NULL;
		}
		dir = next;
	}
	return dir;
}

static void node_free(struct memfs_node *n)
{
	for (size_t i = 0; i < n->n_children; i++)
		node_free(n->children[i]);
	free(n->children);
	free(n->index);
	free(n->name);
	free(n->data);
	free(n);
}

/* ------------------------------------------------------------ path resolution */

static int fat_refuses(CHAR16 c)
{
	return c < 0x20 || c == '"' || c == '*' || c == '/' || c == ':' || c == '<' || c == '>' || c == '?' ||
	       c == '|';
}

/* One component, @len units at @p, below @dir (EDK2: blanks and dots stripped, refused units). */
static struct memfs_node *step(struct memfs_node *dir, const CHAR16 *p, size_t len, EFI_STATUS *err)
{
	if (len == 1 && p[0] == '.')
		return dir;
	if (len == 2 && p[0] == '.' && p[1] == '.') {
		if (!dir->parent)
			*err = EFI_NOT_FOUND;
		return dir->parent;
	}
	while (len && p[0] == ' ')
		p++, len--;
	while (len && (p[len - 1] == ' ' || p[len - 1] == '.'))
		len--;
	if (!len) {
		*err = EFI_INVALID_PARAMETER;
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if (fat_refuses(p[i])) {
			*err = EFI_INVALID_PARAMETER;
			return NULL;
		}
	dir = find_child(dir, p, len);
	if (!dir)
		*err = EFI_NOT_FOUND;
	return dir;
}

struct memfs_node *memfs_resolve(struct memfs *fs, struct memfs_node *from, const CHAR16 *path, EFI_STATUS *ret_err)
{
	size_t len = StrLen(path), base = from->path_len, at = 0;
	struct memfs_node *n = from;
	EFI_STATUS err = EFI_SUCCESS;

	if (path[0] == '\\') {
		n = fs->root;
		base = 0;
		len--;
	}
	if (!from->is_dir || 2 + base + 1 + len + 1 > FAT_PATH_LIMIT) {
		*ret_err = EFI_INVALID_PARAMETER;
		return NULL;
	}
	while (n && path[at]) {
		size_t end = at;

		while (path[end] && path[end] != '\\')
			end++;
		if (end > at) {
			if (!n->is_dir) {
				err = EFI_NOT_FOUND;
				n = NULL;
				break;
			}
			n = step(n, path + at, end - at, &err);
		}
		at = path[end] ? end + 1 : end;
	}
	*ret_err = n ? EFI_SUCCESS : err;
	return n;
}

/* ------------------------------------------------------------ EFI_FILE_PROTOCOL */

static EFI_FILE_PROTOCOL handle_template;

/* The handle behind @this, or NULL (a violation) if it is not an open one. */
static struct handle *live(EFI_FILE_PROTOCOL *this, const char *what)
{
	struct handle *h = (struct handle *)this;

	if (h && h->fs)
		for (struct handle *o = h->fs->open; o; o = o->next)
			if (o == h)
				return h;
	efi_host_violation("memfs: %s on a handle that is not open", what);
	return NULL;
}

static struct handle *new_handle(struct memfs *fs, struct memfs_node *node)
{
	struct handle *h = xcalloc(1, sizeof(*h));

	h->proto = handle_template;
	h->fs = fs;
	h->node = node;
	h->next = fs->open;
	fs->open = h;
	fs->n_open++;
	node->opens++;
	return h;
}

static EFI_STATUS EFIAPI file_open(EFI_FILE_PROTOCOL *this, EFI_FILE_PROTOCOL **ret, CHAR16 *name, UINT64 mode,
				   UINT64 attributes)
{
	struct handle *h = live(this, "Open");
	struct memfs_node *n;
	EFI_STATUS err;

	(void)attributes;
	if (!h || !ret || !name)
		return EFI_INVALID_PARAMETER;
	if (mode != EFI_FILE_MODE_READ) {
		efi_host_violation("memfs: Open with mode 0x%llx: the stub only reads", (unsigned long long)mode);
		return EFI_WRITE_PROTECTED;
	}
	n = memfs_resolve(h->fs, h->node, name, &err);
	if (!n)
		return err;
	if (n->faults.open_status)
		return n->faults.open_status;
	*ret = &new_handle(h->fs, n)->proto;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI file_close(EFI_FILE_PROTOCOL *this)
{
	struct handle *h = live(this, "Close");
	struct handle **p;

	if (!h)
		return EFI_INVALID_PARAMETER;
	for (p = &h->fs->open; *p != h; p = &(*p)->next)
		;
	*p = h->next;
	h->fs->n_open--;
	memset(h, 0xdd, sizeof(*h));
	free(h);
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI file_delete(EFI_FILE_PROTOCOL *this)
{
	(void)this;
	efi_host_violation("memfs: Delete: the stub never changes the ESP");
	return EFI_WARN_DELETE_FAILURE;
}

static EFI_STATUS EFIAPI file_write(EFI_FILE_PROTOCOL *this, UINTN *size, VOID *buf)
{
	(void)this, (void)size, (void)buf;
	efi_host_violation("memfs: Write: the stub never changes the ESP");
	return EFI_WRITE_PROTECTED;
}

static EFI_STATUS EFIAPI file_set_info(EFI_FILE_PROTOCOL *this, EFI_GUID *type, UINTN size, VOID *buf)
{
	(void)this, (void)type, (void)size, (void)buf;
	efi_host_violation("memfs: SetInfo: the stub never changes the ESP");
	return EFI_WRITE_PROTECTED;
}

/* Write an EFI_FILE_INFO for @n of @size bytes with @name_units of its name (NUL if room is left). */
static void fill_info(EFI_FILE_INFO *info, UINTN size, const struct memfs_node *n, const CHAR16 *name,
		      size_t name_units, UINT64 size_field)
{
	size_t room = (size - SIZE_OF_EFI_FILE_INFO) / sizeof(CHAR16);

	memset(info, 0, size);
	info->Size = size_field;
	info->FileSize = n ? n->listed_size : 0;
	info->PhysicalSize = (info->FileSize + 511) & ~(UINT64)511;
	info->Attribute = !n || n->is_dir ? EFI_FILE_DIRECTORY : EFI_FILE_ARCHIVE;
	for (size_t i = 0; i < name_units && i < room; i++)
		info->FileName[i] = name[i];
}

static UINTN info_size(size_t name_len)
{
	return SIZE_OF_EFI_FILE_INFO + (name_len + 1) * sizeof(CHAR16);
}

static EFI_STATUS EFIAPI file_get_info(EFI_FILE_PROTOCOL *this, EFI_GUID *type, UINTN *size, VOID *buf)
{
	struct handle *h = live(this, "GetInfo");
	const struct memfs_node *n;
	UINTN need;
	unsigned call;

	if (!h || !type || !size)
		return EFI_INVALID_PARAMETER;
	if (memcmp(type, &gEfiFileInfoGuid, sizeof(*type)) != 0)
		return EFI_UNSUPPORTED;
	n = h->node;
	need = info_size(n->name_len);
	call = ++h->info_calls;
	switch (n->faults.info) {
	case MEMFS_INFO_ERROR:
		return EFI_DEVICE_ERROR;
	case MEMFS_INFO_SIZE_ZERO:
	case MEMFS_INFO_SIZE_SMALL:
		if (!buf || *size < need) {
			*size = n->faults.info == MEMFS_INFO_SIZE_ZERO ? 0 : SIZE_OF_EFI_FILE_INFO / 2;
			return EFI_BUFFER_TOO_SMALL;
		}
		break;
	case MEMFS_INFO_NULL_SUCCESS:
		if (!buf || *size < need)
			return EFI_SUCCESS;
		break;
	case MEMFS_INFO_NO_NUL:
		need -= sizeof(CHAR16);
		if (!buf || *size < need) {
			*size = need;
			return EFI_BUFFER_TOO_SMALL;
		}
		fill_info(buf, need, n, n->name, n->name_len, need);
		*size = need;
		return EFI_SUCCESS;
	case MEMFS_INFO_GROWS:
		if (call > 1 && buf && *size >= need) {
			fill_info(buf, need, n, n->name, n->name_len + 1, need);
			*size = need + 16;
			return EFI_SUCCESS;
		}
		break;
	case MEMFS_INFO_AGAIN:
		if (call > 1) {
			*size = need + 2;
			return EFI_BUFFER_TOO_SMALL;
		}
		break;
	case MEMFS_INFO_SHRINKS:
		if (call == 1) {
			*size = need + 64;
			return EFI_BUFFER_TOO_SMALL;
		}
		break;
	default:
		break;
	}
	if (!buf || *size < need) {
		*size = need;
		return EFI_BUFFER_TOO_SMALL;
	}
	fill_info(buf, need, n, n->name, n->name_len + 1, need);
	if (n->faults.info == MEMFS_INFO_NOT_DIR)
		((EFI_FILE_INFO *)buf)->Attribute &= ~(UINT64)EFI_FILE_DIRECTORY;
	*size = need;
	return EFI_SUCCESS;
}

/* Entry @i of directory @d: its node (NULL for "." and ".."), its name. */
static int dir_entry(const struct memfs_node *d, UINT64 i, const struct memfs_node **n, const CHAR16 **name,
		     size_t *len)
{
	UINT64 dots = d->dots ? 2 : 0;

	if (i < dots) {
		*n = NULL;
		*name = i == 0 ? dot_name : dotdot_name;
		*len = i + 1;
		return 1;
	}
	if (i - dots >= d->n_children)
		return 0;
	*n = d->children[i - dots];
	*name = (*n)->name;
	*len = (*n)->name_len;
	return 1;
}

static EFI_STATUS read_dir(struct handle *h, UINTN *size, VOID *buf)
{
	const struct memfs_node *n;
	const CHAR16 *name;
	size_t len;
	enum memfs_entry_fault f;
	UINTN need, have = buf ? *size : 0;

	if (!dir_entry(h->node, h->pos, &n, &name, &len)) {
		*size = 0;
		return EFI_SUCCESS;
	}
	f = n ? n->faults.entry : MEMFS_ENTRY_OK;
	need = info_size(len) + (f == MEMFS_ENTRY_PADDED ? PADDING : 0) - (f == MEMFS_ENTRY_NO_NUL ? sizeof(CHAR16) : 0);
	switch (f) {
	case MEMFS_ENTRY_ERROR:
		return EFI_DEVICE_ERROR;
	case MEMFS_ENTRY_END:
		*size = 0;
		return EFI_SUCCESS;
	case MEMFS_ENTRY_STUCK:
		return EFI_BUFFER_TOO_SMALL;
	case MEMFS_ENTRY_TOO_SMALL_TINY:
		*size = SIZE_OF_EFI_FILE_INFO / 2;
		return EFI_BUFFER_TOO_SMALL;
	case MEMFS_ENTRY_GROWS:
		*size = (have > need ? have : need) + sizeof(CHAR16);
		return EFI_BUFFER_TOO_SMALL;
	default:
		break;
	}
	if (have < need) {
		*size = need;
		return EFI_BUFFER_TOO_SMALL;
	}
	h->pos++;
	switch (f) {
	case MEMFS_ENTRY_TINY:
		fill_info(buf, need, n, name, len + 1, need);
		*size = SIZE_OF_EFI_FILE_INFO / 2;
		break;
	case MEMFS_ENTRY_SHORT: {
		UINTN cut = SIZE_OF_EFI_FILE_INFO + (len / 2) * sizeof(CHAR16);

		fill_info(buf, cut, n, name, len / 2, need);
		*size = cut;
		break;
	}
	case MEMFS_ENTRY_OVERSIZED:
		fill_info(buf, need, n, name, len + 1, need);
		*size = have + 8;
		break;
	case MEMFS_ENTRY_NO_NUL:
		fill_info(buf, need, n, name, len, need);
		*size = need;
		break;
	default:
		fill_info(buf, need, n, name, len + 1, f == MEMFS_ENTRY_BAD_SIZE_FIELD ? GARBAGE_SIZE_FIELD : need);
		*size = need;
		break;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS read_file(struct handle *h, UINTN *size, VOID *buf)
{
	const struct memfs_node *n = h->node;
	const struct memfs_faults *f = &n->faults;
	UINT64 avail = h->pos < n->size ? n->size - h->pos : 0;
	UINTN len = *size;

	if (len && !buf)
		return EFI_INVALID_PARAMETER;
	if (f->read_fails && h->pos >= f->fail_at)
		return f->fail_status ? f->fail_status : EFI_DEVICE_ERROR;
	if (len > avail)
		len = (UINTN)avail;
	if (f->read_max && len > f->read_max)
		len = f->read_max;
	if (f->read_fails && h->pos + len > f->fail_at)
		len = (UINTN)(f->fail_at - h->pos); /* up to the bad spot; the next Read fails */
	if (len)
		memcpy(buf, n->data + h->pos, len);
	h->pos += len;
	*size = len + (len ? f->overreport : 0);
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI file_read(EFI_FILE_PROTOCOL *this, UINTN *size, VOID *buf)
{
	struct handle *h = live(this, "Read");

	if (!h || !size)
		return EFI_INVALID_PARAMETER;
	return h->node->is_dir ? read_dir(h, size, buf) : read_file(h, size, buf);
}

static EFI_STATUS EFIAPI file_get_position(EFI_FILE_PROTOCOL *this, UINT64 *pos)
{
	struct handle *h = live(this, "GetPosition");

	if (!h || !pos)
		return EFI_INVALID_PARAMETER;
	if (h->node->is_dir)
		return EFI_UNSUPPORTED;
	*pos = h->pos;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI file_set_position(EFI_FILE_PROTOCOL *this, UINT64 pos)
{
	struct handle *h = live(this, "SetPosition");

	if (!h)
		return EFI_INVALID_PARAMETER;
	if (h->node->is_dir) {
		if (pos != 0)
			return EFI_UNSUPPORTED;
		h->pos = 0;
		return EFI_SUCCESS;
	}
	h->pos = pos == UINT64_MAX ? h->node->size : pos;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI file_flush(EFI_FILE_PROTOCOL *this)
{
	(void)this;
	return EFI_SUCCESS;
}

static EFI_FILE_PROTOCOL handle_template = {
	.Revision = EFI_FILE_HANDLE_REVISION,
	.Open = file_open,
	.Close = file_close,
	.Delete = file_delete,
	.Read = file_read,
	.Write = file_write,
	.GetPosition = file_get_position,
	.SetPosition = file_set_position,
	.GetInfo = file_get_info,
	.SetInfo = file_set_info,
	.Flush = file_flush,
};

/* ------------------------------------------------------------ the volume */

static EFI_STATUS EFIAPI open_volume(EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *this, EFI_FILE_PROTOCOL **ret)
{
	struct memfs *fs = (struct memfs *)this;

	if (!fs || !ret)
		return EFI_INVALID_PARAMETER;
	if (fs->root->faults.open_status)
		return fs->root->faults.open_status;
	*ret = &new_handle(fs, fs->root)->proto;
	return EFI_SUCCESS;
}

struct memfs *memfs_new(void)
{
	struct memfs *fs = xcalloc(1, sizeof(*fs));

	fs->sfs.Revision = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_REVISION;
	fs->sfs.OpenVolume = open_volume;
	fs->root = xcalloc(1, sizeof(*fs->root));
	fs->root->name = xcalloc(1, sizeof(CHAR16));
	fs->root->is_dir = TRUE;
	return fs;
}

struct memfs_node *memfs_root(struct memfs *fs)
{
	return fs->root;
}

EFI_HANDLE memfs_device(struct memfs *fs)
{
	if (!fs->device || efi_host_handle_protocol(fs->device, &gEfiSimpleFileSystemProtocolGuid) != &fs->sfs) {
		fs->device = NULL;
		if (EFI_ERROR(efi_host_install(&fs->device, &gEfiSimpleFileSystemProtocolGuid, &fs->sfs)))
			abort();
	}
	return fs->device;
}

size_t memfs_open_handles(const struct memfs *fs)
{
	return fs->n_open;
}

void memfs_free(struct memfs *fs)
{
	if (!fs)
		return;
	if (fs->n_open)
		efi_host_violation("memfs: %zu handle(s) never closed", fs->n_open);
	while (fs->open) {
		struct handle *h = fs->open;

		fs->open = h->next;
		free(h);
	}
	node_free(fs->root);
	free(fs);
}
