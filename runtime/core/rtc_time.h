/* Time in luartc is an argument (practice 1 in docs/design.md): every protocol entry
 * point takes `rtc_time now` (monotonic microseconds). Nothing under runtime/ except
 * io/ and core/rtc_clock.c reads a clock, so tests replay exactly on a virtual clock. */
#ifndef RTC_TIME_H
#define RTC_TIME_H
#include <stdint.h>

typedef int64_t rtc_time;                 /* monotonic microseconds */
#define RTC_TIME_NEVER INT64_MAX
#define RTC_MS(x) ((rtc_time)(x) * 1000)
#define RTC_SEC(x) ((rtc_time)(x) * 1000000)

/* The process's monotonic clock in microseconds (CLOCK_MONOTONIC). Only io/ and lua/
 * call this; machines get `now` from their caller. */
rtc_time rtc_clock_now(void);
/* Wall-clock microseconds since 1970 (CLOCK_REALTIME), for time stamps people read
 * (log lines, capture files); never for protocol timing. */
int64_t rtc_clock_unix_us(void);

static inline rtc_time rtc_time_min(rtc_time a, rtc_time b) { return a < b ? a : b; }

#endif
