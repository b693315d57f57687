#include "io/rtc_driver.h"
#include <stddef.h>

static rtc_time default_clock(void *ud) { (void)ud; return rtc_clock_now(); }

rtc_time rtc_driver_now(rtc_driver *d) { return d->clock(d->clock_ud); }

static void timer_cb(uv_timer_t *t)
{
    rtc_driver *d = t->data;
    d->armed = RTC_TIME_NEVER;
    d->wakeups++;
    d->ops->handle_timeout(d->machine, rtc_driver_now(d));
    rtc_driver_drain(d);
}

void rtc_driver_init(rtc_driver *d, rtc_loop *lp, const rtc_machine_ops *ops, void *machine,
                     rtc_driver_transmit_cb on_transmit, rtc_driver_event_cb on_event, void *ev_storage)
{
    void *data = d->data;
    *d = (rtc_driver){ .data = data, .ops = ops, .machine = machine, .armed = RTC_TIME_NEVER,
                       .on_transmit = on_transmit, .on_event = on_event, .ev = ev_storage,
                       .clock = default_clock };
    uv_timer_init(rtc_loop_uv(lp), &d->timer);
    d->timer.data = d;
}

void rtc_driver_set_clock(rtc_driver *d, rtc_driver_clock_fn clock, void *ud)
{
    d->clock = clock ? clock : default_clock;
    d->clock_ud = ud;
}

static void arm(rtc_driver *d)
{
    rtc_time t = d->ops->poll_timeout(d->machine);
    if (t == RTC_TIME_NEVER) {
        uv_timer_stop(&d->timer);
        d->armed = RTC_TIME_NEVER;
        return;
    }
    if (t == d->armed) return;
    rtc_time now = rtc_driver_now(d);
    /* Round up: a timer that fires before the deadline only costs a wasted wakeup,
     * but rounding down to 0 could spin. */
    uint64_t ms = t <= now ? 0 : (uint64_t)((t - now + 999) / 1000);
    d->armed = t;
    uv_timer_start(&d->timer, timer_cb, ms, 0);
}

void rtc_driver_drain(rtc_driver *d)
{
    if (d->closing) return;
    if (d->draining) { d->dirty = 1; return; }
    d->draining = 1;
    do {
        d->dirty = 0;
        for (;;) {
            int any = 0;
            rtc_transmit tx;
            while (!d->closing && d->ops->poll_transmit && d->ops->poll_transmit(d->machine, &tx)) {
                d->transmits++;
                any = 1;
                if (d->on_transmit) d->on_transmit(d, &tx);
                else rtc_buf_unref(tx.buf);
            }
            while (!d->closing && d->ops->poll_event && d->ops->poll_event(d->machine, d->ev)) {
                d->events++;
                any = 1;
                if (d->on_event) d->on_event(d, d->ev);
            }
            if (!any || d->closing) break;
        }
    } while (d->dirty && !d->closing);
    d->draining = 0;
    if (!d->closing) arm(d);
}

static void close_cb(uv_handle_t *h)
{
    rtc_driver *d = h->data;
    if (d->close_cb) d->close_cb(d);
}

void rtc_driver_close(rtc_driver *d, rtc_driver_close_cb cb)
{
    if (d->closing) return;
    d->closing = 1;
    d->close_cb = cb;
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, close_cb);
}
