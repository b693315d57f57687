/* The loop owner: one libuv loop plus what every I/O object on it shares (the packet
 * pool, a crypto RNG, one receive buffer for batched UDP reads, and the once-per-turn
 * UDP flush hook). One rtc_loop per thread; nothing here is thread-safe.
 *
 * Flush once per loop turn (Redis beforeSleep): datagrams queued with rtc_udp_send
 * during a read burst are sent by a uv_check hook right after the poll phase, and
 * those queued anywhere else (timers, code outside callbacks) by a uv_prepare hook
 * just before the loop polls (sleeps): one sendmmsg batch per socket per flush.
 * Queued datagrams keep the loop alive. */
#ifndef RTC_LOOP_H
#define RTC_LOOP_H
#include <uv.h>
#include "core/rtc_buf.h"
#include "core/rtc_rng.h"

typedef struct rtc_loop rtc_loop;
typedef struct rtc_udp rtc_udp;

/* A new loop with its own uv_loop_t. 0 or RTC_ENOMEM / RTC_EIO. */
int rtc_loop_new(rtc_loop **out);
/* NULL-safe. Closes every handle still open on the loop (their close callbacks run),
 * then frees the loop, the pool and the receive buffer. Must not be called from inside
 * rtc_loop_run. */
void rtc_loop_free(rtc_loop *lp);

uv_loop_t *rtc_loop_uv(rtc_loop *lp);   /* borrowed; valid until rtc_loop_free */
rtc_pool *rtc_loop_pool(rtc_loop *lp);  /* borrowed; valid until rtc_loop_free */
rtc_rng *rtc_loop_rng(rtc_loop *lp);    /* borrowed; crypto-seeded */

/* uv_run on the loop. Returns uv_run's result (non-zero: handles still active). */
int rtc_loop_run(rtc_loop *lp, uv_run_mode mode);
void rtc_loop_stop(rtc_loop *lp);
int rtc_loop_running(const rtc_loop *lp);

/* For io/ only: ask for `u` to be flushed at the end of this loop turn (idempotent). */
void rtc_loop__want_flush(rtc_loop *lp, rtc_udp *u);
/* For io/ only: forget `u` (it is closing). */
void rtc_loop__drop_flush(rtc_loop *lp, rtc_udp *u);
/* For io/ only: the shared receive buffer for UV_UDP_RECVMMSG (allocated on first use).
 * Safe to share because libuv runs each read burst's callbacks to completion. */
char *rtc_loop__recv_buf(rtc_loop *lp, size_t *len);

#endif
