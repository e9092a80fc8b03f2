/* EEPROM (EERD and Microwire bit-banging through EECD, SDM 5.3-5.6) and the
 * internal M88E1011-style PHY behind MDIC (SDM 13.4.7, 13.5).
 *
 * The PHY's far end is always there: autonegotiation completes at once,
 * 1000 Mb/s full duplex.  Register writes are instantaneous, so MDIC.READY
 * and EERD.DONE are already set when software reads them back. */
#include "hw/e1000/e1000_priv.h"

void e1000__eeprom_init(struct e1000 *e)
{
    uint16_t *w = e->eeprom;
    for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
        w[i] = 0;
    w[E1000_EEPROM_MAC0] = (uint16_t)(e->mac[0] | e->mac[1] << 8);
    w[E1000_EEPROM_MAC1] = (uint16_t)(e->mac[2] | e->mac[3] << 8);
    w[E1000_EEPROM_MAC2] = (uint16_t)(e->mac[4] | e->mac[5] << 8);
    w[E1000_EEPROM_INIT_CTRL1] = 0x4408; /* signature 01b in bits 15:14 */
    w[E1000_EEPROM_SUBSYS_ID] = E1000_PCI_DEV_82540EM;
    w[E1000_EEPROM_SUBSYS_VEND] = E1000_PCI_VENDOR_INTEL;
    w[E1000_EEPROM_DEVICE_ID] = E1000_PCI_DEV_82540EM;
    w[E1000_EEPROM_VENDOR_ID] = E1000_PCI_VENDOR_INTEL;
    w[E1000_EEPROM_INIT_CTRL2] = 0x3040; /* PAUSE + ASM_DIR advertised */
    uint16_t sum = 0;
    for (unsigned i = 0; i < E1000_EEPROM_CHECKSUM_REG; i++)
        sum = (uint16_t)(sum + w[i]);
    w[E1000_EEPROM_CHECKSUM_REG] = (uint16_t)(E1000_EEPROM_SUM - sum);
}

/* EERD: a read completes immediately.  Addresses past the 64-word part
 * return DONE with data 0. */
void e1000__eerd_write(struct e1000 *e, uint32_t val)
{
    uint32_t addr = (val & E1000_EERD_ADDR_MASK) >> E1000_EERD_ADDR_SHIFT;
    if (!(val & E1000_EERD_START)) {
        e1000__w(e, E1000_EERD, val & E1000_EERD_ADDR_MASK);
        return;
    }
    uint32_t data = addr < E1000_EEPROM_WORDS ? e->eeprom[addr] : 0;
    e1000__w(e, E1000_EERD, data << E1000_EERD_DATA_SHIFT | addr << E1000_EERD_ADDR_SHIFT |
                                E1000_EERD_DONE);
}

/* Microwire READ: start bit + opcode (3 bits, 110b) and 6 address bits are
 * clocked in on SK rising edges; then each rising edge puts the next data
 * bit (MSB first) on DO, continuing into the next word (sequential read).
 * Other opcodes (write/erase) are accepted and ignored: the EEPROM is
 * read-only in this model. */
static void eecd_clock(struct e1000 *e, bool di)
{
    struct e1000_eecd_state *s = &e->eecd;
    if (s->reading) {
        s->dout = (e->eeprom[s->addr] >> (15 - s->out_bit)) & 1;
        if (++s->out_bit == 16) {
            s->out_bit = 0;
            s->addr = (uint8_t)((s->addr + 1) % E1000_EEPROM_WORDS);
        }
        return;
    }
    if (s->bits_in >= 3 + E1000_EEPROM_ADDR_BITS)
        return; /* unsupported command: ignore further bits until CS drops */
    s->shift = s->shift << 1 | (di ? 1u : 0u);
    if (++s->bits_in == 3 + E1000_EEPROM_ADDR_BITS &&
        (s->shift >> E1000_EEPROM_ADDR_BITS) == E1000_EEPROM_OP_READ) {
        s->reading = true;
        s->addr = (uint8_t)(s->shift & (E1000_EEPROM_WORDS - 1));
        s->out_bit = 0;
        s->dout = 0; /* dummy zero bit */
    }
}

void e1000__eecd_write(struct e1000 *e, uint32_t val)
{
    struct e1000_eecd_state *s = &e->eecd;
    bool cs = val & E1000_EECD_CS, sk = val & E1000_EECD_SK;
    if (!cs) {
        *s = (struct e1000_eecd_state){0};
    } else {
        if (sk && !s->sk)
            eecd_clock(e, val & E1000_EECD_DI);
        s->cs = true;
        s->sk = sk;
    }
    uint32_t keep = E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_FWE_MASK |
                    E1000_EECD_REQ;
    uint32_t v = (val & keep) | E1000_EECD_PRES;
    if (val & E1000_EECD_REQ)
        v |= E1000_EECD_GNT; /* no other agent competes for the EEPROM */
    e1000__w(e, E1000_EECD, v);
}

uint32_t e1000__eecd_read(struct e1000 *e)
{
    uint32_t v = e1000__r(e, E1000_EECD) & ~E1000_EECD_DO;
    return v | (e->eecd.dout ? E1000_EECD_DO : 0);
}

void e1000__phy_reset(struct e1000 *e)
{
    uint16_t *p = e->phy;
    for (unsigned i = 0; i < E1000_PHY_REG_COUNT; i++)
        p[i] = 0;
    p[E1000_PHY_CTRL] = E1000_MII_CR_AN_ENABLE | E1000_MII_CR_FULL_DUPLEX | E1000_MII_CR_SPEED_1000;
    p[E1000_PHY_STATUS] = E1000_MII_SR_EXT_CAPS | E1000_MII_SR_LINK_STATUS |
                          E1000_MII_SR_AN_ABILITY | E1000_MII_SR_AN_COMPLETE |
                          E1000_MII_SR_PREAMBLE_SUPP | E1000_MII_SR_EXT_STATUS |
                          E1000_MII_SR_10T_HD | E1000_MII_SR_10T_FD | E1000_MII_SR_100X_HD |
                          E1000_MII_SR_100X_FD;
    p[E1000_PHY_ID1] = E1000_PHY_ID1_M88;
    p[E1000_PHY_ID2] = E1000_PHY_ID2_82540EM;
    p[E1000_PHY_AUTONEG_ADV] = E1000_NWAY_AR_SELECTOR_802_3 | E1000_NWAY_AR_10T_HD |
                               E1000_NWAY_AR_10T_FD | E1000_NWAY_AR_100TX_HD |
                               E1000_NWAY_AR_100TX_FD | E1000_NWAY_AR_PAUSE |
                               E1000_NWAY_AR_ASM_DIR;
    p[E1000_PHY_LP_ABILITY] = p[E1000_PHY_AUTONEG_ADV] | E1000_NWAY_LPAR_ACK;
    p[E1000_PHY_AUTONEG_EXP] = 0x0001; /* link partner autoneg able */
    p[E1000_PHY_1000T_CTRL] = E1000_CR_1000T_HD_CAPS | E1000_CR_1000T_FD_CAPS;
    p[E1000_PHY_1000T_STATUS] = E1000_SR_1000T_LP_HD_CAPS | E1000_SR_1000T_LP_FD_CAPS |
                                E1000_SR_1000T_REMOTE_RX_OK | E1000_SR_1000T_LOCAL_RX_OK;
    p[E1000_PHY_EXT_STATUS] = 0x3000; /* 1000BASE-T full and half duplex capable */
    p[E1000_M88_PHY_SPEC_CTRL] = 0x0068;
    p[E1000_M88_PHY_SPEC_STATUS] = E1000_M88_PSSR_LINK | E1000_M88_PSSR_SPD_DPLX_RESOLVED |
                                   E1000_M88_PSSR_DPLX | E1000_M88_PSSR_1000MBS;
}

static bool phy_reg_ro(uint32_t reg)
{
    switch (reg) {
    case E1000_PHY_STATUS:
    case E1000_PHY_ID1:
    case E1000_PHY_ID2:
    case E1000_PHY_LP_ABILITY:
    case E1000_PHY_AUTONEG_EXP:
    case E1000_PHY_1000T_STATUS:
    case E1000_PHY_EXT_STATUS:
    case E1000_M88_PHY_SPEC_STATUS:
    case E1000_M88_INT_STATUS:
    case E1000_M88_RX_ERR_CNTR:
        return true;
    default:
        return false;
    }
}

static uint16_t phy_read(struct e1000 *e, uint32_t reg)
{
    uint16_t v = e->phy[reg];
    bool down = e->phy[E1000_PHY_CTRL] & (E1000_MII_CR_POWER_DOWN | E1000_MII_CR_ISOLATE);
    if (reg == E1000_PHY_STATUS && down)
        v &= (uint16_t)~(E1000_MII_SR_LINK_STATUS | E1000_MII_SR_AN_COMPLETE);
    if (reg == E1000_M88_PHY_SPEC_STATUS && down)
        v &= (uint16_t)~E1000_M88_PSSR_LINK;
    return v;
}

static void phy_write(struct e1000 *e, uint32_t reg, uint16_t v)
{
    if (phy_reg_ro(reg))
        return;
    if (reg == E1000_PHY_CTRL) {
        if (v & E1000_MII_CR_RESET) {
            e1000__phy_reset(e);
            e->phy[E1000_PHY_CTRL] = (uint16_t)(v & ~(E1000_MII_CR_RESET | E1000_MII_CR_RESTART_AN));
        } else {
            /* RESTART_AN self-clears; negotiation completes at once. */
            e->phy[reg] = (uint16_t)(v & ~E1000_MII_CR_RESTART_AN);
        }
        e1000__update_link(e);
        return;
    }
    e->phy[reg] = v;
}

void e1000__mdic_write(struct e1000 *e, uint32_t val)
{
    uint32_t phy = (val & E1000_MDIC_PHY_MASK) >> E1000_MDIC_PHY_SHIFT;
    uint32_t reg = (val & E1000_MDIC_REG_MASK) >> E1000_MDIC_REG_SHIFT;
    uint32_t op = val & E1000_MDIC_OP_MASK;
    uint32_t out = val & ~(E1000_MDIC_READY | E1000_MDIC_ERROR);
    if (phy != E1000_PHY_ADDR_INTERNAL || (op != E1000_MDIC_OP_READ && op != E1000_MDIC_OP_WRITE)) {
        out |= E1000_MDIC_ERROR;
    } else if (op == E1000_MDIC_OP_READ) {
        out = (out & ~E1000_MDIC_DATA_MASK) | phy_read(e, reg);
    } else {
        phy_write(e, reg, (uint16_t)(val & E1000_MDIC_DATA_MASK));
    }
    e1000__w(e, E1000_MDIC, out | E1000_MDIC_READY);
    if (val & E1000_MDIC_INT_EN)
        e1000__set_cause(e, E1000_ICR_MDAC);
}
