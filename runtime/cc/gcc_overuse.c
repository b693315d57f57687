/* Overuse detector and adaptive threshold. */
#include "cc/gcc_overuse.h"
#include <math.h>

void rtc_gcc_overuse_init(rtc_gcc_overuse *o)
{
    *o = (rtc_gcc_overuse){ .threshold_ms = 12.5, .k_up = 0.0087, .k_down = 0.039,
                            .last_update = -1, .overuse_since = -1, .state = RTC_GCC_NORMAL };
}

static void overuse__adapt(rtc_gcc_overuse *o, double trend, rtc_time now)
{
    if (o->last_update < 0) o->last_update = now;
    double mag = fabs(trend);
    /* A spike far above gamma (a route change, a paused sender) says nothing about the
     * steady jitter the threshold should follow. */
    if (mag > o->threshold_ms + 15) { o->last_update = now; return; }
    double k = mag < o->threshold_ms ? o->k_down : o->k_up;
    double dt_ms = (double)(now - o->last_update) / 1000.0;
    if (dt_ms > 100) dt_ms = 100;
    o->threshold_ms += k * (mag - o->threshold_ms) * dt_ms;
    if (o->threshold_ms < 6) o->threshold_ms = 6;
    if (o->threshold_ms > 600) o->threshold_ms = 600;
    o->last_update = now;
}

rtc_gcc_usage rtc_gcc_overuse_detect(rtc_gcc_overuse *o, double trend, rtc_time now)
{
    if (trend > o->threshold_ms) {
        if (o->overuse_since < 0) o->overuse_since = now;
        o->overuse_count++;
        if (now - o->overuse_since >= RTC_MS(10) && o->overuse_count > 1 && trend >= o->prev_trend) {
            o->overuse_since = -1;
            o->overuse_count = 0;
            o->state = RTC_GCC_OVERUSE;
        }
    } else if (trend < -o->threshold_ms) {
        o->overuse_since = -1;
        o->overuse_count = 0;
        o->state = RTC_GCC_UNDERUSE;
    } else {
        o->overuse_since = -1;
        o->overuse_count = 0;
        o->state = RTC_GCC_NORMAL;
    }
    o->prev_trend = trend;
    overuse__adapt(o, trend, now);
    return o->state;
}

const char *rtc_gcc_usage_name(rtc_gcc_usage u)
{
    return u == RTC_GCC_OVERUSE ? "overuse" : u == RTC_GCC_UNDERUSE ? "underuse" : "normal";
}
