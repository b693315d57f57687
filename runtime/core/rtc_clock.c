#include "rtc_time.h"
#include <time.h>

rtc_time rtc_clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (rtc_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t rtc_clock_unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
