/* Two of our ICE agents, relay-only, through our own TURN server: the server host
 * (io/rtc_turn_host) runs on its own libuv loop in a second thread, the agents on the
 * poll() socket driver of test_ice_sock.h in the main thread, all on 127.0.0.1. Over
 * UDP and over TCP the selected pair is relay/relay and data goes only through the
 * relay; a wrong password fails the agent cleanly. */
#include "test_ice_sock.h"
#include "io/rtc_loop.h"
#include "io/rtc_turn_host.h"
#include "turn/turn_client.h"
#include <pthread.h>

typedef struct server {
    rtc_loop *lp;
    rtc_turn_host *h;
    uv_async_t stop;
    pthread_t thread;
    rtc_addr addr;
    int allocations;
} server;

static void on_event(rtc_turn_host *h, const rtc_turn_srv_event *e, void *ud)
{
    (void)h;
    server *s = ud;
    if (e->type == RTC_TURN_SRV_EV_ALLOCATED) s->allocations++;   /* read after join */
}

static void async_closed(uv_handle_t *h) { (void)h; }

static void stop_cb(uv_async_t *a)
{
    server *s = a->data;
    rtc_turn_host_close(s->h, NULL, NULL);
    uv_close((uv_handle_t *)&s->stop, async_closed);
}

static void *run(void *ud)
{
    server *s = ud;
    rtc_loop_run(s->lp, UV_RUN_DEFAULT);
    return NULL;
}

static void server_start(server *s)
{
    memset(s, 0, sizeof *s);
    ASSERT_EQ(rtc_loop_new(&s->lp), 0);
    rtc_turn_host_config cfg = { .nlisten = 1, .tcp = true };
    rtc_addr_set(&cfg.listen[0], "127.0.0.1", 0);
    rtc_addr_set(&cfg.server.relay_v4, "127.0.0.1", 0);
    cfg.server.realm = RTC_STR("ice");
    cfg.server.allow_loopback = true;
    ASSERT_EQ(rtc_turn_host_new(&s->h, s->lp, &cfg, on_event, s), 0);
    ASSERT_EQ(rtc_turn_server_add_user(rtc_turn_host_server(s->h), RTC_STR("u"), RTC_STR("p")), 0);
    ASSERT_EQ(rtc_turn_host_local_addr(s->h, 0, &s->addr), 0);
    uv_async_init(rtc_loop_uv(s->lp), &s->stop, stop_cb);
    s->stop.data = s;
    /* from here on only the server thread touches the loop */
    ASSERT_EQ(pthread_create(&s->thread, NULL, run, s), 0);
}

static void server_stop(server *s)
{
    uv_async_send(&s->stop);
    pthread_join(s->thread, NULL);
    rtc_loop_free(s->lp);
}

static void relay_pair(int transport, const char *pass_x, bool expect_ok)
{
    server srv;
    server_start(&srv);
    sock_peer x, y;
    sock_peer_init(&x, "127.0.0.1", true, 10, "xrel", true);
    sock_peer_init(&y, "127.0.0.1", false, 5, "yrel", true);
    sock_link(&x, "xrel", &y, "yrel");
    rtc_time now = rtc_clock_now();
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(x.a, &x.addr, 65535, NULL, now), 0);
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(y.a, &y.addr, 65535, NULL, now), 0);
    ASSERT_EQ(rtc_ice_agent_add_turn_server(x.a, &x.addr, &srv.addr, transport, RTC_STR("u"), rtc_str_c(pass_x), now), 0);
    ASSERT_EQ(rtc_ice_agent_add_turn_server(y.a, &y.addr, &srv.addr, transport, RTC_STR("u"), RTC_STR("p"), now), 0);
    if (!expect_ok) {
        sock_run_until(&x, &y, sock_both_connected, RTC_SEC(5));
        ASSERT_EQ(x.turn_failed, 1);
        ASSERT_EQ(x.turn_failed_code, 401);
        ASSERT_EQ(x.relay_candidates, 0);
        ASSERT_EQ(x.state, RTC_ICE_FAILED);
    } else {
        ASSERT(sock_run_until(&x, &y, sock_both_connected, RTC_SEC(10)));
        ASSERT_EQ(x.relay_candidates, 1);
        ASSERT_EQ(y.relay_candidates, 1);
        ASSERT(x.sel.relayed && y.sel.relayed);
        ASSERT_EQ(x.sel.local_type, RTC_ICE_RELAY);
        ASSERT_EQ(x.sel.remote_type, RTC_ICE_RELAY);
        ASSERT(rtc_addr_eq(&x.sel.relay_server, &srv.addr));
        sock_exchange(&x, &y, 40);
        ASSERT_EQ(x.relay_data_rx, 40);
        ASSERT_EQ(y.relay_data_rx, 40);
        ASSERT_EQ(x.data_rx + y.data_rx, 0);         /* nothing came around the relay */
    }
    sock_peer_free(&x);
    sock_peer_free(&y);
    server_stop(&srv);
    ASSERT_EQ(srv.allocations, expect_ok ? 2 : 1);
}

static void test_ice_relay_udp(void) { relay_pair(RTC_TURN_UDP, "p", true); }
static void test_ice_relay_tcp(void) { relay_pair(RTC_TURN_TCP, "p", true); }
static void test_ice_relay_wrong_credentials(void) { relay_pair(RTC_TURN_UDP, "bad", false); }

int main(void)
{
    rtc_rng_init_seed(&sock_rng, 11);
    RUN(test_ice_relay_udp);
    RUN(test_ice_relay_tcp);
    RUN(test_ice_relay_wrong_credentials);
    return 0;
}
