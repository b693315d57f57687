/* GCC overuse detector with an adaptive threshold (draft-ietf-rmcat-gcc-02 5.4, 5.5):
 * the modified trend against a threshold gamma that follows |trend| (fast up, slow
 * down) so a competing TCP flow does not starve us, and so a noisy path does not read
 * as permanent overuse. Plain value type. */
#ifndef RTC_GCC_OVERUSE_H
#define RTC_GCC_OVERUSE_H
#include "core/rtc_time.h"

typedef enum rtc_gcc_usage { RTC_GCC_NORMAL, RTC_GCC_UNDERUSE, RTC_GCC_OVERUSE } rtc_gcc_usage;

typedef struct rtc_gcc_overuse {
    double threshold_ms;         /* gamma, starts at 12.5, kept in [6, 600] */
    double k_up, k_down;         /* 0.0087 and 0.039 per ms, as libwebrtc tunes them */
    double prev_trend;
    rtc_time last_update;        /* -1 before the first */
    rtc_time overuse_since;      /* -1 when not over the threshold */
    int overuse_count;
    rtc_gcc_usage state;
} rtc_gcc_overuse;

void rtc_gcc_overuse_init(rtc_gcc_overuse *o);
/* The modified trend at `now` (our clock); returns the detector state. Overuse needs
 * the trend above gamma for at least 10 ms and more than one group, and still rising. */
rtc_gcc_usage rtc_gcc_overuse_detect(rtc_gcc_overuse *o, double trend, rtc_time now);
const char *rtc_gcc_usage_name(rtc_gcc_usage u);

#endif
