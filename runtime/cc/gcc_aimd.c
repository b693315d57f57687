/* AIMD rate control of the delay-based estimator. */
#include "cc/gcc_aimd.h"
#include <math.h>

void rtc_gcc_aimd_init(rtc_gcc_aimd *a, double start_bps, double min_bps, double max_bps)
{
    *a = (rtc_gcc_aimd){ .bitrate = start_bps, .min_bitrate = min_bps, .max_bitrate = max_bps,
                         .beta = 0.85, .state = RTC_GCC_HOLD, .last_change = -1,
                         .last_decrease = -1, .capacity = -1, .capacity_var = 0.4 };
}

static double aimd__clamp(const rtc_gcc_aimd *a, double bps)
{
    if (bps > a->max_bitrate) bps = a->max_bitrate;
    if (bps < a->min_bitrate) bps = a->min_bitrate;
    return bps;
}

/* The normalised variance keeps sigma proportional to the rate, so one band width
 * fits 300 kbit/s and 50 Mbit/s links alike. */
static void aimd__capacity_sample(rtc_gcc_aimd *a, double kbps)
{
    const double alpha = 0.05;
    if (a->capacity < 0) a->capacity = kbps;
    else a->capacity = (1 - alpha) * a->capacity + alpha * kbps;
    double norm = a->capacity > 1 ? a->capacity : 1;
    double err = a->capacity - kbps;
    a->capacity_var = (1 - alpha) * a->capacity_var + alpha * err * err / norm;
    if (a->capacity_var < 0.4) a->capacity_var = 0.4;
    if (a->capacity_var > 2.5) a->capacity_var = 2.5;
}

static double aimd__sigma_kbps(const rtc_gcc_aimd *a) { return sqrt(a->capacity_var * a->capacity); }

/* Additive step: about one packet per response time (RTT + 100 ms), packets sized as
 * a 30 fps stream at the current rate would send them. */
static double aimd__additive_bps_per_s(const rtc_gcc_aimd *a, rtc_time rtt)
{
    double bits_per_frame = a->bitrate / 30.0;
    double packets = ceil(bits_per_frame / (1200.0 * 8));
    if (packets < 1) packets = 1;
    double packet_bits = bits_per_frame / packets;
    double response_s = (double)(rtt + RTC_MS(100)) / 1e6;
    double inc = packet_bits / response_s;
    return inc < 4000 ? 4000 : inc;
}

double rtc_gcc_aimd_update(rtc_gcc_aimd *a, rtc_gcc_usage usage, double acked_bps, rtc_time rtt, rtc_time now)
{
    if (a->last_change < 0) a->last_change = now;
    if (rtt <= 0) rtt = RTC_MS(100);
    switch (usage) {                 /* the state machine of gcc-02 figure 2 */
    case RTC_GCC_OVERUSE: a->state = RTC_GCC_DECREASE; break;
    case RTC_GCC_UNDERUSE: a->state = RTC_GCC_HOLD; break;
    case RTC_GCC_NORMAL: if (a->state == RTC_GCC_HOLD) a->state = RTC_GCC_INCREASE; break;
    }
    double dt_s = (double)(now - a->last_change) / 1e6;
    if (dt_s > 1) dt_s = 1;
    double acked_kbps = acked_bps / 1000.0;
    if (a->capacity >= 0 && acked_bps > 0 && acked_kbps > a->capacity + 3 * aimd__sigma_kbps(a))
        a->capacity = -1;            /* the link got faster: search multiplicatively again */
    double next = a->bitrate;
    if (a->state == RTC_GCC_INCREASE) {
        if (a->capacity >= 0) next += aimd__additive_bps_per_s(a, rtt) * dt_s;
        else next += fmax(1000, a->bitrate * (pow(1.08, dt_s) - 1));
        /* Never run far ahead of what the network has carried: an application-limited
         * sender learns more by probing. */
        if (acked_bps > 0 && next > 1.5 * acked_bps + 10000) next = fmax(a->bitrate, 1.5 * acked_bps + 10000);
        a->last_change = now;
    } else if (a->state == RTC_GCC_DECREASE) {
        /* One decrease per RTT: the feedback after a cut still carries the queue the
         * cut is draining. */
        rtc_time wait = rtt < RTC_MS(10) ? RTC_MS(10) : rtt > RTC_MS(200) ? RTC_MS(200) : rtt;
        if (a->last_decrease < 0 || now - a->last_decrease >= wait) {
            double base = acked_bps > 0 ? acked_bps : a->bitrate;
            next = a->beta * base;
            if (next > a->bitrate) next = a->beta * a->bitrate;
            if (acked_bps > 0) {
                if (a->capacity >= 0 && acked_kbps < a->capacity - 3 * aimd__sigma_kbps(a)) a->capacity = -1;
                aimd__capacity_sample(a, acked_kbps);
            }
            a->last_decrease = now;
            a->seen_overuse = true;
        }
        a->state = RTC_GCC_HOLD;
        a->last_change = now;
    } else {
        a->last_change = now;
    }
    a->bitrate = aimd__clamp(a, next);
    return a->bitrate;
}

void rtc_gcc_aimd_set(rtc_gcc_aimd *a, double bps, rtc_time now)
{
    a->bitrate = aimd__clamp(a, bps);
    a->last_change = now;
}

const char *rtc_gcc_rate_state_name(rtc_gcc_rate_state s)
{
    return s == RTC_GCC_INCREASE ? "increase" : s == RTC_GCC_DECREASE ? "decrease" : "hold";
}
