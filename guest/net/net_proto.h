/* Wire formats of the protocols the guest network stack speaks: byte
 * offsets into each header, field values and protocol constants, with the
 * names the specifications use.  Everything the stack knows about the wire
 * lives here; the code only reads and writes fields through net_util.h
 * big-endian accessors (frames are not assumed to be aligned).
 *
 *   Ethernet II  IEEE 802.3-2018 clause 3.1.1 (DA, SA, Length/Type)
 *   ARP          RFC 826 (packet format, "Packet Reception" merge rule)
 *   IPv4         RFC 791 section 3.1 (header), RFC 1071 (checksum),
 *                RFC 1122 section 3.3.2 (reassembly: we do none, DF set)
 *   ICMP         RFC 792 (Echo / Echo Reply)
 *   UDP          RFC 768
 *   TCP          RFC 9293 section 3.1 (header), 3.2 (options: MSS),
 *                RFC 7323 section 2 (Window Scale), RFC 6298 (RTO),
 *                RFC 5681 (congestion control), RFC 6582 (NewReno),
 *                RFC 6928 (initial window 10), RFC 5961 (challenge ACK)
 */
#ifndef IOVIRT_GUEST_NET_PROTO_H
#define IOVIRT_GUEST_NET_PROTO_H

/* ---- Ethernet II (IEEE 802.3 3.1.1) ---------------------------------- */
#define ETH_ALEN            6
#define ETH_HDR_LEN         14
#define ETH_OFF_DST         0
#define ETH_OFF_SRC         6
#define ETH_OFF_TYPE        12
#define ETH_TYPE_IPV4       0x0800
#define ETH_TYPE_ARP        0x0806
#define ETH_MIN_FRAME       60      /* without FCS: short frames are padded */
#define ETH_MTU             1500
#define ETH_MAX_FRAME       (ETH_HDR_LEN + ETH_MTU)

/* ---- ARP for IPv4 over Ethernet (RFC 826) ---------------------------- */
#define ARP_PKT_LEN         28
#define ARP_OFF_HTYPE       0       /* ar$hrd */
#define ARP_OFF_PTYPE       2       /* ar$pro */
#define ARP_OFF_HLEN        4       /* ar$hln */
#define ARP_OFF_PLEN        5       /* ar$pln */
#define ARP_OFF_OPER        6       /* ar$op  */
#define ARP_OFF_SHA         8       /* ar$sha */
#define ARP_OFF_SPA         14      /* ar$spa */
#define ARP_OFF_THA         18      /* ar$tha */
#define ARP_OFF_TPA         24      /* ar$tpa */
#define ARP_HTYPE_ETHER     1
#define ARP_OP_REQUEST      1
#define ARP_OP_REPLY        2

/* ---- IPv4 (RFC 791 3.1) ---------------------------------------------- */
#define IP_HDR_LEN          20      /* without options; we never send any */
#define IP_OFF_VER_IHL      0
#define IP_OFF_TOS          1
#define IP_OFF_TOTLEN       2
#define IP_OFF_ID           4
#define IP_OFF_FRAG         6       /* flags (3 bits) + fragment offset (13) */
#define IP_OFF_TTL          8
#define IP_OFF_PROTO        9
#define IP_OFF_CSUM         10
#define IP_OFF_SRC          12
#define IP_OFF_DST          16
#define IP_FLAG_DF          0x4000
#define IP_FLAG_MF          0x2000
#define IP_FRAG_OFF_MASK    0x1fff
#define IP_DEFAULT_TTL      64
#define IP_PROTO_ICMP       1
#define IP_PROTO_TCP        6
#define IP_PROTO_UDP        17
#define IP_BROADCAST        0xffffffffu

/* ---- ICMP (RFC 792) -------------------------------------------------- */
#define ICMP_HDR_LEN        8
#define ICMP_OFF_TYPE       0
#define ICMP_OFF_CODE       1
#define ICMP_OFF_CSUM       2
#define ICMP_OFF_ID         4       /* Echo: Identifier */
#define ICMP_OFF_SEQ        6       /* Echo: Sequence Number */
#define ICMP_TYPE_ECHO_REPLY   0
#define ICMP_TYPE_ECHO_REQUEST 8

/* ---- UDP (RFC 768) --------------------------------------------------- */
#define UDP_HDR_LEN         8
#define UDP_OFF_SPORT       0
#define UDP_OFF_DPORT       2
#define UDP_OFF_LEN         4
#define UDP_OFF_CSUM        6

/* ---- TCP (RFC 9293 3.1) ---------------------------------------------- */
#define TCP_HDR_LEN         20      /* without options */
#define TCP_MAX_HDR_LEN     60
#define TCP_OFF_SPORT       0
#define TCP_OFF_DPORT       2
#define TCP_OFF_SEQ         4
#define TCP_OFF_ACK         8
#define TCP_OFF_DOFF        12      /* data offset in the high 4 bits */
#define TCP_OFF_FLAGS       13
#define TCP_OFF_WND         14
#define TCP_OFF_CSUM        16
#define TCP_OFF_URP         18
#define TCP_FLAG_FIN        0x01
#define TCP_FLAG_SYN        0x02
#define TCP_FLAG_RST        0x04
#define TCP_FLAG_PSH        0x08
#define TCP_FLAG_ACK        0x10
#define TCP_FLAG_URG        0x20

/* Options (RFC 9293 3.2, RFC 7323 2.2) */
#define TCP_OPT_EOL         0
#define TCP_OPT_NOP         1
#define TCP_OPT_MSS         2       /* kind 2, length 4 */
#define TCP_OPT_MSS_LEN     4
#define TCP_OPT_WSCALE      3       /* kind 3, length 3 */
#define TCP_OPT_WSCALE_LEN  3
#define TCP_WSCALE_MAX      14      /* RFC 7323 2.3: larger shifts use 14 */
#define TCP_DEFAULT_MSS     536     /* RFC 9293 3.7.1: when no MSS option */
#define TCP_MAX_WIN         65535

/* RFC 6298 2.1, 2.4, 2.5 (the brief allows Linux's 200 ms minimum) */
#define TCP_RTO_INITIAL_NS  1000000000ull
#define TCP_RTO_MIN_NS      200000000ull
#define TCP_RTO_MAX_NS      60000000000ull
#define TCP_RTO_GRANULARITY_NS 1000000ull
/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)) */
#define TCP_INIT_CWND_SEGS  10
/* RFC 5681 3.2: fast retransmit after the third duplicate ACK */
#define TCP_DUPACK_THRESH   3

#endif
