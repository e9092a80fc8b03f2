# iovirt top-level build.  See README.md for the two commands a user needs:
#   make bench   set up, build, run the main job
#   make test    set up, build (normal + sanitizer + TSan), run every test
#
# Sources are discovered by folder so that adding a file never needs an edit
# here.  Special builds (freestanding guest, trap stub, fuzzers) live in
# mk/*.mk fragments, one per layer that needs one.

CC        ?= gcc
BUILD     ?= build
SAN_BUILD ?= build-san
TSAN_BUILD ?= build-tsan
# Seconds each fuzz target runs in `make test` (CI); longer runs: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 20

WARN     := -Wall -Wextra -Werror
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -I. -g -MMD -MP
CFLAGS   ?= -O2
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDLIBS   := -lpthread -lseccomp -ljansson -lm

# Host-side library: every layer but the guest kernel and tools/ (the CLI).
# guest/net and drivers/ are freestanding C that is also compiled here, so
# host unit tests and the host driver can use them.
LIB_DIRS := lib hw hw/pci hw/vtd hw/e1000 hw/wire hw/intc hw/timer host host/vtd host/e1000 host/vfio vcpu vcpu/proc vcpu/kvm hv hv/virtio drivers/e1000 drivers/virtio guest/net testbed bench
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
TOOL_SRCS := $(wildcard tools/*.c)
# tests/testvm: tests that need the L1 test machine (/dev/kvm, VT-d, vfio).
# Built into build/tests and build-san/tests like the others; scripts/
# run-tests.sh runs them inside scripts/testvm, never on this machine
# (scripts/run-testvm-suite, docs/testvm.md).
TESTVM_SRCS := $(wildcard tests/testvm/test_*.c)
TEST_SRCS := $(wildcard tests/unit/*/test_*.c tests/integration/test_*.c) $(TESTVM_SRCS)
# Every test binary lands in <tree>/tests/<name>: two sources with one name
# would silently build only one of them.
TEST_DUPS := $(strip $(foreach n,$(sort $(notdir $(TEST_SRCS))),$(if $(word 2,$(filter %/$(n),$(TEST_SRCS))),$(n))))
$(if $(TEST_DUPS),$(error test sources with the same name (one binary each): $(TEST_DUPS)))
BENCH_SRCS := $(wildcard bench/programs/bench_*.c)

objs = $(patsubst %.c,$(1)/obj/%.o,$(2))

LIB_OBJS   := $(call objs,$(BUILD),$(LIB_SRCS))
TOOL_OBJS  := $(call objs,$(BUILD),$(TOOL_SRCS))
TEST_BINS  := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(TEST_SRCS)))
BENCH_BINS := $(patsubst %.c,$(BUILD)/bench/%,$(notdir $(BENCH_SRCS)))

SAN_LIB_OBJS  := $(call objs,$(SAN_BUILD),$(LIB_SRCS))
SAN_TEST_BINS := $(patsubst %.c,$(SAN_BUILD)/tests/%,$(notdir $(TEST_SRCS)))

# Extra artifacts that fragments add (guest kernel, stub, ...) that tests need.
EXTRA_ARTIFACTS :=

.PHONY: all setup build build-san test test-only bench bench-only bench-all bench-maerts bench-rr fuzz clean
all: build

-include $(wildcard mk/*.mk)

build: $(BUILD)/iovirt $(TEST_BINS) $(BENCH_BINS) $(EXTRA_ARTIFACTS)
build-san: $(SAN_TEST_BINS)

setup:
	@scripts/setup.sh

# ---- normal build -------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libiovirt.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/iovirt: $(TOOL_OBJS) $(BUILD)/libiovirt.a
	$(CC) $(CFLAGS) -o $@ $(TOOL_OBJS) $(BUILD)/libiovirt.a $(LDLIBS)

vpath test_%.c $(sort $(dir $(TEST_SRCS)))
vpath bench_%.c $(sort $(dir $(BENCH_SRCS)))

$(BUILD)/tests/%: %.c $(BUILD)/libiovirt.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libiovirt.a -lcmocka $(LDLIBS)

$(BUILD)/bench/%: %.c $(BUILD)/libiovirt.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libiovirt.a $(LDLIBS)

# ---- sanitizer build ----------------------------------------------------
$(SAN_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@

$(SAN_BUILD)/libiovirt.a: $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(SAN_BUILD)/tests/%: %.c $(SAN_BUILD)/libiovirt.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -o $@ $< $(SAN_BUILD)/libiovirt.a -lcmocka $(LDLIBS)

# ---- the two user commands ----------------------------------------------
test: setup
	@$(MAKE) --no-print-directory -j$$(nproc) build build-san build-tsan fuzz-build
	@$(MAKE) --no-print-directory test-only

test-only:
	@scripts/run-tests.sh $(BUILD) $(SAN_BUILD) $(FUZZ_SECONDS) $(TSAN_BUILD)

bench: setup
	@$(MAKE) --no-print-directory -j$$(nproc) build
	@$(MAKE) --no-print-directory bench-only

# The main job: the mode comparison (docs/bench.md), figures in build/.
# bench_vcpu first measures the CPU per exit, hlt and injection that the
# table's overhead lines multiply by (its "exit-costs:" line, kept in
# build/bench-vcpu.txt).  Then the CPU pass: assigned against native in 24
# paired rounds at 1 KiB and 64 KiB, enough for a 95% interval of the CPU
# ratio within +-5% on a quiet machine (6 rounds gave +-9-19%); the sweep
# has 5 runs so that both fit in 5 minutes (docs/bench.md).
BENCH_CPU_ARGS := --modes native,assigned --sizes 1K,64K --runs 24
bench-only:
	-$(BUILD)/bench/bench_vcpu 1000 > $(BUILD)/bench-vcpu.txt
	@costs=$$(sed -n 's/^exit-costs: //p' $(BUILD)/bench-vcpu.txt); \
	[ -n "$$costs" ] || echo "bench_vcpu gave no exit costs: the table has no overhead lines" >&2; \
	echo "$(BUILD)/iovirt bench --runs 5 $${costs:+--exit-costs $$costs} --json $(BUILD)/bench.json --svg $(BUILD)/bench.svg"; \
	$(BUILD)/iovirt bench --runs 5 $${costs:+--exit-costs "$$costs"} --json $(BUILD)/bench.json --svg $(BUILD)/bench.svg && \
	echo "$(BUILD)/iovirt bench $(BENCH_CPU_ARGS) $${costs:+--exit-costs $$costs} --json $(BUILD)/bench-cpu.json" && \
	$(BUILD)/iovirt bench $(BENCH_CPU_ARGS) $${costs:+--exit-costs "$$costs"} --json $(BUILD)/bench-cpu.json

# The other two tests of the comparison (docs/bench.md), apart from `make
# bench` so that stays under 5 minutes: maerts (Linux sends to the guest,
# ~3 min) and rr (request/response, ~40 s).
bench-maerts: build
	$(BUILD)/iovirt bench --test maerts --json $(BUILD)/bench-maerts.json --svg $(BUILD)/bench-maerts.svg

bench-rr: build
	$(BUILD)/iovirt bench --test rr --json $(BUILD)/bench-rr.json --svg $(BUILD)/bench-rr.svg

# Assigned against native where nothing but the machine limits them
# (--line-rate unlimited), in 24 paired rounds of 1 s per size: single runs
# follow the machine's CPU-to-CPU copy speed (build/bench/bench_xcpu), so
# the per-round ratio (ratio_to_native.throughput_paired) is the figure
# (docs/results.md "Unlimited: why single runs spread"; ~3 min).
bench-unlimited: build
	$(BUILD)/iovirt bench --modes native,assigned --sizes 1K,16K,64K --line-rate unlimited --runs 24 --seconds 1 --json $(BUILD)/bench-unlimited.json

# Every component benchmark program (VT-d, vCPU, NIC pacing, ...).
bench-all: build
	@set -e; for b in $(BENCH_BINS); do echo "== $$b"; $$b; done

bench-%: build
	$(BUILD)/bench/bench_$*

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD)

-include $(shell find $(BUILD) $(SAN_BUILD) -type f -name '*.d' 2>/dev/null)
