# sysext-stub - build, test, demo.
#
#   make            the EFI stub build/sysext-stub-x64.efi, the addon stub
#                   build/sysext-addon-x64.efi.stub and the CLI build/sysext-stub
#   make demo       install what is missing, build, boot a demo UKI under QEMU/OVMF/swtpm
#                   (DEMO=systemd: into a Debian 13 systemd initrd that merges and unlocks)
#   make check      install what is missing, build, run every test
#   make unit       host unit tests only (ASan/UBSan)
#   make cli-asan-check  the CLI tests against the ASan/UBSan build of the CLI
#   make valgrind-check  the CLI under valgrind (leaks, memory errors)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (fuzz-short: 10 s each)
#
# Set SYSEXT_STUB_SKIP_DEPS=1 to skip the apt-get step.

VERSION := 0.1.0
B := build
CC ?= gcc
CLANG ?= clang
# Debian's interpreter, which has python3-pytest (not a pyenv one on PATH).
PYTHON ?= /usr/bin/python3
FUZZ_SECONDS ?= 60
FUZZ_SHORT_SECONDS ?= 10

# ---------------------------------------------------------------- sources
MEASURE_SRC := $(sort $(wildcard measure/*.c))
EFILIB_SRC := $(sort $(wildcard efi-lib/*.c))
STUB_SRC := $(sort $(wildcard stub/*.c))
ADDON_STUB_SRC := addon-stub/addon.c
HOST_SRC := host-tools/main.c host-tools/build.c host-tools/build-join.c host-tools/build-sbat.c host-tools/util.c \
	host-tools/pe-edit.c host-tools/digest.c host-tools/sysext-set.c host-tools/prediction.c host-tools/predict.c \
	host-tools/predict-options.c host-tools/predict-inputs.c host-tools/predict-uki.c host-tools/addon-list.c \
	host-tools/cpio.c host-tools/signature-archives.c host-tools/eventlog.c host-tools/eventlog-replay.c \
	host-tools/eventlog-expect.c host-tools/eventlog-components.c host-tools/eventlog-report.c host-tools/json-writer.c \
	host-tools/pcr-policy.c host-tools/sign.c host-tools/systemd-measure.c host-tools/userspace-extends.c \
	host-tools/pcrlock.c host-tools/pcrlock-components.c
HOST_SRC += host-tools/base64.c host-tools/pem.c host-tools/key-file.c host-tools/pcrsig-file.c
# validate / admit: image readers (one module each) and the commands
VALIDATE_SRC := host-tools/problem.c host-tools/byte-source.c host-tools/crc32.c host-tools/dps.c host-tools/gpt.c \
	host-tools/image-policy.c host-tools/dissect.c host-tools/verity.c host-tools/verity-sig.c host-tools/inflate.c \
	host-tools/image-fs.c host-tools/erofs.c host-tools/squashfs.c host-tools/os-release.c
HOST_SRC += $(VALIDATE_SRC) host-tools/validate.c host-tools/admit.c
POSTLINK_SRC := host-tools/efi-postlink.c host-tools/util.c host-tools/pe-edit.c
TPM_TOOL_SRC := $(sort $(wildcard tests/tpm/*.c))
UNIT_TESTS := $(patsubst tests/test-%.c,%,$(sort $(wildcard tests/test-*.c)))
FUZZERS := $(patsubst tests/fuzz/fuzz-%.c,%,$(sort $(wildcard tests/fuzz/fuzz-*.c)))

# ---------------------------------------------------------------- EFI flags
GNUEFI_INC := /usr/include/efi
GNUEFI_LIB := /usr/lib
# -ffunction-sections/-fdata-sections with --gc-sections, and hidden visibility (no exported symbols to keep),
# leave out code the stub never calls (measure/ is shared with the host tools): the image must stay below
# 0x20000 (measure-check). -Os saves about 12 KiB of code against -O2 (SizeOfImage 0x20000 -> 0x1d000); the
# one loop where the stub's own code speed shows, efi-lib/bulk.c (copy and zero), stays -O2 (EFI_OPT).
EFI_OPT = -Os
EFI_CFLAGS = -std=gnu11 $(EFI_OPT) -ffreestanding -fshort-wchar -mno-red-zone -mgeneral-regs-only \
	-maccumulate-outgoing-args -fpic -fno-strict-aliasing -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fno-builtin-printf -ffunction-sections -fdata-sections -fvisibility=hidden \
	-fstack-protector-strong -mstack-protector-guard=global \
	-Wall -Wextra -Werror -Wno-pointer-sign \
	-DGNU_EFI_USE_MS_ABI -DSYSEXT_STUB_EFI=1 -DSYSEXT_STUB_VERSION='"$(VERSION)"' \
	-I. -I$(GNUEFI_INC) -I$(GNUEFI_INC)/x86_64 -I$(GNUEFI_INC)/protocol
EFI_LDFLAGS := -nostdlib --no-undefined -znocombreloc -z noexecstack -shared -Bsymbolic --gc-sections -T linker.lds
EFI_SECTIONS := .text .reloc .data .dynamic .dynsym .rela .sbat
LIBGCC := $(shell $(CC) -print-libgcc-file-name)

# ---------------------------------------------------------------- host flags
HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wvla \
	-D_FORTIFY_SOURCE=2 -D_GNU_SOURCE -fstack-protector-strong -fPIE \
	-DSYSEXT_STUB_VERSION='"$(VERSION)"' -I.
HOST_LDFLAGS := -pie -Wl,-z,relro,-z,now
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-DSYSEXT_STUB_VERSION='"$(VERSION)"' -I. $(SAN_FLAGS)

EFI_OBJ := $(patsubst %.c,$(B)/efi/%.o,$(STUB_SRC) $(EFILIB_SRC) $(MEASURE_SRC))
FAULT_OBJ := $(patsubst %.c,$(B)/efi-fault/%.o,$(STUB_SRC) $(EFILIB_SRC) $(MEASURE_SRC))
HOST_MEASURE_OBJ := $(patsubst %.c,$(B)/host/%.o,$(MEASURE_SRC))
TEST_MEASURE_OBJ := $(patsubst %.c,$(B)/test/%.o,$(MEASURE_SRC))

.PHONY: all deps demo check bench unit cli-check cli-asan-check tpm-check fuzz fuzz-short fuzz-replay measure-check \
	ovmf-check valgrind-check clean install-initrd install-dracut
.DELETE_ON_ERROR:
# Keep intermediate objects (tests) so `make unit` does not rebuild everything.
.SECONDARY:

all: $(B)/sysext-stub-x64.efi $(B)/sysext-addon-x64.efi.stub $(B)/sysext-stub

# ---------------------------------------------------------------- EFI stub
$(B)/efi/efi-lib/bulk.o $(B)/efi-fault/efi-lib/bulk.o: EFI_OPT = -O2
$(B)/efi/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

$(B)/sysext-stub-x64.so: $(EFI_OBJ) linker.lds
	ld $(EFI_LDFLAGS) $(GNUEFI_LIB)/crt0-efi-x86_64.o $(EFI_OBJ) \
		-L$(GNUEFI_LIB) -lefi -lgnuefi $(LIBGCC) -o $@

# The fault-injection build for the failure-path boot tests (efi-lib/fault.h).
$(B)/efi-fault/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -DSYSEXT_STUB_FAULT=1 -MMD -MP -c $< -o $@

$(B)/fault/sysext-stub-x64.so: $(FAULT_OBJ) linker.lds
	@mkdir -p $(dir $@)
	ld $(EFI_LDFLAGS) $(GNUEFI_LIB)/crt0-efi-x86_64.o $(FAULT_OBJ) \
		-L$(GNUEFI_LIB) -lefi -lgnuefi $(LIBGCC) -o $@

# FileAlignment 4096 makes SizeOfHeaders one page: room for the extra
# section headers `sysext-stub build` (or ukify) appends to the stub.
$(B)/sysext-stub-x64.efi $(B)/fault/sysext-stub-x64.efi: %.efi: %.so $(B)/efi-postlink
	objcopy $(addprefix -j ,$(EFI_SECTIONS)) --target efi-app-x86_64 --subsystem=10 --strip-all \
		--file-alignment 4096 --section-alignment 4096 $< $@.tmp
	$(B)/efi-postlink $@.tmp
	mv $@.tmp $@

# The addon stub (addon-stub/): the PE every addon `sysext-stub build --addon` makes starts from.
$(B)/sysext-addon-x64.so: $(patsubst %.c,$(B)/efi/%.o,$(ADDON_STUB_SRC)) linker.lds
	ld $(EFI_LDFLAGS) $(GNUEFI_LIB)/crt0-efi-x86_64.o $(filter %.o,$^) \
		-L$(GNUEFI_LIB) -lefi -lgnuefi $(LIBGCC) -o $@

$(B)/sysext-addon-x64.efi.stub: $(B)/sysext-addon-x64.so $(B)/efi-postlink
	objcopy $(addprefix -j ,$(EFI_SECTIONS)) --target efi-app-x86_64 --subsystem=10 --strip-all \
		--file-alignment 4096 --section-alignment 4096 $< $@.tmp
	$(B)/efi-postlink $@.tmp
	mv $@.tmp $@

# ---------------------------------------------------------------- host CLI
$(B)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(B)/sysext-stub: $(patsubst %.c,$(B)/host/%.o,$(HOST_SRC)) $(HOST_MEASURE_OBJ)
	$(CC) $(HOST_LDFLAGS) $^ -lcrypto -lpthread -o $@

$(B)/efi-postlink: $(patsubst %.c,$(B)/host/%.o,$(POSTLINK_SRC)) $(HOST_MEASURE_OBJ)
	$(CC) $(HOST_LDFLAGS) $^ -o $@

# The same CLI with ASan/UBSan (make cli-asan-check runs tests/cli against it). _FORTIFY_SOURCE
# would check some accesses in place of ASan, so it is left out here.
$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -D_FORTIFY_SOURCE=2,$(HOST_CFLAGS)) $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(B)/asan/sysext-stub: $(patsubst %.c,$(B)/asan/%.o,$(HOST_SRC) $(MEASURE_SRC))
	$(CC) $(HOST_LDFLAGS) $(SAN_FLAGS) $^ -lcrypto -lpthread -o $@

# `build` finds its default stubs next to the CLI, as it does for build/sysext-stub.
$(B)/asan/sysext-stub-x64.efi: $(B)/sysext-stub-x64.efi
	@mkdir -p $(dir $@)
	cp $< $@
$(B)/asan/sysext-addon-x64.efi.stub: $(B)/sysext-addon-x64.efi.stub
	@mkdir -p $(dir $@)
	cp $< $@

# ---------------------------------------------------------------- tests
$(B)/test/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

$(B)/test/test-%: $(B)/test/tests/test-%.o $(TEST_MEASURE_OBJ)
	$(CC) $(SAN_FLAGS) $^ -lcmocka -lcrypto -o $@

# efi-lib's one pure file (no firmware), tested on the host.
$(B)/test/test-bulk: $(B)/test/efi-lib/bulk.o

# The differential test against systemd's parser also runs the model the fuzz targets check against.
$(B)/test/test-systemd-json: $(B)/test/tests/sd-json-model.o

# The same test without sanitizers, for Debian 13's libsystemd-shared-257, which needs its own glibc and so
# runs in a chroot (tests/cli/test_systemd_json.py).
$(B)/test/test-systemd-json-plain: tests/test-systemd-json.c tests/sd-json-model.c $(MEASURE_SRC)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -I. $^ -lcmocka -o $@

# The stub's glue on the host (tests/efi-host/efi-host.h): stub/ and efi-lib/ sources, unchanged,
# against gnu-efi's headers, linked with a shim for libefi and the firmware instead of gnu-efi.
EFI_HOST_GLUE := stub/listing.c stub/companion-archive.c stub/lazy-archive.c stub/pcr-vars.c stub/signatures.c efi-lib/esp.c efi-lib/initrd-media.c \
	efi-lib/mem.c efi-lib/bulk.c efi-lib/log.c efi-lib/tcg2.c efi-lib/vars.c
EFI_HOST_SHIM := $(sort $(wildcard tests/efi-host/*.c))
EFI_HOST_SRC := $(EFI_HOST_GLUE) $(EFI_HOST_SHIM)
EFI_HOST_CFLAGS := -fshort-wchar -Wno-pointer-sign -DGNU_EFI_USE_MS_ABI -DSYSEXT_STUB_EFI=1 \
	-I$(GNUEFI_INC) -I$(GNUEFI_INC)/x86_64 -I$(GNUEFI_INC)/protocol
EFI_HOST_OBJ := $(patsubst %.c,$(B)/test/%.o,$(EFI_HOST_SRC))
$(EFI_HOST_OBJ) $(B)/test/tests/test-stub-glue.o $(B)/test/tests/fuzz/fuzz-stub-glue.o: TEST_CFLAGS += $(EFI_HOST_CFLAGS)
$(B)/test/test-stub-glue: $(EFI_HOST_OBJ)

# Sources a fuzz target needs besides measure/ (FUZZ_HOST_<name>): host-tools/, and the test oracle
# tests/sd-json-model.c (systemd's JSON rules, written independently of measure/json.c).
FUZZ_HOST_manifest := host-tools/sysext-set.c host-tools/digest.c host-tools/util.c
EVENTLOG_SRC := host-tools/eventlog.c host-tools/eventlog-replay.c host-tools/eventlog-expect.c \
	host-tools/eventlog-report.c host-tools/json-writer.c host-tools/userspace-extends.c host-tools/eventlog-components.c \
	host-tools/pcrlock-components.c
FUZZ_HOST_sigfile := host-tools/pcrsig-file.c host-tools/base64.c host-tools/pem.c host-tools/digest.c host-tools/util.c
FUZZ_HOST_build := host-tools/build.c host-tools/build-join.c host-tools/build-sbat.c host-tools/pe-edit.c \
	host-tools/pem.c host-tools/base64.c host-tools/util.c host-tools/pcrsig-file.c host-tools/digest.c
FUZZ_HOST_eventlog := $(EVENTLOG_SRC) host-tools/digest.c host-tools/util.c
FUZZ_HOST_json := tests/sd-json-model.c
FUZZ_HOST_keyfile := host-tools/key-file.c host-tools/pem.c host-tools/base64.c host-tools/util.c
FUZZ_HOST_pcrsig := tests/sd-json-model.c
FUZZ_HOST_prediction := host-tools/prediction.c host-tools/eventlog-replay.c host-tools/eventlog-expect.c \
	host-tools/json-writer.c host-tools/digest.c host-tools/util.c
FUZZ_HOST_gpt := host-tools/gpt.c host-tools/crc32.c host-tools/dps.c host-tools/dissect.c host-tools/image-policy.c \
	host-tools/byte-source.c host-tools/problem.c
FUZZ_HOST_verity := host-tools/verity.c host-tools/byte-source.c host-tools/problem.c
FUZZ_HOST_imagefs := host-tools/image-fs.c host-tools/erofs.c host-tools/squashfs.c host-tools/inflate.c \
	host-tools/crc32.c host-tools/byte-source.c host-tools/problem.c
FUZZ_HOST_veritysig := host-tools/verity-sig.c host-tools/os-release.c host-tools/base64.c host-tools/digest.c \
	host-tools/util.c host-tools/problem.c
FUZZ_HOST_stub-glue := $(EFI_HOST_SRC)
# Compiler flags a fuzz target needs (FUZZ_CFLAGS_<name>). gnu-efi's EFI_FIELD_OFFSET (behind
# SIZE_OF_EFI_FILE_INFO) is the offsetof-through-NULL idiom, which clang's UBSan null and object-size
# checks report at run time (gcc folds it): they are off for this target; ASan still catches a real
# NULL dereference or overflow, and the gcc replay build keeps both checks.
FUZZ_CFLAGS_stub-glue := $(EFI_HOST_CFLAGS) -fno-sanitize=null,object-size
# A fuzz target's own scaffolding (FUZZ_NOCOV_<name>, among its FUZZ_HOST_<name>) is built without
# coverage feedback, so libFuzzer steers by the code under test (and runs faster); only tests/efi-host
# (the fake firmware and glue-check's model, for fuzz-stub-glue) is such scaffolding today.
FUZZ_NOCOV_stub-glue := $(EFI_HOST_SHIM)
fuzz_nocov_obj = $(patsubst tests/efi-host/%.c,$(B)/fuzz/efi-host/%.o,$(FUZZ_NOCOV_$(1)))
FUZZ_CLANG := $(CLANG) -std=gnu11 -O1 -g -I. -D_GNU_SOURCE -fsanitize=address,undefined -fno-sanitize-recover=all
# (-lz: fuzz-imagefs compares our inflate with zlib's)
FUZZ_LIBS := -lcrypto -lpthread -lz
# (A function, because a '%' written in a pattern rule's prerequisites is the stem.)
fuzz_host_obj = $(patsubst %.c,$(B)/test/%.o,$(FUZZ_HOST_$(1)))

# host-tools/ need _GNU_SOURCE (asprintf, getline) in the sanitizer build too.
$(B)/test/host-tools/%.o: host-tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -D_GNU_SOURCE -MMD -MP -c $< -o $@

# The fuzz targets also build with gcc + ASan/UBSan and a corpus-replay main,
# so `make check` runs every seed through them without clang.
.SECONDEXPANSION:
$(B)/test/fuzz-replay-%: $(B)/test/tests/fuzz/fuzz-%.o $(B)/test/tests/fuzz/replay.o $(TEST_MEASURE_OBJ) \
		$$(call fuzz_host_obj,$$*)
	$(CC) $(SAN_FLAGS) $^ $(FUZZ_LIBS) -o $@

$(B)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(MEASURE_SRC) $$(FUZZ_HOST_$$*) $$(call fuzz_nocov_obj,$$*)
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) -fsanitize=fuzzer $(FUZZ_CFLAGS_$*) $< $(MEASURE_SRC) \
		$(filter-out $(FUZZ_NOCOV_$*),$(FUZZ_HOST_$*)) $(call fuzz_nocov_obj,$*) $(FUZZ_LIBS) -o $@

$(B)/fuzz/efi-host/%.o: tests/efi-host/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) $(FUZZ_CFLAGS_stub-glue) -MMD -MP -c $< -o $@

# The TPM side of systemd's signed PCR policies (tests/tpm/), on tpm2-tss ESAPI.
$(B)/test/tpm-policy-tool: $(patsubst %.c,$(B)/test/%.o,$(TPM_TOOL_SRC)) $(B)/test/measure/json.o \
		$(B)/test/measure/hex.o
	$(CC) $(SAN_FLAGS) $^ -ltss2-esys -ltss2-tctildr -ltss2-mu -ltss2-rc -lcrypto -o $@

# LD_PRELOAD shim that lets systemd 252's cryptsetup token plugin reach swtpm (see its comment).
$(B)/test/libtpm2-device-from-env.so: tests/tpm/shim/tpm2-device-from-env.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared $< -o $@

# LD_PRELOAD shim that finds key material left in freed or leaked heap blocks (tests/cli/test_sign.py).
$(B)/test/libsecret-scan.so: tests/cli/shim/secret-scan.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared $< -o $@
cli-check: $(B)/test/libsecret-scan.so $(B)/test/test-systemd-json $(B)/test/test-systemd-json-plain

# measure/selection.c driven from tests/cli/test_selection_model.py (its independent model).
$(B)/test/selection-driver: $(B)/test/tests/drivers/selection-driver.o $(TEST_MEASURE_OBJ)
	$(CC) $(SAN_FLAGS) $^ -o $@
cli-check cli-asan-check: $(B)/test/selection-driver

unit: $(addprefix $(B)/test/test-,$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t"; $$t; done

fuzz-replay: $(addprefix $(B)/test/fuzz-replay-,$(FUZZERS))
	@set -e; for f in $(FUZZERS); do $(B)/test/fuzz-replay-$$f tests/fuzz/corpus/$$f; done

# Each target for FUZZ_SECONDS, new inputs kept in build/fuzz/corpus-<name>,
# a crash saved as build/fuzz/crash-<name>-* (add it to tests/fuzz/corpus/<name>
# with the fix: fuzz-replay then keeps it fixed).
fuzz: $(addprefix $(B)/fuzz/fuzz-,$(FUZZERS))
	@set -e; for f in $(FUZZERS); do \
		echo "== fuzz-$$f ($(FUZZ_SECONDS) s)"; \
		mkdir -p $(B)/fuzz/corpus-$$f; \
		$(B)/fuzz/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(B)/fuzz/crash-$$f- \
			$(B)/fuzz/corpus-$$f tests/fuzz/corpus/$$f; \
	done

# The short pass `make check` runs (clang is installed by scripts/install-deps.sh).
fuzz-short:
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SHORT_SECONDS)

# measure/ must stay pure: no firmware, no libc (see scripts/check-measure.sh);
# and the release stub must not carry the fault-injection hooks.
measure-check: $(patsubst %.c,$(B)/efi/%.o,$(MEASURE_SRC)) $(B)/sysext-stub-x64.efi
	scripts/check-measure.sh $(filter %.o,$^)
	@# The classic objcopy recipe (Debian 12, systemd 252's docs) puts .osrel at 0x20000: the stub must end
	@# below it. --gc-sections and hidden visibility keep unused code out (EFI_CFLAGS, EFI_LDFLAGS).
	@size=$$(objdump -p $(B)/sysext-stub-x64.efi | awk '/^SizeOfImage/ { print $$2 }'); \
	if [ $$((0x$$size)) -gt $$((0x20000)) ]; then \
		echo "measure-check: the stub's SizeOfImage 0x$$size is above 0x20000 (objcopy UKIs put .osrel there)" >&2; \
		exit 1; fi
	@if grep -q 'fault-' $(B)/sysext-stub-x64.efi; then \
		echo "measure-check: fault-injection markers in the release stub" >&2; exit 1; fi

cli-check: all
	$(PYTHON) -m pytest -v -p no:cacheprovider tests/cli

# tests/cli against the ASan/UBSan CLI. Sanitizer reports get their own exit codes (never the CLI's
# 0, 1 or 2); a failed allocation returns NULL, as in libc, so the CLI's own handling is tested.
CLI_SAN_ENV := ASAN_OPTIONS=exitcode=86:detect_leaks=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87 LSAN_OPTIONS=exitcode=88
cli-asan-check: all $(B)/asan/sysext-stub $(B)/asan/sysext-stub-x64.efi $(B)/asan/sysext-addon-x64.efi.stub \
		$(B)/test/libsecret-scan.so $(B)/test/test-systemd-json $(B)/test/test-systemd-json-plain
	SYSEXT_STUB_CLI=$(CURDIR)/$(B)/asan/sysext-stub $(CLI_SAN_ENV) $(PYTHON) -m pytest -v -p no:cacheprovider tests/cli

# The plain (unsanitized) CLI under valgrind: no memory errors, no definite or indirect leaks.
valgrind-check: all
	scripts/valgrind-cli.sh $(B)/sysext-stub $(B)/sysext-stub-x64.efi

# Signed PCR policies end to end against swtpm, and interop with systemd-cryptenroll/cryptsetup.
tpm-check: all $(B)/test/tpm-policy-tool $(B)/test/libtpm2-device-from-env.so
	$(PYTHON) -m pytest -v -p no:cacheprovider tests/tpm

ovmf-check: all $(B)/fault/sysext-stub-x64.efi
	$(PYTHON) -m pytest -v -p no:cacheprovider ovmf-tests

deps:
ifneq ($(SYSEXT_STUB_SKIP_DEPS),1)
	scripts/install-deps.sh
endif

# DEMO=systemd: the initrd is Debian 13's systemd (sysexts merged, a LUKS volume unlocked).
demo: deps
	$(MAKE) all
	$(PYTHON) ovmf-tests/demo.py $(if $(filter systemd,$(DEMO)),--systemd)

check: deps
	$(MAKE) all
	$(MAKE) measure-check
	$(MAKE) unit
	$(MAKE) fuzz-replay
	$(MAKE) fuzz-short
	$(MAKE) cli-check
	$(MAKE) cli-asan-check
	$(MAKE) valgrind-check
	$(MAKE) tpm-check
	$(MAKE) ovmf-check

# Benchmarks (never timed tests): figures as ratios against a peer run alongside
# (scripts/bench.sh: boots against systemd-stub, prediction against openssl).
bench: deps
	$(MAKE) all
	PYTHON=$(PYTHON) scripts/bench.sh

# The admit unit and the CLI for an initrd tree (what a packager, mkosi-initrd or dracut adds):
#   make install-initrd DESTDIR=DIR [VERITY_CERTS="a.crt b.crt"]
# The binary needs libc and libcrypto only, which a systemd initrd has (systemd-sysext's verity code uses them).
install-initrd: $(B)/sysext-stub
	@test -n "$(DESTDIR)" || { echo "install-initrd: give DESTDIR=DIR" >&2; exit 2; }
	install -D -m 0755 $(B)/sysext-stub $(DESTDIR)/usr/bin/sysext-stub
	install -D -m 0644 initrd/sysext-stub-admit.service $(DESTDIR)/usr/lib/systemd/system/sysext-stub-admit.service
	install -d $(DESTDIR)/usr/lib/systemd/system/initrd.target.wants
	ln -sfn ../sysext-stub-admit.service $(DESTDIR)/usr/lib/systemd/system/initrd.target.wants/sysext-stub-admit.service
	@# systemd reads only *.crt there: each certificate is installed under that suffix
	for c in $(VERITY_CERTS); do n=$$(basename "$$c"); install -D -m 0644 "$$c" "$(DESTDIR)/etc/verity.d/$${n%.*}.crt"; done

# The dracut module (initrd/dracut/90sysext-stub) with the unit beside it, into DESTDIR's dracut modules.d.
install-dracut: install-initrd
	install -D -m 0755 initrd/dracut/90sysext-stub/module-setup.sh $(DESTDIR)/usr/lib/dracut/modules.d/90sysext-stub/module-setup.sh
	install -D -m 0644 initrd/sysext-stub-admit.service $(DESTDIR)/usr/lib/dracut/modules.d/90sysext-stub/sysext-stub-admit.service

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
