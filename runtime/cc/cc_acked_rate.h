/* Acknowledged bitrate: what the receiver got over the last 500 ms of its clock,
 * from TWCC records. AIMD decreases to a fraction of it and caps increases near it.
 * Plain value type with a fixed ring (enough for 500 ms at ~60 Mbit/s of 1200-byte
 * packets; beyond that the window shortens, which only makes it noisier). */
#ifndef RTC_CC_ACKED_RATE_H
#define RTC_CC_ACKED_RATE_H
#include "core/rtc_time.h"
#include <stddef.h>
#include <stdint.h>

#define RTC_CC_ACKED_RING 4096

typedef struct rtc_cc_acked_rate {
    rtc_time at[RTC_CC_ACKED_RING];
    uint32_t size[RTC_CC_ACKED_RING];
    size_t head, n;
    uint64_t bytes;              /* sum over the ring */
    rtc_time latest;
} rtc_cc_acked_rate;

void rtc_cc_acked_rate_init(rtc_cc_acked_rate *r);
/* A packet of `size` bytes arrived at `arrival` (the receiver's clock). */
void rtc_cc_acked_rate_add(rtc_cc_acked_rate *r, rtc_time arrival, uint32_t size);
/* bps over the window, 0 until it spans 150 ms. */
double rtc_cc_acked_rate_bps(const rtc_cc_acked_rate *r);

#endif
