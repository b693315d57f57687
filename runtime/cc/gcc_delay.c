/* Delay-based estimator: packet groups and their inter-group delay variation. */
#include "cc/gcc_delay.h"

#define GROUP_SPAN RTC_MS(5)             /* a pacer burst */
#define BURST_SPAN RTC_MS(100)           /* longest arrival burst merged into one group */

void rtc_gcc_delay_init(rtc_gcc_delay *d, double start_bps, double min_bps, double max_bps)
{
    *d = (rtc_gcc_delay){ 0 };
    rtc_gcc_trendline_init(&d->trend);
    rtc_gcc_overuse_init(&d->detector);
    rtc_gcc_aimd_init(&d->aimd, start_bps, min_bps, max_bps);
    d->usage = RTC_GCC_NORMAL;
}

/* A packet joins the current group when it left within 5 ms of the group's first one,
 * or when it arrived in a burst right behind it (cross traffic held the group in a
 * queue and released it at once: the spacing it lost is not ours to judge). */
static bool delay__joins(const rtc_gcc_group *g, const rtc_cc_packet *p)
{
    if (p->sent - g->first_send <= GROUP_SPAN) return true;
    rtc_time arr_delta = p->arrival - g->last_arrival;
    rtc_time send_delta = p->sent - g->last_send;
    return arr_delta - send_delta < 0 && arr_delta <= GROUP_SPAN && p->arrival - g->first_arrival < BURST_SPAN;
}

static void delay__start(rtc_gcc_group *g, const rtc_cc_packet *p)
{
    *g = (rtc_gcc_group){ p->sent, p->sent, p->arrival, p->arrival, true };
}

/* Compare the completed current group with the one before it. */
static rtc_gcc_usage delay__finish_group(rtc_gcc_delay *d, rtc_time now)
{
    rtc_gcc_usage u = d->detector.state;
    if (d->prev.valid) {
        rtc_time send_delta = d->cur.last_send - d->prev.last_send;
        rtc_time arr_delta = d->cur.last_arrival - d->prev.last_arrival;
        if (arr_delta < 0 || arr_delta - send_delta > RTC_SEC(3)) {
            /* The receiver's clock jumped or the path changed: start over. */
            rtc_gcc_trendline_init(&d->trend);
        } else {
            double delta_ms = (double)(arr_delta - send_delta) / 1000.0;
            d->last_trend = rtc_gcc_trendline_update(&d->trend, delta_ms, (double)d->cur.last_arrival / 1000.0);
            (void)now;
            u = rtc_gcc_overuse_detect(&d->detector, d->last_trend, d->cur.last_arrival);
        }
    }
    d->prev = d->cur;
    return u;
}

bool rtc_gcc_delay_detect(rtc_gcc_delay *d, const rtc_cc_packet *pk, size_t n, rtc_time now)
{
    bool overuse = false, any = false;
    rtc_gcc_usage last = d->detector.state;
    for (size_t i = 0; i < n; i++) {
        const rtc_cc_packet *p = &pk[i];
        if (p->arrival == RTC_TIME_NEVER) continue;
        any = true;
        if (!d->cur.valid) { delay__start(&d->cur, p); continue; }
        if (p->sent < d->cur.first_send) continue;       /* reordered behind its group */
        if (delay__joins(&d->cur, p)) {
            if (p->sent > d->cur.last_send) d->cur.last_send = p->sent;
            if (p->arrival > d->cur.last_arrival) d->cur.last_arrival = p->arrival;
            continue;
        }
        last = delay__finish_group(d, now);
        if (last == RTC_GCC_OVERUSE) overuse = true;
        delay__start(&d->cur, p);
    }
    if (any) d->usage = overuse ? RTC_GCC_OVERUSE : last;
    return any;
}

double rtc_gcc_delay_update(rtc_gcc_delay *d, const rtc_cc_packet *pk, size_t n,
                            double acked_bps, rtc_time rtt, rtc_time now)
{
    if (!rtc_gcc_delay_detect(d, pk, n, now)) return d->aimd.bitrate;
    return rtc_gcc_aimd_update(&d->aimd, d->usage, acked_bps, rtt, now);
}
