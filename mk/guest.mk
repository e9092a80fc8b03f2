# The guest kernel: freestanding x86-64, linked at PROC_RAM_BASE for the
# process backend (port guest/hal/proc).  Sources: every guest/**/*.c except
# other HAL ports, the portable driver cores, the proc port's assembly.
# guest/net and drivers/ are also compiled into the host library (Makefile).
GUEST_BUILD  := $(BUILD)/guest
GUEST_ELF    := $(GUEST_BUILD)/iovirt-guest.elf
GUEST_PORT   := proc
GUEST_CC     ?= gcc

GUEST_C_SRCS := $(filter-out guest/hal/%,$(shell find guest -name '*.c' 2>/dev/null)) \
                $(wildcard guest/hal/$(GUEST_PORT)/*.c) $(wildcard drivers/*/*.c)
GUEST_S_SRCS := $(wildcard guest/hal/$(GUEST_PORT)/*.S)
GUEST_OBJS   := $(patsubst %.c,$(GUEST_BUILD)/obj/%.o,$(GUEST_C_SRCS)) \
                $(patsubst %.S,$(GUEST_BUILD)/obj/%.o,$(GUEST_S_SRCS))
GUEST_LDS    := guest/hal/$(GUEST_PORT)/link.ld

# -nostdinc: only the compiler's freestanding headers and guest/include.
# -fno-tree-loop-distribute-patterns: memset/memcpy loops must not become
# calls to themselves.  -mgeneral-regs-only: interrupt stubs save GPRs only.
GUEST_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -g -ffreestanding -nostdinc \
                -isystem $(shell $(GUEST_CC) -print-file-name=include) -Iguest/include -I. \
                -mno-red-zone -fno-pie -fno-stack-protector -mgeneral-regs-only \
                -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
                -fcf-protection=none -mcmodel=small -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(GUEST_LDS) -Wl,--build-id=none \
                 -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

EXTRA_ARTIFACTS += $(GUEST_ELF)

.PHONY: guest
guest: $(GUEST_ELF)

$(GUEST_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_BUILD)/obj/%.o: %.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_ELF): $(GUEST_OBJS) $(GUEST_LDS)
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS)
