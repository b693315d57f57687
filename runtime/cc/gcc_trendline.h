/* GCC trendline filter (draft-ietf-rmcat-gcc-02 section 5.3, in the form libwebrtc
 * uses today): the slope of the smoothed accumulated one-way delay variation over the
 * last packet groups, by least squares. A positive slope means a queue is building.
 * Plain value type; no allocation. */
#ifndef RTC_GCC_TRENDLINE_H
#define RTC_GCC_TRENDLINE_H
#include <stddef.h>

#define RTC_GCC_TRENDLINE_WINDOW 20

typedef struct rtc_gcc_trendline {
    double smoothing;            /* 0.9: weight of the previous smoothed delay */
    double gain;                 /* 4: scales the slope into the detector's units */
    double accumulated_ms, smoothed_ms;
    double first_arrival_ms;
    size_t num_deltas;           /* groups seen, capped at 60 for the output */
    size_t n, head;              /* ring of (time, smoothed delay) points */
    double x[RTC_GCC_TRENDLINE_WINDOW], y[RTC_GCC_TRENDLINE_WINDOW];
    double trend;                /* last slope (0 until the window fills) */
} rtc_gcc_trendline;

void rtc_gcc_trendline_init(rtc_gcc_trendline *t);
/* One group's delay variation `delta_ms` (arrival delta minus send delta) whose last
 * packet arrived at `arrival_ms`. Returns the modified trend, the value the overuse
 * detector compares with its threshold (num_deltas * slope * gain, 0 until full). */
double rtc_gcc_trendline_update(rtc_gcc_trendline *t, double delta_ms, double arrival_ms);

#endif
