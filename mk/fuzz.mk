# libFuzzer targets: tests/fuzz/fuzz_<name>.c, seed corpus in
# tests/fuzz/corpus/<name>/.  Built with clang against the library sources
# compiled with the same instrumentation.
FUZZ_CC    ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -O1 -g
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst %.c,$(FUZZ_BUILD)/%,$(notdir $(FUZZ_SRCS)))
FUZZ_LIB_OBJS := $(call objs,$(FUZZ_BUILD),$(LIB_SRCS))

.PHONY: fuzz-build fuzz
fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_FLAGS) -c $< -o $@

$(FUZZ_BUILD)/libiovirt.a: $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

vpath fuzz_%.c tests/fuzz
$(FUZZ_BUILD)/fuzz_%: fuzz_%.c $(FUZZ_BUILD)/libiovirt.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libiovirt.a $(LDLIBS)

# A longer, documented run: make fuzz FUZZ_SECONDS=600
fuzz: fuzz-build
	@scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Header dependencies of the fuzz objects, so a changed struct rebuilds them.
-include $(shell find $(FUZZ_BUILD) -type f -name '*.d' 2>/dev/null)
