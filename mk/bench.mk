# bench: the CLI test runs the real build/iovirt binary, so both test
# builds need it first (order-only: it is not linked in).
$(BUILD)/tests/test_bench_cli $(SAN_BUILD)/tests/test_bench_cli: | $(BUILD)/iovirt
