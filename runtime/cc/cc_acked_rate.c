/* Acknowledged bitrate over a sliding window of arrival times. */
#include "cc/cc_acked_rate.h"

#define WINDOW RTC_MS(500)

void rtc_cc_acked_rate_init(rtc_cc_acked_rate *r) { r->head = r->n = 0; r->bytes = 0; r->latest = 0; }

void rtc_cc_acked_rate_add(rtc_cc_acked_rate *r, rtc_time arrival, uint32_t size)
{
    if (r->n == RTC_CC_ACKED_RING) { r->bytes -= r->size[r->head]; r->head = (r->head + 1) % RTC_CC_ACKED_RING; r->n--; }
    size_t tail = (r->head + r->n) % RTC_CC_ACKED_RING;
    r->at[tail] = arrival;
    r->size[tail] = size;
    r->n++;
    r->bytes += size;
    if (arrival > r->latest) r->latest = arrival;
    while (r->n && r->at[r->head] <= r->latest - WINDOW) {
        r->bytes -= r->size[r->head];
        r->head = (r->head + 1) % RTC_CC_ACKED_RING;
        r->n--;
    }
}

double rtc_cc_acked_rate_bps(const rtc_cc_acked_rate *r)
{
    if (r->n < 2) return 0;
    rtc_time span = r->latest - r->at[r->head];
    if (span < RTC_MS(150)) return 0;
    /* The oldest packet only opens the window; its bytes arrived before it. */
    return (double)(r->bytes - r->size[r->head]) * 8e6 / (double)span;
}
