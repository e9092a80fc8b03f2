/* Intel 8254x (82540EM) spec names: PCI IDs, register offsets, bit fields,
 * descriptor layouts, EEPROM words and PHY registers.
 *
 * Source: "PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual" (Intel 8254x SDM, rev. 4.0), cited as SDM <section>.
 * Names are the manual's own, prefixed E1000_.  This is the one header with
 * these facts; the model (hw/e1000) and the portable driver (drivers/e1000)
 * both include it.  Everything here is freestanding C (no libc beyond
 * <stdint.h>) so the guest kernel can use it. */
#ifndef IOVIRT_DRIVERS_E1000_E1000_REGS_H
#define IOVIRT_DRIVERS_E1000_E1000_REGS_H

#include <stdint.h>

/* ---- PCI identity (SDM 4.1, Table 4-2 / 5.6 EEPROM words 0x0D-0x0E) ---- */
#define E1000_PCI_VENDOR_INTEL   0x8086u
#define E1000_PCI_DEV_82540EM    0x100Eu
#define E1000_PCI_REVISION       0x03u
#define E1000_PCI_CLASS_ETHERNET 0x020000u /* class 02, subclass 00, prog-if 00 */
#define E1000_BAR0_SIZE          0x20000u  /* 128 KiB memory BAR (SDM 4.1) */
#define E1000_BAR1_IO_SIZE       0x40u     /* I/O BAR: IOADDR/IODATA (SDM 13.2) */
#define E1000_IOADDR             0x00u
#define E1000_IODATA             0x04u

/* ---- Register offsets (SDM 13.3 register summary, Table 13-2) ---- */
/* General (SDM 13.4) */
#define E1000_CTRL      0x00000u /* Device Control, RW (13.4.1) */
#define E1000_STATUS    0x00008u /* Device Status, RO (13.4.2) */
#define E1000_EECD      0x00010u /* EEPROM/Flash Control, RW (13.4.3) */
#define E1000_EERD      0x00014u /* EEPROM Read, RW (13.4.4) */
#define E1000_CTRL_EXT  0x00018u /* Extended Device Control, RW (13.4.6) */
#define E1000_FLA       0x0001Cu /* Flash Access (13.4.5) */
#define E1000_MDIC      0x00020u /* MDI Control, RW (13.4.7) */
#define E1000_FCAL      0x00028u /* Flow Control Address Low (13.4.8) */
#define E1000_FCAH      0x0002Cu /* Flow Control Address High (13.4.8) */
#define E1000_FCT       0x00030u /* Flow Control Type (13.4.9) */
#define E1000_VET       0x00038u /* VLAN Ether Type (13.4.10) */
#define E1000_FCTTV     0x00170u /* Flow Control Transmit Timer Value (13.4.11) */
#define E1000_TXCW      0x00178u /* Transmit Config Word (13.4.12) */
#define E1000_RXCW      0x00180u /* Receive Config Word, RO (13.4.13) */
#define E1000_LEDCTL    0x00E00u /* LED Control (13.4.14) */
#define E1000_PBA       0x01000u /* Packet Buffer Allocation (13.4.15) */
/* Interrupts (SDM 13.4.17-13.4.21) */
#define E1000_ICR       0x000C0u /* Interrupt Cause Read, read-to-clear */
#define E1000_ITR       0x000C4u /* Interrupt Throttling Rate */
#define E1000_ICS       0x000C8u /* Interrupt Cause Set, WO */
#define E1000_IMS       0x000D0u /* Interrupt Mask Set/Read */
#define E1000_IMC       0x000D8u /* Interrupt Mask Clear, WO */
/* Receive (SDM 13.4, from 13.4.22 RCTL) */
#define E1000_RCTL      0x00100u /* Receive Control */
#define E1000_FCRTL     0x02160u /* Flow Control Receive Threshold Low */
#define E1000_FCRTH     0x02168u /* Flow Control Receive Threshold High */
#define E1000_RDFH      0x02410u /* RX Data FIFO Head (diagnostic) */
#define E1000_RDFT      0x02418u /* RX Data FIFO Tail (diagnostic) */
#define E1000_RDBAL     0x02800u /* RX Descriptor Base Address Low */
#define E1000_RDBAH     0x02804u /* RX Descriptor Base Address High */
#define E1000_RDLEN     0x02808u /* RX Descriptor Length (multiple of 128) */
#define E1000_RDH       0x02810u /* RX Descriptor Head */
#define E1000_RDT       0x02818u /* RX Descriptor Tail */
#define E1000_RDTR      0x02820u /* RX Delay Timer */
#define E1000_RXDCTL    0x02828u /* RX Descriptor Control */
#define E1000_RADV      0x0282Cu /* RX Interrupt Absolute Delay Timer */
#define E1000_RSRPD     0x02C00u /* RX Small Packet Detect */
#define E1000_RXCSUM    0x05000u /* RX Checksum Control */
#define E1000_MTA       0x05200u /* Multicast Table Array, 128 x 32 bit */
#define E1000_MTA_COUNT 128u
#define E1000_RAL(n)    (0x05400u + 8u * (n)) /* Receive Address Low, n < 16 */
#define E1000_RAH(n)    (0x05404u + 8u * (n)) /* Receive Address High */
#define E1000_RAR_COUNT 16u
#define E1000_VFTA      0x05600u /* VLAN Filter Table Array, 128 x 32 bit */
/* Transmit (SDM 13.4, TCTL onwards) */
#define E1000_TCTL      0x00400u /* Transmit Control */
#define E1000_TIPG      0x00410u /* Transmit IPG */
#define E1000_AIFS      0x00458u /* Adaptive IFS Throttle */
#define E1000_TXDMAC    0x03000u /* TX DMA Control (82544 only) */
#define E1000_TDFH      0x03410u /* TX Data FIFO Head (diagnostic) */
#define E1000_TDFT      0x03418u /* TX Data FIFO Tail (diagnostic) */
#define E1000_TDBAL     0x03800u /* TX Descriptor Base Address Low */
#define E1000_TDBAH     0x03804u /* TX Descriptor Base Address High */
#define E1000_TDLEN     0x03808u /* TX Descriptor Length (multiple of 128) */
#define E1000_TDH       0x03810u /* TX Descriptor Head */
#define E1000_TDT       0x03818u /* TX Descriptor Tail */
#define E1000_TIDV      0x03820u /* TX Interrupt Delay Value */
#define E1000_TXDCTL    0x03828u /* TX Descriptor Control */
#define E1000_TADV      0x0382Cu /* TX Absolute Interrupt Delay Value */
#define E1000_TSPMT     0x03830u /* TCP Segmentation Pad and Min Threshold */
/* Statistics (SDM 13.7), all read-to-clear; 64-bit counters split L/H,
 * the high half clears when read (13.7 note: read low then high). */
#define E1000_CRCERRS   0x04000u
#define E1000_ALGNERRC  0x04004u
#define E1000_SYMERRS   0x04008u
#define E1000_RXERRC    0x0400Cu
#define E1000_MPC       0x04010u /* Missed Packets Count */
#define E1000_SCC       0x04014u
#define E1000_ECOL      0x04018u
#define E1000_MCC       0x0401Cu
#define E1000_LATECOL   0x04020u
#define E1000_COLC      0x04028u
#define E1000_DC        0x04030u
#define E1000_TNCRS     0x04034u
#define E1000_SEC       0x04038u
#define E1000_CEXTERR   0x0403Cu
#define E1000_RLEC      0x04040u
#define E1000_XONRXC    0x04048u
#define E1000_XONTXC    0x0404Cu
#define E1000_XOFFRXC   0x04050u
#define E1000_XOFFTXC   0x04054u
#define E1000_FCRUC     0x04058u
#define E1000_PRC64     0x0405Cu
#define E1000_PRC127    0x04060u
#define E1000_PRC255    0x04064u
#define E1000_PRC511    0x04068u
#define E1000_PRC1023   0x0406Cu
#define E1000_PRC1522   0x04070u
#define E1000_GPRC      0x04074u /* Good Packets Received */
#define E1000_BPRC      0x04078u /* Broadcast Packets Received */
#define E1000_MPRC      0x0407Cu /* Multicast Packets Received */
#define E1000_GPTC      0x04080u /* Good Packets Transmitted */
#define E1000_GORCL     0x04088u /* Good Octets Received, low */
#define E1000_GORCH     0x0408Cu
#define E1000_GOTCL     0x04090u /* Good Octets Transmitted, low */
#define E1000_GOTCH     0x04094u
#define E1000_RNBC      0x040A0u /* Receive No Buffers */
#define E1000_RUC       0x040A4u /* Receive Undersize */
#define E1000_RFC       0x040A8u /* Receive Fragment */
#define E1000_ROC       0x040ACu /* Receive Oversize */
#define E1000_RJC       0x040B0u /* Receive Jabber */
#define E1000_MGTPRC    0x040B4u
#define E1000_MGTPDC    0x040B8u
#define E1000_MGTPTC    0x040BCu
#define E1000_TORL      0x040C0u /* Total Octets Received, low */
#define E1000_TORH      0x040C4u
#define E1000_TOTL      0x040C8u /* Total Octets Transmitted, low */
#define E1000_TOTH      0x040CCu
#define E1000_TPR       0x040D0u /* Total Packets Received */
#define E1000_TPT       0x040D4u /* Total Packets Transmitted */
#define E1000_PTC64     0x040D8u
#define E1000_PTC127    0x040DCu
#define E1000_PTC255    0x040E0u
#define E1000_PTC511    0x040E4u
#define E1000_PTC1023   0x040E8u
#define E1000_PTC1522   0x040ECu
#define E1000_MPTC      0x040F0u
#define E1000_BPTC      0x040F4u
#define E1000_TSCTC     0x040F8u /* TCP Segmentation Context Transmitted */
#define E1000_TSCTFC    0x040FCu /* TCP Segmentation Context Tx Fail */
#define E1000_STATS_FIRST E1000_CRCERRS
#define E1000_STATS_LAST  E1000_TSCTFC
/* Wakeup / manageability (SDM 13.6), modelled as plain storage */
#define E1000_WUC       0x05800u
#define E1000_WUFC      0x05808u
#define E1000_WUS       0x05810u
#define E1000_MANC      0x05820u
#define E1000_IPAV      0x05838u
#define E1000_IP4AT     0x05840u
#define E1000_IP6AT     0x05880u
#define E1000_WUPL      0x05900u
#define E1000_WUPM      0x05A00u
#define E1000_FFLT      0x05F00u
#define E1000_FFMT      0x09000u
#define E1000_FFVT      0x09800u

/* ---- CTRL (SDM 13.4.1) ---- */
#define E1000_CTRL_FD        0x00000001u /* full duplex */
#define E1000_CTRL_LRST      0x00000008u /* link reset */
#define E1000_CTRL_ASDE      0x00000020u /* auto-speed detection enable */
#define E1000_CTRL_SLU       0x00000040u /* set link up */
#define E1000_CTRL_ILOS      0x00000080u /* invert loss-of-signal */
#define E1000_CTRL_SPEED_MASK 0x00000300u
#define E1000_CTRL_SPEED_10   0x00000000u
#define E1000_CTRL_SPEED_100  0x00000100u
#define E1000_CTRL_SPEED_1000 0x00000200u
#define E1000_CTRL_FRCSPD    0x00000800u /* force speed */
#define E1000_CTRL_FRCDPX    0x00001000u /* force duplex */
#define E1000_CTRL_SWDPIN0   0x00040000u
#define E1000_CTRL_SWDPIN1   0x00080000u
#define E1000_CTRL_SWDPIN2   0x00100000u
#define E1000_CTRL_SWDPIN3   0x00200000u
#define E1000_CTRL_SWDPIO0   0x00400000u
#define E1000_CTRL_RST       0x04000000u /* device reset, self-clearing */
#define E1000_CTRL_RFCE      0x08000000u /* receive flow control enable */
#define E1000_CTRL_TFCE      0x10000000u /* transmit flow control enable */
#define E1000_CTRL_VME       0x40000000u /* VLAN mode enable */
#define E1000_CTRL_PHY_RST   0x80000000u /* PHY reset */

/* ---- STATUS (SDM 13.4.2) ---- */
#define E1000_STATUS_FD         0x00000001u /* full duplex */
#define E1000_STATUS_LU         0x00000002u /* link up */
#define E1000_STATUS_FUNC_MASK  0x0000000Cu
#define E1000_STATUS_TXOFF      0x00000010u
#define E1000_STATUS_TBIMODE    0x00000020u
#define E1000_STATUS_SPEED_MASK 0x000000C0u
#define E1000_STATUS_SPEED_10   0x00000000u
#define E1000_STATUS_SPEED_100  0x00000040u
#define E1000_STATUS_SPEED_1000 0x00000080u
#define E1000_STATUS_ASDV_MASK  0x00000300u /* auto speed detection value */
#define E1000_STATUS_ASDV_1000  0x00000200u
#define E1000_STATUS_PCI66      0x00000800u
#define E1000_STATUS_BUS64      0x00001000u
#define E1000_STATUS_PCIX_MODE  0x00002000u

/* ---- EECD (SDM 13.4.3): bit-banged Microwire EEPROM interface ---- */
#define E1000_EECD_SK       0x00000001u /* clock */
#define E1000_EECD_CS       0x00000002u /* chip select */
#define E1000_EECD_DI       0x00000004u /* data in (to EEPROM) */
#define E1000_EECD_DO       0x00000008u /* data out (from EEPROM) */
#define E1000_EECD_FWE_MASK 0x00000030u /* flash write enable */
#define E1000_EECD_FWE_DIS  0x00000010u
#define E1000_EECD_FWE_EN   0x00000020u
#define E1000_EECD_REQ      0x00000040u /* request EEPROM access */
#define E1000_EECD_GNT      0x00000080u /* grant EEPROM access */
#define E1000_EECD_PRES     0x00000100u /* EEPROM present */
#define E1000_EECD_SIZE     0x00000200u /* 0: 64 words (1 Kbit), 1: 256 words */

/* ---- EERD (SDM 13.4.4), 82540EM layout ---- */
#define E1000_EERD_START      0x00000001u
#define E1000_EERD_DONE       0x00000010u
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_ADDR_MASK  0x0000FF00u
#define E1000_EERD_DATA_SHIFT 16
#define E1000_EERD_DATA_MASK  0xFFFF0000u

/* ---- CTRL_EXT (SDM 13.4.6) ---- */
#define E1000_CTRL_EXT_EE_RST  0x00002000u /* re-read EEPROM, self-clearing */
#define E1000_CTRL_EXT_ASDCHK  0x00001000u

/* ---- MDIC (SDM 13.4.7) ---- */
#define E1000_MDIC_DATA_MASK   0x0000FFFFu
#define E1000_MDIC_REG_SHIFT   16
#define E1000_MDIC_REG_MASK    0x001F0000u
#define E1000_MDIC_PHY_SHIFT   21
#define E1000_MDIC_PHY_MASK    0x03E00000u
#define E1000_MDIC_OP_WRITE    0x04000000u
#define E1000_MDIC_OP_READ     0x08000000u
#define E1000_MDIC_OP_MASK     0x0C000000u
#define E1000_MDIC_READY       0x10000000u /* R: transaction complete */
#define E1000_MDIC_INT_EN      0x20000000u /* I: interrupt (ICR.MDAC) on ready */
#define E1000_MDIC_ERROR       0x40000000u /* E: read error (no PHY answered) */
#define E1000_PHY_ADDR_INTERNAL 1u         /* internal PHY answers at address 1 */

/* ---- FCAL/FCAH/FCT/FCTTV (SDM 13.4.8-13.4.11): 802.3x constants ---- */
#define E1000_FCAL_DEFAULT 0x00C28001u /* 01:80:C2:00:00:01 low 32 bits */
#define E1000_FCAH_DEFAULT 0x00000100u
#define E1000_FCT_DEFAULT  0x00008808u /* MAC control EtherType */

/* ---- ICR / ICS / IMS / IMC bits (SDM 13.4.17-13.4.21) ---- */
#define E1000_ICR_TXDW    0x00000001u /* TX descriptor written back */
#define E1000_ICR_TXQE    0x00000002u /* TX queue empty */
#define E1000_ICR_LSC     0x00000004u /* link status change */
#define E1000_ICR_RXSEQ   0x00000008u /* RX sequence error */
#define E1000_ICR_RXDMT0  0x00000010u /* RX descriptor minimum threshold */
#define E1000_ICR_RXO     0x00000040u /* receiver overrun */
#define E1000_ICR_RXT0    0x00000080u /* receiver timer interrupt */
#define E1000_ICR_MDAC    0x00000200u /* MDI access complete */
#define E1000_ICR_RXCFG   0x00000400u /* /C/ ordered sets received */
#define E1000_ICR_GPI_EN0 0x00000800u
#define E1000_ICR_GPI_EN1 0x00001000u
#define E1000_ICR_GPI_EN2 0x00002000u
#define E1000_ICR_GPI_EN3 0x00004000u
#define E1000_ICR_TXD_LOW 0x00008000u /* TX descriptor low threshold */
#define E1000_ICR_SRPD    0x00010000u /* small receive packet detected */
#define E1000_ICR_INT_ASSERTED 0x80000000u /* 8254x: any unmasked cause pending */
#define E1000_ICR_CAUSE_MASK   0x0001FEDFu /* cause bits 0-16 defined above */

/* ---- ITR (SDM 13.4.18): minimum inter-interrupt interval ----
 * The interval, in 256 ns units, is the minimum time between two
 * assertions of the interrupt; causes arriving meanwhile are accumulated
 * and asserted when it ends.  0 disables throttling.  The device needs a
 * clock for it: an assertion held back is made when the interval ends,
 * without any further driver access. */
#define E1000_ITR_INTERVAL_MASK 0x0000FFFFu
#define E1000_ITR_UNIT_NS       256u

/* ---- RCTL (SDM 13.4.22) ---- */
#define E1000_RCTL_EN         0x00000002u /* receiver enable */
#define E1000_RCTL_SBP        0x00000004u /* store bad packets */
#define E1000_RCTL_UPE        0x00000008u /* unicast promiscuous */
#define E1000_RCTL_MPE        0x00000010u /* multicast promiscuous */
#define E1000_RCTL_LPE        0x00000020u /* long packet enable */
#define E1000_RCTL_LBM_MASK   0x000000C0u /* loopback mode */
#define E1000_RCTL_RDMTS_SHIFT 8
#define E1000_RCTL_RDMTS_MASK 0x00000300u /* 00 1/2, 01 1/4, 10 1/8 of ring */
#define E1000_RCTL_RDMTS_HALF 0x00000000u
#define E1000_RCTL_RDMTS_QUAT 0x00000100u
#define E1000_RCTL_RDMTS_EIGTH 0x00000200u
#define E1000_RCTL_MO_SHIFT   12
#define E1000_RCTL_MO_MASK    0x00003000u /* multicast offset: which 12 bits */
#define E1000_RCTL_BAM        0x00008000u /* broadcast accept mode */
#define E1000_RCTL_BSIZE_SHIFT 16
#define E1000_RCTL_BSIZE_MASK 0x00030000u
#define E1000_RCTL_BSIZE_2048 0x00000000u /* BSEX=0: 2048 1024 512 256 */
#define E1000_RCTL_BSIZE_1024 0x00010000u
#define E1000_RCTL_BSIZE_512  0x00020000u
#define E1000_RCTL_BSIZE_256  0x00030000u
#define E1000_RCTL_BSIZE_16384 0x00010000u /* with BSEX=1: x16 */
#define E1000_RCTL_BSIZE_8192 0x00020000u
#define E1000_RCTL_BSIZE_4096 0x00030000u
#define E1000_RCTL_VFE        0x00040000u /* VLAN filter enable */
#define E1000_RCTL_CFIEN      0x00080000u
#define E1000_RCTL_CFI        0x00100000u
#define E1000_RCTL_DPF        0x00400000u /* discard pause frames */
#define E1000_RCTL_PMCF       0x00800000u /* pass MAC control frames */
#define E1000_RCTL_BSEX       0x02000000u /* buffer size extension (x16) */
#define E1000_RCTL_SECRC      0x04000000u /* strip Ethernet CRC */

/* ---- RDTR / RADV / TIDV / TADV (SDM 13.4, receive/transmit delay timers;
 * delayed interrupts, SDM 3.2.7 receive and 3.4 transmit) ----
 * RDTR: each received frame (re)starts a timer of RDTR x 1.024 us; RXT0 is
 * raised when it expires (0: at once, with each frame).  RADV: the first
 * frame after an RXT0 starts an absolute timer of RADV x 1.024 us that
 * frames do not restart; RXT0 at the earlier of the two (0: none).
 * TIDV/TADV: the same for TXDW of descriptors written back with IDE set. */
#define E1000_RDTR_DELAY_MASK 0x0000FFFFu /* units of 1.024 us */
/* FPD (RDTR bit 31, SDM 13.4.30 RDTR): writing 1 "initiates an immediate
 * expiration of the timer": pending descriptor write-backs are flushed and
 * RXT0 is set in ICR.  Self-clearing, reads 0. */
#define E1000_RDTR_FPD        0x80000000u /* flush partial descriptor block */
#define E1000_DELAY_UNIT_NS   1024u
#define E1000_RADV_DELAY_MASK 0x0000FFFFu
#define E1000_TIDV_DELAY_MASK 0x0000FFFFu
#define E1000_TADV_DELAY_MASK 0x0000FFFFu

/* ---- RXDCTL / TXDCTL (SDM 13.4, descriptor control) ---- */
#define E1000_RXDCTL_PTHRESH_MASK 0x0000003Fu
#define E1000_RXDCTL_HTHRESH_MASK 0x00003F00u
#define E1000_RXDCTL_WTHRESH_MASK 0x003F0000u
#define E1000_RXDCTL_GRAN         0x01000000u
#define E1000_TXDCTL_PTHRESH_MASK 0x0000003Fu
#define E1000_TXDCTL_HTHRESH_MASK 0x00003F00u
#define E1000_TXDCTL_WTHRESH_MASK 0x003F0000u
#define E1000_TXDCTL_GRAN         0x01000000u
#define E1000_TXDCTL_LWTHRESH_MASK 0xFE000000u

/* ---- RXCSUM (SDM 13.4, receive checksum control) ---- */
#define E1000_RXCSUM_PCSS_MASK 0x000000FFu /* packet checksum start */
#define E1000_RXCSUM_IPOFLD    0x00000100u /* IP checksum offload */
#define E1000_RXCSUM_TUOFLD    0x00000200u /* TCP/UDP checksum offload */

/* ---- RAL/RAH (SDM 13.4, receive address) ---- */
#define E1000_RAH_AS_MASK 0x00030000u /* address select: 00 destination */
#define E1000_RAH_AV      0x80000000u /* address valid */

/* ---- TCTL (SDM 13.4, transmit control) ---- */
#define E1000_TCTL_EN         0x00000002u /* transmit enable */
#define E1000_TCTL_PSP        0x00000008u /* pad short packets */
#define E1000_TCTL_CT_SHIFT   4
#define E1000_TCTL_CT_MASK    0x00000FF0u /* collision threshold */
#define E1000_TCTL_COLD_SHIFT 12
#define E1000_TCTL_COLD_MASK  0x003FF000u /* collision distance */
#define E1000_TCTL_SWXOFF     0x00400000u
#define E1000_TCTL_RTLC       0x01000000u /* retransmit on late collision */
#define E1000_TCTL_NRTU       0x02000000u /* no re-transmit on underrun */

/* ---- TIPG (SDM 13.4, transmit IPG) ---- */
#define E1000_TIPG_IPGT_MASK    0x000003FFu
#define E1000_TIPG_IPGR1_SHIFT  10
#define E1000_TIPG_IPGR2_SHIFT  20
#define E1000_TIPG_82540_COPPER 0x0060200Au /* IPGT 10, IPGR1 8, IPGR2 6 */

/* ---- Descriptors (SDM 3.2 receive, 3.3 transmit): 16 bytes, little endian */
#define E1000_DESC_SIZE       16u
#define E1000_RING_ALIGN      128u /* RDLEN/TDLEN: multiple of 128 bytes */

/* Legacy receive descriptor (SDM 3.2.3, Table 3-1) */
struct e1000_rx_desc {
    uint64_t buffer_addr;
    uint16_t length;
    uint16_t csum;    /* packet checksum from RXCSUM.PCSS */
    uint8_t status;
    uint8_t errors;
    uint16_t special; /* VLAN tag */
};
/* RX status (SDM 3.2.3.1) */
#define E1000_RXD_STAT_DD    0x01u /* descriptor done */
#define E1000_RXD_STAT_EOP   0x02u /* end of packet */
#define E1000_RXD_STAT_IXSM  0x04u /* ignore checksum indication */
#define E1000_RXD_STAT_VP    0x08u /* 802.1Q packet */
#define E1000_RXD_STAT_TCPCS 0x20u /* TCP checksum calculated */
#define E1000_RXD_STAT_IPCS  0x40u /* IP checksum calculated */
#define E1000_RXD_STAT_PIF   0x80u /* passed in-exact filter */
/* RX errors (SDM 3.2.3.2) */
#define E1000_RXD_ERR_CE     0x01u /* CRC or alignment error */
#define E1000_RXD_ERR_SE     0x02u /* symbol error */
#define E1000_RXD_ERR_SEQ    0x04u /* sequence error */
#define E1000_RXD_ERR_CXE    0x10u /* carrier extension error */
#define E1000_RXD_ERR_TCPE   0x20u /* TCP/UDP checksum error */
#define E1000_RXD_ERR_IPE    0x40u /* IP checksum error */
#define E1000_RXD_ERR_RXE    0x80u /* RX data error */

/* Legacy transmit descriptor (SDM 3.3.3, Table 3-8) */
struct e1000_tx_desc {
    uint64_t buffer_addr;
    uint16_t length;
    uint8_t cso;     /* checksum offset */
    uint8_t cmd;
    uint8_t status;  /* low nibble STA, high nibble reserved */
    uint8_t css;     /* checksum start */
    uint16_t special;
};
/* TX CMD byte (SDM 3.3.3.1), legacy: cmd field; extended: DCMD = bits 31:24
 * of the descriptor's second dword (E1000_TXD_CMD_* below are shifted). */
#define E1000_TXD_CMD_EOP_B  0x01u /* end of packet */
#define E1000_TXD_CMD_IFCS_B 0x02u /* insert FCS */
#define E1000_TXD_CMD_IC_B   0x04u /* insert checksum (legacy) */
#define E1000_TXD_CMD_RS_B   0x08u /* report status */
#define E1000_TXD_CMD_RPS_B  0x10u /* report packet sent (82544 only) */
#define E1000_TXD_CMD_DEXT_B 0x20u /* descriptor extension (not legacy) */
#define E1000_TXD_CMD_VLE_B  0x40u /* VLAN packet enable */
#define E1000_TXD_CMD_IDE_B  0x80u /* interrupt delay enable */
/* TX STA nibble (SDM 3.3.3.2) */
#define E1000_TXD_STAT_DD    0x01u /* descriptor done */
#define E1000_TXD_STAT_EC    0x02u /* excess collisions */
#define E1000_TXD_STAT_LC    0x04u /* late collision */
#define E1000_TXD_STAT_TU    0x08u /* transmit underrun (82544 only) */

/* TCP/IP context descriptor (SDM 3.3.6, Table 3-10) */
struct e1000_context_desc {
    uint8_t ipcss;    /* IP checksum start */
    uint8_t ipcso;    /* IP checksum offset */
    uint16_t ipcse;   /* IP checksum end (inclusive), 0 = end of packet */
    uint8_t tucss;    /* TCP/UDP checksum start */
    uint8_t tucso;    /* TCP/UDP checksum offset */
    uint16_t tucse;   /* TCP/UDP checksum end, 0 = end of packet */
    uint32_t cmd_and_length; /* PAYLEN 19:0, DTYP 23:20, TUCMD 31:24 */
    uint8_t status;   /* STA: DD */
    uint8_t hdr_len;  /* TSO header length */
    uint16_t mss;     /* TSO maximum segment size */
};
/* TCP/IP data descriptor (SDM 3.3.7, Table 3-12) */
struct e1000_data_desc {
    uint64_t buffer_addr;
    uint32_t cmd_and_length; /* DTALEN 19:0, DTYP 23:20, DCMD 31:24 */
    uint8_t status;   /* STA: DD (bits 3:0) */
    uint8_t popts;    /* packet options: IXSM, TXSM */
    uint16_t special;
};
#define E1000_TXD_LEN_MASK   0x000FFFFFu /* PAYLEN / DTALEN */
#define E1000_TXD_DTYP_MASK  0x00F00000u
#define E1000_TXD_DTYP_C     0x00000000u /* context descriptor */
#define E1000_TXD_DTYP_D     0x00100000u /* data descriptor */
/* DCMD (data descriptor) bits in cmd_and_length (SDM 3.3.7.1) */
#define E1000_TXD_CMD_EOP    0x01000000u
#define E1000_TXD_CMD_IFCS   0x02000000u
#define E1000_TXD_CMD_TSE    0x04000000u /* TCP segmentation enable */
#define E1000_TXD_CMD_RS     0x08000000u
#define E1000_TXD_CMD_DEXT   0x20000000u
#define E1000_TXD_CMD_VLE    0x40000000u
#define E1000_TXD_CMD_IDE    0x80000000u
/* TUCMD (context descriptor) bits in cmd_and_length (SDM 3.3.6.1) */
#define E1000_TXD_CMD_TCP    0x01000000u /* 1: TCP, 0: UDP */
#define E1000_TXD_CMD_IP     0x02000000u /* 1: IPv4, 0: IPv6 */
/* (TSE, RS, DEXT, IDE share the DCMD positions above) */
/* POPTS (SDM 3.3.7.2) */
#define E1000_TXD_POPTS_IXSM 0x01u /* insert IP checksum */
#define E1000_TXD_POPTS_TXSM 0x02u /* insert TCP/UDP checksum */

/* ---- EEPROM (SDM 5.5, 5.6 Table 5-2) ---- */
#define E1000_EEPROM_WORDS        64u /* 82540EM: 1 Kbit Microwire */
#define E1000_EEPROM_MAC0         0x00u /* Ethernet address words 0-2 */
#define E1000_EEPROM_MAC1         0x01u
#define E1000_EEPROM_MAC2         0x02u
#define E1000_EEPROM_INIT_CTRL1   0x0Au
#define E1000_EEPROM_SUBSYS_ID    0x0Bu
#define E1000_EEPROM_SUBSYS_VEND  0x0Cu
#define E1000_EEPROM_DEVICE_ID    0x0Du
#define E1000_EEPROM_VENDOR_ID    0x0Eu
#define E1000_EEPROM_INIT_CTRL2   0x0Fu
#define E1000_EEPROM_CHECKSUM_REG 0x3Fu /* chosen so words 0..0x3F sum to 0xBABA */
#define E1000_EEPROM_SUM          0xBABAu
/* Microwire opcodes (SDM 5.4) for EECD bit-banging: 3 bits incl. start bit */
#define E1000_EEPROM_OP_READ      0x6u /* 1 10 */
#define E1000_EEPROM_ADDR_BITS    6u   /* 64-word part */

/* ---- PHY registers (SDM 13.5, IEEE 802.3 clause 22 / M88E1011) ---- */
#define E1000_PHY_CTRL        0x00u /* MII control */
#define E1000_PHY_STATUS      0x01u /* MII status */
#define E1000_PHY_ID1         0x02u
#define E1000_PHY_ID2         0x03u
#define E1000_PHY_AUTONEG_ADV 0x04u /* autoneg advertisement */
#define E1000_PHY_LP_ABILITY  0x05u /* link partner ability */
#define E1000_PHY_AUTONEG_EXP 0x06u
#define E1000_PHY_NEXT_PAGE_TX 0x07u
#define E1000_PHY_LP_NEXT_PAGE 0x08u
#define E1000_PHY_1000T_CTRL  0x09u
#define E1000_PHY_1000T_STATUS 0x0Au
#define E1000_PHY_EXT_STATUS  0x0Fu
#define E1000_M88_PHY_SPEC_CTRL   0x10u
#define E1000_M88_PHY_SPEC_STATUS 0x11u
#define E1000_M88_INT_ENABLE      0x12u
#define E1000_M88_INT_STATUS      0x13u
#define E1000_M88_EXT_PHY_SPEC_CTRL 0x14u
#define E1000_M88_RX_ERR_CNTR     0x15u
#define E1000_PHY_REG_COUNT   0x20u

#define E1000_PHY_ID1_M88     0x0141u /* Marvell OUI bits */
#define E1000_PHY_ID2_82540EM 0x0C20u /* 88E1011 model/revision on 82540EM */

/* PHY_CTRL (MII reg 0) */
#define E1000_MII_CR_SPEED_1000  0x0040u
#define E1000_MII_CR_COLL_TEST   0x0080u
#define E1000_MII_CR_FULL_DUPLEX 0x0100u
#define E1000_MII_CR_RESTART_AN  0x0200u /* self-clearing */
#define E1000_MII_CR_ISOLATE     0x0400u
#define E1000_MII_CR_POWER_DOWN  0x0800u
#define E1000_MII_CR_AN_ENABLE   0x1000u
#define E1000_MII_CR_SPEED_100   0x2000u
#define E1000_MII_CR_LOOPBACK    0x4000u
#define E1000_MII_CR_RESET       0x8000u /* self-clearing */
/* PHY_STATUS (MII reg 1) */
#define E1000_MII_SR_EXT_CAPS     0x0001u
#define E1000_MII_SR_LINK_STATUS  0x0004u
#define E1000_MII_SR_AN_ABILITY   0x0008u
#define E1000_MII_SR_REMOTE_FAULT 0x0010u
#define E1000_MII_SR_AN_COMPLETE  0x0020u
#define E1000_MII_SR_PREAMBLE_SUPP 0x0040u
#define E1000_MII_SR_EXT_STATUS   0x0100u
#define E1000_MII_SR_10T_HD       0x0800u
#define E1000_MII_SR_10T_FD       0x1000u
#define E1000_MII_SR_100X_HD      0x2000u
#define E1000_MII_SR_100X_FD      0x4000u
/* Autoneg advertisement / link partner ability (MII regs 4, 5) */
#define E1000_NWAY_AR_SELECTOR_802_3 0x0001u
#define E1000_NWAY_AR_10T_HD  0x0020u
#define E1000_NWAY_AR_10T_FD  0x0040u
#define E1000_NWAY_AR_100TX_HD 0x0080u
#define E1000_NWAY_AR_100TX_FD 0x0100u
#define E1000_NWAY_AR_PAUSE   0x0400u
#define E1000_NWAY_AR_ASM_DIR 0x0800u
#define E1000_NWAY_LPAR_ACK   0x4000u
/* 1000BASE-T control / status (MII regs 9, 10) */
#define E1000_CR_1000T_HD_CAPS 0x0100u
#define E1000_CR_1000T_FD_CAPS 0x0200u
#define E1000_SR_1000T_LP_HD_CAPS 0x0400u
#define E1000_SR_1000T_LP_FD_CAPS 0x0800u
#define E1000_SR_1000T_REMOTE_RX_OK 0x1000u
#define E1000_SR_1000T_LOCAL_RX_OK  0x2000u
/* M88 PHY specific status (reg 0x11) */
#define E1000_M88_PSSR_LINK      0x0400u /* real-time link */
#define E1000_M88_PSSR_SPD_DPLX_RESOLVED 0x0800u
#define E1000_M88_PSSR_DPLX      0x2000u /* full duplex */
#define E1000_M88_PSSR_1000MBS   0x8000u

/* ---- Frame sizes (SDM 3.2.2, 13.4.22 LPE) ---- */
#define E1000_ETH_HLEN        14u
#define E1000_ETH_ZLEN        60u    /* minimum frame without FCS */
#define E1000_ETH_FRAME_MAX   1518u  /* without LPE, including FCS */
#define E1000_ETH_FRAME_LPE_MAX 16384u /* with LPE (model's jumbo limit) */
#define E1000_ETH_FCS_LEN     4u

_Static_assert(sizeof(struct e1000_rx_desc) == E1000_DESC_SIZE, "rx desc");
_Static_assert(sizeof(struct e1000_tx_desc) == E1000_DESC_SIZE, "tx desc");
_Static_assert(sizeof(struct e1000_context_desc) == E1000_DESC_SIZE, "ctx desc");
_Static_assert(sizeof(struct e1000_data_desc) == E1000_DESC_SIZE, "data desc");

#endif
