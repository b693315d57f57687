/* A bounded two-way message channel between two loops on two threads (the main
 * script and a worker, docs/workers.md). Each side has an inbox; a side sends into
 * the other side's inbox and receives from its own. Messages are opaque byte strings
 * (runtime/lua/lrtc_msg.h makes them from Lua values).
 *
 * Backpressure: an inbox holds at most `max_msgs` messages and `max_bytes` bytes.
 * rtc_chan_send into a full inbox fails with RTC_EAGAIN and takes nothing; the
 * sender is told (its wake callback runs, rtc_chan_writable turns true) once the
 * receiver has taken a message. rtc_chan_send_control ignores the bound: for the few
 * messages the runtime itself must deliver (a worker's exit report, a stop request);
 * once in, they count towards the bound like any other.
 *
 * Threads: send, recv and the flags may be called from either side's thread (one
 * mutex guards the queues); bind and close only from that side's own thread, on
 * the loop it binds. The wake callback runs on the bound side's loop, after any of:
 * messages arrived, room appeared after a full send, the other side closed. It is
 * level-triggered in spirit: a callback drains with rtc_chan_recv until false. */
#ifndef RTC_CHAN_H
#define RTC_CHAN_H
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct rtc_chan rtc_chan;
typedef void (*rtc_chan_wake_cb)(rtc_chan *c, int side, void *ud);

/* A new channel with both sides open and unbound, two refs (one per side).
 * Returns 0, RTC_EINVAL (a bound of 0) or RTC_ENOMEM. */
int rtc_chan_new(rtc_chan **out, size_t max_msgs, size_t max_bytes);

/* Bind `side` (0 or 1) to `loop` (borrowed; must outlive the binding): a uv_async on
 * it runs `cb` (ud borrowed). If its inbox already holds messages, cb runs on the
 * next loop turn. `keep_alive` 0 unrefs the async so it does not hold the loop.
 * Returns 0, RTC_ESTATE (already bound or closed), RTC_ENOMEM, RTC_EIO. */
int rtc_chan_bind(rtc_chan *c, int side, uv_loop_t *loop, rtc_chan_wake_cb cb, void *ud, int keep_alive);
/* Ref or unref the side's async (whether it keeps its loop alive). */
void rtc_chan_keep_alive(rtc_chan *c, int side, int keep_alive);

/* Send `data` (malloc'd; the channel takes it on success, the caller keeps it on
 * failure) of `len` bytes from `side` to the other side. Returns 0, RTC_EAGAIN (the
 * other inbox is full: try again after the wake callback), RTC_ETOOBIG (len alone
 * exceeds max_bytes), RTC_ECLOSED (the other side closed). */
int rtc_chan_send(rtc_chan *c, int side, void *data, size_t len);
/* The same without the bound (never RTC_EAGAIN). `urgent` puts it at the head of the
 * inbox, before everything waiting there (a stop request); otherwise at the tail. */
int rtc_chan_send_control(rtc_chan *c, int side, void *data, size_t len, int urgent);
/* Take the oldest message of `side`'s inbox: *data (caller frees) and *len. */
bool rtc_chan_recv(rtc_chan *c, int side, void **data, size_t *len);
/* Look at the oldest message of `side`'s inbox without taking it (*data borrowed
 * until the next recv on this side). Only the side's own thread takes. */
bool rtc_chan_peek(rtc_chan *c, int side, const void **data, size_t *len);
/* Run the side's wake callback on its next loop turn (on its own thread, bound). */
void rtc_chan_poke(rtc_chan *c, int side);
/* False after a send from `side` failed with RTC_EAGAIN, until the other side takes. */
bool rtc_chan_writable(rtc_chan *c, int side);
/* True once the other side called rtc_chan_close. */
bool rtc_chan_peer_closed(rtc_chan *c, int side);

/* Unbind `side` (on its thread, its loop still alive): its async is closed, the side
 * stays open and its inbox keeps what arrives. Idempotent. */
void rtc_chan_unbind(rtc_chan *c, int side);

/* Close `side`: its async is closed on its loop (must be called on that thread,
 * not from inside rtc_loop_free), messages still in its inbox are freed, the other
 * side is woken and from then on gets RTC_ECLOSED. Drops the side's ref; the last
 * one frees the channel. Idempotent per side. */
void rtc_chan_close(rtc_chan *c, int side);

#endif
