# The guest kernel: freestanding x86-64, linked at PLATFORM_RAM_BASE for the
# process backend (port guest/hal/proc).  Sources: every guest/**/*.c except
# other HAL ports, the portable driver cores, the proc port's assembly.
# guest/net and drivers/ are also compiled into the host library (Makefile).
# Built (same flags, no sanitizer) into both trees so tests in either find
# it next to themselves: build*/guest/iovirt-guest.elf.
# Variables are GK_* (other fragments own GUEST_*).
GK_PORT   := proc
GK_CC     ?= gcc
GK_C_SRCS := $(filter-out guest/hal/%,$(shell find guest -name '*.c' 2>/dev/null)) \
             $(wildcard guest/hal/$(GK_PORT)/*.c) $(wildcard drivers/*/*.c)
GK_S_SRCS := $(wildcard guest/hal/$(GK_PORT)/*.S)
GK_LDS    := guest/hal/$(GK_PORT)/link.ld
gk_objs    = $(patsubst %.c,$(1)/guest/obj/%.o,$(GK_C_SRCS)) $(patsubst %.S,$(1)/guest/obj/%.o,$(GK_S_SRCS))

# -nostdinc: only the compiler's freestanding headers and guest/include.
# -fno-tree-loop-distribute-patterns: memset/memcpy loops must not become
# calls to themselves.  -mgeneral-regs-only: interrupt stubs save GPRs only.
GK_CFLAGS := -std=c11 $(WARN) -O2 -g -ffreestanding -nostdinc \
             -isystem $(shell $(GK_CC) -print-file-name=include) -Iguest/include -I. \
             -mno-red-zone -fno-pie -fno-stack-protector -mgeneral-regs-only \
             -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
             -fcf-protection=none -mcmodel=small -MMD -MP
GK_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(GK_LDS) -Wl,--build-id=none \
              -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

GK_ELF     := $(BUILD)/guest/iovirt-guest.elf
GK_SAN_ELF := $(SAN_BUILD)/guest/iovirt-guest.elf
EXTRA_ARTIFACTS += $(GK_ELF)
build-san: $(GK_SAN_ELF)

.PHONY: guest
guest: $(GK_ELF)

# One rule per tree: a pattern rule with two targets would mean "one run
# makes both".
$(BUILD)/guest/obj/%.o: %.c
	@mkdir -p $(@D)
	$(GK_CC) $(GK_CFLAGS) -c $< -o $@

$(SAN_BUILD)/guest/obj/%.o: %.c
	@mkdir -p $(@D)
	$(GK_CC) $(GK_CFLAGS) -c $< -o $@

$(BUILD)/guest/obj/%.o: %.S
	@mkdir -p $(@D)
	$(GK_CC) $(GK_CFLAGS) -c $< -o $@

$(SAN_BUILD)/guest/obj/%.o: %.S
	@mkdir -p $(@D)
	$(GK_CC) $(GK_CFLAGS) -c $< -o $@

$(GK_ELF): $(call gk_objs,$(BUILD)) $(GK_LDS)
	$(GK_CC) $(GK_LDFLAGS) -o $@ $(call gk_objs,$(BUILD))

$(GK_SAN_ELF): $(call gk_objs,$(SAN_BUILD)) $(GK_LDS)
	$(GK_CC) $(GK_LDFLAGS) -o $@ $(call gk_objs,$(SAN_BUILD))
