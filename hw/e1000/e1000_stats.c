/* Statistics registers (SDM 13.7): 32-bit counters that saturate and clear
 * when read; 64-bit octet counters are L/H pairs, reading H clears both.
 * Also the Ethernet FCS (CRC-32) and DMA-fault bookkeeping. */
#include "hw/e1000/e1000_priv.h"

void e1000__stat_inc(struct e1000 *e, uint32_t off)
{
    uint32_t v = e1000__r(e, off);
    if (v != UINT32_MAX)
        e1000__w(e, off, v + 1);
}

void e1000__stat_add64(struct e1000 *e, uint32_t off_low, uint64_t add)
{
    uint64_t v = (uint64_t)e1000__r(e, off_low + 4) << 32 | e1000__r(e, off_low);
    v = v + add < v ? UINT64_MAX : v + add;
    e1000__w(e, off_low, (uint32_t)v);
    e1000__w(e, off_low + 4, (uint32_t)(v >> 32));
}

static bool is_high_half(uint32_t off)
{
    return off == E1000_GORCH || off == E1000_GOTCH || off == E1000_TORH || off == E1000_TOTH;
}

uint32_t e1000__stat_read(struct e1000 *e, uint32_t off)
{
    uint32_t v = e1000__r(e, off);
    e1000__w(e, off, 0);
    if (is_high_half(off))
        e1000__w(e, off - 4, 0);
    return v;
}

void e1000__crc_init(struct e1000 *e)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        e->crc_table[i] = c;
    }
}

/* IEEE 802.3 FCS over the frame; sent least significant byte first. */
uint32_t e1000__crc32(const struct e1000 *e, const uint8_t *p, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++)
        c = e->crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return ~c;
}

void e1000__dma_fault(struct e1000 *e, uint64_t addr, int err, bool tx)
{
    e->stats.dma_errors++;
    if (tx)
        e->diag.tx_dma_errors++;
    else
        e->diag.rx_dma_errors++;
    e->diag.dma_error = 1;
    e->diag.last_dma_errno = err;
    e->diag.last_dma_addr = addr;
}
