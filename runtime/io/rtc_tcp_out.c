#include "io/rtc_tcp_out.h"
#include "core/rtc_errors.h"
#include <stdlib.h>

typedef struct tcp_wreq { uv_write_t req; rtc_tcp_out *o; rtc_buf *buf; size_t len; } tcp_wreq;

void rtc_tcp_out_init(rtc_tcp_out *o, uv_stream_t *stream, size_t max_queued, bool connected,
                      rtc_tcp_out_error_cb error_cb, void *ud)
{
    *o = (rtc_tcp_out){ .stream = stream, .max_queued = max_queued ? max_queued : RTC_TCP_OUT_DEFAULT_MAX,
                        .connected = connected, .error_cb = error_cb, .ud = ud };
}

bool rtc_tcp_out_fits(const rtc_tcp_out *o, size_t len)
{
    return !o->failed && o->st.queued + len <= o->max_queued;
}

static void add_queued(rtc_tcp_out *o, size_t n)
{
    o->st.queued += n;
    if (o->st.queued > o->st.queued_peak) o->st.queued_peak = o->st.queued;
}

static void write_cb(uv_write_t *req, int status)
{
    tcp_wreq *w = (tcp_wreq *)req;
    rtc_tcp_out *o = w->o;
    o->st.queued -= w->len;
    rtc_buf_unref(w->buf);
    free(w);
    if (status < 0 && status != UV_ECANCELED && !o->failed) {
        o->failed = true;
        if (o->error_cb) o->error_cb(o, status);
    }
}

static int drop(rtc_tcp_out *o, rtc_buf *b)
{
    o->st.dropped++;
    o->st.dropped_bytes += b->len;
    rtc_buf_unref(b);
    return RTC_EAGAIN;
}

static int write_now(rtc_tcp_out *o, rtc_buf *b, bool may_drop)
{
    uv_buf_t ub = uv_buf_init((char *)b->data, (unsigned)b->len);
    size_t done = 0;
    if (o->st.queued == 0) {
        /* the common case: the kernel takes it all now, no request needed */
        int n = uv_try_write(o->stream, &ub, 1);
        if (n == (int)b->len) { o->st.tx_bytes += b->len; rtc_buf_unref(b); return 0; }
        if (n > 0) done = (size_t)n;
    }
    /* A frame partly written must be completed: only whole ones drop. */
    if (done == 0 && may_drop && !rtc_tcp_out_fits(o, b->len)) return drop(o, b);
    tcp_wreq *w = malloc(sizeof *w);
    if (!w) {
        rtc_buf_unref(b);
        return RTC_EIO;               /* the stream cannot go on: a frame may be half out */
    }
    w->o = o;
    w->buf = b;
    w->len = b->len - done;
    ub = uv_buf_init((char *)b->data + done, (unsigned)w->len);
    if (uv_write(&w->req, o->stream, &ub, 1, write_cb) != 0) {
        rtc_buf_unref(b);
        free(w);
        o->failed = true;
        return RTC_EIO;
    }
    o->st.tx_bytes += b->len;        /* counted once the kernel has the rest, in effect */
    add_queued(o, w->len);
    return 0;
}

int rtc_tcp_out_send(rtc_tcp_out *o, rtc_buf *b, bool may_drop)
{
    if (o->failed) { rtc_buf_unref(b); return RTC_EIO; }
    if (!o->connected) {
        if (may_drop && !rtc_tcp_out_fits(o, b->len)) return drop(o, b);
        rtc_bufq_push(&o->held, b);
        add_queued(o, b->len);
        return 0;
    }
    return write_now(o, b, may_drop);
}

int rtc_tcp_out_connected(rtc_tcp_out *o)
{
    if (o->connected) return o->failed ? RTC_EIO : 0;
    o->connected = true;
    rtc_buf *b;
    while (!o->failed && (b = rtc_bufq_pop(&o->held))) {
        o->st.queued -= b->len;
        if (write_now(o, b, false) == RTC_EIO) break;   /* already admitted under the bound */
    }
    if (!o->failed) return 0;
    rtc_tcp_out_fail(o);
    return RTC_EIO;
}

void rtc_tcp_out_fail(rtc_tcp_out *o)
{
    o->failed = true;
    o->st.queued -= o->held.bytes;
    rtc_bufq_clear(&o->held);
}

void rtc_tcp_out_get_stats(const rtc_tcp_out *o, rtc_tcp_out_stats *out)
{
    *out = o->st;
}
