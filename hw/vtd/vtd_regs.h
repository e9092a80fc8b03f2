/* Intel VT-d remapping hardware: the one header of spec facts.
 *
 * Every name follows the Intel Virtualization Technology for Directed I/O
 * Architecture Specification (rev 3.x numbering; chapter 11 = register
 * descriptions, chapter 9 = translation structure formats, 6.5 =
 * invalidation, 7 = fault reporting, 5 = interrupt remapping).  Both the
 * model (hw/vtd) and the driver (host/vtd) include this file, so it holds
 * facts only, plus the few values the model chose (marked VTD_MODEL_*).
 *
 * Field macros come as NAME_SHIFT / NAME_MASK (mask already shifted) or a
 * single-bit NAME; vtd_field() extracts. */
#ifndef IOVIRT_HW_VTD_REGS_H
#define IOVIRT_HW_VTD_REGS_H

#include <stdint.h>

#define VTD_BIT(n)          (1ull << (n))
#define VTD_GENMASK(hi, lo) ((~0ull >> (63 - (hi))) & (~0ull << (lo)))

/* (v & mask) >> shift, with mask already in place. */
static inline uint64_t vtd_field(uint64_t v, uint64_t mask, unsigned shift)
{
    return (v & mask) >> shift;
}

/* ---- register offsets (VT-d spec 11.4, Table "Register Address Map") ---- */
#define VTD_REG_VER      0x000 /* 32  Version                    11.4.1 */
#define VTD_REG_CAP      0x008 /* 64  Capability                 11.4.2 */
#define VTD_REG_ECAP     0x010 /* 64  Extended capability        11.4.3 */
#define VTD_REG_GCMD     0x018 /* 32  Global command             11.4.4 */
#define VTD_REG_GSTS     0x01C /* 32  Global status              11.4.5 */
#define VTD_REG_RTADDR   0x020 /* 64  Root table address         11.4.6 */
#define VTD_REG_CCMD     0x028 /* 64  Context command            11.4.7 */
#define VTD_REG_FSTS     0x034 /* 32  Fault status               11.4.9.1 */
#define VTD_REG_FECTL    0x038 /* 32  Fault event control        11.4.9.2 */
#define VTD_REG_FEDATA   0x03C /* 32  Fault event data           11.4.9.3 */
#define VTD_REG_FEADDR   0x040 /* 32  Fault event address        11.4.9.4 */
#define VTD_REG_FEUADDR  0x044 /* 32  Fault event upper address  11.4.9.5 */
#define VTD_REG_AFLOG    0x058 /* 64  Advanced fault log         11.4.9.7 */
#define VTD_REG_PMEN     0x064 /* 32  Protected memory enable    11.4.10 */
#define VTD_REG_IQH      0x080 /* 64  Invalidation queue head    11.4.11 */
#define VTD_REG_IQT      0x088 /* 64  Invalidation queue tail    11.4.11 */
#define VTD_REG_IQA      0x090 /* 64  Invalidation queue address 11.4.11 */
#define VTD_REG_ICS      0x09C /* 32  Invalidation completion status */
#define VTD_REG_IECTL    0x0A0 /* 32  Invalidation event control */
#define VTD_REG_IEDATA   0x0A4 /* 32  Invalidation event data */
#define VTD_REG_IEADDR   0x0A8 /* 32  Invalidation event address */
#define VTD_REG_IEUADDR  0x0AC /* 32  Invalidation event upper address */
#define VTD_REG_IQERCD   0x0B0 /* 64  Invalidation queue error record */
#define VTD_REG_IRTA     0x0B8 /* 64  Interrupt remapping table address 11.4.12 */

/* IOTLB registers sit at ECAP.IRO * 16 (11.4.8): IVA first, IOTLB_REG at +8. */
#define VTD_REG_IVA_OFF       0x0 /* 11.4.8.2 */
#define VTD_REG_IOTLB_OFF     0x8 /* 11.4.8.1 */
/* Fault recording registers sit at CAP.FRO * 16, 16 bytes each (11.4.9.6). */
#define VTD_FRCD_REG_SIZE     16

/* ---- values this model chose (documented in docs/vtd.md) ---------------- */
#define VTD_MODEL_VER       0x10  /* version 1.0 */
#define VTD_MODEL_IRO       0x0F  /* IVA at 0xF0, IOTLB_REG at 0xF8 (as QEMU) */
#define VTD_MODEL_FRO       0x22  /* fault records from 0x220 (as QEMU) */
#define VTD_MODEL_REG_IVA   (VTD_MODEL_IRO * 16 + VTD_REG_IVA_OFF)
#define VTD_MODEL_REG_IOTLB (VTD_MODEL_IRO * 16 + VTD_REG_IOTLB_OFF)
#define VTD_MODEL_REG_FRCD  (VTD_MODEL_FRO * 16)
#define VTD_MODEL_HAW       39    /* host address width: table/page addresses */
#define VTD_MODEL_MAMV      18    /* largest IVA/descriptor AM: 1 GiB */
#define VTD_MODEL_ND        6     /* 2^(4+2*6) = 65536 domains: 16-bit DIDs */
#define VTD_MODEL_MHMV      0xF   /* IEC index-selective mask up to 2^15 */

/* ---- VER (11.4.1) ------------------------------------------------------- */
#define VTD_VER_MAX_SHIFT 4
#define VTD_VER_MAX_MASK  VTD_GENMASK(7, 4)
#define VTD_VER_MIN_SHIFT 0
#define VTD_VER_MIN_MASK  VTD_GENMASK(3, 0)

/* ---- CAP (11.4.2) ------------------------------------------------------- */
#define VTD_CAP_ND_SHIFT     0          /* domains = 2^(4 + 2*ND) */
#define VTD_CAP_ND_MASK      VTD_GENMASK(2, 0)
#define VTD_CAP_AFL          VTD_BIT(3)
#define VTD_CAP_RWBF         VTD_BIT(4)
#define VTD_CAP_PLMR         VTD_BIT(5)
#define VTD_CAP_PHMR         VTD_BIT(6)
#define VTD_CAP_CM           VTD_BIT(7)
#define VTD_CAP_SAGAW_SHIFT  8
#define VTD_CAP_SAGAW_MASK   VTD_GENMASK(12, 8)
#define VTD_CAP_SAGAW_39BIT  0x2        /* 3-level (AW=1) */
#define VTD_CAP_SAGAW_48BIT  0x4        /* 4-level (AW=2) */
#define VTD_CAP_MGAW_SHIFT   16         /* value = MGAW - 1 */
#define VTD_CAP_MGAW_MASK    VTD_GENMASK(21, 16)
#define VTD_CAP_ZLR          VTD_BIT(22)
#define VTD_CAP_FRO_SHIFT    24         /* offset / 16 */
#define VTD_CAP_FRO_MASK     VTD_GENMASK(33, 24)
#define VTD_CAP_SLLPS_SHIFT  34
#define VTD_CAP_SLLPS_MASK   VTD_GENMASK(37, 34)
#define VTD_CAP_SLLPS_2M     0x1
#define VTD_CAP_SLLPS_1G     0x2
#define VTD_CAP_PSI          VTD_BIT(39)
#define VTD_CAP_NFR_SHIFT    40         /* value = number of records - 1 */
#define VTD_CAP_NFR_MASK     VTD_GENMASK(47, 40)
#define VTD_CAP_MAMV_SHIFT   48
#define VTD_CAP_MAMV_MASK    VTD_GENMASK(53, 48)
#define VTD_CAP_DWD          VTD_BIT(54)
#define VTD_CAP_DRD          VTD_BIT(55)
#define VTD_CAP_FL1GP        VTD_BIT(56)
#define VTD_CAP_PI           VTD_BIT(59)

static inline unsigned vtd_cap_sagaw(uint64_t cap) { return (unsigned)vtd_field(cap, VTD_CAP_SAGAW_MASK, VTD_CAP_SAGAW_SHIFT); }
static inline unsigned vtd_cap_mgaw(uint64_t cap)  { return (unsigned)vtd_field(cap, VTD_CAP_MGAW_MASK, VTD_CAP_MGAW_SHIFT) + 1; }
static inline unsigned vtd_cap_fro(uint64_t cap)   { return (unsigned)vtd_field(cap, VTD_CAP_FRO_MASK, VTD_CAP_FRO_SHIFT) * 16; }
static inline unsigned vtd_cap_nfr(uint64_t cap)   { return (unsigned)vtd_field(cap, VTD_CAP_NFR_MASK, VTD_CAP_NFR_SHIFT) + 1; }
static inline unsigned vtd_cap_sllps(uint64_t cap) { return (unsigned)vtd_field(cap, VTD_CAP_SLLPS_MASK, VTD_CAP_SLLPS_SHIFT); }
static inline unsigned vtd_cap_mamv(uint64_t cap)  { return (unsigned)vtd_field(cap, VTD_CAP_MAMV_MASK, VTD_CAP_MAMV_SHIFT); }

/* ---- ECAP (11.4.3) ------------------------------------------------------ */
#define VTD_ECAP_C          VTD_BIT(0)  /* page-walk coherency */
#define VTD_ECAP_QI         VTD_BIT(1)  /* queued invalidation */
#define VTD_ECAP_DT         VTD_BIT(2)  /* device-TLB */
#define VTD_ECAP_IR         VTD_BIT(3)  /* interrupt remapping */
#define VTD_ECAP_EIM        VTD_BIT(4)  /* extended interrupt mode (x2APIC) */
#define VTD_ECAP_PT         VTD_BIT(6)  /* pass-through */
#define VTD_ECAP_SC         VTD_BIT(7)  /* snoop control */
#define VTD_ECAP_IRO_SHIFT  8           /* IOTLB register offset / 16 */
#define VTD_ECAP_IRO_MASK   VTD_GENMASK(17, 8)
#define VTD_ECAP_MHMV_SHIFT 20
#define VTD_ECAP_MHMV_MASK  VTD_GENMASK(23, 20)
#define VTD_ECAP_PRS        VTD_BIT(29)
#define VTD_ECAP_SMTS       VTD_BIT(43) /* scalable mode */
#define VTD_ECAP_SLTS       VTD_BIT(46) /* second-level translation (scalable mode) */

static inline unsigned vtd_ecap_iro(uint64_t ecap) { return (unsigned)vtd_field(ecap, VTD_ECAP_IRO_MASK, VTD_ECAP_IRO_SHIFT) * 16; }

/* ---- GCMD (11.4.4) / GSTS (11.4.5): same bit positions ------------------ */
#define VTD_GCMD_TE     VTD_BIT(31) /* translation enable */
#define VTD_GCMD_SRTP   VTD_BIT(30) /* set root table pointer (one-shot) */
#define VTD_GCMD_SFL    VTD_BIT(29) /* set fault log (one-shot) */
#define VTD_GCMD_EAFL   VTD_BIT(28) /* enable advanced fault logging */
#define VTD_GCMD_WBF    VTD_BIT(27) /* write buffer flush (one-shot) */
#define VTD_GCMD_QIE    VTD_BIT(26) /* queued invalidation enable */
#define VTD_GCMD_IRE    VTD_BIT(25) /* interrupt remapping enable */
#define VTD_GCMD_SIRTP  VTD_BIT(24) /* set interrupt remap table pointer (one-shot) */
#define VTD_GCMD_CFI    VTD_BIT(23) /* compatibility format interrupt */
/* The one-shot commands: their GCMD bit does not persist as state. */
#define VTD_GCMD_ONE_SHOT (VTD_GCMD_SRTP | VTD_GCMD_SFL | VTD_GCMD_WBF | VTD_GCMD_SIRTP)

#define VTD_GSTS_TES    VTD_BIT(31)
#define VTD_GSTS_RTPS   VTD_BIT(30)
#define VTD_GSTS_FLS    VTD_BIT(29)
#define VTD_GSTS_AFLS   VTD_BIT(28)
#define VTD_GSTS_WBFS   VTD_BIT(27)
#define VTD_GSTS_QIES   VTD_BIT(26)
#define VTD_GSTS_IRES   VTD_BIT(25)
#define VTD_GSTS_IRTPS  VTD_BIT(24)
#define VTD_GSTS_CFIS   VTD_BIT(23)

/* ---- RTADDR (11.4.6) ---------------------------------------------------- */
#define VTD_RTADDR_RTA_MASK   VTD_GENMASK(63, 12)
#define VTD_RTADDR_TTM_SHIFT  10          /* 0 legacy, 1 scalable, 3 abort-DMA */
#define VTD_RTADDR_TTM_MASK   VTD_GENMASK(11, 10)

/* ---- CCMD (11.4.7) ------------------------------------------------------ */
#define VTD_CCMD_ICC          VTD_BIT(63)
#define VTD_CCMD_CIRG_SHIFT   61
#define VTD_CCMD_CIRG_MASK    VTD_GENMASK(62, 61)
#define VTD_CCMD_CAIG_SHIFT   59
#define VTD_CCMD_CAIG_MASK    VTD_GENMASK(60, 59)
#define VTD_CCMD_FM_SHIFT     32
#define VTD_CCMD_FM_MASK      VTD_GENMASK(33, 32)
#define VTD_CCMD_SID_SHIFT    16
#define VTD_CCMD_SID_MASK     VTD_GENMASK(31, 16)
#define VTD_CCMD_DID_SHIFT    0
#define VTD_CCMD_DID_MASK     VTD_GENMASK(15, 0)
/* CIRG / CAIG granularity encodings */
#define VTD_CCMD_GLOBAL       1
#define VTD_CCMD_DOMAIN       2
#define VTD_CCMD_DEVICE       3

/* ---- IOTLB_REG (11.4.8.1) / IVA (11.4.8.2) ------------------------------ */
#define VTD_IOTLB_IVT         VTD_BIT(63)
#define VTD_IOTLB_IIRG_SHIFT  60
#define VTD_IOTLB_IIRG_MASK   VTD_GENMASK(61, 60)
#define VTD_IOTLB_IAIG_SHIFT  57
#define VTD_IOTLB_IAIG_MASK   VTD_GENMASK(58, 57)
#define VTD_IOTLB_DR          VTD_BIT(49)
#define VTD_IOTLB_DW          VTD_BIT(48)
#define VTD_IOTLB_DID_SHIFT   32
#define VTD_IOTLB_DID_MASK    VTD_GENMASK(47, 32)
/* IIRG / IAIG granularity encodings */
#define VTD_IOTLB_GLOBAL      1
#define VTD_IOTLB_DOMAIN      2
#define VTD_IOTLB_PAGE        3

#define VTD_IVA_ADDR_MASK     VTD_GENMASK(63, 12)
#define VTD_IVA_IH            VTD_BIT(6)
#define VTD_IVA_AM_SHIFT      0
#define VTD_IVA_AM_MASK       VTD_GENMASK(5, 0)

/* ---- FSTS (11.4.9.1) / FECTL (11.4.9.2) --------------------------------- */
#define VTD_FSTS_PFO          VTD_BIT(0)  /* primary fault overflow, RW1C */
#define VTD_FSTS_PPF          VTD_BIT(1)  /* primary pending fault, RO (OR of all F) */
#define VTD_FSTS_AFO          VTD_BIT(2)
#define VTD_FSTS_APF          VTD_BIT(3)
#define VTD_FSTS_IQE          VTD_BIT(4)  /* invalidation queue error, RW1C */
#define VTD_FSTS_ICE          VTD_BIT(5)
#define VTD_FSTS_ITE          VTD_BIT(6)
#define VTD_FSTS_FRI_SHIFT    8           /* fault record index */
#define VTD_FSTS_FRI_MASK     VTD_GENMASK(15, 8)

#define VTD_FECTL_IM          VTD_BIT(31) /* interrupt mask */
#define VTD_FECTL_IP          VTD_BIT(30) /* interrupt pending, RO */

/* ---- fault recording register (11.4.9.6, 9.9), as two qwords ------------ */
#define VTD_FRCD_LO_FI_MASK   VTD_GENMASK(63, 12) /* faulting page address */
#define VTD_FRCD_LO_FI_IR_SHIFT 48                /* IR faults: interrupt_index in FI[63:48] */
#define VTD_FRCD_HI_SID_SHIFT 0
#define VTD_FRCD_HI_SID_MASK  VTD_GENMASK(15, 0)
#define VTD_FRCD_HI_FR_SHIFT  32                  /* fault reason */
#define VTD_FRCD_HI_FR_MASK   VTD_GENMASK(39, 32)
#define VTD_FRCD_HI_T         VTD_BIT(62)         /* 1 = read request, 0 = write */
#define VTD_FRCD_HI_F         VTD_BIT(63)         /* fault, RW1C */

/* ---- invalidation queue registers (11.4.11) ----------------------------- */
#define VTD_IQH_QH_SHIFT      4           /* descriptor index (128-bit descs) */
#define VTD_IQH_QH_MASK       VTD_GENMASK(18, 4)
#define VTD_IQT_QT_SHIFT      4
#define VTD_IQT_QT_MASK       VTD_GENMASK(18, 4)
#define VTD_IQA_IQA_MASK      VTD_GENMASK(63, 12)
#define VTD_IQA_DW            VTD_BIT(11) /* 256-bit descriptors (scalable mode) */
#define VTD_IQA_QS_SHIFT      0           /* queue = 2^QS 4 KiB pages */
#define VTD_IQA_QS_MASK       VTD_GENMASK(2, 0)
#define VTD_ICS_IWC           VTD_BIT(0)  /* invalidation wait descriptor complete, RW1C */
#define VTD_IECTL_IM          VTD_BIT(31)
#define VTD_IECTL_IP          VTD_BIT(30)
#define VTD_QI_DESC_SIZE      16          /* 128-bit descriptors */

/* ---- IRTA (11.4.12) ----------------------------------------------------- */
#define VTD_IRTA_IRTA_MASK    VTD_GENMASK(63, 12)
#define VTD_IRTA_EIME         VTD_BIT(11) /* x2APIC (32-bit) destination IDs */
#define VTD_IRTA_S_SHIFT      0           /* table has 2^(S+1) entries */
#define VTD_IRTA_S_MASK       VTD_GENMASK(3, 0)

/* ---- root entry (9.1; legacy mode, 128 bits, indexed by bus) ------------ */
#define VTD_ROOT_ENTRY_SIZE   16
#define VTD_ROOT_LO_P         VTD_BIT(0)
#define VTD_ROOT_LO_CTP_MASK  VTD_GENMASK(63, 12)
#define VTD_ROOT_LO_RSVD      VTD_GENMASK(11, 1)  /* plus CTP bits >= HAW; hi qword all reserved */

/* ---- context entry (9.3; legacy mode, 128 bits, indexed by devfn) ------- */
#define VTD_CONTEXT_ENTRY_SIZE     16
#define VTD_CONTEXT_LO_P           VTD_BIT(0)
#define VTD_CONTEXT_LO_FPD         VTD_BIT(1)  /* evaluated even when P = 0 */
#define VTD_CONTEXT_LO_TT_SHIFT    2
#define VTD_CONTEXT_LO_TT_MASK     VTD_GENMASK(3, 2)
#define VTD_CONTEXT_LO_RSVD        VTD_GENMASK(11, 4)
#define VTD_CONTEXT_LO_SLPTPTR_MASK VTD_GENMASK(63, 12)
#define VTD_CONTEXT_HI_AW_SHIFT    0           /* levels = AW + 2, AGAW = 30 + 9*AW */
#define VTD_CONTEXT_HI_AW_MASK     VTD_GENMASK(2, 0)
#define VTD_CONTEXT_HI_AVAIL_MASK  VTD_GENMASK(6, 3) /* ignored by hardware */
#define VTD_CONTEXT_HI_DID_SHIFT   8
#define VTD_CONTEXT_HI_DID_MASK    VTD_GENMASK(23, 8)
#define VTD_CONTEXT_HI_RSVD        (VTD_BIT(7) | VTD_GENMASK(63, 24))
/* TT: translation type */
#define VTD_CONTEXT_TT_MULTI_LEVEL 0  /* untranslated requests walk 2nd-level tables */
#define VTD_CONTEXT_TT_DEV_IOTLB   1  /* same, device-TLB allowed (needs ECAP.DT) */
#define VTD_CONTEXT_TT_PASS_THROUGH 2 /* needs ECAP.PT */
/* AW encodings */
#define VTD_CONTEXT_AW_39BIT       1  /* 3-level */
#define VTD_CONTEXT_AW_48BIT       2  /* 4-level */

static inline unsigned vtd_aw_levels(unsigned aw) { return aw + 2; }
static inline unsigned vtd_aw_agaw(unsigned aw)   { return 30 + 9 * aw; }

/* ---- second-level paging entry (9.8) ------------------------------------ */
#define VTD_SL_R              VTD_BIT(0)
#define VTD_SL_W              VTD_BIT(1)
#define VTD_SL_X              VTD_BIT(2)
#define VTD_SL_PS             VTD_BIT(7)  /* leaf at level 2 (2 MiB) or 3 (1 GiB) */
#define VTD_SL_SNP            VTD_BIT(11) /* reserved unless ECAP.SC */
#define VTD_SL_ADDR_MASK      VTD_GENMASK(51, 12) /* further limited to HAW */
#define VTD_SL_TM             VTD_BIT(62) /* reserved unless ECAP.DT */
#define VTD_SL_IGNORED_HI     (VTD_GENMASK(61, 52) | VTD_BIT(63))
#define VTD_SL_ENTRIES        512
#define VTD_SL_LEVEL_BITS     9

/* Index into the table at level (1 = 4 KiB PTE ... 4 = PML4E). */
static inline unsigned vtd_sl_index(uint64_t iova, unsigned level)
{
    return (unsigned)((iova >> (12 + VTD_SL_LEVEL_BITS * (level - 1))) & (VTD_SL_ENTRIES - 1));
}
/* Bytes mapped by one leaf at level. */
static inline uint64_t vtd_sl_level_size(unsigned level)
{
    return 1ull << (12 + VTD_SL_LEVEL_BITS * (level - 1));
}

/* ---- invalidation descriptors (6.5.2), 128-bit: lo / hi qwords ---------- */
#define VTD_INV_DESC_TYPE_MASK     VTD_GENMASK(3, 0)
#define VTD_INV_DESC_TYPE_HI_MASK  VTD_GENMASK(11, 9)  /* type[6:4], 0 for these */
#define VTD_INV_DESC_CC            1  /* context-cache invalidate      6.5.2.1 */
#define VTD_INV_DESC_IOTLB         2  /* IOTLB invalidate              6.5.2.3 */
#define VTD_INV_DESC_DEV_IOTLB     3  /* device-TLB invalidate         6.5.2.5 */
#define VTD_INV_DESC_IEC           4  /* interrupt entry cache         6.5.2.7 */
#define VTD_INV_DESC_WAIT          5  /* invalidation wait             6.5.2.8 */

/* context-cache invalidate (6.5.2.1) */
#define VTD_INV_CC_G_SHIFT         4  /* 1 global, 2 domain, 3 device */
#define VTD_INV_CC_G_MASK          VTD_GENMASK(5, 4)
#define VTD_INV_CC_DID_SHIFT       16
#define VTD_INV_CC_DID_MASK        VTD_GENMASK(31, 16)
#define VTD_INV_CC_SID_SHIFT       32
#define VTD_INV_CC_SID_MASK        VTD_GENMASK(47, 32)
#define VTD_INV_CC_FM_SHIFT        48
#define VTD_INV_CC_FM_MASK         VTD_GENMASK(49, 48)
#define VTD_INV_CC_LO_RSVD         (VTD_GENMASK(8, 6) | VTD_GENMASK(15, 12) | VTD_GENMASK(63, 50))

/* IOTLB invalidate (6.5.2.3) */
#define VTD_INV_IOTLB_G_SHIFT      4  /* 1 global, 2 domain, 3 page */
#define VTD_INV_IOTLB_G_MASK       VTD_GENMASK(5, 4)
#define VTD_INV_IOTLB_DW           VTD_BIT(6)
#define VTD_INV_IOTLB_DR           VTD_BIT(7)
#define VTD_INV_IOTLB_DID_SHIFT    16
#define VTD_INV_IOTLB_DID_MASK     VTD_GENMASK(31, 16)
#define VTD_INV_IOTLB_LO_RSVD      (VTD_BIT(8) | VTD_GENMASK(15, 12) | VTD_GENMASK(63, 32))
#define VTD_INV_IOTLB_HI_ADDR_MASK VTD_GENMASK(63, 12)
#define VTD_INV_IOTLB_HI_IH        VTD_BIT(6)
#define VTD_INV_IOTLB_HI_AM_SHIFT  0
#define VTD_INV_IOTLB_HI_AM_MASK   VTD_GENMASK(5, 0)
#define VTD_INV_IOTLB_HI_RSVD      VTD_GENMASK(11, 7)

/* interrupt entry cache invalidate (6.5.2.7) */
#define VTD_INV_IEC_G              VTD_BIT(4)  /* 0 global, 1 index-selective */
#define VTD_INV_IEC_IM_SHIFT       27          /* index mask */
#define VTD_INV_IEC_IM_MASK        VTD_GENMASK(31, 27)
#define VTD_INV_IEC_IIDX_SHIFT     32
#define VTD_INV_IEC_IIDX_MASK      VTD_GENMASK(47, 32)
#define VTD_INV_IEC_LO_RSVD        (VTD_GENMASK(8, 5) | VTD_GENMASK(26, 12) | VTD_GENMASK(63, 48))

/* invalidation wait (6.5.2.8) */
#define VTD_INV_WAIT_IF            VTD_BIT(4)  /* set ICS.IWC (+ completion event) */
#define VTD_INV_WAIT_SW            VTD_BIT(5)  /* write status data to status address */
#define VTD_INV_WAIT_FN            VTD_BIT(6)  /* fence */
#define VTD_INV_WAIT_SDATA_SHIFT   32
#define VTD_INV_WAIT_SDATA_MASK    VTD_GENMASK(63, 32)
#define VTD_INV_WAIT_LO_RSVD       (VTD_GENMASK(8, 7) | VTD_GENMASK(31, 12))
#define VTD_INV_WAIT_HI_ADDR_MASK  VTD_GENMASK(63, 2)
#define VTD_INV_WAIT_HI_RSVD       VTD_GENMASK(1, 0)

/* ---- the interrupt address range (3.14, 5.1) ----------------------------
 * "Handling Requests to Interrupt Address Range": requests without PASID
 * to 0xFEEx_xxxx are not subjected to DMA remapping (even if the second-level
 * tables map that range); they are interrupt requests, handled by interrupt
 * remapping (5.1: "interrupt requests appear to the Root-Complex as upstream
 * memory write requests to the interrupt-address-range 0xFEEX_XXXXh").  Read
 * requests, atomics and non-DWORD-length write requests to the range are
 * illegal and completed as Unsupported Request by the root complex: no DMA
 * remapping fault is recorded for them (no translation happens). */
#define VTD_INTR_WINDOW_BASE       0xFEE00000ull
#define VTD_INTR_WINDOW_LAST       0xFEEFFFFFull
#define VTD_INTR_REQ_SIZE          4u             /* one DWORD: the interrupt data */

/* ---- interrupt request formats (5.1.2) ---------------------------------- */
#define VTD_MSI_ADDR_BASE          0xFEE00000ull  /* interrupt address window */
#define VTD_MSI_ADDR_WINDOW_MASK   VTD_GENMASK(31, 20)
#define VTD_MSI_ADDR_IF            VTD_BIT(4)     /* interrupt format: 1 = remappable */
/* remappable format (5.1.2.2) */
#define VTD_MSI_ADDR_HANDLE_LO_SHIFT 5            /* handle[14:0] in addr[19:5] */
#define VTD_MSI_ADDR_HANDLE_LO_MASK  VTD_GENMASK(19, 5)
#define VTD_MSI_ADDR_SHV           VTD_BIT(3)     /* subhandle valid */
#define VTD_MSI_ADDR_HANDLE_15     VTD_BIT(2)     /* handle[15] */
#define VTD_MSI_DATA_SUBHANDLE_MASK VTD_GENMASK(15, 0)
#define VTD_MSI_DATA_RSVD          VTD_GENMASK(31, 16)
/* compatibility format (5.1.2.1) */
#define VTD_MSI_ADDR_DEST_SHIFT    12
#define VTD_MSI_ADDR_DEST_MASK     VTD_GENMASK(19, 12)
#define VTD_MSI_ADDR_RH            VTD_BIT(3)
#define VTD_MSI_ADDR_DM            VTD_BIT(2)
#define VTD_MSI_DATA_VECTOR_MASK   VTD_GENMASK(7, 0)
#define VTD_MSI_DATA_DLM_SHIFT     8
#define VTD_MSI_DATA_DLM_MASK      VTD_GENMASK(10, 8)
#define VTD_MSI_DATA_TM            VTD_BIT(15)

/* Interrupt index of a remappable-format request (5.1.2.2, 5.1.4). */
static inline uint32_t vtd_msi_handle(uint64_t addr)
{
    return (uint32_t)(vtd_field(addr, VTD_MSI_ADDR_HANDLE_LO_MASK, VTD_MSI_ADDR_HANDLE_LO_SHIFT) |
                      ((addr & VTD_MSI_ADDR_HANDLE_15) ? 0x8000u : 0));
}

/* ---- interrupt remapping table entry (9.10), remapped format ------------ */
#define VTD_IRTE_SIZE              16
#define VTD_IRTE_LO_P              VTD_BIT(0)
#define VTD_IRTE_LO_FPD            VTD_BIT(1)
#define VTD_IRTE_LO_DM             VTD_BIT(2)  /* destination mode: 1 logical */
#define VTD_IRTE_LO_RH             VTD_BIT(3)  /* redirection hint */
#define VTD_IRTE_LO_TM             VTD_BIT(4)  /* trigger mode: 1 level */
#define VTD_IRTE_LO_DLM_SHIFT      5
#define VTD_IRTE_LO_DLM_MASK       VTD_GENMASK(7, 5)
#define VTD_IRTE_LO_AVAIL_MASK     VTD_GENMASK(11, 8)
#define VTD_IRTE_LO_IM             VTD_BIT(15) /* IRTE mode: 1 posted (needs CAP.PI) */
#define VTD_IRTE_LO_V_SHIFT        16
#define VTD_IRTE_LO_V_MASK         VTD_GENMASK(23, 16)
#define VTD_IRTE_LO_DST_SHIFT      32
#define VTD_IRTE_LO_DST_MASK       VTD_GENMASK(63, 32)
#define VTD_IRTE_LO_RSVD           (VTD_GENMASK(14, 12) | VTD_GENMASK(31, 24))
/* xAPIC mode (IRTA.EIME = 0): APIC ID in DST[15:8] = bits 47:40, rest reserved */
#define VTD_IRTE_LO_DST_XAPIC_SHIFT 40
#define VTD_IRTE_LO_DST_XAPIC_MASK VTD_GENMASK(47, 40)
#define VTD_IRTE_LO_XAPIC_RSVD     (VTD_GENMASK(39, 32) | VTD_GENMASK(63, 48))
#define VTD_IRTE_HI_SID_SHIFT      0
#define VTD_IRTE_HI_SID_MASK       VTD_GENMASK(15, 0)
#define VTD_IRTE_HI_SQ_SHIFT       16
#define VTD_IRTE_HI_SQ_MASK        VTD_GENMASK(17, 16)
#define VTD_IRTE_HI_SVT_SHIFT      18
#define VTD_IRTE_HI_SVT_MASK       VTD_GENMASK(19, 18)
#define VTD_IRTE_HI_RSVD           VTD_GENMASK(63, 20)
/* SVT: source validation type */
#define VTD_IRTE_SVT_NONE          0
#define VTD_IRTE_SVT_SID           1  /* verify requester-id against SID, masked per SQ */
#define VTD_IRTE_SVT_BUS           2  /* SID[15:8] <= bus <= SID[7:0] */

/* ---- DMA remapping fault reasons (7.1.3, Table "Unsuccessful translated / untranslated requests") ---- */
enum vtd_fault_reason {
    VTD_FR_ROOT_ENTRY_P        = 0x1, /* root entry not present */
    VTD_FR_CONTEXT_ENTRY_P     = 0x2, /* context entry not present */
    VTD_FR_CONTEXT_ENTRY_INV   = 0x3, /* invalid context entry (AW not in SAGAW) */
    VTD_FR_ADDR_BEYOND_MGAW    = 0x4, /* address above 2^min(AGAW, MGAW) - 1 */
    VTD_FR_WRITE               = 0x5, /* write without W permission */
    VTD_FR_READ                = 0x6, /* read without R permission */
    VTD_FR_PAGING_ENTRY_ACCESS = 0x7, /* paging entry read failed */
    VTD_FR_ROOT_TABLE_ACCESS   = 0x8, /* root entry read failed */
    VTD_FR_CONTEXT_TABLE_ACCESS = 0x9,/* context entry read failed */
    VTD_FR_ROOT_ENTRY_RSVD     = 0xA, /* reserved bits in root entry */
    VTD_FR_CONTEXT_ENTRY_RSVD  = 0xB, /* reserved bits in context entry */
    VTD_FR_PAGING_ENTRY_RSVD   = 0xC, /* reserved bits in paging entry */
    VTD_FR_CONTEXT_ENTRY_TT    = 0xD, /* request blocked by context-entry TT */

    /* interrupt remapping fault reasons (5.1.4.1, 7.1.3) */
    VTD_FR_IR_REQ_RSVD         = 0x20, /* reserved field set in remappable request */
    VTD_FR_IR_INDEX_OVER       = 0x21, /* interrupt index beyond IRTA.S */
    VTD_FR_IR_ENTRY_P          = 0x22, /* IRTE not present */
    VTD_FR_IR_ROOT_INVAL       = 0x23, /* IR table access failed */
    VTD_FR_IR_IRTE_RSVD        = 0x24, /* reserved bits in IRTE */
    VTD_FR_IR_REQ_COMPAT       = 0x25, /* compatibility-format request blocked */
    VTD_FR_IR_SID_ERR          = 0x26, /* source-id verification failed */
};

#endif
