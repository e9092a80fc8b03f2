# Tests that need the test machine (scripts/testvm: /dev/kvm, vfio), in
# tests/testvm/test_*.c.  They are compiled like every other test, with the
# same flags, but into BUILD/tests-vm/ (and SAN_BUILD/tests-vm/), which
# scripts/run-tests.sh's host loop (BUILD/tests/test_*) does not run: they
# do not skip themselves, and this host has no /dev/kvm.  Run them inside
# the machine, e.g.
#   scripts/testvm --timeout 300 -- build/tests-vm/test_kvm_vcpu
# Their guests (tests/testvm/guests/*.S: PVH images, 32-bit entry) go next
# to the other test guests, BUILD/guests/NAME.elf.

TESTVM_SRCS := $(wildcard tests/testvm/test_*.c)
TESTVM_BINS := $(patsubst tests/testvm/%.c,$(BUILD)/tests-vm/%,$(TESTVM_SRCS))
SAN_TESTVM_BINS := $(patsubst tests/testvm/%.c,$(SAN_BUILD)/tests-vm/%,$(TESTVM_SRCS))
TESTVM_GUEST_NAMES := $(notdir $(basename $(wildcard tests/testvm/guests/*.S)))
TESTVM_GUESTS = $(patsubst %,$(1)/guests/%.elf,$(TESTVM_GUEST_NAMES))

EXTRA_ARTIFACTS += $(TESTVM_BINS) $(call TESTVM_GUESTS,$(BUILD))
build-san: $(SAN_TESTVM_BINS) $(call TESTVM_GUESTS,$(SAN_BUILD))

# PVH guests: 32-bit code (.code32) in an x86-64 ELF, like Linux's PVH entry.
TESTVM_GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-Ttext-segment=0x100000 \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,-e,pvh_start

$(BUILD)/guests/%.elf: tests/testvm/guests/%.S
	@mkdir -p $(@D)
	$(CC) $(TESTVM_GUEST_LDFLAGS) -o $@ $<

$(SAN_BUILD)/guests/%.elf: tests/testvm/guests/%.S
	@mkdir -p $(@D)
	$(CC) $(TESTVM_GUEST_LDFLAGS) -o $@ $<

$(BUILD)/tests-vm/%: tests/testvm/%.c $(BUILD)/libiovirt.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libiovirt.a -lcmocka $(LDLIBS)

$(SAN_BUILD)/tests-vm/%: tests/testvm/%.c $(SAN_BUILD)/libiovirt.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -o $@ $< $(SAN_BUILD)/libiovirt.a -lcmocka $(LDLIBS)

# test_kvm_run runs the iovirt binary of the normal tree (the sanitizer tree
# has none), as test_integ_cli does.
$(BUILD)/tests-vm/test_kvm_run $(SAN_BUILD)/tests-vm/test_kvm_run: BASE_CFLAGS += -DINTEG_IOVIRT='"$(INTEG_IOVIRT)"'
$(BUILD)/tests-vm/test_kvm_run $(SAN_BUILD)/tests-vm/test_kvm_run: $(BUILD)/iovirt
