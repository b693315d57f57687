/* The TURN server host (io/rtc_turn_host) over real sockets on 127.0.0.1: our TURN
 * client allocates over UDP and over TCP, relays to a peer socket and back, the
 * server's events arrive, a closed TCP connection ends its allocation, and the host
 * closes cleanly (every handle released, nothing leaked). */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "io/rtc_loop.h"
#include "io/rtc_turn_host.h"
#include "io/rtc_udp.h"
#include "turn/turn_client.h"

typedef struct ctx {
    rtc_loop *lp;
    rtc_turn_host *h;
    rtc_addr server;
    int ev[8];
    char last_user[RTC_TURN_SRV_NAME_MAX + 1];
    const char *last_reason;
    int host_closed;
    /* client side */
    rtc_turn_client *c;
    rtc_udp *cu, *peer;
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_timer_t timer;
    bool tcp_mode, tcp_connected, tcp_closed;
    rtc_addr peer_addr, relayed;
    int allocated, data_back, peer_rx;
} ctx;

static void on_host_event(rtc_turn_host *h, const rtc_turn_srv_event *e, void *ud)
{
    (void)h;
    ctx *x = ud;
    x->ev[e->type]++;
    if (e->type == RTC_TURN_SRV_EV_ALLOCATED || e->type == RTC_TURN_SRV_EV_DEALLOCATED) {
        snprintf(x->last_user, sizeof x->last_user, "%s", e->username);
        x->last_reason = e->reason;
    }
}

static void on_host_closed(rtc_turn_host *h, void *ud)
{
    (void)h;
    ((ctx *)ud)->host_closed++;
}

static void write_done(uv_write_t *w, int status) { (void)status; free(w); }

/* Client output: over UDP through its socket, over TCP through the stream. */
static void client_flush(ctx *x)
{
    rtc_transmit t;
    bool any = true;
    while (any) {
    any = false;
    while (rtc_turn_client_poll_transmit(x->c, &t)) {
        any = true;
        if (!x->tcp_mode) {
            rtc_udp_send_buf(x->cu, &t.remote, t.buf);
            continue;
        }
        uv_write_t *w = malloc(sizeof *w + t.buf->len);
        memcpy((char *)(w + 1), t.buf->data, t.buf->len);
        uv_buf_t b = uv_buf_init((char *)(w + 1), (unsigned)t.buf->len);
        uv_write(w, (uv_stream_t *)&x->tcp, &b, 1, write_done);
        rtc_buf_unref(t.buf);
    }
    rtc_turn_event ev;
    while (rtc_turn_client_poll_event(x->c, &ev)) {
        any = true;
        if (ev.type == RTC_TURN_EV_ALLOCATED) {
            x->allocated++;
            x->relayed = ev.relayed;
            rtc_turn_client_send(x->c, &x->peer_addr, (const uint8_t *)"ping", 4, rtc_clock_now());
        }
        if (ev.type == RTC_TURN_EV_DATA) {
            ASSERT_EQ(ev.data->len, 4);
            ASSERT_MEMEQ(ev.data->data, "pong", 4);
            x->data_back++;
            rtc_buf_unref(ev.data);
            if (x->data_back < 5) rtc_turn_client_send(x->c, &x->peer_addr, (const uint8_t *)"ping", 4, rtc_clock_now());
        }
        ASSERT(ev.type != RTC_TURN_EV_FAILED);
    }
    }
}

static void client_rx(rtc_udp *u, const uint8_t *data, size_t len, const rtc_addr *from, void *ud)
{
    (void)u; (void)from;
    ctx *x = ud;
    rtc_turn_client_handle_packet(x->c, data, len, rtc_clock_now());
    client_flush(x);
}

static void peer_rx(rtc_udp *u, const uint8_t *data, size_t len, const rtc_addr *from, void *ud)
{
    ctx *x = ud;
    ASSERT(rtc_addr_eq(from, &x->relayed));
    ASSERT_EQ(len, 4);
    x->peer_rx++;
    rtc_udp_send(u, from, "pong", 4);
}

static void tick(uv_timer_t *t)
{
    ctx *x = t->data;
    if (x->c && (!x->tcp_mode || x->tcp_connected)) {
        rtc_turn_client_handle_timeout(x->c, rtc_clock_now());
        client_flush(x);
    }
}

static void tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) { (void)h; (void)hint; static char buf[65536]; *b = uv_buf_init(buf, sizeof buf); }

static void tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    ctx *x = s->data;
    if (n <= 0) return;
    rtc_turn_client_handle_packet(x->c, (const uint8_t *)b->base, (size_t)n, rtc_clock_now());
    client_flush(x);
}

static void tcp_connected(uv_connect_t *req, int status)
{
    ctx *x = req->data;
    ASSERT_EQ(status, 0);
    x->tcp_connected = true;
    uv_read_start((uv_stream_t *)&x->tcp, tcp_alloc, tcp_read);
    client_flush(x);
}

static void tcp_closed_cb(uv_handle_t *h) { ((ctx *)h->data)->tcp_closed = true; }
static void timer_closed(uv_handle_t *h) { (void)h; }

static void run_until(ctx *x, bool (*done)(ctx *))
{
    rtc_time deadline = rtc_clock_now() + RTC_SEC(10);
    while (!done(x)) {
        ASSERT(rtc_clock_now() < deadline);
        rtc_loop_run(x->lp, UV_RUN_ONCE);
    }
}

static bool five_back(ctx *x) { return x->data_back >= 5; }
static bool tcp_gone(ctx *x) { return x->tcp_closed && x->ev[RTC_TURN_SRV_EV_DEALLOCATED] >= 1; }
static bool all_closed(ctx *x) { return x->host_closed == 1; }

static uint64_t slow_dropped(ctx *x)
{
    rtc_turn_host_stats hs;
    rtc_turn_host_get_stats(x->h, &hs);
    return hs.tcp_tx_dropped;
}
static bool some_dropped(ctx *x) { return slow_dropped(x) > 0; }

#define SLOW_MAX_PENDING (64 * 1024)

/* A TCP client that stops reading while its peer keeps sending: the host holds at most
 * tcp_max_pending bytes for it (plus one frame the kernel took in part) and drops and
 * counts the rest, instead of queueing without bound. */
static void slow_reader(ctx *x)
{
    uv_read_stop((uv_stream_t *)&x->tcp);
    int small = 4096;
    uv_recv_buffer_size((uv_handle_t *)&x->tcp, &small);
    uint8_t d[1000];
    memset(d, 0x5a, sizeof d);
    for (int i = 0; i < 20000 && !some_dropped(x); i++) {
        rtc_udp_send(x->peer, &x->relayed, d, sizeof d);
        if (i % 50 == 0) rtc_loop_run(x->lp, UV_RUN_NOWAIT);
    }
    run_until(x, some_dropped);
    rtc_turn_host_stats hs;
    rtc_turn_host_get_stats(x->h, &hs);
    ASSERT_GE(hs.tcp_tx_dropped, 1);
    ASSERT_GE(hs.tcp_tx_queued_peak, SLOW_MAX_PENDING - 1100);   /* it filled up to the bound */
    ASSERT_LE(hs.tcp_tx_queued_peak, SLOW_MAX_PENDING + 1100);   /* and no further */
    ASSERT_EQ(hs.relays_open, 1);                                 /* the client keeps its allocation */
}

static void flow_opts(bool tcp, bool slow)
{
    ctx *x = calloc(1, sizeof *x);
    ASSERT_EQ(rtc_loop_new(&x->lp), 0);
    rtc_turn_host_config cfg = { .nlisten = 1, .tcp = true, .tcp_max_pending = slow ? SLOW_MAX_PENDING : 0 };
    rtc_addr_set(&cfg.listen[0], "127.0.0.1", 0);
    cfg.server.realm = RTC_STR("test");
    cfg.server.allow_loopback = true;
    rtc_addr_set(&cfg.server.relay_v4, "127.0.0.1", 0);
    ASSERT_EQ(rtc_turn_host_new(&x->h, x->lp, &cfg, on_host_event, x), 0);
    ASSERT_EQ(rtc_turn_server_add_user(rtc_turn_host_server(x->h), RTC_STR("alice"), RTC_STR("pw")), 0);
    ASSERT_EQ(rtc_turn_host_local_addr(x->h, 0, &x->server), 0);
    ASSERT_NE(rtc_addr_port(&x->server), 0);

    rtc_addr any;
    rtc_addr_set(&any, "127.0.0.1", 0);
    ASSERT_EQ(rtc_udp_new(&x->peer, x->lp, &any, NULL, peer_rx, x), 0);
    rtc_udp_local_addr(x->peer, &x->peer_addr);
    x->tcp_mode = tcp;
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 5);
    rtc_turn_config tc = { .server = x->server, .transport = tcp ? RTC_TURN_TCP : RTC_TURN_UDP,
                           .username = RTC_STR("alice"), .password = RTC_STR("pw"), .rng = &rng };
    ASSERT_EQ(rtc_turn_client_new(&x->c, &tc, rtc_clock_now()), 0);
    uv_timer_init(rtc_loop_uv(x->lp), &x->timer);
    x->timer.data = x;
    uv_timer_start(&x->timer, tick, 10, 10);
    if (tcp) {
        uv_tcp_init(rtc_loop_uv(x->lp), &x->tcp);
        x->tcp.data = x;
        x->conn.data = x;
        ASSERT_EQ(uv_tcp_connect(&x->conn, &x->tcp, &x->server.u.sa, tcp_connected), 0);
    } else {
        ASSERT_EQ(rtc_udp_new(&x->cu, x->lp, &any, NULL, client_rx, x), 0);
        client_flush(x);
    }
    run_until(x, five_back);
    ASSERT_EQ(x->allocated, 1);
    ASSERT_GE(x->peer_rx, 5);
    ASSERT_EQ(x->ev[RTC_TURN_SRV_EV_ALLOCATED], 1);
    ASSERT_STREQ(x->last_user, "alice");
    rtc_turn_host_stats hs;
    rtc_turn_host_get_stats(x->h, &hs);
    ASSERT_EQ(hs.relays_open, 1);
    ASSERT_GE(hs.relay_rx, 5);
    ASSERT_GE(hs.relay_tx, 5);
    if (slow) slow_reader(x);
    if (tcp) {
        ASSERT_EQ(hs.tcp_accepted, 1);
        /* the client hangs up: its allocation goes with the connection */
        uv_close((uv_handle_t *)&x->tcp, tcp_closed_cb);
        run_until(x, tcp_gone);
        ASSERT_STREQ(x->last_reason, "tcp closed");
        rtc_turn_host_get_stats(x->h, &hs);
        ASSERT_EQ(hs.relays_open, 0);
    } else {
        ASSERT_GE(hs.udp_rx, 5);
        rtc_udp_close(x->cu, NULL);
    }
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(rtc_turn_host_server(x->h), &st);
    ASSERT_GE(st.relayed_to_peer, 5);
    ASSERT_GE(st.relayed_to_client, 5);
    rtc_turn_client_free(x->c);
    x->c = NULL;
    uv_close((uv_handle_t *)&x->timer, timer_closed);
    rtc_udp_close(x->peer, NULL);
    rtc_turn_host_close(x->h, on_host_closed, x);
    run_until(x, all_closed);
    rtc_loop_free(x->lp);
    free(x);
}

static void flow(bool tcp) { flow_opts(tcp, false); }
static void test_host_udp(void) { flow(false); }
static void test_host_tcp(void) { flow(true); }
static void test_host_tcp_slow_reader(void) { flow_opts(true, true); }

/* A listener that cannot be bound fails the host cleanly. */
static void test_host_bind_failure(void)
{
    rtc_loop *lp;
    ASSERT_EQ(rtc_loop_new(&lp), 0);
    rtc_turn_host_config cfg = { .nlisten = 1 };
    rtc_addr_set(&cfg.listen[0], "192.0.2.123", 3478);   /* not a local address */
    cfg.server.realm = RTC_STR("test");
    rtc_turn_host *h = NULL;
    ASSERT_EQ(rtc_turn_host_new(&h, lp, &cfg, NULL, NULL), RTC_EIO);
    ASSERT(h == NULL);
    rtc_turn_host_config none = { .nlisten = 0 };
    none.server.realm = RTC_STR("test");
    ASSERT_EQ(rtc_turn_host_new(&h, lp, &none, NULL, NULL), RTC_EINVAL);
    rtc_loop_run(lp, UV_RUN_NOWAIT);
    rtc_loop_free(lp);
}

int main(void)
{
    RUN(test_host_udp);
    RUN(test_host_tcp);
    RUN(test_host_tcp_slow_reader);
    RUN(test_host_bind_failure);
    return 0;
}
