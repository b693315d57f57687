/* TURN client and relayed ICE against a real coturn on loopback: allocation, data both
 * ways (Send/Data indications, then ChannelData), two relay-only ICE agents over UDP and
 * over TCP, and wrong credentials failing cleanly. turnserver is started here and killed
 * on every exit path; if it is missing the test fails. */
#include "test_ice_sock.h"
#include "test_child.h"
#include "turn/turn_client.h"

static rtc_addr turn_addr;
/* coturn's files: its pidfile here (by default /var/run/turnserver.pid) and its log on
 * stdout (by default /var/log/turn_<pid>_<date>.log, or the cwd), so a run leaves nothing. */
static char turn_dir[64];

static void turn_dir_remove(void)
{
    if (turn_dir[0]) test_tmpdir_remove(turn_dir);
    turn_dir[0] = 0;
}

static uint16_t free_port(void)
{
    /* Free for both UDP and TCP. */
    for (int tries = 0; tries < 50; tries++) {
        rtc_addr a;
        rtc_addr_set(&a, "127.0.0.1", 0);
        int u = sock_udp_bind(&a);
        uint16_t port = rtc_addr_port(&a);
        int t = socket(AF_INET, SOCK_STREAM, 0);
        int ok = bind(t, &a.u.sa, rtc_addr_len(&a)) == 0;
        close(t);
        close(u);
        if (ok) return port;
    }
    RTC_TEST_FAIL("no free port");
}

/* A Binding request answered means coturn is up. */
static bool turn_answers(void)
{
    rtc_addr me;
    rtc_addr_set(&me, "127.0.0.1", 0);
    int fd = sock_udp_bind(&me);
    uint8_t tid[12] = { 7 }, b[64];
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, b, sizeof b, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
    int n = rtc_stun_finish(&w);
    sendto(fd, b, (size_t)n, 0, &turn_addr.u.sa, rtc_addr_len(&turn_addr));
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    bool ok = poll(&pf, 1, 200) == 1 && recv(fd, b, sizeof b, 0) > 0;
    close(fd);
    return ok;
}

static void start_turnserver(void)
{
    ASSERT(access("/usr/bin/turnserver", X_OK) == 0);          /* coturn must be installed */
    uint16_t port = free_port();
    unsigned base = 42000 + (unsigned)(getpid() % 500) * 40;
    char lport[32], minp[32], maxp[32], pidfile[96];
    test_tmpdir_make(turn_dir, sizeof turn_dir, "luartc-coturn");
    snprintf(pidfile, sizeof pidfile, "--pidfile=%s/turnserver.pid", turn_dir);
    snprintf(lport, sizeof lport, "--listening-port=%u", port);
    snprintf(minp, sizeof minp, "--min-port=%u", base);
    snprintf(maxp, sizeof maxp, "--max-port=%u", base + 39);
    rtc_addr_set(&turn_addr, "127.0.0.1", port);
    char *argv[] = { "/usr/bin/turnserver", "-n", "--listening-ip=127.0.0.1", lport,
                     "--relay-ip=127.0.0.1", minp, maxp, "--lt-cred-mech", "--user=u:p", "--realm=R",
                     "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls",
                     "--log-file=stdout", pidfile, NULL };
    test_child_spawn(NULL, argv);
    for (int i = 0; i < 50; i++) {
        if (turn_answers()) return;
        int st;
        ASSERT(waitpid(test_child_pid, &st, WNOHANG) == 0);           /* it must not have died */
    }
    RTC_TEST_FAIL("turnserver did not come up");
}

/* Drive a bare turn_client on its own UDP socket until cond or timeout. */
typedef struct tc_drv {
    rtc_turn_client *c;
    int fd;
    rtc_addr addr;
    int allocated, failed, fail_code, fail_err, data;
    rtc_addr relayed, last_peer;
} tc_drv;

static void tc_drain(tc_drv *d)
{
    rtc_transmit t;
    rtc_turn_event e;
    while (rtc_turn_client_poll_transmit(d->c, &t)) {
        sendto(d->fd, t.buf->data, t.buf->len, 0, &t.remote.u.sa, rtc_addr_len(&t.remote));
        rtc_buf_unref(t.buf);
    }
    while (rtc_turn_client_poll_event(d->c, &e)) {
        if (e.type == RTC_TURN_EV_ALLOCATED) { d->allocated++; d->relayed = e.relayed; }
        if (e.type == RTC_TURN_EV_FAILED) { d->failed++; d->fail_code = e.code; d->fail_err = e.error; }
        if (e.type == RTC_TURN_EV_DATA) {
            ASSERT(e.data->len == 5 && memcmp(e.data->data, "pong!", 5) == 0);
            d->data++;
            d->last_peer = e.peer;
            rtc_buf_unref(e.data);
        }
    }
}

static void tc_step(tc_drv *d, int extra_fd, int *extra_rx, rtc_addr *extra_from)
{
    tc_drain(d);
    struct pollfd pf[2] = { { .fd = d->fd, .events = POLLIN }, { .fd = extra_fd, .events = POLLIN } };
    poll(pf, 2, 20);
    uint8_t buf[2048];
    rtc_addr from;
    socklen_t sl = sizeof from.u;
    ssize_t r;
    while ((r = recvfrom(d->fd, buf, sizeof buf, MSG_DONTWAIT, &from.u.sa, &sl)) > 0) {
        rtc_turn_client_handle_packet(d->c, buf, (size_t)r, rtc_clock_now());
        tc_drain(d);
    }
    if (extra_fd >= 0) {
        sl = sizeof from.u;
        while ((r = recvfrom(extra_fd, buf, sizeof buf, MSG_DONTWAIT, &extra_from->u.sa, &sl)) > 0) {
            ASSERT(r == 5 && memcmp(buf, "ping!", 5) == 0);
            (*extra_rx)++;
            sendto(extra_fd, "pong!", 5, 0, &extra_from->u.sa, rtc_addr_len(extra_from));
        }
    }
    rtc_turn_client_handle_timeout(d->c, rtc_clock_now());
    tc_drain(d);
}

static tc_drv tc_open(const char *user, const char *pass)
{
    tc_drv d = { .fd = -1 };
    rtc_addr_set(&d.addr, "127.0.0.1", 0);
    d.fd = sock_udp_bind(&d.addr);
    rtc_turn_config cfg = { .server = turn_addr, .local = d.addr, .transport = RTC_TURN_UDP,
                            .username = rtc_str_c(user), .password = rtc_str_c(pass), .rng = &sock_rng };
    ASSERT_EQ(rtc_turn_client_new(&d.c, &cfg, rtc_clock_now()), 0);
    return d;
}

static void test_turn_client_allocation_and_data(void)
{
    tc_drv d = tc_open("u", "p");
    for (int i = 0; i < 250 && !d.allocated && !d.failed; i++) tc_step(&d, -1, NULL, NULL);
    ASSERT_EQ(d.failed, 0);
    ASSERT_EQ(d.allocated, 1);
    ASSERT_EQ(rtc_turn_client_state(d.c), RTC_TURN_READY);
    rtc_addr lo;
    rtc_addr_set(&lo, "127.0.0.1", 0);
    ASSERT(rtc_addr_ip_eq(&d.relayed, &lo));
    rtc_turn_stats st;
    rtc_turn_client_get_stats(d.c, &st);
    ASSERT_EQ(st.auth_retries, 1);                 /* 401 with REALM/NONCE, then authenticated */

    /* A plain UDP peer: ping through the relay, it answers to the relayed address. */
    rtc_addr peer;
    rtc_addr_set(&peer, "127.0.0.1", 0);
    int pfd = sock_udp_bind(&peer);
    int rx = 0;
    rtc_addr from;
    for (int i = 0; i < 20; i++) {
        ASSERT_EQ(rtc_turn_client_send(d.c, &peer, (const uint8_t *)"ping!", 5, rtc_clock_now()), 0);
        for (int k = 0; k < 3; k++) tc_step(&d, pfd, &rx, &from);
    }
    for (int k = 0; k < 20 && d.data < 20; k++) tc_step(&d, pfd, &rx, &from);
    ASSERT_EQ(rx, 20);
    ASSERT(rtc_addr_eq(&from, &d.relayed));       /* the peer saw the relayed address */
    ASSERT_EQ(d.data, 20);
    ASSERT(rtc_addr_eq(&d.last_peer, &peer));
    rtc_turn_client_get_stats(d.c, &st);
    ASSERT(st.sent_indications >= 1);             /* before the channel was bound ... */
    ASSERT(st.sent_channel >= 1);                 /* ... and ChannelData after */

    ASSERT_EQ(rtc_turn_client_close(d.c, rtc_clock_now()), 0);
    for (int i = 0; i < 100 && rtc_turn_client_state(d.c) != RTC_TURN_CLOSED; i++) tc_step(&d, -1, NULL, NULL);
    ASSERT_EQ(rtc_turn_client_state(d.c), RTC_TURN_CLOSED);
    rtc_turn_client_free(d.c);
    close(d.fd);
    close(pfd);
}

static void test_turn_client_wrong_credentials(void)
{
    tc_drv d = tc_open("u", "wrong");
    rtc_time start = rtc_clock_now();
    while (!d.failed && rtc_clock_now() - start < RTC_SEC(10)) tc_step(&d, -1, NULL, NULL);
    ASSERT_EQ(d.failed, 1);
    ASSERT_EQ(d.allocated, 0);
    ASSERT_EQ(d.fail_err, RTC_EAUTH);
    ASSERT(d.fail_code == 401 || d.fail_code == 441);
    ASSERT_EQ(rtc_turn_client_state(d.c), RTC_TURN_FAILED);
    ASSERT_EQ(rtc_turn_client_poll_timeout(d.c), RTC_TIME_NEVER);     /* nothing left pending: no hang */
    ASSERT_EQ(rtc_turn_client_send(d.c, &turn_addr, (const uint8_t *)"x", 1, rtc_clock_now()), RTC_ESTATE);
    rtc_turn_client_free(d.c);
    close(d.fd);
}

static void relay_pair(int transport, const char *pass_x, bool expect_ok)
{
    sock_peer x, y;
    sock_peer_init(&x, "127.0.0.1", true, 10, "xrel", true);
    sock_peer_init(&y, "127.0.0.1", false, 5, "yrel", true);
    sock_link(&x, "xrel", &y, "yrel");
    rtc_time now = rtc_clock_now();
    /* Host candidates exist (they are the bases) but relay-only keeps them out of pairs. */
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(x.a, &x.addr, 65535, NULL, now), 0);
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(y.a, &y.addr, 65535, NULL, now), 0);
    ASSERT_EQ(rtc_ice_agent_add_turn_server(x.a, &x.addr, &turn_addr, transport, RTC_STR("u"), rtc_str_c(pass_x), now), 0);
    ASSERT_EQ(rtc_ice_agent_add_turn_server(y.a, &y.addr, &turn_addr, transport, RTC_STR("u"), RTC_STR("p"), now), 0);
    if (!expect_ok) {
        sock_run_until(&x, &y, sock_both_connected, RTC_SEC(5));
        ASSERT_EQ(x.turn_failed, 1);
        ASSERT(x.turn_failed_code == 401 || x.turn_failed_code == 441);
        ASSERT_EQ(x.relay_candidates, 0);
        ASSERT_EQ(x.state, RTC_ICE_FAILED);          /* nothing to pair with: a clear failure */
        ASSERT_EQ(x.selected, 0);
    } else {
        ASSERT(sock_run_until(&x, &y, sock_both_connected, RTC_SEC(10)));
        ASSERT_EQ(x.relay_candidates, 1);
        ASSERT_EQ(y.relay_candidates, 1);
        ASSERT(x.sel.relayed && y.sel.relayed);
        ASSERT_EQ(x.sel.local_type, RTC_ICE_RELAY);
        ASSERT_EQ(x.sel.remote_type, RTC_ICE_RELAY);
        ASSERT(rtc_addr_eq(&x.sel.relay_server, &turn_addr));
        sock_exchange(&x, &y, 40);
        ASSERT_EQ(x.relay_data_rx, 40);
        ASSERT_EQ(y.relay_data_rx, 40);
        ASSERT_EQ(x.data_rx + y.data_rx, 0);         /* nothing came around the relay */
        if (transport == RTC_TURN_TCP) ASSERT(x.tcp_fd >= 0 && y.tcp_fd >= 0);
    }
    sock_peer_free(&x);
    sock_peer_free(&y);
}

static void test_ice_relay_udp(void) { relay_pair(RTC_TURN_UDP, "p", true); }
static void test_ice_relay_tcp(void) { relay_pair(RTC_TURN_TCP, "p", true); }
static void test_ice_relay_wrong_credentials(void) { relay_pair(RTC_TURN_UDP, "bad", false); }

int main(void)
{
    rtc_rng_init_crypto(&sock_rng);
    atexit(turn_dir_remove);             /* after test_child_guard's kill: exit handlers run in reverse */
    test_child_guard();
    start_turnserver();
    RUN(test_turn_client_allocation_and_data);
    RUN(test_turn_client_wrong_credentials);
    RUN(test_ice_relay_udp);
    RUN(test_ice_relay_tcp);
    RUN(test_ice_relay_wrong_credentials);
    /* it wrote its pidfile where it was told (so not in /var/run) */
    char path[96];
    snprintf(path, sizeof path, "%s/turnserver.pid", turn_dir);
    ASSERT(access(path, F_OK) == 0);
    test_child_kill();
    turn_dir_remove();
    return 0;
}
