/* GCC delay-based rate control (draft-ietf-rmcat-gcc-02 5.5): additive increase near
 * the link capacity seen at the last decreases, multiplicative increase far from it,
 * multiplicative decrease to beta times the acknowledged rate on overuse, hold on
 * underuse (the queue drains). Plain value type; the caller gives the detector state,
 * the acknowledged bitrate and the RTT. */
#ifndef RTC_GCC_AIMD_H
#define RTC_GCC_AIMD_H
#include "cc/gcc_overuse.h"
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stdint.h>

typedef enum rtc_gcc_rate_state { RTC_GCC_HOLD, RTC_GCC_INCREASE, RTC_GCC_DECREASE } rtc_gcc_rate_state;

typedef struct rtc_gcc_aimd {
    double bitrate;              /* current delay-based estimate, bps */
    double min_bitrate, max_bitrate;
    double beta;                 /* 0.85 */
    rtc_gcc_rate_state state;
    rtc_time last_change;        /* -1 before the first update */
    rtc_time last_decrease;      /* -1 before the first decrease */
    /* Link capacity: a running mean and normalised variance of the acknowledged rate
     * at decreases; -1 when unknown (start, or the rate left its 3-sigma band). */
    double capacity, capacity_var;
    bool seen_overuse;
} rtc_gcc_aimd;

void rtc_gcc_aimd_init(rtc_gcc_aimd *a, double start_bps, double min_bps, double max_bps);
/* Apply one detector output at `now`. acked_bps: the acknowledged bitrate (0 when
 * unknown); rtt: the round-trip time. Returns the new estimate in bps. */
double rtc_gcc_aimd_update(rtc_gcc_aimd *a, rtc_gcc_usage usage, double acked_bps, rtc_time rtt, rtc_time now);
/* Set the estimate (a probe measured more, or the bounds changed). */
void rtc_gcc_aimd_set(rtc_gcc_aimd *a, double bps, rtc_time now);
const char *rtc_gcc_rate_state_name(rtc_gcc_rate_state s);

#endif
