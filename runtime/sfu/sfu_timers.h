/* A min-heap of deadlines, so the router's wake-up touches only what is due instead of
 * sweeping every consumer. Intrusive: each owner embeds an sfu_timer and finds itself
 * back from it; the heap holds pointers only and never owns or frees an owner.
 * An owner must be removed before it is freed. */
#ifndef RTC_SFU_TIMERS_H
#define RTC_SFU_TIMERS_H
#include "core/rtc_time.h"
#include <stddef.h>

#define SFU_TIMER_OFF ((size_t)-1)

typedef struct sfu_timer {
    rtc_time at;
    size_t slot;                 /* index in the heap, SFU_TIMER_OFF when not in it */
} sfu_timer;

typedef struct sfu_timers {
    sfu_timer **h;
    size_t n, cap;
} sfu_timers;

/* A zeroed sfu_timers is empty and valid. */
void sfu_timers_free(sfu_timers *ts);
/* Insert t due at `at` (t must not be in a heap). 0 or RTC_ENOMEM (t left out). */
int sfu_timers_add(sfu_timers *ts, sfu_timer *t, rtc_time at);
/* Move t (in ts) to a new deadline. */
void sfu_timers_set(sfu_timers *ts, sfu_timer *t, rtc_time at);
/* Take t out; harmless when t is not in ts. */
void sfu_timers_remove(sfu_timers *ts, sfu_timer *t);
/* The earliest timer, or NULL when empty. Ties come in no particular order. */
sfu_timer *sfu_timers_first(const sfu_timers *ts);
rtc_time sfu_timers_next(const sfu_timers *ts);       /* RTC_TIME_NEVER when empty */
#endif
