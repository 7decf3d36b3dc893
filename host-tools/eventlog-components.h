/* SPDX-License-Identifier: MIT */
/*
 * eventlog-components.h - `eventlog --expect DIR`: a systemd-pcrlock
 * component directory (what `sysext-stub pcrlock --output DIR` writes, or
 * /var/lib/pcrlock.d) as the expectation. For each PCR and bank the
 * components cover, the log's events of that PCR must be, in order, one
 * variant of each component in component order (an empty variant matching
 * nothing); a failure names the component, and the variant that came
 * closest.
 */
#ifndef HOST_TOOLS_EVENTLOG_COMPONENTS_H
#define HOST_TOOLS_EVENTLOG_COMPONENTS_H

#include <stddef.h>
#include <stdint.h>

#include "eventlog-expect.h"
#include "eventlog-replay.h"

/*
 * Read the components of @dir and check the log @rp for every bank of
 * @bank_mask (0: all) the log and every record have, and every PCR of
 * @pcr_mask (0: all) a record names: one expectation each in @set, its
 * result and problem set. *@checked and *@failed count them. Returns 0, or
 * -1 (printed) when @dir cannot be read.
 */
int eventlog_check_components(const char *dir, const struct replay *rp, unsigned bank_mask, uint32_t pcr_mask,
			      struct expect_set *set, size_t *checked, size_t *failed);

#endif
