/* Two ICE agents over real loopback UDP sockets (IPv4 and IPv6), driven by poll(). */
#include "test_ice_sock.h"

static void connect_on(const char *ip)
{
    sock_peer x, y;
    sock_peer_init(&x, ip, true, 10, "xloop", false);
    sock_peer_init(&y, ip, false, 5, "yloop", false);
    sock_link(&x, "xloop", &y, "yloop");
    rtc_time now = rtc_clock_now();
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(x.a, &x.addr, 65535, NULL, now), 0);
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(y.a, &y.addr, 65535, NULL, now), 0);
    ASSERT(sock_run_until(&x, &y, sock_both_connected, RTC_SEC(5)));
    ASSERT(rtc_addr_eq(&x.sel.remote, &y.addr));
    ASSERT(rtc_addr_eq(&y.sel.remote, &x.addr));
    ASSERT(rtc_addr_eq(&x.sel.local, &x.addr));
    ASSERT(!x.sel.relayed);
    sock_exchange(&x, &y, 50);
    ASSERT_EQ(x.data_rx, 50);                 /* loopback does not lose datagrams */
    ASSERT_EQ(y.data_rx, 50);
    sock_peer_free(&x);
    sock_peer_free(&y);
}

static void test_loopback_v4(void) { connect_on("127.0.0.1"); }
static void test_loopback_v6(void) { connect_on("::1"); }

int main(void)
{
    rtc_rng_init_crypto(&sock_rng);
    RUN(test_loopback_v4);
    RUN(test_loopback_v6);
    return 0;
}
