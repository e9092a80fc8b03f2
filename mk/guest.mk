# The guest kernel: freestanding x86-64, linked at PLATFORM_RAM_BASE, one
# ELF per HAL port from the same kernel/net/driver/program sources:
#   proc    build*/guest/iovirt-guest.elf         ring 3 under the process
#                                                  backend (guest/hal/proc)
#   native  build*/guest/iovirt-guest-native.elf  the machine's own OS, no
#                                                  hypervisor (guest/hal/native)
#   bare    build*/guest/iovirt-guest-bare.elf    ring 0 on an x86-64 CPU, PVH
#                                                  boot (guest/hal/bare)
# Sources: every guest/**/*.c except the HAL ports, the portable driver
# cores, and the port's own C and assembly.  guest/net and drivers/ are also
# compiled into the host library (Makefile).  Built (same flags, no
# sanitizer) into both trees so tests in either find them next to
# themselves.  Objects live per port (build*/guest/obj-PORT/): the port
# decides how hal.h's accessors compile.
# Variables are GK_* (other fragments own GUEST_*).
GK_PORTS  := proc native bare
GK_CC     ?= gcc
GK_GUEST_C := $(filter-out guest/hal/%,$(shell find guest -name '*.c' 2>/dev/null))
gk_c_srcs  = $(GK_GUEST_C) $(wildcard guest/hal/$(1)/*.c) $(wildcard drivers/*/*.c)
gk_s_srcs  = $(wildcard guest/hal/$(1)/*.S)
gk_lds     = guest/hal/$(1)/link.ld
# $(1) tree, $(2) port
gk_objs    = $(patsubst %.c,$(1)/guest/obj-$(2)/%.o,$(call gk_c_srcs,$(2))) \
             $(patsubst %.S,$(1)/guest/obj-$(2)/%.o,$(call gk_s_srcs,$(2)))
gk_elf     = $(1)/guest/iovirt-guest$(if $(filter proc,$(2)),,-$(2)).elf

# -nostdinc: only the compiler's freestanding headers and guest/include.
# -fno-tree-loop-distribute-patterns: memset/memcpy loops must not become
# calls to themselves.  -mgeneral-regs-only: interrupt stubs save GPRs only.
GK_CFLAGS := -std=c11 $(WARN) -O2 -g -ffreestanding -nostdinc \
             -isystem $(shell $(GK_CC) -print-file-name=include) -Iguest/include -I. \
             -mno-red-zone -fno-pie -fno-stack-protector -mgeneral-regs-only \
             -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
             -fcf-protection=none -mcmodel=small -MMD -MP
GK_CFLAGS_proc   :=
GK_CFLAGS_native := -DIOVIRT_HAL_NATIVE
GK_CFLAGS_bare   :=
gk_ldflags = -nostdlib -static -no-pie -Wl,-T,$(call gk_lds,$(1)) -Wl,--build-id=none \
             -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

GK_ELF     := $(call gk_elf,$(BUILD),proc)
GK_SAN_ELF := $(call gk_elf,$(SAN_BUILD),proc)
GK_NATIVE_ELF     := $(call gk_elf,$(BUILD),native)
GK_NATIVE_SAN_ELF := $(call gk_elf,$(SAN_BUILD),native)
GK_BARE_ELF       := $(call gk_elf,$(BUILD),bare)
GK_BARE_SAN_ELF   := $(call gk_elf,$(SAN_BUILD),bare)
EXTRA_ARTIFACTS += $(GK_ELF) $(GK_NATIVE_ELF) $(GK_BARE_ELF)
build-san: $(GK_SAN_ELF) $(GK_NATIVE_SAN_ELF) $(GK_BARE_SAN_ELF)

.PHONY: guest
guest: $(GK_ELF) $(GK_NATIVE_ELF) $(GK_BARE_ELF)

# One set of rules per (tree, port): a pattern rule with two targets would
# mean "one run makes both".
define GK_RULES
$(1)/guest/obj-$(2)/%.o: %.c
	@mkdir -p $$(@D)
	$$(GK_CC) $$(GK_CFLAGS) $$(GK_CFLAGS_$(2)) -c $$< -o $$@

$(1)/guest/obj-$(2)/%.o: %.S
	@mkdir -p $$(@D)
	$$(GK_CC) $$(GK_CFLAGS) $$(GK_CFLAGS_$(2)) -c $$< -o $$@

$(call gk_elf,$(1),$(2)): $(call gk_objs,$(1),$(2)) $(call gk_lds,$(2))
	$$(GK_CC) $(call gk_ldflags,$(2)) -o $$@ $(call gk_objs,$(1),$(2))

endef
$(foreach t,$(BUILD) $(SAN_BUILD),$(foreach p,$(GK_PORTS),$(eval $(call GK_RULES,$(t),$(p)))))
