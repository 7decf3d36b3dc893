/* SPDX-License-Identifier: MIT */
/*
 * tpm2-device-from-env.c - LD_PRELOAD shim for testing systemd 252's
 * cryptsetup token plugin (libcryptsetup-token-systemd-tpm2.so) against
 * swtpm on a machine without a TPM device.
 *
 * Called from cryptsetup, the plugin gets no device from its caller, so it
 * asks libsystemd-shared's tpm2_find_device_auto(), which only looks at
 * /sys/class/tpmrm and answers "no TPM" (-ENODEV, reported as "TPM2 device
 * not found") here. SYSTEMD_TPM2_DEVICE is not consulted on that path. This
 * replacement returns $SYSTEMD_TPM2_DEVICE instead, e.g.
 * "swtpm:path=/tmp/x/sock", which systemd then hands to the named TCTI
 * (dlopen libtss2-tcti-swtpm.so.0). Everything after that - signature
 * lookup, policy session, unseal - is systemd's own code.
 *
 * The plugin calls the function through its PLT, so a preloaded definition
 * wins. Signature (systemd 252, checked in the plugin's disassembly: LOG_DEBUG
 * in %edi, a char ** in %rsi): int tpm2_find_device_auto(int log_level, char **ret).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tpm2_find_device_auto(int log_level, char **ret);

int tpm2_find_device_auto(int log_level, char **ret)
{
	const char *device = getenv("SYSTEMD_TPM2_DEVICE");

	(void)log_level;
	if (!device || !*device)
		return -ENODEV;
	*ret = strdup(device);
	return *ret ? 0 : -ENOMEM;
}
