#include "io/rtc_pc_host.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "io/rtc_driver.h"
#include "io/rtc_ice_tcp.h"
#include "io/rtc_netif.h"
#include "io/rtc_tcp_out.h"
#include "io/rtc_udp.h"
#include "ice/ice_agent.h"
#include "ice/ice_router.h"
#include "pc/pc_capture.h"
#include "pc/pc_tap.h"
#include "tls/tls_stream.h"
#include "turn/turn_client.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAG "pc"
#define RTC_PC_HOST_SOCKBUF (4 * 1024 * 1024)

/* A TCP connection to a TURN server (RFC 6062-less TURN over TCP: the agent frames
 * STUN and ChannelData itself; we carry bytes). Output waits until it connects, and
 * a server that stops reading costs at most turn_tcp_max_queued bytes: past that whole
 * frames drop (io/rtc_tcp_out.h), as datagrams would over UDP.
 *
 * For turns: a TLS stream (tls/tls_stream.h) sits between the agent's frames and the
 * socket: frames are encrypted into records, records never drop (a lost record breaks
 * the stream), so the bound is checked before encrypting. Its handshake timeout runs on
 * a timer of the connection's own. */
typedef struct host_tcp {
    rtc_pc_host *h;
    uv_tcp_t tcp;
    uv_connect_t conn;
    rtc_addr base, server;
    bool failed;
    rtc_tcp_out out;
    rtc_tls_stream *tls;      /* NULL for plain TCP */
    uv_timer_t tls_timer;     /* initialised only with tls */
    int closes;               /* libuv handles still to close before t is freed */
} host_tcp;

/* What turns: servers need when a connection to one of their addresses opens (the
 * first now, further addresses of the name when the agent moves on). */
#define HOST_MAX_TLS_SERVERS (2 * RTC_PC_HOST_MAX_SERVERS)
typedef struct host_tls_server {
    rtc_addr addrs[1 + RTC_PC_HOST_MAX_MORE];
    int naddrs;
    rtc_tls_context *ctx;     /* a ref */
    char server_name[256];
} host_tls_server;

typedef struct host_sock {
    rtc_pc_host *h;
    rtc_udp *u;
    rtc_addr local;
    bool shared;              /* the mux's socket: not ours to close */
    bool turn_only;           /* single-port mode: this connection's own socket to a TURN
                                 server (not a host candidate) */
} host_sock;

/* Addresses one connection may own on a shared port: its peer's candidates that sent
 * authenticated checks. Beyond this the oldest is dropped. */
#define MUX_HOST_MAX_SENDERS 16
#define MUX_UFRAG_MAX 256

struct rtc_udp_mux {
    rtc_loop *lp;
    rtc_udp *u;
    rtc_addr local;
    int refs;
    bool closing;
    rtc_pc_host **hosts;
    int nhosts, caphosts;
    rtc_ice_router *router;   /* learnt sender / local ufrag -> host */
    rtc_addr announced[RTC_PC_HOST_MAX_BIND];    /* host candidates (ip:our port) */
    int nannounced;
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
    bool turn_sock_used[RTC_PC_HOST_MAX_BIND];   /* single-port mode: a TURN-only socket has its server */
    host_tcp *tcps[2 * RTC_PC_HOST_MAX_SERVERS];   /* the servers', and further addresses of their names */
    int ntcps;
    host_tls_server tls_servers[HOST_MAX_TLS_SERVERS];   /* those of the first list and of setConfiguration's */
    int ntls_servers;
    uint32_t tls_handshakes, tls_failures;
    rtc_ice_tcp *itcp;        /* ICE-TCP listeners and their connections, or NULL */
    rtc_udp_mux *mux;
    rtc_addr mux_senders[MUX_HOST_MAX_SENDERS];  /* what this host taught the router */
    int nmux_senders;
    char mux_ufrag[2][MUX_UFRAG_MAX];            /* ufrags registered with the router */
    int pending_closes;
    bool closing;
    rtc_pc_host_event_cb event_cb;
    rtc_pc_host_close_cb close_cb;
    void *ud;
    rtc_pc_host_tap_cb tap_cb;
    void *tap_ud;
    size_t turn_tcp_max_queued;
    char log_id[16];          /* "pc<n>": entered around every call into the machine */
};

/* Every line logged while the machine runs (by the pc or any layer under it) carries
 * this connection's id (core/rtc_log.h). */
#define WITH_CONN(h, stmt) do { \
        const char *prev_conn_ = rtc_log_conn_enter((h)->log_id); stmt; rtc_log_conn_leave(prev_conn_); \
    } while (0)

/* The driver's machine is the host, so a timeout can enter the connection's log id, and
 * polling events can first hand forwarded packets (pc/pc_tap.h) to the tap: they are
 * drained with the events, before the timer is armed. */
static int op_timeout(void *m, rtc_time now)
{
    rtc_pc_host *h = m;
    int r;
    WITH_CONN(h, r = rtc_pc_handle_timeout(h->pc, now));
    return r;
}
static bool op_transmit(void *m, rtc_transmit *out) { return rtc_pc_poll_transmit(((rtc_pc_host *)m)->pc, out); }
static bool op_event(void *m, void *ev)
{
    rtc_pc_host *h = m;
    rtc_pc_tapped t;
    while (rtc_pc_poll_tapped(h->pc, &t)) {
        if (h->tap_cb && !h->closing) h->tap_cb(h, &t, h->tap_ud);
        else rtc_buf_unref(t.buf);
    }
    return rtc_pc_poll_event(h->pc, ev);
}
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

/* Tell the agent at once: otherwise the allocation fails only when its transactions
 * time out (39.5 s over TCP), holding gathering open that long. */
static void tcp_failed_why(host_tcp *t, int error, const char *reason)
{
    if (t->failed) return;
    t->failed = true;
    rtc_tcp_out_fail(&t->out);
    if (t->tls) uv_timer_stop(&t->tls_timer);
    rtc_pc_host *h = t->h;
    if (h->closing) return;
    rtc_pc_turn_transport_failed(h->pc, &t->base, &t->server, error, reason, rtc_driver_now(&h->drv));
    rtc_pc_host_kick_soon(h);
}

static void tcp_failed(host_tcp *t, int status)
{
    (void)status;
    tcp_failed_why(t, RTC_EIO, NULL);
}

static void tcp_out_error_cb(rtc_tcp_out *o, int status) { tcp_failed(o->ud, status); }

/* Records the TLS stream wrote go out whole (may_drop false): see host_tcp. */
static void tls_flush(host_tcp *t)
{
    rtc_buf *b;
    while (rtc_tls_stream_poll_transmit(t->tls, &b)) {
        if (t->failed) { rtc_buf_unref(b); continue; }
        if (rtc_tcp_out_send(&t->out, b, false) == RTC_EIO) tcp_failed(t, UV_EIO);
    }
}

static void tls_timer_cb(uv_timer_t *tm);
static void tls_arm(host_tcp *t)
{
    if (t->failed || t->h->closing) return;
    rtc_time due = rtc_tls_stream_poll_timeout(t->tls);
    if (due == RTC_TIME_NEVER) { uv_timer_stop(&t->tls_timer); return; }
    rtc_time now = rtc_driver_now(&t->h->drv);
    uint64_t ms = due > now ? (uint64_t)((due - now + 999) / 1000) : 0;
    uv_timer_start(&t->tls_timer, tls_timer_cb, ms, 0);
}

static void tcp_send(host_tcp *t, rtc_buf *b)
{
    if (t->failed) { rtc_buf_unref(b); return; }
    if (!t->tls) {
        if (rtc_tcp_out_send(&t->out, b, true) == RTC_EIO) tcp_failed(t, UV_EIO);
        return;
    }
    /* A frame that would not fit is dropped before it becomes part of a record, as the
     * plain TCP path drops it whole; so is one the handshake cannot hold any more. */
    int r = rtc_tcp_out_fits(&t->out, b->len) ? rtc_tls_stream_write(t->tls, b->data, b->len, rtc_driver_now(&t->h->drv))
                                              : RTC_EAGAIN;
    if (r < 0) { t->out.st.dropped++; t->out.st.dropped_bytes += b->len; }
    rtc_buf_unref(b);
    if (r == 0) tls_flush(t);
}

void rtc_pc_host_get_stats(const rtc_pc_host *h, rtc_pc_host_stats *out)
{
    *out = (rtc_pc_host_stats){ 0 };
    out->turn_tls_handshakes = h->tls_handshakes;
    out->turn_tls_failures = h->tls_failures;
    for (int i = 0; i < h->ntcps; i++) {
        const rtc_tcp_out_stats *o = &h->tcps[i]->out.st;
        out->turn_tcp_tx_bytes += o->tx_bytes;
        out->turn_tcp_dropped += o->dropped;
        out->turn_tcp_queued += o->queued;
        if (o->queued_peak > out->turn_tcp_queued_peak) out->turn_tcp_queued_peak = o->queued_peak;
    }
}

static void tcp_alloc_cb(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    (void)hd; (void)suggested;
    /* One per loop thread (workers run one each); each read is consumed before the next. */
    static _Thread_local char rbuf[65536];
    *buf = uv_buf_init(rbuf, sizeof rbuf);
}

/* The TLS stream's events after input or a timeout: plaintext on to the machine as
 * stream bytes (its answers come back through tcp_send into the same stream while
 * the events are drained, which the stream allows). */
static void tls_events(host_tcp *t)
{
    rtc_pc_host *h = t->h;
    tls_flush(t);
    rtc_tls_event ev;
    while (!h->closing && rtc_tls_stream_poll_event(t->tls, &ev)) {
        switch (ev.type) {
        case RTC_TLS_EV_OPEN: {
            char a[RTC_ADDR_STRLEN];
            h->tls_handshakes++;
            rtc_debug(TAG, "TURN over TLS: %s open (%s)", rtc_addr_str(&t->server, a, sizeof a), ev.version);
            tls_flush(t);             /* the frames held during the handshake */
            break;
        }
        case RTC_TLS_EV_DATA:
            if (!t->failed)
                WITH_CONN(h, rtc_pc_handle_stream(h->pc, &t->base, &t->server, ev.data->data, ev.data->len,
                                                  rtc_driver_now(&h->drv));
                             rtc_driver_drain(&h->drv));
            rtc_buf_unref(ev.data);
            break;
        case RTC_TLS_EV_CLOSED:
            tcp_failed_why(t, RTC_ECLOSED, "TLS: the TURN server closed the connection");
            break;
        case RTC_TLS_EV_FAILED: {
            char a[RTC_ADDR_STRLEN], why[160];
            h->tls_failures++;
            snprintf(why, sizeof why, "TLS with the TURN server failed: %s", ev.reason);
            rtc_warn(TAG, "TURN over TLS to %s: %s", rtc_addr_str(&t->server, a, sizeof a), ev.reason);
            tls_flush(t);             /* the alert, so the server learns why */
            tcp_failed_why(t, ev.error, why);
            break;
        }
        }
    }
    tls_arm(t);
}

static void tls_timer_cb(uv_timer_t *tm)
{
    host_tcp *t = tm->data;
    if (t->failed || t->h->closing) return;
    rtc_tls_stream_handle_timeout(t->tls, rtc_driver_now(&t->h->drv));
    tls_events(t);
}

static void tcp_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    host_tcp *t = st->data;
    rtc_pc_host *h = t->h;
    if (n < 0) {
        uv_read_stop(st);
        if (t->tls && !t->failed && rtc_tls_stream_state(t->tls) == RTC_TLS_HANDSHAKING) {
            /* e.g. a plain TURN port that hangs up on a ClientHello */
            char why[160];
            snprintf(why, sizeof why, "TLS with the TURN server failed: the connection closed during the handshake (%s)",
                     uv_err_name((int)n));
            h->tls_failures++;
            tcp_failed_why(t, RTC_ETLS, why);
            return;
        }
        tcp_failed(t, (int)n);
        return;
    }
    if (n == 0 || h->closing) return;
    if (t->tls) {
        if (t->failed) return;
        rtc_tls_stream_handle_input(t->tls, (const uint8_t *)buf->base, (size_t)n, rtc_driver_now(&h->drv));
        tls_events(t);
        return;
    }
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
        tcp_failed(t, status);
        return;
    }
    uv_read_start((uv_stream_t *)&t->tcp, tcp_alloc_cb, tcp_read_cb);
    if (rtc_tcp_out_connected(&t->out) < 0) tcp_failed(t, UV_EIO);
}

/* One connection per (base, server): each is its own allocation on the server, and two
 * allocations sharing one connection get 437 (Allocation Mismatch). */
static host_tcp *tcp_for(rtc_pc_host *h, const rtc_addr *base, const rtc_addr *server)
{
    for (int i = 0; i < h->ntcps; i++)
        if (rtc_addr_eq(&h->tcps[i]->server, server) && (!base || !rtc_addr_family(base) || rtc_addr_eq(&h->tcps[i]->base, base)))
            return h->tcps[i];
    return NULL;
}

static const host_tls_server *tls_server_for(const rtc_pc_host *h, const rtc_addr *server)
{
    for (int i = h->ntls_servers - 1; i >= 0; i--)    /* the latest configuration first */
        for (int k = 0; k < h->tls_servers[i].naddrs; k++)
            if (rtc_addr_eq(&h->tls_servers[i].addrs[k], server)) return &h->tls_servers[i];
    return NULL;
}

static void tcp_open(rtc_pc_host *h, const rtc_addr *base, const rtc_addr *server)
{
    if (h->ntcps == 2 * RTC_PC_HOST_MAX_SERVERS || tcp_for(h, base, server)) return;
    host_tcp *t = calloc(1, sizeof *t);
    if (!t) return;
    t->h = h;
    t->base = *base;
    t->server = *server;
    uv_tcp_init(rtc_loop_uv(h->lp), &t->tcp);
    t->tcp.data = t;
    t->conn.data = t;
    t->closes = 1;
    rtc_tcp_out_init(&t->out, (uv_stream_t *)&t->tcp, h->turn_tcp_max_queued, false, tcp_out_error_cb, t);
    uv_tcp_nodelay(&t->tcp, 1);
    const host_tls_server *ts = tls_server_for(h, server);
    int tr = 0;
    if (ts) {
        uv_timer_init(rtc_loop_uv(h->lp), &t->tls_timer);
        t->tls_timer.data = t;
        t->closes = 2;
        rtc_tls_stream_config tc = { .ctx = ts->ctx, .server_name = ts->server_name[0] ? ts->server_name : NULL,
                                     .max_early_write = h->turn_tcp_max_queued, .pool = rtc_loop_pool(h->lp) };
        /* The ClientHello waits in the output queue until the connection is up. */
        tr = rtc_tls_stream_new(&t->tls, &tc, rtc_driver_now(&h->drv));
    }
    /* From the interface this allocation stands for, not wherever the route points. */
    rtc_addr from = *base;
    rtc_addr_set_port(&from, 0);
    int r = rtc_addr_is_any(&from) ? 0 : uv_tcp_bind(&t->tcp, &from.u.sa, 0);
    if (r == 0) r = uv_tcp_connect(&t->conn, &t->tcp, &server->u.sa, tcp_connect_cb);
    h->tcps[h->ntcps++] = t;
    /* after the server is added: see rtc_pc_turn_transport_failed */
    if (tr < 0) { h->tls_failures++; tcp_failed_why(t, tr, "TLS with the TURN server failed: cannot start TLS"); }
    else if (r != 0) tcp_failed(t, r);
    else if (t->tls) { tls_flush(t); tls_arm(t); }
}

/* A server's addresses of one family, in the resolver's order (at most RTC_ICE_MAX_ALT). */
static int server_addrs_of_family(const rtc_pc_host_server *sv, int family, rtc_addr *out)
{
    int n = 0;
    if (rtc_addr_family(&sv->addr) == family) out[n++] = sv->addr;
    for (int i = 0; i < sv->nmore && n < RTC_ICE_MAX_ALT; i++)
        if (rtc_addr_family(&sv->more[i]) == family) out[n++] = sv->more[i];
    return n;
}

/* The server from `base`: every address of base's family (the first one alone when
 * there is none: the mux's socket reaches any), tried in order by the agent. Over
 * TCP the first connection opens now, the next ones when the agent sends to them. */
static void add_server_from(rtc_pc_host *h, const rtc_pc_host_server *sv, const rtc_addr *base, rtc_time now)
{
    rtc_addr list[RTC_ICE_MAX_ALT];
    int n = server_addrs_of_family(sv, rtc_addr_family(base), list);
    if (n == 0) { list[0] = sv->addr; n = 1; }
    if (sv->turn) rtc_pc_add_turn_servers(h->pc, base, list, n, sv->transport, sv->user, sv->pass, now);
    else rtc_pc_add_stun_servers(h->pc, base, list, n, now);
    if (sv->turn && sv->transport != RTC_TURN_UDP) tcp_open(h, base, &list[0]);
}

static void on_transmit(rtc_driver *d, rtc_transmit *tx)
{
    rtc_pc_host *h = d->data;
    if (tx->proto == RTC_PROTO_TCP) {         /* ICE-TCP: the accepted connection (local, remote) */
        if (!h->itcp || rtc_ice_tcp_send(h->itcp, &tx->local, &tx->remote, tx->buf) == RTC_ENOTFOUND)
            rtc_debug(TAG, "no ICE-TCP connection for a packet: dropped");
        if (!h->itcp) rtc_buf_unref(tx->buf);
        return;
    }
    if (tx->proto == RTC_PROTO_TCP_RAW) {
        host_tcp *t = tcp_for(h, &tx->local, &tx->remote);
        /* the agent moved on to another address of the server's name: connect there */
        if (!t && !h->closing && rtc_addr_family(&tx->local)) {
            tcp_open(h, &tx->local, &tx->remote);
            t = tcp_for(h, &tx->local, &tx->remote);
        }
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

static void on_tcp_frame(void *ud, const rtc_addr *local, const rtc_addr *remote, const uint8_t *frame, size_t len)
{
    rtc_pc_host *h = ud;
    if (h->closing) return;
    WITH_CONN(h, rtc_pc_handle_tcp_frame(h->pc, local, remote, frame, len, rtc_driver_now(&h->drv));
                 rtc_driver_drain(&h->drv));
}

/* ICE-TCP: a listener at each host socket's IP, announced as a passive candidate. */
static void listen_ice_tcp(rtc_pc_host *h, uint16_t port, rtc_time now)
{
    if (rtc_ice_tcp_new(&h->itcp, rtc_loop_uv(h->lp), on_tcp_frame, h) < 0) { h->itcp = NULL; return; }
    for (int i = 0; i < h->nsocks; i++) {
        if (h->socks[i].turn_only) continue;
        rtc_addr ip = h->socks[i].local, bound;
        rtc_addr_set_port(&ip, port);
        if (rtc_ice_tcp_listen(h->itcp, &ip, &bound) == 0)
            rtc_pc_add_local_tcp_address(h->pc, &bound, (uint16_t)(65535 - i * 256), now);
    }
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

/* Keep the router's ufrag table in step with the connection's ICE credentials (they
 * change with an ICE restart, which the owner follows with a kick). */
static void mux_sync_ufrags(rtc_pc_host *h)
{
    if (!h->mux || h->closing) return;
    rtc_str u[2];
    int n = rtc_pc_local_ufrags(h->pc, u);
    for (int k = 0; k < 2; k++) {
        char *reg = h->mux_ufrag[k];
        bool keep = false;
        for (int i = 0; i < n; i++) keep |= reg[0] && rtc_str_eq(u[i], rtc_str_c(reg));
        if (reg[0] && !keep) { rtc_ice_router_remove_ufrag(h->mux->router, rtc_str_c(reg), h); reg[0] = 0; }
    }
    for (int i = 0; i < n; i++) {
        if (u[i].len >= MUX_UFRAG_MAX) continue;
        bool have = false;
        for (int k = 0; k < 2; k++) have |= h->mux_ufrag[k][0] && rtc_str_eq(u[i], rtc_str_c(h->mux_ufrag[k]));
        if (have) continue;
        for (int k = 0; k < 2; k++) {
            if (h->mux_ufrag[k][0]) continue;
            int r = rtc_ice_router_add_ufrag(h->mux->router, u[i], h);
            if (r < 0) { rtc_warn(TAG, "single port: cannot route ufrag %.*s: %s", (int)u[i].len, u[i].p, rtc_strerror(r)); break; }
            memcpy(h->mux_ufrag[k], u[i].p, u[i].len);
            h->mux_ufrag[k][u[i].len] = 0;
            break;
        }
    }
}

static void host_deliver(rtc_pc_host *h, const rtc_addr *local, const uint8_t *data, size_t len, const rtc_addr *from)
{
    WITH_CONN(h, rtc_pc_handle_datagram(h->pc, local, from, data, len, rtc_driver_now(&h->drv));
                 rtc_driver_drain(&h->drv));
    mux_sync_ufrags(h);
}

/* `from` sent h an authenticated check (or answered one): its traffic is h's now. */
static void mux_learn(rtc_udp_mux *m, rtc_pc_host *h, const rtc_addr *from)
{
    if (rtc_ice_router_sender(m->router, from) == h) return;
    if (h->nmux_senders == MUX_HOST_MAX_SENDERS) {
        rtc_ice_router_forget(m->router, &h->mux_senders[0], h);
        memmove(h->mux_senders, h->mux_senders + 1, (size_t)--h->nmux_senders * sizeof *h->mux_senders);
    }
    if (rtc_ice_router_learn(m->router, from, h) == 0) h->mux_senders[h->nmux_senders++] = *from;
}

static void mux_recv(rtc_udp *u, const uint8_t *data, size_t len, const rtc_addr *from, void *ud)
{
    (void)u;
    rtc_udp_mux *m = ud;
    rtc_ice_route how;
    rtc_pc_host *h = rtc_ice_router_route(m->router, data, len, from, &how);
    if (!h && how == RTC_ICE_ROUTE_ASK) {
        /* The answer to a check towards an address that has sent nothing yet: only the
         * agent knows its transactions. Rare (once per such pair), so a scan. */
        for (int i = 0; i < m->nhosts; i++) {
            rtc_pc_host *c = m->hosts[i];
            if (!c->closing && rtc_pc_accepts(c->pc, &m->local, data, len, from)) { h = c; break; }
        }
    }
    if (!h || h->closing) { m->unrouted++; return; }
    m->routed++;
    host_deliver(h, &m->local, data, len, from);
    /* Learn only what the agent authenticated: a check that merely names a ufrag (it
     * travels in clear) must not move another connection's traffic. */
    if (how != RTC_ICE_ROUTE_SENDER && !h->closing && rtc_pc_checked(h->pc, from)) mux_learn(m, h, from);
}

int rtc_udp_mux_new(rtc_udp_mux **out, rtc_loop *lp, const rtc_addr *local)
{
    rtc_udp_mux *m = calloc(1, sizeof *m);
    if (!m) return RTC_ENOMEM;
    m->lp = lp;
    m->refs = 1;
    rtc_udp_opts opts = { .ipv6only = 1 };
    int r = rtc_ice_router_new(&m->router, 0);
    if (r < 0) { free(m); return r; }
    r = rtc_udp_new(&m->u, lp, local, &opts, mux_recv, m);
    if (r < 0) { rtc_ice_router_free(m->router); free(m); return r; }
    rtc_udp_local_addr(m->u, &m->local);
    if (rtc_addr_is_any(&m->local)) {
        /* Bound to every address: announce the interfaces' (0.0.0.0 is no candidate). */
        rtc_netif_addr ifs[RTC_PC_HOST_MAX_BIND];
        int n = rtc_netif_list(ifs, RTC_PC_HOST_MAX_BIND, false);
        if (n <= 0) n = rtc_netif_list(ifs, RTC_PC_HOST_MAX_BIND, true);
        for (int i = 0; i < n; i++)
            if (rtc_addr_family(&ifs[i].addr) == rtc_addr_family(&m->local)) {
                m->announced[m->nannounced] = ifs[i].addr;
                rtc_addr_set_port(&m->announced[m->nannounced++], rtc_addr_port(&m->local));
            }
    }
    if (!m->nannounced) m->announced[m->nannounced++] = m->local;
    *out = m;
    return 0;
}

int rtc_udp_mux_announce(rtc_udp_mux *m, const rtc_addr *ips, int n)
{
    if (n < 1 || n > RTC_PC_HOST_MAX_BIND) return RTC_EINVAL;
    for (int i = 0; i < n; i++)
        if (!rtc_addr_family(&ips[i]) || rtc_addr_is_any(&ips[i])) return RTC_EINVAL;
    for (int i = 0; i < n; i++) {
        m->announced[i] = ips[i];
        rtc_addr_set_port(&m->announced[i], rtc_addr_port(&m->local));
    }
    m->nannounced = n;
    return 0;
}

int rtc_udp_mux_local_addr(rtc_udp_mux *m, rtc_addr *out) { *out = m->local; return 0; }

static void mux_closed(rtc_udp *u, void *ud)
{
    (void)u;
    rtc_udp_mux *m = ud;
    free(m->hosts);
    rtc_ice_router_free(m->router);
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
    rtc_ice_router_stats rs;
    rtc_ice_router_get_stats(m->router, &rs);
    out->senders = rs.senders;
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
    for (int i = 0; i < h->nmux_senders; i++) rtc_ice_router_forget(m->router, &h->mux_senders[i], h);
    h->nmux_senders = 0;
    for (int k = 0; k < 2; k++) {
        if (h->mux_ufrag[k][0]) rtc_ice_router_remove_ufrag(m->router, rtc_str_c(h->mux_ufrag[k]), h);
        h->mux_ufrag[k][0] = 0;
    }
    rtc_udp_mux_release(m);
}

/* One generated ECDSA certificate for every connection of the process that brings none,
 * as a browser uses one per origin: connections skip a key generation and an SSL_CTX
 * each (0.4-1 ms of set-up and ~14 KiB here). Replaced well before its 365-day validity
 * ends; connections holding the old one keep their ref. One per thread, not per
 * process: a certificate's refcount is not atomic and every worker thread
 * (docs/workers.md) runs its own loop, so sharing it would need a lock on every
 * connection set-up. Kept until the thread ends (rtc_pc_host_thread_exit). */
#define HOST_CERT_MAX_AGE (300 * 86400)
static _Thread_local rtc_dtls_cert *host_cert;
static _Thread_local int64_t host_cert_born;

void rtc_pc_host_thread_exit(void)
{
    rtc_dtls_cert_unref(host_cert);
    host_cert = NULL;
}

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
static void host_add_servers(rtc_pc_host *h, const rtc_pc_host_server *servers, int n, rtc_time now);

int rtc_pc_host_new(rtc_pc_host **out, rtc_loop *lp, const rtc_pc_host_config *cfg,
                    rtc_pc_host_event_cb event_cb, void *ud)
{
    for (int i = 0; i < cfg->nservers; i++)      /* turns: without a context would go out in the clear */
        if (cfg->servers[i].turn && cfg->servers[i].transport == RTC_TURN_TLS && !cfg->servers[i].tls) return RTC_EINVAL;
    rtc_pc_host *h = calloc(1, sizeof *h);
    if (!h) return RTC_ENOMEM;
    h->lp = lp;
    h->turn_tcp_max_queued = cfg->turn_tcp_max_queued;
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
    /* In single-port mode each TURN server over UDP is reached from a socket of this
     * connection's own: the server tells allocations apart by 5-tuple, so connections
     * sharing the port would all be one allocation (437 for all but the first). */
    int nturn_udp = 0;
    for (int i = 0; cfg->mux && i < cfg->nservers; i++)
        nturn_udp += cfg->servers[i].turn && cfg->servers[i].transport == RTC_TURN_UDP;
    h->capsocks = cfg->mux ? 1 + nturn_udp : cfg->nbind > 0 ? cfg->nbind : nifs;
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
        for (int i = 0; i < cfg->nservers; i++) {
            const rtc_pc_host_server *sv = &cfg->servers[i];
            if (!sv->turn || sv->transport != RTC_TURN_UDP || h->nsocks == h->capsocks) continue;
            rtc_addr ip = cfg->mux->local;
            rtc_addr_set_port(&ip, 0);
            int k = h->nsocks;
            r = bind_one(h, &ip);
            if (r < 0) { rtc_warn(TAG, "cannot bind a UDP socket for TURN: %s", rtc_strerror(r)); continue; }
            h->socks[k].turn_only = true;
        }
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
    for (int i = 0; h->mux && i < h->mux->nannounced; i++)
        rtc_pc_add_local_address(h->pc, &h->mux->announced[i], (uint16_t)(65535 - i * 256), now);
    for (int i = 0; !h->mux && i < h->nsocks; i++) {
        if (h->socks[i].turn_only) continue;
        /* Earlier addresses are preferred: IPv4 before IPv6 as the OS lists them. */
        rtc_pc_add_local_address(h->pc, &h->socks[i].local, (uint16_t)(65535 - i * 256), now);
    }
    if (cfg->ice_tcp && !h->mux) listen_ice_tcp(h, cfg->ice_tcp_port, now);
    else if (cfg->ice_tcp) rtc_warn(TAG, "ICE-TCP is not available in single-port mode");
    host_add_servers(h, cfg->servers, cfg->nservers, now);
    return 0;
}

/* What a turns: server's connections will need (see host_tls_server); one entry per
 * server, refreshed when setConfiguration names it again, so the table stays bounded.
 * false when it is full: then the server is not used at all, since without its entry
 * a connection to it would go out as plain TCP. */
static bool tls_server_add(rtc_pc_host *h, const rtc_pc_host_server *sv)
{
    host_tls_server *ts = NULL;
    for (int i = 0; i < h->ntls_servers && !ts; i++)
        if (rtc_addr_eq(&h->tls_servers[i].addrs[0], &sv->addr) && strcmp(h->tls_servers[i].server_name, sv->server_name) == 0)
            ts = &h->tls_servers[i];
    if (!ts) {
        if (h->ntls_servers == HOST_MAX_TLS_SERVERS) return false;
        ts = &h->tls_servers[h->ntls_servers++];
    } else
        rtc_tls_context_unref(ts->ctx);
    ts->addrs[0] = sv->addr;
    for (int k = 0; k < sv->nmore; k++) ts->addrs[1 + k] = sv->more[k];
    ts->naddrs = 1 + sv->nmore;
    ts->ctx = rtc_tls_context_ref(sv->tls);
    snprintf(ts->server_name, sizeof ts->server_name, "%s", sv->server_name);
    return true;
}

/* Gives the machine the servers (read during the call) from the sockets that reach
 * them; TURN over TCP and TLS gets its connection here. */
static void host_add_servers(rtc_pc_host *h, const rtc_pc_host_server *servers, int nservers, rtc_time now)
{
    for (int i = 0; i < nservers; i++) {
        const rtc_pc_host_server *sv = &servers[i];
        if (sv->turn && sv->transport == RTC_TURN_TLS && !tls_server_add(h, sv)) {
            rtc_warn(TAG, "too many TURN servers over TLS: %s not used", sv->server_name);
            continue;
        }
        if (h->mux) {
            /* UDP TURN from this connection's socket for it; STUN and TCP from the port. */
            const rtc_addr *base = &h->socks[0].local;
            for (int k = 1; k < h->nsocks && sv->turn && sv->transport == RTC_TURN_UDP; k++)
                if (h->socks[k].turn_only && !h->turn_sock_used[k]) { base = &h->socks[k].local; h->turn_sock_used[k] = true; break; }
            if (sv->turn && sv->transport == RTC_TURN_UDP && base == &h->socks[0].local) {
                rtc_warn(TAG, "no socket of its own for a TURN server over UDP: not used");
                continue;
            }
            add_server_from(h, sv, base, now);
            continue;
        }
        /* Reach a server from sockets of its kind (loopback or not); a loopback server with
         * no loopback socket is reached from the others (the kernel routes it locally). */
        for (int k = 0; k < h->nsocks; k++) {
            rtc_addr list[RTC_ICE_MAX_ALT];
            int n = server_addrs_of_family(sv, rtc_addr_family(&h->socks[k].local), list);
            if (n == 0) continue;
            bool want_lo = rtc_addr_is_loopback(&list[0]), any_kind = true;
            for (int j = 0; j < h->nsocks; j++)
                if (rtc_addr_family(&h->socks[j].local) == rtc_addr_family(&list[0]) &&
                    rtc_addr_is_loopback(&h->socks[j].local) == want_lo) any_kind = false;
            if (!any_kind && want_lo != rtc_addr_is_loopback(&h->socks[k].local)) continue;
            add_server_from(h, sv, &h->socks[k].local, now);
        }
    }
}

int rtc_pc_host_set_servers(rtc_pc_host *h, const rtc_pc_host_server *servers, int n)
{
    if (h->closing) return RTC_ESTATE;
    for (int i = 0; i < n; i++)      /* turns: without a context would go out in the clear */
        if (servers[i].turn && servers[i].transport == RTC_TURN_TLS && !servers[i].tls) return RTC_EINVAL;
    rtc_time now = rtc_driver_now(&h->drv);
    int r;
    WITH_CONN(h, r = rtc_pc_replace_servers(h->pc, now));
    if (r < 0) return r;
    WITH_CONN(h, host_add_servers(h, servers, n, now));
    rtc_pc_host_kick_soon(h);
    return 0;
}

rtc_pc *rtc_pc_host_pc(rtc_pc_host *h) { return h->pc; }
void rtc_pc_host_set_tap(rtc_pc_host *h, rtc_pc_host_tap_cb cb, void *ud) { h->tap_cb = cb; h->tap_ud = ud; }
const char *rtc_pc_host_id(const rtc_pc_host *h) { return h->log_id; }
void rtc_pc_host_kick(rtc_pc_host *h)
{
    if (h->closing) return;
    WITH_CONN(h, rtc_driver_drain(&h->drv));
    mux_sync_ufrags(h);
}

static void soon_cb(uv_timer_t *t)
{
    rtc_pc_host *h = t->data;
    if (h->closing) return;
    WITH_CONN(h, rtc_driver_drain(&h->drv));
    mux_sync_ufrags(h);
}

void rtc_pc_host_kick_soon(rtc_pc_host *h)
{
    if (!h->closing && !uv_is_active((uv_handle_t *)&h->soon)) uv_timer_start(&h->soon, soon_cb, 0, 0);
}
rtc_time rtc_pc_host_now(rtc_pc_host *h) { return rtc_driver_now(&h->drv); }

int rtc_pc_host_local_addr(rtc_pc_host *h, int i, rtc_addr *out)
{
    if (h->mux) {
        if (i < 0 || i >= h->mux->nannounced) return RTC_ENOTFOUND;
        *out = h->mux->announced[i];
        return 0;
    }
    for (int k = 0; k < h->nsocks && i >= 0; k++) {
        if (h->socks[k].turn_only) continue;       /* not a host candidate */
        if (i-- == 0) { *out = h->socks[k].local; return 0; }
    }
    return RTC_ENOTFOUND;
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
/* The socket and (TLS) the timer each count once in pending_closes; t goes with the
 * last of them (libuv gives no order between two handles' close callbacks). */
static void tcp_closed(uv_handle_t *hd)
{
    host_tcp *t = hd->data;
    rtc_pc_host *h = t->h;
    if (--t->closes == 0) {
        rtc_tcp_out_fail(&t->out);
        rtc_tls_stream_free(t->tls);
        free(t);
    }
    maybe_done(h);
}
static void soon_closed(uv_handle_t *t) { maybe_done(t->data); }
static void itcp_closed(void *ud) { maybe_done(ud); }

void rtc_pc_host_close(rtc_pc_host *h, rtc_pc_host_close_cb close_cb)
{
    if (h->closing) return;
    if (h->tap_cb) {             /* the forwarder lets go of this connection first */
        rtc_pc_host_tap_cb cb = h->tap_cb;
        h->tap_cb = NULL;
        cb(h, NULL, h->tap_ud);
    }
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
    int ntcp_handles = 0;
    for (int i = 0; i < h->ntcps; i++) ntcp_handles += h->tcps[i]->closes;
    h->pending_closes = own + 2 + ntcp_handles + (h->itcp != NULL);
    for (int i = 0; i < h->ntcps; i++) {
        host_tcp *t = h->tcps[i];
        if (t->closes == 2) uv_close((uv_handle_t *)&t->tls_timer, tcp_closed);
        uv_close((uv_handle_t *)&t->tcp, tcp_closed);
    }
    for (int i = 0; i < h->ntls_servers; i++) rtc_tls_context_unref(h->tls_servers[i].ctx);
    h->ntls_servers = 0;
    if (h->itcp) { rtc_ice_tcp_close(h->itcp, itcp_closed); h->itcp = NULL; }
    if (h->mux) { mux_detach(h->mux, h); h->mux = NULL; }
    rtc_driver_close(&h->drv, drv_closed);
    uv_close((uv_handle_t *)&h->soon, soon_closed);
    for (int i = 0; i < h->nsocks; i++)
        if (!h->socks[i].shared) rtc_udp_close(h->socks[i].u, sock_closed);
}
