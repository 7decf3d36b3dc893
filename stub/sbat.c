/* SPDX-License-Identifier: MIT */
/*
 * SBAT metadata (https://github.com/rhboot/shim/blob/main/SBAT.md): lets
 * shim and firmware revoke vulnerable generations of this stub. Bump the
 * generation number on every security fix that must revoke older builds.
 */
#ifndef SYSEXT_STUB_VERSION
#error "SYSEXT_STUB_VERSION must be defined by the build"
#endif

static const char sbat[] __attribute__((section(".sbat"), used)) =
	"sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
	"sysext-stub,1,sysext-stub,sysext-stub," SYSEXT_STUB_VERSION ",https://sysext-stub.invalid/\n";
