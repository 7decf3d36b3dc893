/* SPDX-License-Identifier: MIT */
/* cpio.h - `sysext-stub cpio`: the exact archive bytes the stub appends to the UKI's .initrd. */
#ifndef HOST_TOOLS_CPIO_H
#define HOST_TOOLS_CPIO_H

int cmd_cpio(int argc, char **argv);

#endif
