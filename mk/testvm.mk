# The tests that need the L1 test machine (tests/testvm/test_*.c, compiled
# into both trees by the Makefile's TEST_SRCS): `make test-vm` builds and
# runs them alone, in one boot of scripts/testvm (scripts/run-testvm-suite).
# `make test` runs the same phase from scripts/run-tests.sh, its results in
# the overall summary.  docs/testvm.md.
.PHONY: test-vm
test-vm: setup
	@$(MAKE) --no-print-directory -j$$(nproc) build build-san
	@scripts/run-testvm-suite $(BUILD) $(SAN_BUILD)
