/* Probe controller: when to probe and how fast. */
#include "cc/cc_probe.h"

#define PROBE_DURATION_US 15000
#define ALR_PROBE_INTERVAL RTC_SEC(5)
#define EXPONENTIAL_TIMEOUT RTC_SEC(1)

void rtc_cc_probe_init(rtc_cc_probe_controller *p, double max_bps)
{
    *p = (rtc_cc_probe_controller){ .max_bps = max_bps, .last_probe_at = -1, .alr_since = -1, .last_id = -1 };
}

void rtc_cc_probe_set_max(rtc_cc_probe_controller *p, double max_bps) { p->max_bps = max_bps; }

static void probe__queue(rtc_cc_probe_controller *p, double bps, rtc_time now)
{
    if (bps > p->max_bps) bps = p->max_bps;
    if (bps <= 0 || p->npending == RTC_CC_PROBE_PENDING) return;
    rtc_cc_probe_cluster *c = &p->pending[p->npending++];
    c->id = p->next_id++;
    if (p->next_id > 30000) p->next_id = 0;              /* fits the history's int16 tag */
    c->bps = bps;
    c->min_bytes = (size_t)(bps * PROBE_DURATION_US / 8e6);
    c->min_packets = 5;
    p->last_probe_bps = bps;
    p->last_id = c->id;
    p->last_probe_at = now;
}

void rtc_cc_probe_start(rtc_cc_probe_controller *p, double start_bps, rtc_time now)
{
    if (p->started) return;
    p->started = true;
    p->exponential = true;
    probe__queue(p, 3 * start_bps, now);
    probe__queue(p, 6 * start_bps, now);
}

void rtc_cc_probe_on_result(rtc_cc_probe_controller *p, int id, double bps, rtc_time now)
{
    if (!p->exponential || id != p->last_id) return;
    /* 70%: the path carried most of what we offered, so it may carry more. */
    if (bps > 0.7 * p->last_probe_bps && p->last_probe_bps < p->max_bps) probe__queue(p, 2 * bps, now);
    else p->exponential = false;
}

void rtc_cc_probe_on_estimate(rtc_cc_probe_controller *p, double est_bps, bool alr, bool normal, rtc_time now)
{
    if (!p->started) return;
    if (p->exponential && now - p->last_probe_at > EXPONENTIAL_TIMEOUT) p->exponential = false;
    if (est_bps > p->peak_bps) p->peak_bps = est_bps;
    if (est_bps < 0.66 * p->peak_bps) {                 /* a large drop */
        p->pre_drop_bps = p->peak_bps;
        p->drop_at = now;
        p->peak_bps = est_bps;
    }
    /* Once the queue that caused the drop has drained, check whether the old rate is
     * back (cross traffic left): one probe at 85% of it, within 5 s of the drop. */
    if (p->pre_drop_bps > 0 && normal && now - p->drop_at >= RTC_SEC(1)) {
        if (now - p->drop_at <= RTC_SEC(5)) probe__queue(p, 0.85 * p->pre_drop_bps, now);
        p->pre_drop_bps = 0;
    }
    if (!alr) { p->alr_since = -1; return; }
    if (p->alr_since < 0) p->alr_since = now;
    if (!p->exponential && now - p->alr_since >= ALR_PROBE_INTERVAL / 5 &&
        now - p->last_probe_at >= ALR_PROBE_INTERVAL && est_bps < p->max_bps)
        probe__queue(p, 2 * est_bps, now);
}

bool rtc_cc_probe_poll(rtc_cc_probe_controller *p, rtc_cc_probe_cluster *out)
{
    if (!p->npending) return false;
    *out = p->pending[0];
    for (size_t i = 1; i < p->npending; i++) p->pending[i - 1] = p->pending[i];
    p->npending--;
    return true;
}
