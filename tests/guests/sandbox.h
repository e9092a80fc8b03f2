/* What the sandbox test guest (sandbox.c) and its test
 * (tests/unit/vcpu/test_proc_sandbox.c) agree on.  Freestanding. */
#ifndef IOVIRT_TESTS_GUESTS_SANDBOX_H
#define IOVIRT_TESTS_GUESTS_SANDBOX_H

#define SANDBOX_PORT_REPORT 0x510        /* == TEST_PORT_REPORT (guest.h) */
/* Reported just before the attempt: the guest reached it.  Any exit after
 * this one other than the stop means the guest got control back. */
#define SANDBOX_ARMED 0xA77E3A7Du
/* CS in compatibility mode (COMPAT32_USER32_CS, guest/prog/compat32.h):
 * what compat_probe / sigreturn_probe report. */
#define SANDBOX_USER32_CS 0x23
/* Reported instead when a gadget the attempt needs is missing. */
#define SANDBOX_NO_GADGET 0xBADC0DEu

#endif
