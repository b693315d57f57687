#include "io/rtc_pc_host.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "io/rtc_driver.h"
#include "io/rtc_netif.h"
#include "io/rtc_udp.h"
#include "pc/pc_capture.h"
#include "turn/turn_client.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAG "pc"
#define RTC_PC_HOST_SOCKBUF (4 * 1024 * 1024)

/* A TCP connection to a TURN server (RFC 6062-less TURN over TCP: the agent frames
 * STUN and ChannelData itself; we carry bytes). Output waits until it connects. */
typedef struct host_tcp {
    rtc_pc_host *h;
    uv_tcp_t tcp;
    uv_connect_t conn;
    rtc_addr base, server;
    bool connected, failed;
    rtc_bufq pending;
} host_tcp;

typedef struct tcp_write { uv_write_t req; rtc_buf *buf; } tcp_write;

typedef struct host_sock {
    rtc_pc_host *h;
    rtc_udp *u;
    rtc_addr local;
    bool shared;              /* the mux's socket: not ours to close */
} host_sock;

#define MUX_MAX_SENDERS 4096

struct rtc_udp_mux {
    rtc_loop *lp;
    rtc_udp *u;
    rtc_addr local;
    int refs;
    bool closing;
    rtc_pc_host **hosts;
    int nhosts, caphosts;
    struct { rtc_addr from; rtc_pc_host *h; } *senders;   /* learned sender -> owner */
    int nsenders, capsenders;
    uint64_t routed, unrouted;
};

struct rtc_pc_host {
    rtc_loop *lp;
    rtc_pc *pc;
    rtc_driver drv;
    uv_timer_t soon;          /* deferred drain: events reach the owner after its call returns */
    rtc_pc_event ev;
    host_sock *socks;         /* capsocks slots, sized once: on_recv holds pointers into it */
    int nsocks, capsocks;
    host_tcp *tcps[RTC_PC_HOST_MAX_SERVERS];
    int ntcps;
    rtc_udp_mux *mux;
    int pending_closes;
    bool closing;
    rtc_pc_host_event_cb event_cb;
    rtc_pc_host_close_cb close_cb;
    void *ud;
    char log_id[16];          /* "pc<n>": entered around every call into the machine */
};

/* Every line logged while the machine runs (by the pc or any layer under it) carries
 * this connection's id (core/rtc_log.h). */
#define WITH_CONN(h, stmt) do { \
        const char *prev_conn_ = rtc_log_conn_enter((h)->log_id); stmt; rtc_log_conn_leave(prev_conn_); \
    } while (0)

/* The driver's machine is the host, so a timeout can enter the connection's log id. */
static int op_timeout(void *m, rtc_time now)
{
    rtc_pc_host *h = m;
    int r;
    WITH_CONN(h, r = rtc_pc_handle_timeout(h->pc, now));
    return r;
}
static bool op_transmit(void *m, rtc_transmit *out) { return rtc_pc_poll_transmit(((rtc_pc_host *)m)->pc, out); }
static bool op_event(void *m, void *ev) { return rtc_pc_poll_event(((rtc_pc_host *)m)->pc, ev); }
static rtc_time op_poll_timeout(void *m) { return rtc_pc_poll_timeout(((rtc_pc_host *)m)->pc); }
static const rtc_machine_ops pc_ops = { op_timeout, op_transmit, op_event, op_poll_timeout };

static host_sock *sock_for(rtc_pc_host *h, const rtc_transmit *tx)
{
    if (rtc_addr_family(&tx->local)) {
        for (int i = 0; i < h->nsocks; i++)
            if (rtc_addr_eq(&h->socks[i].local, &tx->local)) return &h->socks[i];
    }
    for (int i = 0; i < h->nsocks; i++)
        if (rtc_addr_family(&h->socks[i].local) == rtc_addr_family(&tx->remote)) return &h->socks[i];
    return NULL;
}

static void tcp_write_cb(uv_write_t *req, int status)
{
    (void)status;
    tcp_write *w = (tcp_write *)req;
    rtc_buf_unref(w->buf);
    free(w);
}

static void tcp_send(host_tcp *t, rtc_buf *b)
{
    if (t->failed) { rtc_buf_unref(b); return; }
    if (!t->connected) { rtc_bufq_push(&t->pending, b); return; }
    tcp_write *w = malloc(sizeof *w);
    if (!w) { rtc_buf_unref(b); return; }
    w->buf = b;
    uv_buf_t ub = uv_buf_init((char *)b->data, (unsigned)b->len);
    if (uv_write(&w->req, (uv_stream_t *)&t->tcp, &ub, 1, tcp_write_cb) != 0) { rtc_buf_unref(b); free(w); }
}

static void tcp_alloc_cb(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    (void)hd; (void)suggested;
    static char rbuf[65536];     /* one loop thread; each read is consumed before the next */
    *buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void tcp_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    host_tcp *t = st->data;
    rtc_pc_host *h = t->h;
    if (n < 0) {
        t->failed = true;
        uv_read_stop(st);
        return;
    }
    if (n == 0 || h->closing) return;
    WITH_CONN(h, rtc_pc_handle_stream(h->pc, &t->base, &t->server, (const uint8_t *)buf->base, (size_t)n,
                                      rtc_driver_now(&h->drv));
                 rtc_driver_drain(&h->drv));
}

static void tcp_connect_cb(uv_connect_t *c, int status)
{
    host_tcp *t = c->data;
    if (status != 0) {
        char a[RTC_ADDR_STRLEN];
        rtc_warn(TAG, "TURN over TCP: cannot connect to %s: %s", rtc_addr_str(&t->server, a, sizeof a), uv_strerror(status));
        t->failed = true;
        rtc_bufq_clear(&t->pending);
        return;
    }
    t->connected = true;
    uv_read_start((uv_stream_t *)&t->tcp, tcp_alloc_cb, tcp_read_cb);
    rtc_buf *b;
    while ((b = rtc_bufq_pop(&t->pending))) tcp_send(t, b);
}

static host_tcp *tcp_for(rtc_pc_host *h, const rtc_addr *server)
{
    for (int i = 0; i < h->ntcps; i++)
        if (rtc_addr_eq(&h->tcps[i]->server, server)) return h->tcps[i];
    return NULL;
}

static void tcp_open(rtc_pc_host *h, const rtc_addr *base, const rtc_addr *server)
{
    if (h->ntcps == RTC_PC_HOST_MAX_SERVERS || tcp_for(h, server)) return;
    host_tcp *t = calloc(1, sizeof *t);
    if (!t) return;
    t->h = h;
    t->base = *base;
    t->server = *server;
    uv_tcp_init(rtc_loop_uv(h->lp), &t->tcp);
    t->tcp.data = t;
    t->conn.data = t;
    uv_tcp_nodelay(&t->tcp, 1);
    if (uv_tcp_connect(&t->conn, &t->tcp, &server->u.sa, tcp_connect_cb) != 0) t->failed = true;
    h->tcps[h->ntcps++] = t;
}

static void on_transmit(rtc_driver *d, rtc_transmit *tx)
{
    rtc_pc_host *h = d->data;
    if (tx->proto == RTC_PROTO_TCP_RAW || tx->proto == RTC_PROTO_TCP) {
        host_tcp *t = tcp_for(h, &tx->remote);
        if (t) { tcp_send(t, tx->buf); return; }
    }
    host_sock *s = tx->proto == RTC_PROTO_UDP ? sock_for(h, tx) : NULL;
    if (!s) {
        rtc_debug(TAG, "no socket for a datagram (proto %d): dropped", tx->proto);
        rtc_buf_unref(tx->buf);
        return;
    }
    rtc_udp_send_buf(s->u, &tx->remote, tx->buf);
}

static void on_event(rtc_driver *d, void *evp)
{
    rtc_pc_host *h = d->data;
    rtc_pc_event *ev = evp;
    if (h->closing || !h->event_cb) {
        rtc_buf_unref(ev->buf);
        return;
    }
    WITH_CONN(h, h->event_cb(h, ev, h->ud));
}

static void on_recv(rtc_udp *u, const uint8_t *data, size_t len, const rtc_addr *from, void *ud)
{
    (void)u;
    host_sock *s = ud;
    rtc_pc_host *h = s->h;
    if (h->closing) return;
    WITH_CONN(h, rtc_pc_handle_datagram(h->pc, &s->local, from, data, len, rtc_driver_now(&h->drv));
                 rtc_driver_drain(&h->drv));
}

static int bind_one(rtc_pc_host *h, const rtc_addr *ip)
{
    if (h->nsocks == h->capsocks) return RTC_EQUOTA;
    host_sock *s = &h->socks[h->nsocks];
    s->h = h;
    /* The default socket buffers (about 208 KiB) overflow under a data channel burst on
     * a fast path: each kernel drop costs SCTP a retransmission and halves its window.
     * Kernel memory is only charged for queued datagrams; the OS caps the request at
     * net.core.{r,w}mem_max. */
    rtc_udp_opts opts = { .ipv6only = 1, .rcvbuf = RTC_PC_HOST_SOCKBUF, .sndbuf = RTC_PC_HOST_SOCKBUF };
    int r = rtc_udp_new(&s->u, h->lp, ip, &opts, on_recv, s);
    if (r < 0) return r;
    rtc_udp_local_addr(s->u, &s->local);
    h->nsocks++;
    return 0;
}

/* ---- single-port mode ---------------------------------------------------------------- */

static void host_deliver(rtc_pc_host *h, const rtc_addr *local, const uint8_t *data, size_t len, const rtc_addr *from)
{
    WITH_CONN(h, rtc_pc_handle_datagram(h->pc, local, from, data, len, rtc_driver_now(&h->drv));
                 rtc_driver_drain(&h->drv));
}

static rtc_pc_host *mux_owner(rtc_udp_mux *m, const rtc_addr *from)
{
    for (int i = 0; i < m->nsenders; i++)
        if (rtc_addr_eq(&m->senders[i].from, from)) return m->senders[i].h;
    return NULL;
}

static void mux_learn(rtc_udp_mux *m, const rtc_addr *from, rtc_pc_host *h)
{
    if (m->nsenders == m->capsenders) {
        if (m->capsenders >= MUX_MAX_SENDERS) { memmove(m->senders, m->senders + 1, (size_t)--m->nsenders * sizeof *m->senders); }
        else {
            int ncap = m->capsenders ? m->capsenders * 2 : 16;
            void *n = realloc(m->senders, (size_t)ncap * sizeof *m->senders);
            if (!n) return;
            m->senders = n;
            m->capsenders = ncap;
        }
    }
    m->senders[m->nsenders].from = *from;
    m->senders[m->nsenders].h = h;
    m->nsenders++;
}

static void mux_recv(rtc_udp *u, const uint8_t *data, size_t len, const rtc_addr *from, void *ud)
{
    (void)u;
    rtc_udp_mux *m = ud;
    rtc_pc_host *h = mux_owner(m, from);
    if (!h) {
        for (int i = 0; i < m->nhosts; i++) {
            rtc_pc_host *c = m->hosts[i];
            if (!c->closing && rtc_pc_accepts(c->pc, data, len, from)) { h = c; break; }
        }
        if (!h) { m->unrouted++; return; }
        mux_learn(m, from, h);
    }
    if (h->closing) return;
    m->routed++;
    host_deliver(h, &m->local, data, len, from);
}

int rtc_udp_mux_new(rtc_udp_mux **out, rtc_loop *lp, const rtc_addr *local)
{
    rtc_udp_mux *m = calloc(1, sizeof *m);
    if (!m) return RTC_ENOMEM;
    m->lp = lp;
    m->refs = 1;
    rtc_udp_opts opts = { .ipv6only = 1 };
    int r = rtc_udp_new(&m->u, lp, local, &opts, mux_recv, m);
    if (r < 0) { free(m); return r; }
    rtc_udp_local_addr(m->u, &m->local);
    *out = m;
    return 0;
}

int rtc_udp_mux_local_addr(rtc_udp_mux *m, rtc_addr *out) { *out = m->local; return 0; }

static void mux_closed(rtc_udp *u, void *ud)
{
    (void)u;
    rtc_udp_mux *m = ud;
    free(m->hosts);
    free(m->senders);
    free(m);
}

void rtc_udp_mux_release(rtc_udp_mux *m)
{
    if (!m || --m->refs > 0) return;
    m->closing = true;
    rtc_udp_close(m->u, mux_closed);
}

void rtc_udp_mux_get_stats(const rtc_udp_mux *m, rtc_udp_mux_stats *out)
{
    out->routed = m->routed;
    out->unrouted = m->unrouted;
    out->connections = (uint32_t)m->nhosts;
    out->senders = (uint32_t)m->nsenders;
}

static int mux_attach(rtc_udp_mux *m, rtc_pc_host *h)
{
    if (m->nhosts == m->caphosts) {
        int ncap = m->caphosts ? m->caphosts * 2 : 16;
        void *n = realloc(m->hosts, (size_t)ncap * sizeof *m->hosts);
        if (!n) return RTC_ENOMEM;
        m->hosts = n;
        m->caphosts = ncap;
    }
    m->hosts[m->nhosts++] = h;
    m->refs++;
    return 0;
}

static void mux_detach(rtc_udp_mux *m, rtc_pc_host *h)
{
    for (int i = 0; i < m->nhosts; i++)
        if (m->hosts[i] == h) { m->hosts[i] = m->hosts[--m->nhosts]; break; }
    for (int i = 0; i < m->nsenders;)
        if (m->senders[i].h == h) m->senders[i] = m->senders[--m->nsenders];
        else i++;
    rtc_udp_mux_release(m);
}

/* One generated ECDSA certificate for every connection of the process that brings none,
 * as a browser uses one per origin: connections skip a key generation and an SSL_CTX
 * each (0.4-1 ms of set-up and ~14 KiB here). Replaced well before its 365-day validity
 * ends; connections holding the old one keep their ref. Kept until exit (one loop
 * thread uses it). */
#define HOST_CERT_MAX_AGE (300 * 86400)
static rtc_dtls_cert *host_cert;
static int64_t host_cert_born;

static int shared_cert(rtc_rng *rng, int64_t unix_now, rtc_dtls_cert **out)
{
    if (host_cert && unix_now - host_cert_born > HOST_CERT_MAX_AGE) {
        rtc_dtls_cert_unref(host_cert);
        host_cert = NULL;
    }
    if (!host_cert) {
        int r = rtc_dtls_cert_generate(&host_cert, RTC_DTLS_KEY_ECDSA_P256, rng, unix_now);
        if (r < 0) return r;
        host_cert_born = unix_now;
    }
    *out = host_cert;
    return 0;
}

static int host_create(rtc_pc_host *h, rtc_loop *lp, const rtc_pc_host_config *cfg);

int rtc_pc_host_new(rtc_pc_host **out, rtc_loop *lp, const rtc_pc_host_config *cfg,
                    rtc_pc_host_event_cb event_cb, void *ud)
{
    rtc_pc_host *h = calloc(1, sizeof *h);
    if (!h) return RTC_ENOMEM;
    h->lp = lp;
    h->event_cb = event_cb;
    h->ud = ud;
    /* Unique in the process: log lines, stats and metrics name a connection by it. */
    static _Atomic unsigned next_id;
    snprintf(h->log_id, sizeof h->log_id, "pc%u", ++next_id);
    int r;
    WITH_CONN(h, r = host_create(h, lp, cfg));
    if (r < 0) return r;
    *out = h;
    rtc_pc_host_kick_soon(h);
    return 0;
}

/* The body of rtc_pc_host_new, run with the new connection's id entered; frees h on
 * failure. */
static int host_create(rtc_pc_host *h, rtc_loop *lp, const rtc_pc_host_config *cfg)
{
    rtc_pc_config pcfg = cfg->pc;
    if (!pcfg.rng) pcfg.rng = rtc_loop_rng(lp);
    if (!pcfg.pool) pcfg.pool = rtc_loop_pool(lp);
    if (!pcfg.unix_now) pcfg.unix_now = (int64_t)time(NULL);
    if (!pcfg.cert && !cfg->unique_certificate) {
        int r = shared_cert(pcfg.rng, pcfg.unix_now, &pcfg.cert);   /* the pc takes its ref */
        if (r < 0) { free(h); return r; }
    }
    h->drv.data = h;
    rtc_time now = rtc_clock_now();
    int r = rtc_pc_new(&h->pc, &pcfg, now);
    if (r < 0) { free(h); return r; }
    /* Sockets: a shared one, the addresses asked for, else every interface (loopback as
     * a last resort). */
    rtc_netif_addr ifs[RTC_PC_HOST_MAX_BIND];
    int nifs = 0;
    if (!cfg->mux && cfg->nbind <= 0) {
        nifs = rtc_netif_list(ifs, RTC_PC_HOST_MAX_BIND, cfg->loopback);
        if (nifs <= 0) nifs = rtc_netif_list(ifs, RTC_PC_HOST_MAX_BIND, true);
    }
    h->capsocks = cfg->mux ? 1 : cfg->nbind > 0 ? cfg->nbind : nifs;
    if (h->capsocks > RTC_PC_HOST_MAX_BIND) h->capsocks = RTC_PC_HOST_MAX_BIND;
    if (h->capsocks > 0 && !(h->socks = calloc((size_t)h->capsocks, sizeof *h->socks))) {
        rtc_pc_free(h->pc);
        free(h);
        return RTC_ENOMEM;
    }
    if (cfg->mux) {
        if (mux_attach(cfg->mux, h) < 0) { rtc_pc_free(h->pc); free(h->socks); free(h); return RTC_ENOMEM; }
        h->mux = cfg->mux;
        h->socks[0] = (host_sock){ .h = h, .u = cfg->mux->u, .local = cfg->mux->local, .shared = true };
        h->nsocks = 1;
    } else if (cfg->nbind > 0) {
        for (int i = 0; i < cfg->nbind; i++) {
            r = bind_one(h, &cfg->bind[i]);
            if (r < 0) rtc_warn(TAG, "cannot bind a UDP socket: %s", rtc_strerror(r));
        }
    } else {
        for (int i = 0; i < nifs; i++) bind_one(h, &ifs[i].addr);
    }
    if (h->nsocks == 0) {
        rtc_pc_free(h->pc);
        free(h->socks);
        free(h);
        return RTC_EIO;
    }
    /* RTC_CAPTURE_DIR: every connection of the process writes DIR/<id>.pcapng. */
    const char *capdir = getenv("RTC_CAPTURE_DIR");
    if (capdir && *capdir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.pcapng", capdir, h->log_id);
        if (rtc_pc_capture_start(h->pc, path, rtc_clock_unix_us()) < 0)
            rtc_warn(TAG, "RTC_CAPTURE_DIR: cannot create %s", path);
    }
    rtc_driver_init(&h->drv, lp, &pc_ops, h, on_transmit, on_event, &h->ev);
    h->drv.data = h;
    uv_timer_init(rtc_loop_uv(lp), &h->soon);
    h->soon.data = h;
    for (int i = 0; i < h->nsocks; i++) {
        /* Earlier addresses are preferred: IPv4 before IPv6 as the OS lists them. */
        rtc_pc_add_local_address(h->pc, &h->socks[i].local, (uint16_t)(65535 - i * 256), now);
    }
    for (int i = 0; i < cfg->nservers; i++) {
        const rtc_pc_host_server *sv = &cfg->servers[i];
        /* Reach a server from sockets of its kind (loopback or not); a loopback server with
         * no loopback socket is reached from the others (the kernel routes it locally). */
        bool want_lo = rtc_addr_is_loopback(&sv->addr), any_kind = true;
        for (int k = 0; k < h->nsocks; k++)
            if (rtc_addr_family(&h->socks[k].local) == rtc_addr_family(&sv->addr) &&
                rtc_addr_is_loopback(&h->socks[k].local) == want_lo) any_kind = false;
        for (int k = 0; k < h->nsocks; k++) {
            if (rtc_addr_family(&h->socks[k].local) != rtc_addr_family(&sv->addr)) continue;
            if (!any_kind && want_lo != rtc_addr_is_loopback(&h->socks[k].local)) continue;
            if (sv->turn && sv->transport == RTC_TURN_TCP) tcp_open(h, &h->socks[k].local, &sv->addr);
            if (sv->turn)
                rtc_pc_add_turn_server(h->pc, &h->socks[k].local, &sv->addr, sv->transport, sv->user, sv->pass, now);
            else
                rtc_pc_add_stun_server(h->pc, &h->socks[k].local, &sv->addr, now);
        }
    }
    return 0;
}

rtc_pc *rtc_pc_host_pc(rtc_pc_host *h) { return h->pc; }
const char *rtc_pc_host_id(const rtc_pc_host *h) { return h->log_id; }
void rtc_pc_host_kick(rtc_pc_host *h) { if (!h->closing) WITH_CONN(h, rtc_driver_drain(&h->drv)); }

static void soon_cb(uv_timer_t *t)
{
    rtc_pc_host *h = t->data;
    if (!h->closing) WITH_CONN(h, rtc_driver_drain(&h->drv));
}

void rtc_pc_host_kick_soon(rtc_pc_host *h)
{
    if (!h->closing && !uv_is_active((uv_handle_t *)&h->soon)) uv_timer_start(&h->soon, soon_cb, 0, 0);
}
rtc_time rtc_pc_host_now(rtc_pc_host *h) { return rtc_driver_now(&h->drv); }

int rtc_pc_host_local_addr(rtc_pc_host *h, int i, rtc_addr *out)
{
    if (i < 0 || i >= h->nsocks) return RTC_ENOTFOUND;
    *out = h->socks[i].local;
    return 0;
}

static void maybe_done(rtc_pc_host *h)
{
    if (--h->pending_closes > 0) return;
    rtc_pc_free(h->pc);
    if (h->close_cb) h->close_cb(h, h->ud);
    free(h->socks);
    free(h);
}

static void sock_closed(rtc_udp *u, void *ud)
{
    (void)u;
    host_sock *s = ud;
    maybe_done(s->h);
}

static void drv_closed(rtc_driver *d) { maybe_done(d->data); }
static void tcp_closed(uv_handle_t *hd)
{
    host_tcp *t = hd->data;
    rtc_pc_host *h = t->h;
    rtc_bufq_clear(&t->pending);
    free(t);
    maybe_done(h);
}
static void soon_closed(uv_handle_t *t) { maybe_done(t->data); }

void rtc_pc_host_close(rtc_pc_host *h, rtc_pc_host_close_cb close_cb)
{
    if (h->closing) return;
    WITH_CONN(h, rtc_pc_close(h->pc, rtc_driver_now(&h->drv)));
    /* The goodbye datagrams (close_notify, SCTP ABORT) still go out; events do not. */
    h->closing = true;
    rtc_transmit tx;
    while (rtc_pc_poll_transmit(h->pc, &tx)) on_transmit(&h->drv, &tx);
    rtc_pc_event ev;
    while (rtc_pc_poll_event(h->pc, &ev)) rtc_buf_unref(ev.buf);
    h->close_cb = close_cb;
    int own = 0;
    for (int i = 0; i < h->nsocks; i++) own += !h->socks[i].shared;
    h->pending_closes = own + 2 + h->ntcps;
    for (int i = 0; i < h->ntcps; i++) uv_close((uv_handle_t *)&h->tcps[i]->tcp, tcp_closed);
    if (h->mux) { mux_detach(h->mux, h); h->mux = NULL; }
    rtc_driver_close(&h->drv, drv_closed);
    uv_close((uv_handle_t *)&h->soon, soon_closed);
    for (int i = 0; i < h->nsocks; i++)
        if (!h->socks[i].shared) rtc_udp_close(h->socks[i].u, sock_closed);
}
