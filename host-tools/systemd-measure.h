/* SPDX-License-Identifier: MIT */
/*
 * systemd-measure.h - sysext-stub as systemd-measure 262, for ukify: run
 * under the name systemd-measure (argv[0]) or as `sysext-stub
 * systemd-measure VERB ...`.
 */
#ifndef HOST_TOOLS_SYSTEMD_MEASURE_H
#define HOST_TOOLS_SYSTEMD_MEASURE_H

/* argv[0] is the program or subcommand name; argv[1..] systemd-measure's arguments. Returns the exit code. */
int cmd_systemd_measure(int argc, char **argv);

#endif
