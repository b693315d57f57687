/* Application-limited region detector: the sender uses less than the estimate allows.
 * A budget fills at 65% of the estimate and drains with every media byte sent; when it
 * stays mostly full the application is the limit, not the network, so delay feedback
 * says little about the link and the probe controller probes instead. Plain value. */
#ifndef RTC_CC_ALR_H
#define RTC_CC_ALR_H
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct rtc_cc_alr {
    double budget_bytes, cap_bytes;
    double rate_bps;
    rtc_time last;               /* -1 before the first */
    bool in_alr;
} rtc_cc_alr;

void rtc_cc_alr_init(rtc_cc_alr *a);
void rtc_cc_alr_set_estimate(rtc_cc_alr *a, double bps);
void rtc_cc_alr_on_sent(rtc_cc_alr *a, size_t bytes, rtc_time now);
/* Advance to `now`; returns whether the sender is application-limited. */
bool rtc_cc_alr_update(rtc_cc_alr *a, rtc_time now);

#endif
