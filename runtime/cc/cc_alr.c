/* ALR detector: a leaky budget at a fraction of the estimate. */
#include "cc/cc_alr.h"

#define USAGE_RATIO 0.65
#define WINDOW_S 0.5
#define START_RATIO 0.80         /* budget this full: ALR starts */
#define END_RATIO 0.50           /* this empty: it ends */

void rtc_cc_alr_init(rtc_cc_alr *a) { *a = (rtc_cc_alr){ .last = -1 }; }

void rtc_cc_alr_set_estimate(rtc_cc_alr *a, double bps)
{
    a->rate_bps = USAGE_RATIO * bps;
    a->cap_bytes = a->rate_bps * WINDOW_S / 8;
    if (a->budget_bytes > a->cap_bytes) a->budget_bytes = a->cap_bytes;
}

static void alr__advance(rtc_cc_alr *a, rtc_time now)
{
    if (a->last < 0) a->last = now;
    if (now > a->last) {
        a->budget_bytes += a->rate_bps * (double)(now - a->last) / 8e6;
        if (a->budget_bytes > a->cap_bytes) a->budget_bytes = a->cap_bytes;
        a->last = now;
    }
}

void rtc_cc_alr_on_sent(rtc_cc_alr *a, size_t bytes, rtc_time now)
{
    alr__advance(a, now);
    a->budget_bytes -= (double)bytes;
    if (a->budget_bytes < -a->cap_bytes) a->budget_bytes = -a->cap_bytes;
}

bool rtc_cc_alr_update(rtc_cc_alr *a, rtc_time now)
{
    alr__advance(a, now);
    if (a->cap_bytes <= 0) return a->in_alr;
    double ratio = a->budget_bytes / a->cap_bytes;
    if (!a->in_alr && ratio > START_RATIO) a->in_alr = true;
    else if (a->in_alr && ratio < END_RATIO) a->in_alr = false;
    return a->in_alr;
}
