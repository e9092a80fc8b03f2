# x86 decoder: the differential test links Zydis (libzydis-dev 4.x).
$(BUILD)/tests/test_x86_decode_zydis $(SAN_BUILD)/tests/test_x86_decode_zydis: LDLIBS += -lZydis
