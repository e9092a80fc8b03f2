# The CLI in the sanitizer tree too: tests/integration/test_attack_escape and
# test_cli_failure run <test dir>/../iovirt, so build-san/tests/ finds an
# ASan/UBSan build of the tool (its failure paths then also run sanitized).
SAN_TOOL_OBJS := $(call objs,$(SAN_BUILD),$(TOOL_SRCS))

build-san: $(SAN_BUILD)/iovirt

$(SAN_BUILD)/iovirt: $(SAN_TOOL_OBJS) $(SAN_BUILD)/libiovirt.a
	$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -o $@ $(SAN_TOOL_OBJS) $(SAN_BUILD)/libiovirt.a $(LDLIBS)
