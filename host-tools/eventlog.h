/* SPDX-License-Identifier: MIT */
/* eventlog.h - `sysext-stub eventlog`: replay a TPM2 event log, compare with PCRs or a prediction. */
#ifndef HOST_TOOLS_EVENTLOG_H
#define HOST_TOOLS_EVENTLOG_H

/*
 * Entry point of the subcommand; argv[0] is "eventlog". Returns 0 when
 * everything compared matches, 1 on a mismatch, 2 on unusable input.
 */
int cmd_eventlog(int argc, char **argv);

#endif
