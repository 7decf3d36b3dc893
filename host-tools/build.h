/* SPDX-License-Identifier: MIT */
/* build.h - `sysext-stub build`. */
#ifndef HOST_TOOLS_BUILD_H
#define HOST_TOOLS_BUILD_H

/* Entry point of the subcommand; argv[0] is "build". Returns the exit code. */
int cmd_build(int argc, char **argv);

#endif
