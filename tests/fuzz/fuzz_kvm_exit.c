/* libFuzzer: the KVM backend's exit mapping (vcpu/kvm/kvm_exit.h) on
 * hostile run pages.  The input is a run-page size, then records; each is
 * one KVM_RUN return as the backend's loop sees it: the pending read of
 * the last exit completed with the caller's answer, a new exit record
 * written into the page (any exit_reason, any io/mmio/internal fields:
 * sizes 0/3/9/huge, count > 1, data_offset anywhere, string I/O, any
 * ndata), the page possibly rewritten again between the exit and the
 * completion, and hostile register state (RIP) for a fault's report.
 *
 * Invariants:
 *  - nothing outside the run page is read or written (the page is an
 *    exact-size heap block: ASan);
 *  - the exit is MMIO (len 1/2/4/8, write data within len), PIO (len
 *    1/2/4, data within len, an `in`'s data area inside the page past
 *    struct kvm_run), HLT, INTR, or FAULT with a `why`, whose stop message
 *    is one non-empty printable line; nothing else is pending after a
 *    non-I/O exit;
 *  - completion writes exactly the answer's low len bytes at the checked
 *    place, and no other byte of the page, whatever the page says then. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "hv/vm.h"
#include "vcpu/kvm/kvm_exit.h"

#define PAGE_MAX (3u * 4096)
#define RECORDS_MAX 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define CHECK(c) do { if (!(c)) abort(); } while (0)

static uint32_t pick_reason(struct in *in)
{
    static const uint32_t r[] = {
        KVM_EXIT_IO, KVM_EXIT_MMIO, KVM_EXIT_HLT, KVM_EXIT_INTR, KVM_EXIT_SHUTDOWN, KVM_EXIT_FAIL_ENTRY,
        KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_UNKNOWN, KVM_EXIT_EXCEPTION, KVM_EXIT_DEBUG, KVM_EXIT_IRQ_WINDOW_OPEN,
        KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_X86_RDMSR, KVM_EXIT_X86_WRMSR,
    };
    uint8_t sel = (uint8_t)take(in, 1);
    if (sel >= 0xf0)
        return (uint32_t)take(in, 4);
    return r[sel % (sizeof r / sizeof r[0])];
}

/* Overwrite the I/O and MMIO fields with values at the edges. */
static void edge_fields(struct in *in, struct kvm_run *run, size_t run_size)
{
    static const uint8_t sizes[] = {0, 1, 2, 3, 4, 8, 9, 255};
    static const uint32_t counts[] = {0, 1, 2, 0xffffffffu};
    uint8_t sel = (uint8_t)take(in, 1);
    if (!(sel & 1))
        return;
    run->io.size = sizes[(sel >> 1) & 7];
    run->io.count = counts[(sel >> 4) & 3];
    run->mmio.len = sizes[(sel >> 1) & 7] | (sel & 0x80 ? 0x10000u : 0);
    const uint64_t offs[] = {sizeof(struct kvm_run), sizeof(struct kvm_run) - 1, run_size - 4, run_size - 1,
                             run_size, 0, 0xffffffffu, run_size - run->io.size};
    run->io.data_offset = offs[take(in, 1) & 7];
}

static void fill(struct in *in, uint8_t *page, size_t run_size)
{
    uint8_t pattern = (uint8_t)take(in, 1);
    memset(page, pattern, run_size);
    struct kvm_run *run = (struct kvm_run *)page;
    run->exit_reason = pick_reason(in);
    /* the exit union: raw bytes from the input */
    size_t u = offsetof(struct kvm_run, io), ulen = 256;
    for (size_t i = 0; i < ulen && in->n; i++)
        page[u + i] = (uint8_t)take(in, 1);
    edge_fields(in, run, run_size);
}

static void check_line(const struct vcpu_exit *e)
{
    char msg[HV_VM_STOP_MESSAGE_MAX];
    CHECK(hv_vm__stop_message(e, msg, sizeof msg) == 0);
    size_t n = strnlen(msg, sizeof msg);
    CHECK(n > 0 && n < sizeof msg);
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)msg[i] >= 0x20 && msg[i] != 0x7f);
}

static void check_exit(const struct kvm_run *run, size_t run_size, const struct vcpu_exit *e,
                       const struct kvm_exit_state *s)
{
    switch (e->reason) {
    case VCPU_EXIT_MMIO:
        CHECK(e->mmio.len == 1 || e->mmio.len == 2 || e->mmio.len == 4 || e->mmio.len == 8);
        CHECK(e->mmio.addr == run->mmio.phys_addr);
        CHECK(s->io_pending);
        if (e->mmio.is_write)
            CHECK(s->pend == KVM_PEND_NONE && (e->mmio.len == 8 || e->mmio.data >> (8 * e->mmio.len) == 0));
        else
            CHECK(s->pend == KVM_PEND_MMIO_READ && e->mmio.data == 0);
        return;
    case VCPU_EXIT_PIO:
        CHECK(e->pio.len == 1 || e->pio.len == 2 || e->pio.len == 4);
        CHECK(s->io_pending);
        if (e->pio.is_write) {
            CHECK(s->pend == KVM_PEND_NONE && (e->pio.len == 4 || e->pio.data >> (8 * e->pio.len) == 0));
        } else {
            CHECK(s->pend == KVM_PEND_PIO_IN && s->pio_len == e->pio.len);
            CHECK(s->pio_offset >= sizeof(struct kvm_run) && s->pio_offset + s->pio_len <= run_size);
        }
        return;
    case VCPU_EXIT_HLT:
    case VCPU_EXIT_INTR:
        CHECK(s->pend == KVM_PEND_NONE && !s->io_pending);
        return;
    case VCPU_EXIT_FAULT:
        CHECK(e->fault.why && e->fault.why[0]);
        CHECK(s->pend == KVM_PEND_NONE && !s->io_pending);
        check_line(e);
        return;
    default:
        CHECK(0);  /* NONE, IRQ_WINDOW, SHUTDOWN or out of range: never from KVM */
    }
}

/* Complete with the caller's answer, on a page the input may have
 * rewritten since the exit; only the checked bytes may change. */
static void complete(struct in *in, uint8_t *page, uint8_t *before, size_t run_size, struct vcpu_exit *e,
                     struct kvm_exit_state *s)
{
    uint64_t answer = take(in, 8);
    if (e->reason == VCPU_EXIT_MMIO && !e->mmio.is_write)
        e->mmio.data = answer;
    if (e->reason == VCPU_EXIT_PIO && !e->pio.is_write)
        e->pio.data = (uint32_t)answer;
    if (take(in, 1) & 1)
        edge_fields(in, (struct kvm_run *)page, run_size);
    memcpy(before, page, run_size);
    struct kvm_exit_state was = *s;
    kvm__exit_complete((struct kvm_run *)page, e, s);
    CHECK(s->pend == KVM_PEND_NONE);
    size_t lo = 0, len = 0;
    if (was.pend == KVM_PEND_MMIO_READ)
        lo = offsetof(struct kvm_run, mmio.data), len = 8;
    else if (was.pend == KVM_PEND_PIO_IN)
        lo = was.pio_offset, len = was.pio_len;
    for (size_t i = 0; i < run_size; i++)
        if (i < lo || i >= lo + len)
            CHECK(page[i] == before[i]);
    for (size_t i = 0; i < len; i++)
        CHECK(page[lo + i] == (uint8_t)(answer >> (8 * i)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    size_t run_size = sizeof(struct kvm_run) + take(&in, 2) % (PAGE_MAX - sizeof(struct kvm_run) + 1);
    uint8_t *page = malloc(run_size), *before = malloc(run_size);
    if (!page || !before) {
        free(page);
        free(before);
        return 0;
    }
    memset(page, 0, run_size);
    struct kvm_exit_state s = {0};
    struct vcpu_exit e = {0};
    for (int rec = 0; rec < RECORDS_MAX && in.n && !s.dead; rec++) {
        if (rec)
            complete(&in, page, before, run_size, &e, &s);
        s.io_pending = false;  /* KVM_RUN finished it */
        fill(&in, page, run_size);
        kvm__exit_map((const struct kvm_run *)page, run_size, &e, &s);
        if (e.reason == VCPU_EXIT_FAULT)
            e.fault.rip = take(&in, 8);  /* the guest's registers: anything */
        check_exit((const struct kvm_run *)page, run_size, &e, &s);
    }
    free(page);
    free(before);
    return 0;
}
