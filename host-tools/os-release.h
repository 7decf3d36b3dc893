/* SPDX-License-Identifier: MIT */
/*
 * os-release.h - os-release(5) files (os-release, initrd-release,
 * extension-release.NAME) parsed as systemd's parse_env_file() does
 * (comments, quoting, backslash escapes, line continuations), and
 * systemd's rule for whether an extension fits a host:
 * extension_release_validate() of src/shared/extension-util.c (v257, the
 * same in v262).
 */
#ifndef HOST_TOOLS_OS_RELEASE_H
#define HOST_TOOLS_OS_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

#define OS_RELEASE_MAX (1u << 20) /* a larger release file is refused */

struct os_release_entry {
	char *key, *value;
};

struct os_release {
	struct os_release_entry *entries;
	size_t n;
};

/* Parse @text (@len bytes). 0, or -1 (out of memory). Lines that are not KEY=VALUE are skipped, as systemd does. */
int os_release_parse(const char *text, size_t len, struct os_release *ret);

void os_release_free(struct os_release *r);

/* The value of @key (the last assignment wins), or NULL. */
const char *os_release_get(const struct os_release *r, const char *key);

enum extension_class { EXTENSION_SYSEXT, EXTENSION_CONFEXT };

/*
 * Whether extension-release @ext fits the host @host (NULL: no host given;
 * only what does not depend on the host is checked) in @scope ("initrd",
 * "system" or "portable") on architecture @arch (systemd's name, e.g.
 * "x86-64"). true, or false with the reason in @why.
 */
bool extension_release_fits(const struct os_release *ext, const struct os_release *host, enum extension_class cls,
			    const char *scope, const char *arch, char *why, size_t why_size);

#endif
