/* GCC loss-based control (draft-ietf-rmcat-gcc-02 section 6): above 10% loss the rate
 * drops by half the loss fraction, under 2% it grows, in between it holds. Losses are
 * counted over at least 20 packets so one feedback with two holes is not a verdict;
 * decreases wait 300 ms + RTT so the feedback that caused one cannot cause another.
 * Plain value type; input is what TWCC feedback (or an RTCP receiver report) says. */
#ifndef RTC_GCC_LOSS_H
#define RTC_GCC_LOSS_H
#include "core/rtc_time.h"
#include <stdint.h>

typedef struct rtc_gcc_loss {
    double bitrate, min_bitrate, max_bitrate;
    uint32_t lost, total;        /* since the last verdict */
    double last_fraction;        /* of the last verdict, 0..1 */
    rtc_time last_increase, last_decrease;   /* -1 before the first */
} rtc_gcc_loss;

void rtc_gcc_loss_init(rtc_gcc_loss *l, double start_bps, double min_bps, double max_bps);
/* `lost` of `total` packets reported at `now`. Returns the loss-based estimate. */
double rtc_gcc_loss_update(rtc_gcc_loss *l, uint32_t lost, uint32_t total, rtc_time rtt, rtc_time now);
void rtc_gcc_loss_set(rtc_gcc_loss *l, double bps);

#endif
