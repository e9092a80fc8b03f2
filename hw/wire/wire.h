/* The wire: where the physical NIC's frames go and come from.
 *
 * A wire end carries whole Ethernet frames without FCS (what the e1000 model
 * hands out and takes in).  Backends:
 *   - loopback pair (hw/wire/wire_loop.c): two ends in-process, each
 *     direction a bounded queue; for unit tests and benchmarks;
 *   - TAP in a private network namespace (hw/wire/wire_tap.c): the far end is
 *     the real Linux stack, no host network setting is touched.
 * Either can drop a configured share of sent frames (seeded, deterministic).
 *
 * Ends are polled (wire__recv) and expose a file descriptor that is readable
 * while frames may be waiting, so the NIC's hardware thread can sleep in
 * poll() on it.  One thread may send and another receive on the same end. */
#ifndef IOVIRT_HW_WIRE_H
#define IOVIRT_HW_WIRE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ethernet II frame without FCS: 14-byte header, payload up to the MTU. */
#define WIRE_HDR_LEN      14u
#define WIRE_MIN_FRAME    60u   /* 64 on the wire minus FCS: senders pad to this */
#define WIRE_DEFAULT_MTU  1500u
#define WIRE_MAX_BUF      (WIRE_HDR_LEN + 9000u + 4u) /* largest frame any end accepts */

struct wire_stats {
    uint64_t tx_frames, tx_bytes;     /* accepted by send() and put on the wire */
    uint64_t rx_frames, rx_bytes;     /* returned by recv() */
    uint64_t drop_short, drop_long;   /* send(): shorter than a header / above MTU */
    uint64_t drop_full;               /* the far end's queue was full */
    uint64_t drop_loss;               /* the loss option dropped it */
    uint64_t drop_error;              /* backend I/O error, or a malformed offload header */
    uint64_t rx_gso_reads;            /* TAP: TCPv4 GSO super-frames read and cut up */
    uint64_t rx_csum_done;            /* TAP: partial checksums finished */
};

/* Optional loss: drop every `one_in`-th frame (if one_in > 0), otherwise drop
 * with probability ppm / 1e6 from a PRNG seeded with `seed`.  Both 0: none. */
struct wire_loss {
    uint32_t one_in;
    uint32_t ppm;
    uint64_t seed;
};

struct wire;

/* A TCPv4 GSO super-frame: the frames a NIC's segmenter makes of it
 * (Linux's TCPv4 GSO rules), handed over in one piece.  hdr: Ethernet +
 * IPv4 + TCP headers of the whole (IPv4 total length and checksum of the
 * whole; TCP checksum field = pseudo-header sum with the whole's TCP
 * length, not complemented); pay: the payload; mss: payload per frame;
 * csum_start/csum_offset: TCP header offset, checksum field within it.
 * nseg frames of seg_len (the last: last_len) bytes without FCS. */
struct wire_gso {
    const uint8_t *hdr;
    size_t hdr_len;
    const uint8_t *pay;
    size_t pay_len;
    uint16_t mss, csum_start, csum_offset;
    uint32_t nseg;
    size_t seg_len, last_len;
};

struct wire_ops {
    /* Put one frame on the wire (already checked and loss-filtered). */
    int (*xmit)(struct wire *w, const uint8_t *frame, size_t len);
    /* Next received frame into buf: its length, 0 if none, -errno. */
    int (*recv)(struct wire *w, uint8_t *buf, size_t cap);
    void (*destroy)(struct wire *w);
    /* Optional: put a GSO super-frame on the wire in one operation. */
    int (*xmit_gso)(struct wire *w, const struct wire_gso *g);
    /* Optional: frames the end holds already (a super-frame's segments not
     * yet returned), which its poll_fd does not show. */
    bool (*pending)(struct wire *w);
};

struct wire {
    const struct wire_ops *ops;
    unsigned mtu;               /* payload bytes; max frame = mtu + WIRE_HDR_LEN */
    int poll_fd;                /* readable while frames may be waiting */
    struct wire_loss loss;
    uint64_t loss_state;        /* PRNG state / frame counter for the loss option */
    pthread_mutex_t stats_lock;
    struct wire_stats stats;
    int capture_fd;             /* pcap file of this end's traffic, -1 = none */
};

/* Send a frame (without FCS).  0 if it went on the wire (or the loss option
 * ate it, as a real lossy wire would), -EMSGSIZE if too short/long, -ENOBUFS
 * if the far end's queue is full, -EIO on backend error.  All counted. */
int wire__send(struct wire *w, const uint8_t *frame, size_t len);
/* Send a GSO super-frame in one operation, counted as its nseg frames.
 * -EOPNOTSUPP (nothing sent) when the backend cannot, or when the loss
 * option or a capture is active (those work frame by frame): the caller
 * then sends the frames one by one.  Otherwise as wire__send. */
int wire__send_gso(struct wire *w, const struct wire_gso *g);
/* Receive one frame: length, 0 when none is waiting, -EMSGSIZE if cap is too
 * small (frame dropped and counted), -errno on error. */
int wire__recv(struct wire *w, uint8_t *buf, size_t cap);
/* Block up to timeout_ns for a frame to be waiting.  1 if one may be, 0 on
 * timeout, -errno. */
int wire__wait(struct wire *w, uint64_t timeout_ns);
/* Frames held by the end itself: a poller must not sleep on poll_fd then. */
bool wire__pending(struct wire *w);
void wire__set_loss(struct wire *w, const struct wire_loss *loss);
/* Record every frame this end sends or receives (after the loss option) to
 * a pcap file (LINKTYPE_ETHERNET), for debugging with tcpdump/wireshark.
 * NULL stops.  0 or -errno. */
int wire__capture(struct wire *w, const char *path);
void wire__get_stats(struct wire *w, struct wire_stats *out);
void wire__destroy(struct wire *w);

/* Backend helpers (wire.c). */
int wire__init_common(struct wire *w, const struct wire_ops *ops, unsigned mtu, int poll_fd);
void wire__fini_common(struct wire *w);
void wire__count_rx(struct wire *w, size_t len);
void wire__count_drop(struct wire *w, uint64_t *counter);
void wire__count(struct wire *w, uint64_t *counter); /* any wire_stats counter */

/* ---- loopback pair (wire_loop.c) ---- */

/* Two connected ends: what a sends, b receives and vice versa.  Each
 * direction queues up to `depth` frames (0 = 256); more are dropped and
 * counted in the sender's drop_full.  mtu 0 = WIRE_DEFAULT_MTU. */
int wire_loop__create_pair(unsigned depth, unsigned mtu, struct wire **a, struct wire **b);

/* ---- TAP in a private network namespace (wire_tap.c) ---- */

struct wire_tap_config {
    const char *ifname;     /* NULL = "iovirt0" (exists only in the private namespace) */
    uint32_t addr;          /* Linux side IPv4, host order; 0 = 10.0.2.1 */
    unsigned prefix_len;    /* 0 = 24 */
    unsigned mtu;           /* 0 = 1500 */
    /* Linux hands reads TCPv4 GSO super-frames and partial checksums
     * (TUN_F_TSO4 | TUN_F_CSUM), which the end cuts into MTU frames with
     * complete checksums, as a NIC's peer would have sent them: one read
     * per up to 44 frames.  Only at the 1500-byte MTU.  true: off. */
    bool rx_offload_off;
};

/* Create a new network namespace owned by this process (never bind-mounted:
 * it disappears with the last fd, at the latest when the process exits),
 * a TAP device inside it with the given address, up, with loopback up.
 * Requires CAP_NET_ADMIN/CAP_SYS_ADMIN (root); -EPERM otherwise. */
int wire_tap__create(const struct wire_tap_config *cfg, struct wire **out);
/* IOVIRT_TAP_RX_OFFLOAD=off: what rx_offload_off should be for a run that
 * follows the environment (docs/e1000.md). */
bool wire_tap__rx_offload_off_env(void);
/* Run fn(arg) on a thread that has joined the TAP's namespace; returns fn's
 * result, or -errno if the thread could not enter. */
int wire_tap__run_in_ns(struct wire *w, int (*fn)(void *arg), void *arg);
/* A socket created inside the namespace (a socket keeps its namespace for
 * life, so the caller may use it from any thread).  fd or -errno. */
int wire_tap__socket(struct wire *w, int domain, int type, int protocol);
/* The namespace fd (for setns by callers that need more). */
int wire_tap__netns_fd(struct wire *w);
const char *wire_tap__ifname(struct wire *w);

#endif
