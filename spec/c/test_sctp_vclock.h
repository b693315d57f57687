/* A virtual wall clock for tests that run usrsctp (or anything else reading
 * gettimeofday) on a virtual clock. Include it in exactly one translation unit of a test
 * executable and set `test_vclock` whenever the virtual clock moves.
 *
 * Why: usrsctp reads gettimeofday() for RTT samples, for which chunks a T3 timeout may
 * retransmit (only those outstanding longer than one RTO) and for PR-SCTP lifetimes.
 * On a virtual clock that runs far ahead of the wall clock those decisions go wrong
 * (a T3 timeout retransmits nothing, lifetimes never expire), so the test interposes
 * gettimeofday with the virtual clock: the executable's definition wins over libc's
 * for libusrsctp.so. In production both clocks advance together. */
#ifndef TEST_SCTP_VCLOCK_H
#define TEST_SCTP_VCLOCK_H
#include "core/rtc_time.h"
#include <sys/time.h>

static rtc_time test_vclock = RTC_SEC(1000);   /* microseconds; keep it monotonic */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    tv->tv_sec = (time_t)(test_vclock / 1000000);
    tv->tv_usec = (suseconds_t)(test_vclock % 1000000);
    return 0;
}

#endif
