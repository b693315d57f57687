/* ICE-TCP listeners and accepted connections with RFC 4571 framing (io/rtc_ice_tcp.h). */
#include "io/rtc_ice_tcp.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "io/rtc_tcp_out.h"
#include <stdlib.h>
#include <string.h>

#define TAG "ice-tcp"
/* A frame is at most 65535 bytes: one whole frame plus its length always fits. */
#define RX_CAP (2 + 65535)
/* What one connection may hold unsent: a peer that stops reading drops frames, as
 * datagrams would be lost over UDP (SCTP and SRTP recover as they do there). */
#define CONN_MAX_QUEUED (1u << 20)

typedef struct ice_tcp_listener {
    rtc_ice_tcp *t;
    uv_tcp_t tcp;
    rtc_addr local;
} ice_tcp_listener;

typedef struct ice_tcp_conn {
    rtc_ice_tcp *t;
    uv_tcp_t tcp;
    rtc_addr local, remote;
    rtc_tcp_out out;
    bool closing;
    uint8_t *rx;              /* RX_CAP bytes, owned */
    size_t rxlen;
} ice_tcp_conn;

struct rtc_ice_tcp {
    uv_loop_t *loop;
    rtc_ice_tcp_frame_cb frame_cb;
    void *ud;
    ice_tcp_listener *ls[RTC_ICE_TCP_MAX_LISTEN];
    int nls;
    ice_tcp_conn *conns[RTC_ICE_TCP_MAX_CONNS];
    int nconns;
    int pending;              /* handles whose close callback has not run yet */
    bool closing;
    rtc_ice_tcp_closed_cb closed_cb;
};

int rtc_ice_tcp_new(rtc_ice_tcp **out, uv_loop_t *loop, rtc_ice_tcp_frame_cb frame_cb, void *ud)
{
    rtc_ice_tcp *t = calloc(1, sizeof *t);
    if (!t) return RTC_ENOMEM;
    t->loop = loop;
    t->frame_cb = frame_cb;
    t->ud = ud;
    *out = t;
    return 0;
}

static void maybe_free(rtc_ice_tcp *t)
{
    if (!t->closing || t->pending > 0) return;
    if (t->closed_cb) t->closed_cb(t->ud);
    free(t);
}

static void conn_closed(uv_handle_t *hd)
{
    ice_tcp_conn *c = hd->data;
    rtc_ice_tcp *t = c->t;
    rtc_tcp_out_fail(&c->out);
    free(c->rx);
    free(c);
    t->pending--;
    maybe_free(t);
}

static void conn_close(ice_tcp_conn *c)
{
    if (c->closing) return;
    c->closing = true;
    rtc_ice_tcp *t = c->t;
    for (int i = 0; i < t->nconns; i++)
        if (t->conns[i] == c) { t->conns[i] = t->conns[--t->nconns]; break; }
    rtc_tcp_out_fail(&c->out);
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void conn_alloc_cb(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    ice_tcp_conn *c = hd->data;
    /* Read straight into the frame buffer's free tail: never more than one frame's worth
     * is pending, so the tail is never empty. */
    *buf = uv_buf_init((char *)c->rx + c->rxlen, (unsigned)(RX_CAP - c->rxlen));
}

static void conn_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    ice_tcp_conn *c = st->data;
    rtc_ice_tcp *t = c->t;
    if (n < 0) {
        char rs[RTC_ADDR_STRLEN];
        rtc_debug(TAG, "connection from %s ended: %s", rtc_addr_str(&c->remote, rs, sizeof rs), uv_strerror((int)n));
        conn_close(c);
        return;
    }
    if (n == 0 || c->closing || t->closing) return;
    c->rxlen += (size_t)n;
    size_t off = 0;
    /* The callback may close this connection (its machine closed): stop then. */
    while (!c->closing && c->rxlen - off >= 2) {
        size_t flen = ((size_t)c->rx[off] << 8) | c->rx[off + 1];
        if (c->rxlen - off - 2 < flen) break;
        if (flen > 0) t->frame_cb(t->ud, &c->local, &c->remote, c->rx + off + 2, flen);
        off += 2 + flen;
    }
    if (c->closing) return;
    memmove(c->rx, c->rx + off, c->rxlen - off);
    c->rxlen -= off;
}

static void out_error_cb(rtc_tcp_out *o, int status)
{
    ice_tcp_conn *c = o->ud;
    rtc_debug(TAG, "write failed: %s", uv_strerror(status));
    conn_close(c);
}

static void refuse_closed(uv_handle_t *hd)
{
    rtc_ice_tcp *t = hd->data ? ((ice_tcp_listener *)hd->data)->t : NULL;
    free(hd);
    if (t) { t->pending--; maybe_free(t); }
}

static void listen_cb(uv_stream_t *server, int status)
{
    ice_tcp_listener *l = server->data;
    rtc_ice_tcp *t = l->t;
    if (status < 0 || t->closing) return;
    if (t->nconns == RTC_ICE_TCP_MAX_CONNS) {
        uv_tcp_t *tmp = malloc(sizeof *tmp);
        if (!tmp) return;
        uv_tcp_init(t->loop, tmp);
        tmp->data = l;
        t->pending++;
        if (uv_accept(server, (uv_stream_t *)tmp) == 0) rtc_warn(TAG, "too many ICE-TCP connections: one refused");
        uv_close((uv_handle_t *)tmp, refuse_closed);
        return;
    }
    ice_tcp_conn *c = calloc(1, sizeof *c);
    if (!c || !(c->rx = malloc(RX_CAP))) { free(c); return; }
    c->t = t;
    c->local = l->local;
    uv_tcp_init(t->loop, &c->tcp);
    c->tcp.data = c;
    t->pending++;
    rtc_tcp_out_init(&c->out, (uv_stream_t *)&c->tcp, CONN_MAX_QUEUED, true, out_error_cb, c);
    t->conns[t->nconns++] = c;
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) != 0 ||
        rtc_addr_from_sockaddr(&c->remote, (struct sockaddr *)&ss) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    char rs[RTC_ADDR_STRLEN];
    rtc_debug(TAG, "connection from %s", rtc_addr_str(&c->remote, rs, sizeof rs));
    if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb) != 0) conn_close(c);
}

static void listener_closed(uv_handle_t *hd)
{
    ice_tcp_listener *l = hd->data;
    rtc_ice_tcp *t = l->t;
    free(l);
    t->pending--;
    maybe_free(t);
}

int rtc_ice_tcp_listen(rtc_ice_tcp *t, const rtc_addr *ip, rtc_addr *bound)
{
    if (t->nls == RTC_ICE_TCP_MAX_LISTEN) return RTC_EQUOTA;
    ice_tcp_listener *l = calloc(1, sizeof *l);
    if (!l) return RTC_ENOMEM;
    l->t = t;
    uv_tcp_init(t->loop, &l->tcp);
    l->tcp.data = l;
    t->pending++;
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    int r = uv_tcp_bind(&l->tcp, &ip->u.sa, 0);
    if (r == 0) r = uv_listen((uv_stream_t *)&l->tcp, 64, listen_cb);
    if (r == 0) r = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &sl);
    if (r == 0) r = rtc_addr_from_sockaddr(&l->local, (struct sockaddr *)&ss) == 0 ? 0 : UV_EINVAL;
    if (r != 0) {
        char a[RTC_ADDR_STRLEN];
        rtc_warn(TAG, "cannot listen on %s: %s", rtc_addr_str(ip, a, sizeof a), uv_strerror(r));
        uv_close((uv_handle_t *)&l->tcp, listener_closed);
        return RTC_EIO;
    }
    t->ls[t->nls++] = l;
    if (bound) *bound = l->local;
    return 0;
}

int rtc_ice_tcp_send(rtc_ice_tcp *t, const rtc_addr *local, const rtc_addr *remote, rtc_buf *b)
{
    ice_tcp_conn *c = NULL;
    for (int i = 0; i < t->nconns && !c; i++)
        if (rtc_addr_eq(&t->conns[i]->remote, remote) && rtc_addr_eq(&t->conns[i]->local, local)) c = t->conns[i];
    if (!c || b->len > 65535) { rtc_buf_unref(b); return RTC_ENOTFOUND; }
    rtc_buf *f = rtc_buf_alloc(NULL, b->len + 2);
    if (!f) { rtc_buf_unref(b); return RTC_ENOMEM; }
    f->data[0] = (uint8_t)(b->len >> 8);
    f->data[1] = (uint8_t)b->len;
    memcpy(f->data + 2, b->data, b->len);
    f->len = b->len + 2;
    rtc_buf_unref(b);
    if (rtc_tcp_out_send(&c->out, f, true) == RTC_EIO) conn_close(c);
    return 0;
}

int rtc_ice_tcp_connections(const rtc_ice_tcp *t) { return t->nconns; }

void rtc_ice_tcp_close(rtc_ice_tcp *t, rtc_ice_tcp_closed_cb closed_cb)
{
    if (t->closing) return;
    t->closing = true;
    t->closed_cb = closed_cb;
    while (t->nconns) conn_close(t->conns[0]);
    for (int i = 0; i < t->nls; i++) uv_close((uv_handle_t *)&t->ls[i]->tcp, listener_closed);
    t->nls = 0;
    maybe_free(t);            /* nothing was ever opened: no close callback will come */
}
