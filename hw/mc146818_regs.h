/* MC146818A real-time clock and CMOS RAM (Motorola MC146818A data sheet:
 * "Address Map" figure and "Register A".."Register D"), as on a PC at ports
 * 0x70 (index) and 0x71 (data). */
#ifndef IOVIRT_HW_MC146818_REGS_H
#define IOVIRT_HW_MC146818_REGS_H

#define RTC_PORT_INDEX   0         /* offset of port 0x70 */
#define RTC_PORT_DATA    1         /* offset of port 0x71 */
#define RTC_INDEX_NMI_DIS 0x80     /* PC: bit 7 of the index write masks NMI */
#define RTC_INDEX_MASK   0x7F

#define RTC_SECONDS      0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES      0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS        0x04      /* 12-hour mode: bit 7 = PM */
#define RTC_HOURS_ALARM  0x05
#define RTC_DAY_OF_WEEK  0x06      /* 1 = Sunday */
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH        0x08
#define RTC_YEAR         0x09      /* 0-99 */
#define RTC_REG_A        0x0A
#define  RTC_A_UIP       0x80      /* update in progress (read-only) */
#define  RTC_A_DV_32K    0x20      /* DV2-0 = 010: 32.768 kHz time base */
#define  RTC_A_RS_1024HZ 0x06      /* RS3-0 = 0110: 976.562 us periodic rate */
#define RTC_REG_B        0x0B
#define  RTC_B_SET       0x80
#define  RTC_B_PIE       0x40
#define  RTC_B_AIE       0x20
#define  RTC_B_UIE       0x10
#define  RTC_B_SQWE      0x08
#define  RTC_B_DM_BINARY 0x04      /* 1 = binary, 0 = BCD */
#define  RTC_B_24H       0x02
#define  RTC_B_DSE       0x01
#define RTC_REG_C        0x0C      /* IRQF PF AF UF, read clears (read-only) */
#define RTC_REG_D        0x0D
#define  RTC_D_VRT       0x80      /* valid RAM and time (read-only) */
#define RTC_RAM_FIRST    0x0E      /* 114 bytes of general-purpose RAM */
#define RTC_NR_REGS      0x80

#endif
