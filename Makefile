# lazymmu: one Makefile for both architectures and the host tests.
#
#   make setup               install what a fresh Debian 12 lacks (run as root)
#   make [ARCH=x86_64|arm64] build build/<arch>/kernel.elf (+ lazymmu.iso / Image)
#   make run   [ARCH=...]    boot the self-test suite, then the lazymmu> console (docs/console.md)
#   make debug [ARCH=...]    boot halted with a gdb stub; gdb -x build/<arch>/gdbinit
#   make test                host unit tests + both arches, every configuration
#   make mutants             the mutation check: does every listed breakage fail a test?
#   make test-model          the spin model of the lazy MMU state machine (tests/model)
#   make bench               lazy vs eager vs floor on both arches -> docs/bench.md
#   make platform            full flush vs page-by-page crossover -> docs/platform.md
#   make lint                cppcheck + clang-format check
#   make compile_commands.json  for clangd/editors, from the real commands of both arches
#   SMP=N                    run/debug: boot N CPUs (default 1); test: the SMP configurations
#                            boot N instead of 4; bench: the SMP tables use N CPUs

ARCH ?= x86_64
ifeq ($(filter $(ARCH),x86_64 arm64),)
$(error ARCH must be x86_64 or arm64, not '$(ARCH)')
endif

# SELFTEST=1 builds the runner's self-test kernels (a failing, a hanging and a faulting
# test) into a separate directory, so they never mix with the real suite.
ifeq ($(SELFTEST),1)
BUILD := build/$(ARCH)-selftest
else
BUILD := build/$(ARCH)
endif

ifeq ($(ARCH),arm64)
CROSS_COMPILE ?= aarch64-linux-gnu-
else
CROSS_COMPILE ?=
endif

CC := $(CROSS_COMPILE)gcc
OBJCOPY := $(CROSS_COMPILE)objcopy
HOSTCC ?= gcc
PYTHON ?= python3

WARNINGS := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	    -Wpointer-arith -Wvla
CFLAGS := -std=gnu11 -O2 -g $(WARNINGS) -ffreestanding -fno-stack-protector -fno-common \
	  -fno-omit-frame-pointer -fno-strict-aliasing -fno-tree-loop-distribute-patterns \
	  -Iinclude -Iarch/$(ARCH)/include -Iuser/include -MMD -MP
ASFLAGS := -D__ASSEMBLY__ -Iinclude -Iarch/$(ARCH)/include -MMD -MP -g
LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	   -Wl,-z,noexecstack -Wl,-T,linker/$(ARCH).ld

ifeq ($(ARCH),x86_64)
# No red zone: interrupts push onto the interrupted stack. No SSE: the kernel never saves
# vector registers. -fpie: the image runs at 0xffff8000_00200000 (asm/layout.h), outside
# both ranges where absolute 32-bit addresses work (-mcmodel=small: the low 2 GiB; kernel:
# the top 2 GiB); position-independent code reaches every symbol rip-relative instead (the
# static link still resolves everything: no dynamic relocations; asm/hidden.h keeps the
# GOT out too).
CFLAGS += -m64 -march=x86-64 -mno-red-zone -mgeneral-regs-only -mcmodel=small -fpie \
	  -include arch/x86_64/include/asm/hidden.h
BOOT_SRCS := boot/multiboot2.c boot/pvh.c boot/acpi.c
else
# Outline atomics would call libgcc helpers that probe HWCAPs we don't have; the kernel
# must also run on a plain ARMv8.0 cortex-a72, so no -march beyond armv8-a.
CFLAGS += -march=armv8-a -mgeneral-regs-only -mno-outline-atomics -mcmodel=small -fno-pie \
	  -fno-pic
BOOT_SRCS := boot/fdt.c
endif

ifeq ($(SELFTEST),1)
CFLAGS += -DLAZYMMU_SELFTEST
SELFTEST_SRCS := $(wildcard tests/selftest/*.c)
endif

SRCS := $(sort $(wildcard arch/$(ARCH)/*.c arch/$(ARCH)/*.S)) $(BOOT_SRCS) boot/boot_info.c \
	$(sort $(wildcard kernel/*.c mm/*.c lib/*.c)) \
	$(sort $(wildcard tests/kernel/*.c arch/$(ARCH)/tests/*.c)) $(SELFTEST_SRCS)
OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(SRCS))

# What the -MMD dependency files can't see. A header found by __has_include() is listed only
# if it existed at the last compile, so one that appears later changes nothing; and a deleted
# source leaves the kernel with a stale object linked in. So the list of every header on the
# include path, and the list of objects, are each kept in a file that is rewritten only when
# the list changes: every object depends on the first, the link on the second.
# $(call list-file,FILE,WORDS): FILE, (re)written now if its content is not WORDS.
list-file = $(shell mkdir -p $(dir $(1)) && \
	if [ "$$(cat $(1) 2>/dev/null)" != "$(strip $(2))" ]; then \
		printf '%s\n' "$(strip $(2))" > $(1); fi)$(1)
HEADERS := $(sort $(wildcard include/*/*.h arch/$(ARCH)/include/asm/*.h))
HEADER_LIST := $(call list-file,$(BUILD)/headers.list,$(HEADERS))
OBJ_LIST := $(call list-file,$(BUILD)/objs.list,$(OBJS))

KERNEL := $(BUILD)/kernel.elf
ifeq ($(ARCH),x86_64)
IMAGES := $(KERNEL) $(BUILD)/lazymmu.iso
else
IMAGES := $(KERNEL) $(BUILD)/Image
endif

.PHONY: all setup run debug test test-host test-runner test-model mutants bench platform lint \
	format clean help compile_commands.json
all: $(IMAGES)

# ---------------------------------------------------------------- user programs
# Every user/tests/*.c (a test: pass = exit status 0) and every user/bin/*.c (a demo) is one
# static program, built for this arch with the kernel's compiler and embedded in the kernel
# image by the generated $(BUILD)/user/programs.S (docs/user-programs.md).
#
# The same WARNINGS as the kernel. Freestanding: no host headers' functions, no libc, no
# builtins (our memset must not compile into a call to memset: see user/lib/libc.c), no
# stack protector (there is no __stack_chk_guard to read), no unwind tables (C without
# exceptions never unwinds). Static and not position-independent: the image is linked at
# 0x400000 and loaded there, so there is nothing to relocate.
#
# -mgeneral-regs-only on both arches: the kernel saves and restores only the general
# registers when it switches between processes, never the FP/SIMD ones (xmm, v0-v31).
# gcc uses vector registers on its own for plain C (inline memcpy/memset of a struct,
# copying a 16-byte value, a variadic function's register save area), so without this
# flag two processes would silently corrupt each other's values. And the kernel leaves the
# units off for user mode (x86 CR4.OSFXSR clear, arm64 CPACR_EL1.FPEN trapping EL0), so the
# first such instruction would kill the process instead of computing anything. No
# -mno-red-zone on x86: the red zone below rsp is safe in ring 3, because the CPU switches
# to the kernel stack (TSS.rsp0) before it pushes anything for an interrupt or exception.
USER_BUILD := $(BUILD)/user
USER_CFLAGS := -std=gnu11 -O2 -g $(WARNINGS) -ffreestanding -fno-builtin -fno-stack-protector \
	       -fno-pie -fno-pic -fno-common -fno-tree-loop-distribute-patterns \
	       -fno-asynchronous-unwind-tables -fno-unwind-tables -mgeneral-regs-only \
	       -Iuser/include -MMD -MP
ifeq ($(ARCH),x86_64)
USER_CFLAGS += -m64 -march=x86-64
else
# As the kernel: no libgcc helpers for atomics (they would read HWCAPs from an auxv that we
# do not provide), and nothing beyond ARMv8.0 (the cortex-a72 configuration).
USER_CFLAGS += -march=armv8-a -mno-outline-atomics
endif
# Three page-aligned PT_LOADs (user/user.ld) with file offsets congruent to their addresses
# modulo 4 KiB (max-page-size), so that the loader can enforce W^X segment by segment; no
# build-id note, no executable stack, and any section user.ld does not place is an error
# rather than a surprise in some segment.
USER_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
		-Wl,-z,noexecstack -Wl,-T,user/user.ld -Wl,--orphan-handling=error

USER_LIB_SRCS := user/lib/$(ARCH)/crt0.S user/lib/libc.c user/lib/test.c
USER_LIB_OBJS := $(patsubst %,$(USER_BUILD)/obj/%.o,$(USER_LIB_SRCS))
USER_TEST_SRCS := $(sort $(wildcard user/tests/*.c))
USER_BIN_SRCS := $(sort $(wildcard user/bin/*.c))
# build/<arch>/user/tests/NAME.elf, build/<arch>/user/bin/NAME.elf: tests first.
USER_ELFS := $(patsubst user/%.c,$(USER_BUILD)/%.elf,$(USER_TEST_SRCS) $(USER_BIN_SRCS))
USER_OBJS := $(USER_LIB_OBJS) $(patsubst %,$(USER_BUILD)/obj/%.o,$(USER_TEST_SRCS) $(USER_BIN_SRCS))
USER_NAMES := $(basename $(notdir $(USER_ELFS)))
ifneq ($(words $(USER_NAMES)),$(words $(sort $(USER_NAMES))))
$(error a user program's name must be unique across user/tests and user/bin: $(USER_NAMES))
endif
# Programs added or removed: programs.S is rewritten (the list-file trick, as for OBJ_LIST).
USER_LIST := $(call list-file,$(USER_BUILD)/programs.list,$(USER_ELFS))
USER_PROGRAMS_OBJ := $(USER_BUILD)/programs.S.o

# Static pattern rules: every user file is an explicit target, so make never deletes one as
# an "intermediate" file of a chain (.c -> .o -> .elf -> .embed).
USER_EMBEDS := $(USER_ELFS:.elf=.embed)

$(filter %.c.o,$(USER_OBJS)): $(USER_BUILD)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c $< -o $@

$(filter %.S.o,$(USER_OBJS)): $(USER_BUILD)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# libgcc for what the compiler may call on its own (nothing today, on either arch).
$(USER_ELFS): $(USER_BUILD)/%.elf: $(USER_BUILD)/obj/user/%.c.o $(USER_LIB_OBJS) user/user.ld
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(USER_LDFLAGS) $(USER_LIB_OBJS) $< -lgcc -o $@

# The kernel embeds each program without its debug information, which only gdb and
# addr2line want: they read build/<arch>/user/*/NAME.elf.
$(USER_EMBEDS): %.embed: %.elf
	$(OBJCOPY) --strip-debug $< $@

$(USER_BUILD)/programs.S: $(USER_LIST) user/programs.sh
	sh user/programs.sh $(USER_EMBEDS) >$@.tmp && mv $@.tmp $@

# The assembler reads the embedded files (.incbin), which -MMD cannot see: list them.
$(USER_PROGRAMS_OBJ): $(USER_BUILD)/programs.S $(USER_EMBEDS)
	$(CC) $(CFLAGS) $(ASFLAGS) -c $< -o $@

-include $(USER_OBJS:.o=.d)

$(BUILD)/obj/%.c.o: %.c $(HEADER_LIST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.S.o: %.S $(HEADER_LIST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASFLAGS) -c $< -o $@

$(KERNEL): $(OBJS) $(OBJ_LIST) $(USER_PROGRAMS_OBJ) linker/$(ARCH).ld
	$(CC) $(CFLAGS) $(LDFLAGS) $(OBJS) $(USER_PROGRAMS_OBJ) -lgcc -o $@

$(BUILD)/Image: $(KERNEL)
	$(OBJCOPY) -O binary $< $@

# GRUB's ISO: the menu must not wait (timeout=0), or an unattended boot hangs forever.
$(BUILD)/lazymmu.iso: $(KERNEL) boot/grub.cfg
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub
	cp $(KERNEL) $(BUILD)/iso/boot/kernel.elf
	cp boot/grub.cfg $(BUILD)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso 2>$(BUILD)/grub-mkrescue.log || \
		{ cat $(BUILD)/grub-mkrescue.log; exit 1; }

-include $(OBJS:.o=.d)

# ---------------------------------------------------------------- host unit tests
# mm/ and lib/ compiled natively against a recording mock arch (tests/host/mock/asm), with
# sanitizers. lib/string.c stays out: the host has its own libc.
HOST_BUILD := build/host
HOST_CFLAGS := -std=gnu11 -O1 -g $(WARNINGS) -fsanitize=address,undefined \
	       -fno-sanitize-recover=all -fno-omit-frame-pointer -Itests/host/mock -Iinclude \
	       -Iuser/include -MMD -MP -DLAZYMMU_HOST
HOST_SRCS := $(sort $(wildcard tests/host/*.c tests/host/mock/*.c)) \
	     lib/printf.c lib/glob.c lib/kunit.c boot/boot_info.c boot/acpi.c boot/fdt.c \
	     $(sort $(filter-out mm/kernel_map.c,$(wildcard mm/*.c))) \
	     arch/arm64/tlbi_range.c arch/arm64/asid.c $(sort $(wildcard arch/arm64/tests/host/*.c)) \
	     arch/x86_64/pcid.c $(sort $(wildcard arch/x86_64/tests/host/*.c))
HOST_OBJS := $(patsubst %,$(HOST_BUILD)/obj/%.o,$(HOST_SRCS))
HOST_HEADERS := $(sort $(wildcard include/*/*.h tests/host/mock/asm/*.h arch/arm64/include/asm/*.h) \
		  arch/x86_64/include/asm/pcid.h)
HOST_HEADER_LIST := $(call list-file,$(HOST_BUILD)/headers.list,$(HOST_HEADERS))
HOST_OBJ_LIST := $(call list-file,$(HOST_BUILD)/objs.list,$(HOST_OBJS))
# The arm64 range-TLBI encoder is pure C: its files find arm64 headers, searched after the mock.
$(HOST_BUILD)/obj/arch/arm64/%: HOST_CFLAGS += -Iarch/arm64/include
# So is the x86-64 PCID slot bookkeeping: only <asm/pcid.h> from x86's headers.
$(HOST_BUILD)/obj/arch/x86_64/%: HOST_CFLAGS += -Iarch/x86_64/include
# So is the device-tree reader (and its test): they need <asm/boot.h> for the PSCI conduit.
$(HOST_BUILD)/obj/boot/fdt.c.o $(HOST_BUILD)/obj/tests/host/fdt_test.c.o: \
	HOST_CFLAGS += -Iarch/arm64/include

$(HOST_BUILD)/obj/%.c.o: %.c $(HOST_HEADER_LIST)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -c $< -o $@

$(HOST_BUILD)/unit_tests: $(HOST_OBJS) $(HOST_OBJ_LIST)
	$(HOSTCC) $(HOST_CFLAGS) $(HOST_OBJS) -o $@

-include $(HOST_OBJS:.o=.d)

# ---------------------------------------------------------------- running
setup:
	@bash scripts/setup

# PVH on x86-64: the console needs "console" on the kernel command line, and the GRUB ISO's
# is fixed (make test boots the ISO too). `make run </dev/null` ends by itself.
RUN_CONFIG_x86_64 := x86_64-pvh
RUN_CONFIG_arm64 := arm64-max

# SMP=N: N CPUs (QEMU -smp N with multi-threaded TCG). Unset: each configuration's own.
SMP_ARG := $(if $(SMP),--smp $(SMP))

run: all
	$(PYTHON) tests/run --config $(RUN_CONFIG_$(ARCH)) --console $(SMP_ARG)

debug: all
	@SMP=$(SMP) bash scripts/debug $(ARCH) $(BUILD) console

# Everything: host tests, the spin model, both arches in every configuration, and the
# runner's own checks. The model runs once, inside tests/run --all (its 'model'
# configuration), so its variants count in the final "N passed, N failed" line.
# The builds use every core (BUILD_JOBS); the boots are the runner's business.
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 1)

test:
	$(MAKE) -j$(BUILD_JOBS) ARCH=x86_64
	$(MAKE) -j$(BUILD_JOBS) ARCH=arm64
	$(MAKE) -j$(BUILD_JOBS) ARCH=x86_64 SELFTEST=1
	$(MAKE) -j$(BUILD_JOBS) ARCH=arm64 SELFTEST=1
	$(MAKE) -j$(BUILD_JOBS) $(HOST_BUILD)/unit_tests
	$(PYTHON) tests/run --all $(SMP_ARG)

# Each mutant of tests/mutants.txt in a scratch copy of the tree (docs/testing.md).
mutants:
	$(PYTHON) tests/mutants

# The model alone, with a PASS/FAIL line per variant and the racy variants' counterexamples.
test-model:
	$(PYTHON) tests/model/check

bench:
	$(MAKE) ARCH=x86_64
	$(MAKE) ARCH=arm64
	$(PYTHON) tests/bench $(SMP_ARG)

platform:
	$(MAKE) ARCH=x86_64
	$(MAKE) ARCH=arm64
	$(PYTHON) tests/platform

lint:
	@bash scripts/lint

# Always regenerated (phony): it must follow the Makefile's flags, not file dates.
compile_commands.json:
	$(PYTHON) scripts/compile_commands.py >$@.tmp && mv $@.tmp $@

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

help:
	@sed -n '3,15p' Makefile
