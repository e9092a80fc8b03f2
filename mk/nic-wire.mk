# drivers/e1000 must also build as freestanding guest-kernel code: compile it
# that way on every build (no libc headers beyond the compiler's, no red
# zone) and fail if the object needs any symbol from outside.
E1000_DRV_FREESTANDING := $(BUILD)/freestanding/drivers/e1000/e1000_drv.o
EXTRA_ARTIFACTS += $(E1000_DRV_FREESTANDING)

$(E1000_DRV_FREESTANDING): drivers/e1000/e1000_drv.c drivers/e1000/e1000_drv.h drivers/e1000/e1000_regs.h
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) -I. -O2 -ffreestanding -nostdlib -mno-red-zone -fno-builtin \
		-fno-stack-protector -c $< -o $@
	@if nm -u $@ | grep -q .; then echo "$@ needs external symbols:"; nm -u $@; rm -f $@; exit 1; fi
