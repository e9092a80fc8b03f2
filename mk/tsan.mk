# ThreadSanitizer tree: the tests that run device-model threads (NIC
# hardware thread, HPET, virtio backend, host rx, bridge, sink) beside the
# vCPU thread or each other, built with clang -fsanitize=thread.  A third
# build of those tests only (not every test), so `make test` stays well
# under CI's 30 minutes; scripts/run-tests.sh runs them with
# TSAN_OPTIONS=halt_on_error=1, so any report fails the test.
#
# clang, not gcc: gcc's TSan rejects __atomic_thread_fence (-Werror=tsan),
# which the VT-d seqlock and the NIC wake-up use.  The freestanding
# artifacts the tests look for next to themselves (<tree>/iovirt-stub,
# <tree>/guests/*.elf, <tree>/guest/iovirt-guest.elf) are never
# instrumented: they are copied from the normal tree.
#
# Add a test here when it starts a thread; the list lives nowhere else.
# Not here: the native machine (test_integ_native, and test_integ_modes,
# whose native cases run it): it enters the kernel's interrupt handlers
# from a signal handler, and TSan defers signal handlers to its own safe
# points, so the machine cannot run under it.  Every VM mode is covered by
# test_integ_exits and test_integ_two_vms.
TSAN_TESTS := \
	test_e1000_threads test_vtd_threads test_e1000_nic test_nic_pace test_hpet test_intc \
	test_virtio_net test_vm_devices test_e1000_emul \
	test_bridge \
	test_proc_irq \
	test_guest_net_e1000 test_guest_net_virtio \
	test_integ_exits test_integ_two_vms test_integ_virtio_offload \
	test_attack_dma test_attack_dev

TSAN_CC    ?= clang
TSAN_FLAGS := -fsanitize=thread -O1 -g -fno-omit-frame-pointer

TSAN_LIB_OBJS  := $(call objs,$(TSAN_BUILD),$(LIB_SRCS))
TSAN_TEST_BINS := $(addprefix $(TSAN_BUILD)/tests/,$(TSAN_TESTS))
TSAN_ARTIFACTS := $(TSAN_BUILD)/iovirt-stub $(patsubst $(BUILD)/%,$(TSAN_BUILD)/%,$(GK_ELF) $(GK_NATIVE_ELF)) \
	$(patsubst tests/guests/%.c,$(TSAN_BUILD)/guests/%.elf,$(wildcard tests/guests/*.c))

.PHONY: build-tsan
build-tsan: $(TSAN_TEST_BINS) $(TSAN_ARTIFACTS)

$(TSAN_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(TSAN_CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -c $< -o $@

$(TSAN_BUILD)/libiovirt.a: $(TSAN_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# tests/tsan/tsan_defaults.c: halt on the first report; the DMA suppression.
$(TSAN_BUILD)/tests/%: %.c tests/tsan/tsan_defaults.c $(TSAN_BUILD)/libiovirt.a
	@mkdir -p $(@D)
	$(TSAN_CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -o $@ $< tests/tsan/tsan_defaults.c \
		$(TSAN_BUILD)/libiovirt.a -lcmocka $(LDLIBS)

# Uninstrumented freestanding binaries: the normal tree's, byte for byte.
$(TSAN_BUILD)/iovirt-stub: $(BUILD)/iovirt-stub
	@mkdir -p $(@D)
	cp $< $@
$(TSAN_BUILD)/guest/%.elf: $(BUILD)/guest/%.elf
	@mkdir -p $(@D)
	cp $< $@
$(TSAN_BUILD)/guests/%.elf: $(BUILD)/guests/%.elf
	@mkdir -p $(@D)
	cp $< $@

-include $(shell find $(TSAN_BUILD) -type f -name '*.d' 2>/dev/null)
