/* SPDX-License-Identifier: MIT */
/*
 * build-join.h - `build --join-profile FILE`: the sections of a profile PE
 * that become one more profile of the UKI being built, as ukify joins them.
 */
#ifndef HOST_TOOLS_BUILD_JOIN_H
#define HOST_TOOLS_BUILD_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "build.h"

/*
 * Read the profile PE @path (built by `ukify build --profile=...` or by
 * `sysext-stub build --profile ...` without --linux): its first profile,
 * from its .profile section up to the next .profile or the end, those
 * sections ukify copies (.profile .linux .osrel .cmdline .initrd .ucode
 * .splash .dtb .uname .sbat .efifw), each VirtualSize bytes (the loader's
 * zero fill included), each part's data its own allocation: free them and
 * *ret_parts. -1 with the reason printed (naming @path): not a PE, no
 * .profile, a section of VirtualSize 0.
 */
int profile_pe_read(const char *path, struct build_part **ret_parts, size_t *ret_n);

#endif
