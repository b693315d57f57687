/* An OS thread for a worker (docs/workers.md): libuv's portable thread, wrapped so
 * runtime/lua/ stays free of libuv thread calls. */
#ifndef RTC_THREAD_H
#define RTC_THREAD_H

typedef struct rtc_thread rtc_thread;

/* Start fn(arg) on a new thread (arg borrowed: it must live until fn is done).
 * Returns 0, RTC_ENOMEM or RTC_EIO. Join exactly once. */
int rtc_thread_start(rtc_thread **out, void (*fn)(void *arg), void *arg);
/* Wait for the thread to end and free *t. NULL-safe. */
void rtc_thread_join(rtc_thread *t);
/* How many threads can run at once here (uv_available_parallelism), at least 1. */
unsigned rtc_thread_cores(void);

#endif
