/* The machine driver: runs any sans-IO machine (ICE agent, DTLS, peer connection...)
 * on an rtc_loop with one uv_timer, enforcing the drain-until-quiet contract:
 *
 *   feed the machine (rtc_x_handle_*(m, ..., now)), then call rtc_driver_drain(d):
 *     while poll_transmit or poll_event give something: pass it to on_transmit / on_event
 *     arm the one timer for poll_timeout (stopped when RTC_TIME_NEVER)
 *   when the timer fires: handle_timeout(m, now), then drain again.
 *
 * A machine plugs in through rtc_machine_ops (plain adapters around its own five
 * verbs). on_event may feed the same machine again and call rtc_driver_drain: the
 * nested call only marks the driver dirty and the outer drain goes round once more,
 * so callbacks never recurse. */
#ifndef RTC_DRIVER_H
#define RTC_DRIVER_H
#include <stdbool.h>
#include "core/rtc_time.h"
#include "core/rtc_transmit.h"
#include "io/rtc_loop.h"

typedef struct rtc_machine_ops {
    int (*handle_timeout)(void *m, rtc_time now);
    bool (*poll_transmit)(void *m, rtc_transmit *out);  /* out->buf: ownership passes to the driver */
    bool (*poll_event)(void *m, void *ev);              /* fills the driver's event storage */
    rtc_time (*poll_timeout)(void *m);
} rtc_machine_ops;

typedef struct rtc_driver rtc_driver;
/* Takes ownership of t->buf (send it, or unref it). */
typedef void (*rtc_driver_transmit_cb)(rtc_driver *d, rtc_transmit *t);
/* `ev` is the driver's event storage, valid for the call only. */
typedef void (*rtc_driver_event_cb)(rtc_driver *d, void *ev);
typedef void (*rtc_driver_close_cb)(rtc_driver *d);
/* The clock the driver reads; defaults to rtc_clock_now. Tests may swap it. */
typedef rtc_time (*rtc_driver_clock_fn)(void *ud);

struct rtc_driver {
    void *data;                          /* free for the owner */
    /* read-only for the owner: */
    const rtc_machine_ops *ops;
    void *machine;                       /* borrowed; must outlive the driver */
    rtc_time armed;                      /* deadline the timer is armed for, or NEVER */
    uint64_t wakeups, transmits, events; /* counters */
    /* private: */
    uv_timer_t timer;
    rtc_driver_transmit_cb on_transmit;
    rtc_driver_event_cb on_event;
    rtc_driver_close_cb close_cb;
    rtc_driver_clock_fn clock;
    void *clock_ud;
    void *ev;                            /* caller's event storage (borrowed) */
    int draining, dirty, closing;
};

/* `d` is caller-owned memory that must stay valid until close_cb runs. `ev_storage`
 * (borrowed) receives each event before on_event. `on_event` may be NULL when the
 * machine has no events (then poll_event may be NULL too). */
void rtc_driver_init(rtc_driver *d, rtc_loop *lp, const rtc_machine_ops *ops, void *machine,
                     rtc_driver_transmit_cb on_transmit, rtc_driver_event_cb on_event, void *ev_storage);
void rtc_driver_set_clock(rtc_driver *d, rtc_driver_clock_fn clock, void *ud);
rtc_time rtc_driver_now(rtc_driver *d);
/* Drain transmits and events until quiet, then re-arm the timer. Call after every
 * handle_* on the machine. Safe to call from inside on_event/on_transmit. */
void rtc_driver_drain(rtc_driver *d);
/* Stop the timer and release it; `close_cb` (may be NULL) runs once libuv is done
 * with `d`. The machine is not touched after this call. */
void rtc_driver_close(rtc_driver *d, rtc_driver_close_cb close_cb);

#endif
