/* SPDX-License-Identifier: MIT */
/*
 * admit.h - `sysext-stub admit`, run in the initrd by
 * sysext-stub-admit.service before systemd-sysext-initrd.service and
 * systemd-confext-initrd.service: every image the stub handed over in
 * /.extra/{sysext,global_sysext,confext,global_confext} is validated
 * (validate.h, with what systemd applies there: the strict policy, scope
 * "initrd", the certificates in the initrd's verity.d directories, its
 * os-release). A refused image is moved to /run/sysext-stub/refused/<dir>/
 * with one log line naming it and the reason, so systemd merges the rest.
 * With sysext-stub.admit=strict on the kernel command line, any refused
 * image fails the unit (and so the boot) instead. Nothing is measured:
 * PCR 13 already holds every file the stub read.
 */
#ifndef HOST_TOOLS_ADMIT_H
#define HOST_TOOLS_ADMIT_H

int cmd_admit(int argc, char **argv);

#endif
