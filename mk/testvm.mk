# The tests that need the L1 test machine (tests/testvm/test_*.c, compiled
# into both trees by the Makefile's TEST_SRCS): `make test-vm` builds and
# runs them alone, in one boot of scripts/testvm (scripts/run-testvm-suite).
# `make test` runs the same phase from scripts/run-tests.sh, its results in
# the overall summary.  docs/testvm.md.
.PHONY: test-vm
test-vm: setup
	@$(MAKE) --no-print-directory -j$$(nproc) build build-san
	@scripts/run-testvm-suite $(BUILD) $(SAN_BUILD)

# Their guests: tests/testvm/guests/*.S, PVH images (32-bit code, .code32,
# in an x86-64 ELF with the Xen entry note, like Linux's PVH entry), next to
# the other test guests: BUILD/guests/NAME.elf and SAN_BUILD/guests/NAME.elf.
TESTVM_GUEST_NAMES := $(notdir $(basename $(wildcard tests/testvm/guests/*.S)))
TESTVM_GUESTS = $(patsubst %,$(1)/guests/%.elf,$(TESTVM_GUEST_NAMES))
EXTRA_ARTIFACTS += $(call TESTVM_GUESTS,$(BUILD))
build-san: $(call TESTVM_GUESTS,$(SAN_BUILD))

TESTVM_GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-Ttext-segment=0x100000 \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,-e,pvh_start

$(BUILD)/guests/%.elf: tests/testvm/guests/%.S
	@mkdir -p $(@D)
	$(CC) $(TESTVM_GUEST_LDFLAGS) -o $@ $<

$(SAN_BUILD)/guests/%.elf: tests/testvm/guests/%.S
	@mkdir -p $(@D)
	$(CC) $(TESTVM_GUEST_LDFLAGS) -o $@ $<

# test_kvm_run, test_kvm_confine and test_linux_boot run the iovirt binary
# of the normal tree (the sanitizer tree has none), as test_integ_cli does.
KVM_TOOL_TESTS := $(foreach t,test_kvm_run test_kvm_confine test_linux_boot,$(BUILD)/tests/$(t) $(SAN_BUILD)/tests/$(t))
$(KVM_TOOL_TESTS): BASE_CFLAGS += -DINTEG_IOVIRT='"$(INTEG_IOVIRT)"'
$(KVM_TOOL_TESTS): $(BUILD)/iovirt

# test_linux_boot boots the stock bzImage scripts/testvm keeps in its cache
# (IOVIRT_TESTVM_CACHE when make runs, else build/testvm): CACHE/linux-image-*/vmlinuz.
TESTVM_CACHE_DIR := $(abspath $(or $(IOVIRT_TESTVM_CACHE),$(BUILD)/testvm))
$(BUILD)/tests/test_linux_boot $(SAN_BUILD)/tests/test_linux_boot: BASE_CFLAGS += -DTESTVM_CACHE='"$(TESTVM_CACHE_DIR)"'

# test_linux_nic_*: Debian's stock kernel with its own NIC drivers on
# iovirt's NICs through scripts/linux-guest, which runs build/iovirt
# (tests/testvm/linux_nic.h).  scripts/run-testvm-suite runs them from the
# first tree only: the sanitizer tree's binary would boot the very same VMM.
LINUX_NIC_TESTS := $(foreach t,emulated virtio model vfio,$(BUILD)/tests/test_linux_nic_$(t) $(SAN_BUILD)/tests/test_linux_nic_$(t))
$(LINUX_NIC_TESTS): tests/testvm/linux_nic.h $(BUILD)/iovirt
