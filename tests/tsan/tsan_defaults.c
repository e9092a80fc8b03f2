/* Linked into every test of the ThreadSanitizer tree (mk/tsan.mk) only.
 *
 * Options: a report fails the test even when it is run by hand (exit code
 * 66 at the first report), and a lock-order report shows both stacks.
 *
 * The one suppression: device DMA.  physmem__read/physmem__write are the
 * DMA engine of every emulated device (hw/vtd/vtd_dma.c, hw/e1000 through
 * the bus-master gate): a memcpy into or out of guest/host RAM while the
 * driver on the other side polls a descriptor's status byte (DD) with a
 * volatile load and an acquire fence (drivers/e1000/e1000_drv.c,
 * DRV_ACQUIRE), or fills descriptors that a doorbell then hands over.
 * Memory shared by a device and a CPU is outside the C memory model on
 * real hardware too: ordering comes from the descriptor protocol (the
 * device writes the status byte last within its write-back; the driver
 * reads it, then fences, then the rest), which TSan cannot see (it does
 * not model volatile or fences, and the doorbell may be rung through a
 * second mapping of the register memfd).  Only races with one side inside
 * the DMA copy are suppressed; every other race in the same code still
 * fails the test. */

const char *__tsan_default_options(void);
const char *__tsan_default_suppressions(void);

const char *__tsan_default_options(void)
{
    return "halt_on_error=1:exitcode=66:second_deadlock_stack=1:report_signal_unsafe=0";
}

const char *__tsan_default_suppressions(void)
{
    return "race:physmem__read\n"
           "race:physmem__write\n";
}
