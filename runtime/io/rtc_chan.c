/* Bounded two-way channel between two loops (rtc_chan.h). */
#include "io/rtc_chan.h"
#include "core/rtc_errors.h"
#include <stdlib.h>

typedef struct chan_msg {
    struct chan_msg *next;
    size_t len;
    void *data;
} chan_msg;

typedef struct chan_side {
    chan_msg *head, *tail;          /* this side's inbox */
    size_t count, bytes;
    uv_async_t *async;              /* own memory, freed by its close callback; NULL when unbound */
    rtc_chan_wake_cb cb;
    void *ud;
    bool closed;
    bool blocked;                   /* a send from this side found the other inbox full */
} chan_side;

struct rtc_chan {
    uv_mutex_t mu;                  /* guards everything below */
    size_t max_msgs, max_bytes;
    int refs;
    chan_side side[2];
};

int rtc_chan_new(rtc_chan **out, size_t max_msgs, size_t max_bytes)
{
    *out = NULL;
    if (!max_msgs || !max_bytes) return RTC_EINVAL;
    rtc_chan *c = calloc(1, sizeof *c);
    if (!c) return RTC_ENOMEM;
    if (uv_mutex_init(&c->mu) != 0) { free(c); return RTC_ENOMEM; }
    c->max_msgs = max_msgs;
    c->max_bytes = max_bytes;
    c->refs = 2;
    *out = c;
    return 0;
}

/* Under c->mu. uv_async_send is safe from any thread; the handle is alive while
 * side->async is set (cleared under the lock before it is closed). */
static void wake(rtc_chan *c, int side)
{
    if (c->side[side].async) uv_async_send(c->side[side].async);
}

static void async_cb(uv_async_t *h)
{
    rtc_chan *c = h->data;
    uv_mutex_lock(&c->mu);
    int side = h == c->side[0].async ? 0 : 1;
    rtc_chan_wake_cb cb = c->side[side].cb;
    void *ud = c->side[side].ud;
    uv_mutex_unlock(&c->mu);
    if (cb) cb(c, side, ud);
}

static void async_free_cb(uv_handle_t *h) { free(h); }

int rtc_chan_bind(rtc_chan *c, int side, uv_loop_t *loop, rtc_chan_wake_cb cb, void *ud, int keep_alive)
{
    chan_side *s = &c->side[side & 1];
    if (s->async || s->closed) return RTC_ESTATE;
    uv_async_t *a = malloc(sizeof *a);
    if (!a) return RTC_ENOMEM;
    if (uv_async_init(loop, a, async_cb) != 0) { free(a); return RTC_EIO; }
    a->data = c;
    if (!keep_alive) uv_unref((uv_handle_t *)a);
    uv_mutex_lock(&c->mu);
    s->cb = cb;
    s->ud = ud;
    s->async = a;
    if (s->head || c->side[!(side & 1)].closed) wake(c, side & 1);
    uv_mutex_unlock(&c->mu);
    return 0;
}

void rtc_chan_keep_alive(rtc_chan *c, int side, int keep_alive)
{
    uv_async_t *a = c->side[side & 1].async;   /* only its own thread changes it */
    if (!a) return;
    if (keep_alive) uv_ref((uv_handle_t *)a);
    else uv_unref((uv_handle_t *)a);
}

static int send_msg(rtc_chan *c, int side, void *data, size_t len, bool bounded, bool urgent)
{
    side &= 1;
    chan_msg *m = malloc(sizeof *m);
    if (!m) return RTC_ENOMEM;
    uv_mutex_lock(&c->mu);
    chan_side *to = &c->side[!side];
    int r = 0;
    if (to->closed || c->side[side].closed) r = RTC_ECLOSED;
    else if (bounded && len > c->max_bytes) r = RTC_ETOOBIG;
    else if (bounded && (to->count >= c->max_msgs || to->bytes + len > c->max_bytes)) {
        c->side[side].blocked = true;
        r = RTC_EAGAIN;
    }
    if (r < 0) {
        uv_mutex_unlock(&c->mu);
        free(m);
        return r;
    }
    m->next = NULL;
    m->len = len;
    m->data = data;
    if (urgent) {
        m->next = to->head;
        to->head = m;
        if (!to->tail) to->tail = m;
    } else {
        if (to->tail) to->tail->next = m;
        else to->head = m;
        to->tail = m;
    }
    to->count++;
    to->bytes += len;
    wake(c, !side);
    uv_mutex_unlock(&c->mu);
    return 0;
}

int rtc_chan_send(rtc_chan *c, int side, void *data, size_t len) { return send_msg(c, side, data, len, true, false); }

int rtc_chan_send_control(rtc_chan *c, int side, void *data, size_t len, int urgent)
{
    return send_msg(c, side, data, len, false, urgent != 0);
}

bool rtc_chan_peek(rtc_chan *c, int side, const void **data, size_t *len)
{
    uv_mutex_lock(&c->mu);
    chan_msg *m = c->side[side & 1].head;
    if (m) { *data = m->data; *len = m->len; }
    uv_mutex_unlock(&c->mu);
    return m != NULL;
}

void rtc_chan_poke(rtc_chan *c, int side)
{
    uv_mutex_lock(&c->mu);
    wake(c, side & 1);
    uv_mutex_unlock(&c->mu);
}

bool rtc_chan_recv(rtc_chan *c, int side, void **data, size_t *len)
{
    side &= 1;
    uv_mutex_lock(&c->mu);
    chan_side *s = &c->side[side];
    chan_msg *m = s->head;
    if (m) {
        s->head = m->next;
        if (!s->head) s->tail = NULL;
        s->count--;
        s->bytes -= m->len;
        chan_side *from = &c->side[!side];
        if (from->blocked) {
            from->blocked = false;
            wake(c, !side);
        }
    }
    uv_mutex_unlock(&c->mu);
    if (!m) return false;
    *data = m->data;
    *len = m->len;
    free(m);
    return true;
}

bool rtc_chan_writable(rtc_chan *c, int side)
{
    uv_mutex_lock(&c->mu);
    bool w = !c->side[side & 1].blocked && !c->side[!(side & 1)].closed;
    uv_mutex_unlock(&c->mu);
    return w;
}

bool rtc_chan_peer_closed(rtc_chan *c, int side)
{
    uv_mutex_lock(&c->mu);
    bool cl = c->side[!(side & 1)].closed;
    uv_mutex_unlock(&c->mu);
    return cl;
}

void rtc_chan_unbind(rtc_chan *c, int side)
{
    uv_mutex_lock(&c->mu);
    chan_side *s = &c->side[side & 1];
    uv_async_t *a = s->async;
    s->async = NULL;
    s->cb = NULL;
    uv_mutex_unlock(&c->mu);
    if (a) uv_close((uv_handle_t *)a, async_free_cb);
}

void rtc_chan_close(rtc_chan *c, int side)
{
    side &= 1;
    uv_mutex_lock(&c->mu);
    chan_side *s = &c->side[side];
    if (s->closed) { uv_mutex_unlock(&c->mu); return; }
    s->closed = true;
    uv_async_t *a = s->async;
    s->async = NULL;
    s->cb = NULL;
    chan_msg *m = s->head;
    s->head = s->tail = NULL;
    s->count = s->bytes = 0;
    wake(c, !side);
    int refs = --c->refs;
    uv_mutex_unlock(&c->mu);
    if (a) uv_close((uv_handle_t *)a, async_free_cb);
    while (m) {
        chan_msg *n = m->next;
        free(m->data);
        free(m);
        m = n;
    }
    if (refs == 0) {
        uv_mutex_destroy(&c->mu);
        free(c);
    }
}
