/* Loss-based receive-side estimate for REMB (see the header for the rules). */
#include "rtp/remb_estimator.h"
#include <string.h>

#define REMB_WINDOW RTC_SEC(1)

void rtc_remb_estimator_init(rtc_remb_estimator *e, uint64_t min_bitrate, rtc_time now)
{
    memset(e, 0, sizeof *e);
    e->min_bitrate = min_bitrate ? min_bitrate : 30000;
    e->window_start = now;
    e->next = now + REMB_WINDOW;
}

/* One second is over: move the estimate from its rate and loss. */
static void remb__window(rtc_remb_estimator *e, rtc_time now)
{
    rtc_time span = now - e->window_start;
    if (e->received && span > 0) {
        uint64_t rate = (uint64_t)((double)e->bytes * 8 * 1e6 / (double)span);
        int64_t expected = e->highest - e->first_in_window + 1;
        double loss = expected > 0 ? 1.0 - (double)e->received / (double)expected : 0;
        if (loss < 0) loss = 0;
        uint64_t est = e->estimate ? e->estimate : rate;
        if (loss > 0.10) est = (uint64_t)((double)rate * (1 - loss / 2));
        else if (loss < 0.02) est = (uint64_t)((double)(est > rate ? est : rate) * 1.08);
        uint64_t cap = rate + rate / 2 + 10000;
        if (est > cap) est = cap;
        if (est < e->min_bitrate) est = e->min_bitrate;
        e->estimate = est;
        e->due = true;
    }
    e->window_start = now;
    e->next = now + REMB_WINDOW;
    e->bytes = e->received = 0;
    e->first_in_window = e->highest + 1;
}

void rtc_remb_estimator_handle_timeout(rtc_remb_estimator *e, rtc_time now)
{
    if (now >= e->next) remb__window(e, now);
}

void rtc_remb_estimator_handle_packet(rtc_remb_estimator *e, int64_t ext_seq, size_t bytes, rtc_time now)
{
    rtc_remb_estimator_handle_timeout(e, now);
    if (!e->started) {
        e->started = true;
        e->highest = ext_seq;
        e->first_in_window = ext_seq;
    }
    if (ext_seq > e->highest) e->highest = ext_seq;
    e->bytes += bytes;
    e->received++;
}

bool rtc_remb_estimator_poll(rtc_remb_estimator *e, uint64_t *bitrate)
{
    if (!e->due) return false;
    e->due = false;
    *bitrate = e->estimate;
    return true;
}

rtc_time rtc_remb_estimator_poll_timeout(const rtc_remb_estimator *e)
{
    if (e->due) return e->window_start;
    return e->started ? e->next : RTC_TIME_NEVER;
}
