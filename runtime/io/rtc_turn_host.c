/* libuv side of the TURN server: listeners, TCP connections, relay sockets, timer. */
#include "io/rtc_turn_host.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "io/rtc_driver.h"
#include "io/rtc_tcp_out.h"
#include "io/rtc_udp.h"
#include "tls/tls_stream.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAG "turn"
#define RELAY_BUCKETS 4096u
#define CONN_BUCKETS 1024u
#define TCP_READ_BUF 65536

typedef struct listener {
    rtc_turn_host *h;
    rtc_addr local;
    rtc_udp *u;
    uv_tcp_t *tcp;                 /* NULL without TCP; freed by its close callback */
    bool tls;                      /* a TLS listener: no UDP socket, connections get a tls stream */
} listener;

typedef struct relay {
    rtc_turn_host *h;
    uint32_t id;
    rtc_udp *u;
    struct relay *next;
} relay;

typedef struct conn {
    uv_tcp_t tcp;                  /* tcp.data == this; freed in its close callback */
    rtc_turn_host *h;
    rtc_addr local, remote;
    struct conn *next;
    rtc_tcp_out out;               /* bounded at the host's tcp_max_pending */
    bool closing;
    rtc_tls_stream *tls;           /* NULL for plain TCP; freed with the conn */
} conn;

struct rtc_turn_host {
    rtc_loop *lp;
    rtc_turn_server *s;
    rtc_driver drv;
    rtc_turn_srv_event ev;
    uint32_t last_relay;           /* relay id of the transmit being handed out */
    listener ls[RTC_TURN_HOST_MAX_LISTEN];
    int nls;
    listener tls_ls[RTC_TURN_HOST_MAX_LISTEN];
    int ntls;
    rtc_tls_context *tls_ctx;
    relay *relays[RELAY_BUCKETS];
    conn *conns[CONN_BUCKETS];
    size_t tcp_max_pending;
    rtc_turn_host_event_cb event_cb;
    void *ud;
    rtc_turn_host_close_cb close_cb;
    void *close_ud;
    int handles;                   /* libuv handles whose close callback is still to come */
    bool closing;
    uint8_t *readbuf;              /* shared: libuv runs each read callback to completion */
    rtc_turn_host_stats st;
};

static rtc_time now_of(rtc_turn_host *h)
{
    rtc_turn_server_set_unix_time(h->s, (int64_t)time(NULL));
    return rtc_driver_now(&h->drv);
}

/* ====== machine adapters for rtc_driver ====== */

/* The driver's "machine" is the host itself, so the transmit adapter can keep the
 * relay id beside the transmit: rtc_driver hands each one over right after polling. */
static int m_timeout(void *m, rtc_time now)
{
    rtc_turn_host *h = m;
    rtc_turn_server_set_unix_time(h->s, (int64_t)time(NULL));
    return rtc_turn_server_handle_timeout(h->s, now);
}
static rtc_time m_poll_timeout(void *m) { return rtc_turn_server_poll_timeout(((rtc_turn_host *)m)->s); }
static bool m_poll_event(void *m, void *ev) { return rtc_turn_server_poll_event(((rtc_turn_host *)m)->s, ev); }
static bool m_poll_transmit(void *m, rtc_transmit *out)
{
    rtc_turn_host *h = m;
    return rtc_turn_server_poll_transmit2(h->s, out, &h->last_relay);
}
static const rtc_machine_ops turn_ops = { m_timeout, m_poll_transmit, m_poll_event, m_poll_timeout };

/* ====== lookups ====== */

static relay *find_relay(rtc_turn_host *h, uint32_t id)
{
    for (relay *r = h->relays[(id >> 1) % RELAY_BUCKETS]; r; r = r->next)
        if (r->id == id) return r;
    return NULL;
}

static uint32_t conn_bucket(const rtc_addr *local, const rtc_addr *remote)
{
    return (rtc_addr_hash(remote) * 31u + rtc_addr_hash(local)) % CONN_BUCKETS;
}

static conn *find_conn(rtc_turn_host *h, const rtc_addr *local, const rtc_addr *remote)
{
    for (conn *c = h->conns[conn_bucket(local, remote)]; c; c = c->next)
        if (rtc_addr_eq(&c->remote, remote) && rtc_addr_eq(&c->local, local)) return c;
    return NULL;
}

static listener *find_listener(rtc_turn_host *h, const rtc_addr *local)
{
    for (int i = 0; i < h->nls; i++)
        if (rtc_addr_eq(&h->ls[i].local, local)) return &h->ls[i];
    return NULL;
}

/* ====== closing ====== */

/* One handle is gone; the host goes once it is closing and nothing is left. */
static void maybe_done(rtc_turn_host *h)
{
    if (--h->handles > 0 || !h->closing) return;
    rtc_turn_server_free(h->s);
    rtc_tls_context_unref(h->tls_ctx);
    free(h->readbuf);
    if (h->close_cb) h->close_cb(h, h->close_ud);
    free(h);
}

static void relay_closed(rtc_udp *u, void *ud)
{
    (void)u;
    relay *r = ud;
    rtc_turn_host *h = r->h;
    free(r);
    maybe_done(h);
}

static void close_relay(rtc_turn_host *h, uint32_t id)
{
    relay **pp = &h->relays[(id >> 1) % RELAY_BUCKETS];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) {
            relay *r = *pp;
            *pp = r->next;
            h->st.relays_open--;
            rtc_udp_close(r->u, relay_closed);
            return;
        }
}

static void conn_closed(uv_handle_t *hd)
{
    conn *c = hd->data;
    rtc_turn_host *h = c->h;
    rtc_tls_stream_free(c->tls);
    free(c);
    maybe_done(h);
}

/* Unlinks and closes; `tell` reports it to the machine (the peer went away). */
static void close_conn(conn *c, bool tell)
{
    if (c->closing) return;
    rtc_turn_host *h = c->h;
    c->closing = true;
    for (conn **pp = &h->conns[conn_bucket(&c->local, &c->remote)]; *pp; pp = &(*pp)->next)
        if (*pp == c) { *pp = c->next; break; }
    if (tell && !h->closing) {
        rtc_turn_server_handle_tcp_closed(h->s, &c->local, &c->remote, now_of(h));
        rtc_driver_drain(&h->drv);
    }
    if (c->tls && !h->closing) {
        /* close_notify (or the alert of a failed handshake) goes out if the socket takes it now */
        rtc_tls_stream_close(c->tls, rtc_driver_now(&h->drv));
        rtc_buf *b;
        while (rtc_tls_stream_poll_transmit(c->tls, &b)) {
            uv_buf_t ub = uv_buf_init((char *)b->data, (unsigned)b->len);
            if (c->out.st.queued == 0) uv_try_write((uv_stream_t *)&c->tcp, &ub, 1);
            rtc_buf_unref(b);
        }
    }
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

/* ====== output ====== */

static void out_error_cb(rtc_tcp_out *o, int status)
{
    (void)status;
    conn *c = o->ud;
    if (!c->closing && !c->h->closing) close_conn(c, true);
}

/* Bytes onto the socket. `may_drop`: a whole frame may be dropped for a slow client
 * (io/rtc_tcp_out.h); TLS records may not (the stream would break), so TLS drops
 * before encrypting. */
static void raw_send(rtc_turn_host *h, conn *c, rtc_buf *b, bool may_drop)
{
    if (c->closing) { rtc_buf_unref(b); return; }
    uint64_t before = c->out.st.tx_bytes;
    int r = rtc_tcp_out_send(&c->out, b, may_drop);
    h->st.tcp_tx_bytes += c->out.st.tx_bytes - before;
    if (c->out.st.queued_peak > h->st.tcp_tx_queued_peak) h->st.tcp_tx_queued_peak = c->out.st.queued_peak;
    if (r == RTC_EAGAIN) h->st.tcp_tx_dropped++;
    else if (r < 0) close_conn(c, true);
}

static void tls_flush(rtc_turn_host *h, conn *c)
{
    rtc_buf *b;
    while (rtc_tls_stream_poll_transmit(c->tls, &b)) raw_send(h, c, b, false);
}

static void tcp_send(rtc_turn_host *h, conn *c, rtc_buf *b)
{
    if (!c->tls) { raw_send(h, c, b, true); return; }
    if (c->closing || !rtc_tcp_out_fits(&c->out, b->len)) {
        if (!c->closing) h->st.tcp_tx_dropped++;
        rtc_buf_unref(b);
        return;
    }
    int r = rtc_tls_stream_write(c->tls, b->data, b->len, rtc_driver_now(&h->drv));
    rtc_buf_unref(b);
    if (r < 0) { h->st.tcp_tx_dropped++; return; }    /* handshake not done or closing */
    tls_flush(h, c);
}

static void on_transmit(rtc_driver *d, rtc_transmit *t)
{
    rtc_turn_host *h = d->data;
    if (h->last_relay) {
        relay *r = find_relay(h, h->last_relay);
        if (!r) { rtc_buf_unref(t->buf); return; }
        h->st.relay_tx++;
        rtc_udp_send_buf(r->u, &t->remote, t->buf);
        return;
    }
    if (t->proto == RTC_PROTO_UDP) {
        listener *l = find_listener(h, &t->local);
        if (!l) { rtc_buf_unref(t->buf); return; }
        h->st.udp_tx++;
        rtc_udp_send_buf(l->u, &t->remote, t->buf);
        return;
    }
    conn *c = find_conn(h, &t->local, &t->remote);
    if (!c) { rtc_buf_unref(t->buf); return; }
    tcp_send(h, c, t->buf);
}

/* ====== relays ====== */

static void relay_recv(rtc_udp *u, const uint8_t *data, size_t len, const rtc_addr *from, void *ud)
{
    (void)u;
    relay *r = ud;
    rtc_turn_host *h = r->h;
    if (h->closing) return;
    h->st.relay_rx++;
    rtc_turn_server_handle_relay(h->s, r->id, from, data, len, rtc_driver_now(&h->drv));
    rtc_driver_drain(&h->drv);
}

static void open_relay(rtc_turn_host *h, const rtc_turn_srv_event *e)
{
    rtc_time now = rtc_driver_now(&h->drv);
    relay *r = calloc(1, sizeof *r);
    if (!r) { rtc_turn_server_relay_bound(h->s, e->relay_id, RTC_ENOMEM, NULL, now); return; }
    r->h = h;
    r->id = e->relay_id;
    rtc_udp_opts opts = { .ipv6only = 1 };
    int rc = rtc_udp_new(&r->u, h->lp, &e->addr, &opts, relay_recv, r);
    rtc_addr bound;
    if (rc == 0 && rtc_udp_local_addr(r->u, &bound) < 0) rc = RTC_EIO;
    if (rc < 0) {
        h->st.relay_bind_failures++;
        if (r->u) rtc_udp_close(r->u, NULL);
        free(r);
        rtc_turn_server_relay_bound(h->s, e->relay_id, rc, NULL, now);
        return;
    }
    uint32_t b = (r->id >> 1) % RELAY_BUCKETS;
    r->next = h->relays[b];
    h->relays[b] = r;
    h->handles++;
    h->st.relays_open++;
    if (rtc_turn_server_relay_bound(h->s, e->relay_id, 0, &bound, now) < 0) close_relay(h, e->relay_id);
}

static void on_event(rtc_driver *d, void *evp)
{
    rtc_turn_host *h = d->data;
    const rtc_turn_srv_event *e = evp;
    switch (e->type) {
    case RTC_TURN_SRV_EV_RELAY_OPEN: open_relay(h, e); break;
    case RTC_TURN_SRV_EV_RELAY_CLOSE: close_relay(h, e->relay_id); break;
    case RTC_TURN_SRV_EV_CLOSE_CONN: {
        conn *c = find_conn(h, &e->local, &e->client);
        if (c) close_conn(c, false);
        break;
    }
    default: break;
    }
    if (h->event_cb && !h->closing) h->event_cb(h, e, h->ud);
}

/* ====== listeners ====== */

static void udp_recv(rtc_udp *u, const uint8_t *data, size_t len, const rtc_addr *from, void *ud)
{
    (void)u;
    listener *l = ud;
    rtc_turn_host *h = l->h;
    if (h->closing) return;
    h->st.udp_rx++;
    rtc_turn_server_handle_packet(h->s, &l->local, from, RTC_PROTO_UDP, data, len, now_of(h));
    rtc_driver_drain(&h->drv);
}

static void tcp_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    conn *c = hd->data;
    buf->base = (char *)c->h->readbuf;
    buf->len = TCP_READ_BUF;
}

/* Ciphertext in; plaintext on to the machine as stream bytes. The machine's answers
 * come back through tcp_send into the same stream while its events are being drained,
 * which the stream allows (records are decrypted before any event is handed out). */
static void tls_read(rtc_turn_host *h, conn *c, const uint8_t *data, size_t n)
{
    rtc_tls_stream_handle_input(c->tls, data, n, now_of(h));
    tls_flush(h, c);
    rtc_tls_event ev;
    while (!c->closing && !h->closing && rtc_tls_stream_poll_event(c->tls, &ev)) {
        switch (ev.type) {
        case RTC_TLS_EV_OPEN:
            h->st.tls_handshakes++;
            tls_flush(h, c);          /* anything the stream held back */
            break;
        case RTC_TLS_EV_DATA:
            rtc_turn_server_handle_packet(h->s, &c->local, &c->remote, RTC_PROTO_TCP_RAW, ev.data->data,
                                          ev.data->len, now_of(h));
            rtc_buf_unref(ev.data);
            rtc_driver_drain(&h->drv);
            break;
        case RTC_TLS_EV_CLOSED:
            close_conn(c, true);
            break;
        case RTC_TLS_EV_FAILED: {
            char a[RTC_ADDR_STRLEN];
            h->st.tls_failures++;
            rtc_debug(TAG, "TLS from %s: %s", rtc_addr_str(&c->remote, a, sizeof a), ev.reason);
            tls_flush(h, c);          /* the alert */
            close_conn(c, true);
            break;
        }
        }
    }
}

static void tcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    conn *c = st->data;
    rtc_turn_host *h = c->h;
    if (n < 0) { close_conn(c, true); return; }
    if (n == 0 || c->closing || h->closing) return;
    h->st.tcp_rx_bytes += (uint64_t)n;
    if (c->tls) { tls_read(h, c, (const uint8_t *)buf->base, (size_t)n); return; }
    rtc_turn_server_handle_packet(h->s, &c->local, &c->remote, RTC_PROTO_TCP_RAW, (const uint8_t *)buf->base,
                                  (size_t)n, now_of(h));
    rtc_driver_drain(&h->drv);
}

static void on_connection(uv_stream_t *server, int status)
{
    listener *l = server->data;
    rtc_turn_host *h = l->h;
    if (status < 0 || h->closing) return;
    conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->h = h;
    uv_tcp_init(rtc_loop_uv(h->lp), &c->tcp);
    c->tcp.data = c;
    rtc_tcp_out_init(&c->out, (uv_stream_t *)&c->tcp, h->tcp_max_pending, true, out_error_cb, c);
    int nl = sizeof c->remote.u;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_tcp_getpeername(&c->tcp, &c->remote.u.sa, &nl) != 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    c->local = l->local;
    if (l->tls) {
        rtc_tls_stream_config tc = { .ctx = h->tls_ctx, .pool = rtc_loop_pool(h->lp) };
        if (rtc_tls_stream_new(&c->tls, &tc, rtc_driver_now(&h->drv)) < 0) {
            c->closing = true;
            uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
            return;
        }
        h->st.tls_accepted++;
    }
    if (rtc_turn_server_handle_tcp_open(h->s, &c->local, &c->remote, now_of(h)) < 0) {
        rtc_tls_stream_free(c->tls);
        c->closing = true;           /* over the connection limit */
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    rtc_driver_drain(&h->drv);       /* arms the idle timer */
    uv_tcp_nodelay(&c->tcp, 1);
    uint32_t b = conn_bucket(&c->local, &c->remote);
    c->next = h->conns[b];
    h->conns[b] = c;
    h->handles++;
    h->st.tcp_accepted++;
    uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_read);
}

static void tcp_listener_closed(uv_handle_t *hd)
{
    listener *l = hd->data;
    rtc_turn_host *h = l->h;
    free(hd);
    maybe_done(h);
}

static int listen_tcp(rtc_turn_host *h, listener *l)
{
    l->tcp = malloc(sizeof *l->tcp);
    if (!l->tcp) return RTC_ENOMEM;
    uv_tcp_init(rtc_loop_uv(h->lp), l->tcp);
    l->tcp->data = l;
    int r = uv_tcp_bind(l->tcp, &l->local.u.sa, rtc_addr_family(&l->local) == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
    if (!r) r = uv_listen((uv_stream_t *)l->tcp, 128, on_connection);
    if (!r && l->tls) {
        /* a TLS listener has no UDP socket to take its port from */
        int nl = sizeof l->local.u;
        r = uv_tcp_getsockname(l->tcp, &l->local.u.sa, &nl);
    }
    if (r) {
        rtc_warn(TAG, "TCP listen: %s", uv_strerror(r));
        uv_close((uv_handle_t *)l->tcp, (uv_close_cb)free);
        l->tcp = NULL;
        return RTC_EIO;
    }
    return 0;
}

static void udp_listener_closed(rtc_udp *u, void *ud)
{
    (void)u;
    listener *l = ud;
    maybe_done(l->h);
}

static void drv_closed(rtc_driver *d) { maybe_done(d->data); }

/* ====== lifecycle ====== */

/* rtc_turn_host_new failed half way: close what is open (their memory goes in their
 * own close callbacks) and free the rest now. */
static void abandon(rtc_turn_host *h)
{
    for (int k = 0; k < h->nls; k++) {
        rtc_udp_close(h->ls[k].u, NULL);
        if (h->ls[k].tcp) uv_close((uv_handle_t *)h->ls[k].tcp, (uv_close_cb)free);
    }
    for (int k = 0; k < h->ntls; k++) uv_close((uv_handle_t *)h->tls_ls[k].tcp, (uv_close_cb)free);
    rtc_turn_server_free(h->s);
    rtc_tls_context_unref(h->tls_ctx);
    free(h->readbuf);
    free(h);
}

int rtc_turn_host_new(rtc_turn_host **out, rtc_loop *lp, const rtc_turn_host_config *cfg,
                      rtc_turn_host_event_cb event_cb, void *ud)
{
    *out = NULL;
    if (cfg->nlisten <= 0 || cfg->nlisten > RTC_TURN_HOST_MAX_LISTEN) return RTC_EINVAL;
    if (cfg->ntls_listen < 0 || cfg->ntls_listen > RTC_TURN_HOST_MAX_LISTEN) return RTC_EINVAL;
    if (cfg->ntls_listen > 0 && (!cfg->tls || rtc_tls_context_role(cfg->tls) != RTC_TLS_SERVER)) return RTC_EINVAL;
    rtc_turn_host *h = calloc(1, sizeof *h);
    if (!h) return RTC_ENOMEM;
    h->readbuf = malloc(TCP_READ_BUF);
    if (!h->readbuf) { free(h); return RTC_ENOMEM; }
    h->lp = lp;
    h->event_cb = event_cb;
    h->ud = ud;
    h->tcp_max_pending = cfg->tcp_max_pending ? cfg->tcp_max_pending : RTC_TCP_OUT_DEFAULT_MAX;
    rtc_turn_server_config sc = cfg->server;
    if (!sc.rng) sc.rng = rtc_loop_rng(lp);
    if (!sc.pool) sc.pool = rtc_loop_pool(lp);
    int r = rtc_turn_server_new(&h->s, &sc, rtc_clock_now());
    if (r < 0) { free(h->readbuf); free(h); return r; }
    if (cfg->ntls_listen > 0) h->tls_ctx = rtc_tls_context_ref(cfg->tls);
    for (int i = 0; i < cfg->nlisten; i++) {
        listener *l = &h->ls[i];
        l->h = h;
        rtc_udp_opts opts = { .ipv6only = 1 };
        /* with port 0 the OS picks a UDP port that TCP may not have free: try again */
        int tries = rtc_addr_port(&cfg->listen[i]) == 0 && cfg->tcp ? 5 : 1;
        for (int t = 0; t < tries; t++) {
            l->u = NULL;
            r = rtc_udp_new(&l->u, lp, &cfg->listen[i], &opts, udp_recv, l);
            if (r == 0) rtc_udp_local_addr(l->u, &l->local);
            if (r == 0 && cfg->tcp) r = listen_tcp(h, l);
            if (r == 0 || t + 1 == tries) break;
            if (l->u) rtc_udp_close(l->u, NULL);
        }
        if (r < 0) {
            char a[RTC_ADDR_STRLEN];
            rtc_warn(TAG, "cannot listen on %s", rtc_addr_str(&cfg->listen[i], a, sizeof a));
            if (l->u) rtc_udp_close(l->u, NULL);
            abandon(h);
            return RTC_EIO;
        }
        h->nls++;
        h->handles += 1 + (l->tcp != NULL);
        rtc_turn_server_add_own_address(h->s, &l->local);
    }
    for (int i = 0; i < cfg->ntls_listen; i++) {
        listener *l = &h->tls_ls[i];
        l->h = h;
        l->tls = true;
        l->local = cfg->tls_listen[i];
        if (listen_tcp(h, l) < 0) {
            char a[RTC_ADDR_STRLEN];
            rtc_warn(TAG, "cannot listen (TLS) on %s", rtc_addr_str(&cfg->tls_listen[i], a, sizeof a));
            abandon(h);
            return RTC_EIO;
        }
        h->ntls++;
        h->handles++;
        rtc_turn_server_add_own_address(h->s, &l->local);
    }
    rtc_driver_init(&h->drv, lp, &turn_ops, h, on_transmit, on_event, &h->ev);
    h->handles++;
    h->drv.data = h;
    *out = h;
    return 0;
}

rtc_turn_server *rtc_turn_host_server(rtc_turn_host *h) { return h->s; }

void rtc_turn_host_kick(rtc_turn_host *h)
{
    if (h->closing) return;
    rtc_driver_drain(&h->drv);
}

int rtc_turn_host_local_addr(rtc_turn_host *h, int i, rtc_addr *out)
{
    if (i < 0 || i >= h->nls) return RTC_ENOTFOUND;
    *out = h->ls[i].local;
    return 0;
}

bool rtc_turn_host_is_tls(const rtc_turn_host *h, const rtc_addr *local)
{
    for (int i = 0; i < h->ntls; i++)
        if (rtc_addr_eq(&h->tls_ls[i].local, local)) return true;
    return false;
}

int rtc_turn_host_tls_addr(rtc_turn_host *h, int i, rtc_addr *out)
{
    if (i < 0 || i >= h->ntls) return RTC_ENOTFOUND;
    *out = h->tls_ls[i].local;
    return 0;
}

void rtc_turn_host_get_stats(const rtc_turn_host *h, rtc_turn_host_stats *out) { *out = h->st; }

void rtc_turn_host_close(rtc_turn_host *h, rtc_turn_host_close_cb close_cb, void *ud)
{
    if (h->closing) return;
    h->closing = true;
    h->close_cb = close_cb;
    h->close_ud = ud;
    /* one extra count so nothing finishes before every close is issued */
    h->handles++;
    rtc_driver_close(&h->drv, drv_closed);
    for (int i = 0; i < h->nls; i++) {
        rtc_udp_close(h->ls[i].u, udp_listener_closed);
        if (h->ls[i].tcp) uv_close((uv_handle_t *)h->ls[i].tcp, tcp_listener_closed);
    }
    for (int i = 0; i < h->ntls; i++) uv_close((uv_handle_t *)h->tls_ls[i].tcp, tcp_listener_closed);
    for (uint32_t b = 0; b < RELAY_BUCKETS; b++)
        while (h->relays[b]) {
            relay *r = h->relays[b];
            h->relays[b] = r->next;
            rtc_udp_close(r->u, relay_closed);
        }
    for (uint32_t b = 0; b < CONN_BUCKETS; b++)
        while (h->conns[b]) close_conn(h->conns[b], false);
    maybe_done(h);
}
