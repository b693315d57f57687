/* Acknowledged bitrate over a sliding window of arrival times. */
#include "cc/cc_acked_rate.h"
#include <stdlib.h>

#define WINDOW RTC_MS(500)

void rtc_cc_acked_rate_init(rtc_cc_acked_rate *r) { *r = (rtc_cc_acked_rate){ 0 }; }

void rtc_cc_acked_rate_free(rtc_cc_acked_rate *r)
{
    free(r->e);
    *r = (rtc_cc_acked_rate){ 0 };
}

/* Double the ring (up to RTC_CC_ACKED_RING), oldest first. A failed allocation leaves
 * it as it is: the window then only shortens. */
static void acked__grow(rtc_cc_acked_rate *r)
{
    size_t cap = r->cap ? r->cap * 2 : 64;
    if (cap > RTC_CC_ACKED_RING) cap = RTC_CC_ACKED_RING;
    struct rtc_cc_acked_entry *e = malloc(cap * sizeof *e);
    if (!e) return;
    for (size_t i = 0; i < r->n; i++) e[i] = r->e[(r->head + i) % r->cap];
    free(r->e);
    r->e = e;
    r->cap = cap;
    r->head = 0;
}

void rtc_cc_acked_rate_add(rtc_cc_acked_rate *r, rtc_time arrival, uint32_t size)
{
    if (r->n == r->cap && r->cap < RTC_CC_ACKED_RING) acked__grow(r);
    if (!r->cap) return;
    if (r->n == r->cap) { r->bytes -= r->e[r->head].size; r->head = (r->head + 1) % r->cap; r->n--; }
    size_t tail = (r->head + r->n) % r->cap;
    r->e[tail] = (struct rtc_cc_acked_entry){ arrival, size };
    r->n++;
    r->bytes += size;
    if (arrival > r->latest) r->latest = arrival;
    while (r->n && r->e[r->head].at <= r->latest - WINDOW) {
        r->bytes -= r->e[r->head].size;
        r->head = (r->head + 1) % r->cap;
        r->n--;
    }
}

double rtc_cc_acked_rate_bps(const rtc_cc_acked_rate *r)
{
    if (r->n < 2) return 0;
    rtc_time span = r->latest - r->e[r->head].at;
    if (span < RTC_MS(150)) return 0;
    /* The oldest packet only opens the window; its bytes arrived before it. */
    return (double)(r->bytes - r->e[r->head].size) * 8e6 / (double)span;
}
