/* Loss-based rate control. */
#include "cc/gcc_loss.h"
#include <math.h>

#define MIN_PACKETS 20

void rtc_gcc_loss_init(rtc_gcc_loss *l, double start_bps, double min_bps, double max_bps)
{
    *l = (rtc_gcc_loss){ .bitrate = start_bps, .min_bitrate = min_bps, .max_bitrate = max_bps,
                         .last_increase = -1, .last_decrease = -1 };
}

static double loss__clamp(const rtc_gcc_loss *l, double bps)
{
    return bps > l->max_bitrate ? l->max_bitrate : bps < l->min_bitrate ? l->min_bitrate : bps;
}

double rtc_gcc_loss_update(rtc_gcc_loss *l, uint32_t lost, uint32_t total, rtc_time rtt, rtc_time now)
{
    l->lost += lost;
    l->total += total;
    if (l->total < MIN_PACKETS) return l->bitrate;
    double p = (double)l->lost / (double)l->total;
    l->last_fraction = p;
    l->lost = l->total = 0;
    if (rtt <= 0) rtt = RTC_MS(100);
    if (p < 0.02) {
        /* 8% a second, applied in proportion to the time since the last growth; the
         * delay-based side caps it, so this only has to stay out of the way. */
        double dt = l->last_increase < 0 ? 0.2 : (double)(now - l->last_increase) / 1e6;
        if (dt > 1) dt = 1;
        l->bitrate = l->bitrate * pow(1.08, dt) + 1000 * dt;
        l->last_increase = now;
    } else if (p > 0.10) {
        if (l->last_decrease < 0 || now - l->last_decrease >= RTC_MS(300) + rtt) {
            l->bitrate *= 1 - 0.5 * p;
            l->last_decrease = now;
        }
    }
    l->bitrate = loss__clamp(l, l->bitrate);
    return l->bitrate;
}

void rtc_gcc_loss_set(rtc_gcc_loss *l, double bps) { l->bitrate = loss__clamp(l, bps); }
