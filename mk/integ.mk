# Integration tests (tests/integration): the CLI test runs the iovirt binary
# of the normal tree (the sanitizer tree has none), so both builds of it get
# its absolute path and depend on it.
INTEG_IOVIRT := $(abspath $(BUILD)/iovirt)
$(BUILD)/tests/test_integ_cli $(SAN_BUILD)/tests/test_integ_cli: BASE_CFLAGS += -DINTEG_IOVIRT='"$(INTEG_IOVIRT)"'
$(BUILD)/tests/test_integ_cli $(SAN_BUILD)/tests/test_integ_cli: $(BUILD)/iovirt
# The iperf3 test runs `iovirt run --peer iperf3` the same way.
$(BUILD)/tests/test_integ_iperf3 $(SAN_BUILD)/tests/test_integ_iperf3: BASE_CFLAGS += -DINTEG_IOVIRT='"$(INTEG_IOVIRT)"'
$(BUILD)/tests/test_integ_iperf3 $(SAN_BUILD)/tests/test_integ_iperf3: $(BUILD)/iovirt
