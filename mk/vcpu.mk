# vcpu: the guest-process stub and the tiny test guests.  Both are
# freestanding static binaries (no libc), built with the same flags in the
# normal and the sanitizer tree so tests in either find them next to
# themselves (build*/tests/../iovirt-stub, build*/tests/../guests/).

STUB_CFLAGS := -std=c11 $(WARN) -I. -O2 -g -ffreestanding -fno-stack-protector \
	-fpie -mgeneral-regs-only -fno-asynchronous-unwind-tables -fcf-protection=none
STUB_LDFLAGS := -nostdlib -static -no-pie -Wl,-Ttext-segment=0x7e0000000000 \
	-Wl,--build-id=none -Wl,-z,noexecstack

GUEST_CFLAGS := -std=c11 $(WARN) -I. -O2 -g -ffreestanding -fno-stack-protector \
	-fno-pie -mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables \
	-fcf-protection=none
# test_mmio_reg38: a register of the mmio test device as a link-time symbol,
# so tests/guests/mmio.c can reach it RIP-relative.
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-Ttext-segment=0x100000 \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 \
	-Wl,--defsym=test_mmio_reg38=0x10000038

GUEST_SRCS := $(wildcard tests/guests/*.c)
GUEST_NAMES := $(notdir $(GUEST_SRCS:.c=))
VCPU_ARTIFACTS = $(1)/iovirt-stub $(patsubst %,$(1)/guests/%.elf,$(GUEST_NAMES))

EXTRA_ARTIFACTS += $(call VCPU_ARTIFACTS,$(BUILD))
build-san: $(call VCPU_ARTIFACTS,$(SAN_BUILD))

# The guest reads the stub's pages, and the page that holds the end of a
# loaded segment maps the file bytes after it too (.comment, debug info:
# compiler version, possibly build paths).  The stub runs stripped; the
# unstripped copy (iovirt-stub.debug, same loaded bytes) is for gdb's
# symbol-file.
$(BUILD)/iovirt-stub $(SAN_BUILD)/iovirt-stub: vcpu/proc/stub/iovirt_stub.c vcpu/proc/proc_mailbox.h vcpu/proc/proc_abi.h
	@mkdir -p $(@D)
	$(CC) $(STUB_CFLAGS) $(STUB_LDFLAGS) -o $@.debug $<
	objcopy --strip-all --remove-section=.comment $@.debug $@

# One pattern rule per tree: a pattern rule with two targets would mean "one
# run makes both", leaving the other tree's guests unbuilt.
GUEST_DEPS := tests/guests/guest.h tests/guests/sandbox.h guest/prog/compat32.h vcpu/proc/proc_abi.h \
	vcpu/proc/proc_mailbox.h
$(BUILD)/guests/%.elf: tests/guests/%.c $(GUEST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $<

$(SAN_BUILD)/guests/%.elf: tests/guests/%.c $(GUEST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $<
