/* Trendline filter: linear regression over a sliding window of smoothed delay. */
#include "cc/gcc_trendline.h"

void rtc_gcc_trendline_init(rtc_gcc_trendline *t)
{
    *t = (rtc_gcc_trendline){ .smoothing = 0.9, .gain = 4.0, .first_arrival_ms = -1 };
}

static double trend__slope(const rtc_gcc_trendline *t)
{
    double sx = 0, sy = 0;
    for (size_t i = 0; i < t->n; i++) { sx += t->x[i]; sy += t->y[i]; }
    double mx = sx / (double)t->n, my = sy / (double)t->n, num = 0, den = 0;
    for (size_t i = 0; i < t->n; i++) {
        num += (t->x[i] - mx) * (t->y[i] - my);
        den += (t->x[i] - mx) * (t->x[i] - mx);
    }
    return den == 0 ? t->trend : num / den;     /* all points at one instant: keep the last slope */
}

double rtc_gcc_trendline_update(rtc_gcc_trendline *t, double delta_ms, double arrival_ms)
{
    if (t->first_arrival_ms < 0) t->first_arrival_ms = arrival_ms;
    t->num_deltas++;
    t->accumulated_ms += delta_ms;
    t->smoothed_ms = t->smoothing * t->smoothed_ms + (1 - t->smoothing) * t->accumulated_ms;
    t->x[t->head] = arrival_ms - t->first_arrival_ms;
    t->y[t->head] = t->smoothed_ms;
    t->head = (t->head + 1) % RTC_GCC_TRENDLINE_WINDOW;
    if (t->n < RTC_GCC_TRENDLINE_WINDOW) t->n++;
    if (t->n < RTC_GCC_TRENDLINE_WINDOW) return 0;
    t->trend = trend__slope(t);
    double deltas = t->num_deltas < 60 ? (double)t->num_deltas : 60;
    return deltas * t->trend * t->gain;
}
