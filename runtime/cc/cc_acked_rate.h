/* Acknowledged bitrate: what the receiver got over the last 500 ms of its clock,
 * from TWCC records. AIMD decreases to a fraction of it and caps increases near it.
 * Embedded in its owner (init / free); the ring grows as packets arrive up to
 * RTC_CC_ACKED_RING (enough for 500 ms at ~60 Mbit/s of 1200-byte packets; beyond
 * that the window shortens, which only makes it noisier), so a low-rate connection
 * holds a few hundred bytes, not 48 KB. */
#ifndef RTC_CC_ACKED_RATE_H
#define RTC_CC_ACKED_RATE_H
#include "core/rtc_time.h"
#include <stddef.h>
#include <stdint.h>

#define RTC_CC_ACKED_RING 4096

struct rtc_cc_acked_entry { rtc_time at; uint32_t size; };

typedef struct rtc_cc_acked_rate {
    struct rtc_cc_acked_entry *e;   /* owned ring of cap entries */
    size_t cap, head, n;
    uint64_t bytes;              /* sum over the ring */
    rtc_time latest;
} rtc_cc_acked_rate;

void rtc_cc_acked_rate_init(rtc_cc_acked_rate *r);
void rtc_cc_acked_rate_free(rtc_cc_acked_rate *r);   /* releases the ring; init again to reuse */
/* A packet of `size` bytes arrived at `arrival` (the receiver's clock). */
void rtc_cc_acked_rate_add(rtc_cc_acked_rate *r, rtc_time arrival, uint32_t size);
/* bps over the window, 0 until it spans 150 ms. */
double rtc_cc_acked_rate_bps(const rtc_cc_acked_rate *r);

#endif
