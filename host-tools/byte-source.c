/* SPDX-License-Identifier: MIT */
#include "byte-source.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int read_file(const struct byte_source *s, uint64_t off, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		ssize_t n = pread(s->fd, out, len, (off_t)(s->base + off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) { /* the file shrank under us */
			errno = EIO;
			return -1;
		}
		out += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_memory(const struct byte_source *s, uint64_t off, void *buf, size_t len)
{
	if (len)
		memcpy(buf, s->mem + s->base + off, len);
	return 0;
}

struct byte_source bsrc_file(int fd, uint64_t size)
{
	return (struct byte_source){ .read = read_file, .size = size, .fd = fd };
}

struct byte_source bsrc_memory(const void *buf, size_t len)
{
	return (struct byte_source){ .read = read_memory, .size = len, .fd = -1, .mem = buf };
}

int bsrc_slice(const struct byte_source *parent, uint64_t off, uint64_t len, struct byte_source *ret,
	       const char *what, struct problem *p)
{
	if (off > parent->size || len > parent->size - off)
		return refusef(p, "%s (bytes %llu..%llu) lies outside the %llu-byte image", what,
			       (unsigned long long)off, (unsigned long long)off + len,
			       (unsigned long long)parent->size);
	*ret = *parent;
	ret->base = parent->base + off;
	ret->size = len;
	return 0;
}

int bsrc_read(const struct byte_source *s, uint64_t off, void *buf, size_t len, const char *what,
	      struct problem *p)
{
	if (off > s->size || len > s->size - off)
		return refusef(p, "%s at byte %llu (%zu bytes) lies outside the %llu bytes there are", what,
			       (unsigned long long)off, len, (unsigned long long)s->size);
	if (s->read(s, off, buf, len) < 0)
		return ioerrorf(p, "reading %s at byte %llu: %s", what, (unsigned long long)off, strerror(errno));
	return 0;
}
