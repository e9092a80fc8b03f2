# guest/net is compiled into the host library by the main Makefile (LIB_DIRS).
# This fragment also compiles it the way the guest kernel does (freestanding,
# no red zone) and links it relocatably, failing the build if it needs any
# symbol beyond the four the compiler may always call (memcpy/memset/
# memmove/memcmp, which every freestanding kernel provides).
GUEST_NET_SRCS := $(wildcard guest/net/*.c)
GUEST_NET_FS_FLAGS := -std=c11 $(WARN) -I. -O2 -ffreestanding -nostdlib \
    -mno-red-zone -fno-stack-protector -fno-pic -mcmodel=kernel -MMD -MP
GUEST_NET_FS_OBJS := $(patsubst %.c,$(BUILD)/freestanding/%.o,$(GUEST_NET_SRCS))

$(BUILD)/freestanding/guest/net/%.o: guest/net/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_NET_FS_FLAGS) -c $< -o $@

$(BUILD)/freestanding/guest-net.o: $(GUEST_NET_FS_OBJS)
	$(LD) -r -o $@ $^
	@bad=$$(nm -u $@ | awk '{print $$2}' | grep -vxE 'memcpy|memset|memmove|memcmp' || true); \
	if [ -n "$$bad" ]; then echo "guest/net needs non-freestanding symbols: $$bad"; rm -f $@; exit 1; fi

EXTRA_ARTIFACTS += $(BUILD)/freestanding/guest-net.o

# The Linux-interop test needs nothing extra; it creates its own namespace.
