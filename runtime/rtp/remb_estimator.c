/* Receive-side estimate for REMB: delay-based from abs-send-time and loss-based (see
 * the header for the rules). */
#include "rtp/remb_estimator.h"
#include <string.h>

#define REMB_WINDOW RTC_SEC(1)
#define REMB_MIN_INTERVAL RTC_MS(200)
#define RATE_SLOT RTC_MS(50)
#define START_BPS 300e3

void rtc_remb_estimator_init(rtc_remb_estimator *e, uint64_t min_bitrate, rtc_time now)
{
    memset(e, 0, sizeof *e);
    e->min_bitrate = min_bitrate ? min_bitrate : 30000;
    e->window_start = now;
    e->next = now + REMB_WINDOW;
    rtc_gcc_delay_init(&e->delay, START_BPS, (double)e->min_bitrate, 100e6);
    for (int i = 0; i < RTC_REMB_RATE_SLOTS; i++) e->slot_index[i] = -1;
}

void rtc_remb_estimator_set_rtt(rtc_remb_estimator *e, rtc_time rtt) { if (rtt > 0) e->rtt = rtt; }

/* The combined estimate moved: a REMB is due when the last is 200 ms old, or at once
 * when the estimate fell below 97% of it (libwebrtc's throttle). */
static void remb__set(rtc_remb_estimator *e, rtc_time now)
{
    uint64_t est = e->loss_estimate;
    if (e->have_delay) {
        uint64_t d = (uint64_t)e->delay.aimd.bitrate;
        if (!est || d < est) est = d;
    }
    if (!est) return;
    if (est < e->min_bitrate) est = e->min_bitrate;
    e->estimate = est;
    if (!e->last_sent || now - e->last_sent_at >= REMB_MIN_INTERVAL || est * 100 < e->last_sent * 97) e->due = true;
}

/* bps over the 50 ms slots of the last 500 ms (less at the start); 0 before 150 ms. */
static double remb__incoming_bps(const rtc_remb_estimator *e, rtc_time now)
{
    int64_t cur = now / RATE_SLOT;
    uint64_t bytes = 0;
    for (int i = 0; i < RTC_REMB_RATE_SLOTS; i++)
        if (e->slot_index[i] > cur - RTC_REMB_RATE_SLOTS && e->slot_index[i] <= cur) bytes += e->slot_bytes[i];
    rtc_time span = (rtc_time)RTC_REMB_RATE_SLOTS * RATE_SLOT;
    if (now - e->first_arrival < span) span = now - e->first_arrival;
    if (span < RTC_MS(150)) return 0;
    return (double)bytes * 8 * 1e6 / (double)span;
}

/* libwebrtc's feedback interval: 5% of the estimate carries one 80-byte RTCP packet. */
static rtc_time remb__interval(const rtc_remb_estimator *e)
{
    double bps = e->delay.aimd.bitrate > 0 ? e->delay.aimd.bitrate : START_BPS;
    rtc_time t = (rtc_time)(80 * 8 / (0.05 * bps) * 1e6);
    return t < RTC_MS(200) ? RTC_MS(200) : t > RTC_SEC(1) ? RTC_SEC(1) : t;
}

/* One second is over: move the loss-based estimate from its rate and loss. */
static void remb__window(rtc_remb_estimator *e, rtc_time now)
{
    rtc_time span = now - e->window_start;
    if (e->received && span > 0) {
        uint64_t rate = (uint64_t)((double)e->bytes * 8 * 1e6 / (double)span);
        int64_t expected = e->highest - e->first_in_window + 1;
        double loss = expected > 0 ? 1.0 - (double)e->received / (double)expected : 0;
        if (loss < 0) loss = 0;
        uint64_t est = e->loss_estimate ? e->loss_estimate : rate;
        if (loss > 0.10) est = (uint64_t)((double)rate * (1 - loss / 2));
        else if (loss < 0.02) est = (uint64_t)((double)(est > rate ? est : rate) * 1.08);
        uint64_t cap = rate + rate / 2 + 10000;
        if (est > cap) est = cap;
        if (est < e->min_bitrate) est = e->min_bitrate;
        e->loss_estimate = est;
        remb__set(e, now);
        /* Once a second whatever moved: a REMB also refreshes the sender's timeout. */
        e->due = true;
    }
    e->window_start = now;
    e->next = now + REMB_WINDOW;
    e->bytes = e->received = 0;
    e->first_in_window = e->highest + 1;
}

void rtc_remb_estimator_handle_timeout(rtc_remb_estimator *e, rtc_time now)
{
    if (now > e->now) e->now = now;
    if (now >= e->next) remb__window(e, now);
}

/* The delay-based part: one packet's send time (abs-send-time, unwrapped) against its
 * arrival; the rate control on its cadence. */
static void remb__delay(rtc_remb_estimator *e, size_t bytes, uint32_t abs, rtc_time now)
{
    if (!e->have_abs) {
        e->have_abs = true;
        e->abs_ext = abs;
    } else {
        int32_t d = (int32_t)((abs - e->abs_last) << 8) >> 8;     /* signed 24-bit step */
        e->abs_ext += d;
    }
    e->abs_last = abs;
    rtc_cc_packet p = { .seq = 0, .size = (uint32_t)bytes, .arrival = now, .probe_cluster = -1,
                        .sent = (rtc_time)(e->abs_ext * 1000000 / 262144) };
    if (!rtc_gcc_delay_detect(&e->delay, &p, 1, now)) return;
    if (!e->have_delay) { e->have_delay = true; e->last_update = now; return; }
    bool overuse = e->delay.usage == RTC_GCC_OVERUSE;
    if (!overuse && now - e->last_update < remb__interval(e)) return;
    double incoming = remb__incoming_bps(e, now);
    rtc_gcc_aimd_update(&e->delay.aimd, e->delay.usage, incoming, e->rtt > 0 ? e->rtt : RTC_MS(100), now);
    e->last_update = now;
    remb__set(e, now);
}

void rtc_remb_estimator_handle_packet(rtc_remb_estimator *e, int64_t ext_seq, size_t bytes,
                                      int32_t abs_send_time, rtc_time now)
{
    rtc_remb_estimator_handle_timeout(e, now);
    if (!e->started) {
        e->started = true;
        e->highest = ext_seq;
        e->first_in_window = ext_seq;
        e->first_arrival = now;
    }
    if (ext_seq > e->highest) e->highest = ext_seq;
    e->bytes += bytes;
    e->received++;
    int64_t slot = now / RATE_SLOT;
    int i = (int)(slot % RTC_REMB_RATE_SLOTS);
    if (e->slot_index[i] != slot) { e->slot_index[i] = slot; e->slot_bytes[i] = 0; }
    e->slot_bytes[i] += bytes;
    if (abs_send_time >= 0) remb__delay(e, bytes, (uint32_t)abs_send_time & 0xffffff, now);
}

bool rtc_remb_estimator_poll(rtc_remb_estimator *e, uint64_t *bitrate)
{
    if (!e->due || !e->estimate) { e->due = false; return false; }
    e->due = false;
    *bitrate = e->last_sent = e->estimate;
    e->last_sent_at = e->now;
    return true;
}

rtc_time rtc_remb_estimator_poll_timeout(const rtc_remb_estimator *e)
{
    if (e->due) return e->now;
    return e->started ? e->next : RTC_TIME_NEVER;
}
