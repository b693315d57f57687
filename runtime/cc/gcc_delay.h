/* GCC delay-based estimator (draft-ietf-rmcat-gcc-02 section 5): packets are grouped
 * into bursts sent within 5 ms of each other; the variation of one group's arrival
 * spacing against its send spacing feeds the trendline filter, whose trend the
 * overuse detector judges, and the AIMD controller turns the verdict into a rate.
 * Plain value type, fed once per TWCC feedback. */
#ifndef RTC_GCC_DELAY_H
#define RTC_GCC_DELAY_H
#include "cc/cc_send_history.h"
#include "cc/gcc_aimd.h"
#include "cc/gcc_overuse.h"
#include "cc/gcc_trendline.h"
#include <stdbool.h>

typedef struct rtc_gcc_group {
    rtc_time first_send, last_send, first_arrival, last_arrival;
    bool valid;
} rtc_gcc_group;

typedef struct rtc_gcc_delay {
    rtc_gcc_group cur, prev;
    rtc_gcc_trendline trend;
    rtc_gcc_overuse detector;
    rtc_gcc_aimd aimd;
    double last_trend;
    rtc_gcc_usage usage;         /* the verdict of the last feedback */
} rtc_gcc_delay;

void rtc_gcc_delay_init(rtc_gcc_delay *d, double start_bps, double min_bps, double max_bps);
/* The records of one feedback (borrowed; lost ones are skipped), in seq order. Returns
 * the new delay-based estimate, bps. */
double rtc_gcc_delay_update(rtc_gcc_delay *d, const rtc_cc_packet *pk, size_t n,
                            double acked_bps, rtc_time rtt, rtc_time now);
/* The grouping and the detector without the rate control (a receive-side estimator
 * runs AIMD on its own cadence): the verdict over these records, overuse when any
 * group in them overused, stored in d->usage. False when none of them arrived. */
bool rtc_gcc_delay_detect(rtc_gcc_delay *d, const rtc_cc_packet *pk, size_t n, rtc_time now);

#endif
