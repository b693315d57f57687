/* ICE-TCP (RFC 6544) in the agent, sans-IO: the tcptype grammar round trip, TCP
 * priorities below UDP, pairing (active with passive only, never UDP with TCP), and a
 * passive candidate answering checks on an accepted connection, which then carries
 * the selected pair. The peer's checks are built here as a browser's active candidate
 * would send them on its connection. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "ice/ice_agent.h"
#include "stun/stun.h"
#include <stdio.h>

static rtc_rng rng;
#define PWD "0123456789abcdefghijklmn"
#define PEER_PWD "zyxwvutsrqponmlkjihgfedc"

static void test_tcptype_grammar(void)
{
    static const char *lines[] = {
        "candidate:1052210935 1 tcp 1518280447 192.0.2.7 9 typ host tcptype active generation 0 network-id 1",
        "candidate:3 1 tcp 1518214911 198.51.100.2 40000 typ host tcptype passive",
        "candidate:4 1 tcp 1686052607 203.0.113.9 5000 typ srflx raddr 10.0.0.2 rport 5000 tcptype so",
    };
    static const char *types[] = { "active", "passive", "so" };
    for (int i = 0; i < 3; i++) {
        rtc_ice_candidate c;
        ASSERT_OK(rtc_ice_candidate_parse(&c, lines[i], strlen(lines[i])));
        ASSERT_EQ(c.transport, RTC_ICE_TCP);
        ASSERT_STREQ(c.tcptype, types[i]);
        ASSERT_EQ(rtc_ice_tcptype_parse(c.tcptype), (rtc_ice_tcptype)(i + 1));
        char out[512];
        ASSERT(rtc_ice_candidate_format(&c, out, sizeof out) > 0);
        ASSERT_STREQ(out, lines[i]);
    }
    ASSERT_EQ(rtc_ice_tcptype_parse("bogus"), RTC_ICE_TCP_NONE);
    ASSERT_STREQ(rtc_ice_tcptype_name(RTC_ICE_TCP_PASSIVE), "passive");
}

static void test_priorities(void)
{
    uint32_t udp_host = rtc_ice_candidate_priority(RTC_ICE_HOST, 65535, 1);
    uint32_t udp_srflx = rtc_ice_candidate_priority(RTC_ICE_SRFLX, 65535, 1);
    uint32_t act = rtc_ice_tcp_candidate_priority(RTC_ICE_HOST, RTC_ICE_TCP_ACTIVE, 8191, 1);
    uint32_t pas = rtc_ice_tcp_candidate_priority(RTC_ICE_HOST, RTC_ICE_TCP_PASSIVE, 8191, 1);
    uint32_t so = rtc_ice_tcp_candidate_priority(RTC_ICE_HOST, RTC_ICE_TCP_SO, 8191, 1);
    ASSERT(act < udp_srflx && act < udp_host);
    ASSERT(act > pas && pas > so);                   /* host: active 6, passive 4, so 2 */
    ASSERT_EQ(pas >> 24, 90);
    ASSERT_EQ((pas >> 8) & 0xFFFF, (4u << 13) | 8191);
    ASSERT_EQ(pas & 0xFF, 255);
    /* Not host: active 6, so 4, passive 2. */
    uint32_t s_so = rtc_ice_tcp_candidate_priority(RTC_ICE_SRFLX, RTC_ICE_TCP_SO, 0, 1);
    uint32_t s_pas = rtc_ice_tcp_candidate_priority(RTC_ICE_SRFLX, RTC_ICE_TCP_PASSIVE, 0, 1);
    ASSERT(s_so > s_pas);
    ASSERT(rtc_ice_tcp_candidate_priority(RTC_ICE_PRFLX, RTC_ICE_TCP_ACTIVE, 8191, 1) < pas);
    ASSERT(rtc_ice_tcp_candidate_priority(RTC_ICE_RELAY, RTC_ICE_TCP_ACTIVE, 8191, 1) < pas);
}

static void add_remote(rtc_ice_agent *a, const char *line, int expect)
{
    rtc_ice_candidate c;
    ASSERT_OK(rtc_ice_candidate_parse(&c, line, strlen(line)));
    ASSERT_EQ(rtc_ice_agent_add_remote_candidate(a, &c, 0), expect);
}

static int pairs_of(rtc_ice_agent *a)
{
    rtc_ice_stats st;
    rtc_ice_agent_get_stats(a, &st);
    return (int)st.pairs;
}

static size_t build_check(uint8_t *buf, size_t cap, const uint8_t tid[12], bool use_cand)
{
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, cap, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, RTC_STR("ours:peer"));
    rtc_stun_put_u32(&w, RTC_STUN_ATTR_PRIORITY, rtc_ice_tcp_candidate_priority(RTC_ICE_PRFLX, RTC_ICE_TCP_ACTIVE, 100, 1));
    rtc_stun_put_u64(&w, RTC_STUN_ATTR_ICE_CONTROLLING, 42);
    if (use_cand) rtc_stun_put_flag(&w, RTC_STUN_ATTR_USE_CANDIDATE);
    rtc_stun_put_integrity(&w, (const uint8_t *)PWD, strlen(PWD));
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    ASSERT(n > 0);
    return (size_t)n;
}

static void test_pairing_and_connection(void)
{
    rtc_ice_config cfg = { .controlling = false, .tie_breaker = 7, .rng = &rng,
                           .local_ufrag = RTC_STR("ours"), .local_pwd = RTC_STR(PWD) };
    rtc_ice_agent *a = NULL;
    ASSERT_OK(rtc_ice_agent_new(&a, &cfg, 0));
    rtc_addr base, peer_udp, peer_conn;
    rtc_addr_parse(&base, "10.0.0.1:5000");
    rtc_addr_parse(&peer_udp, "10.0.0.2:6000");
    rtc_addr_parse(&peer_conn, "10.0.0.2:54321");
    /* The UDP socket and the TCP listener share an address and a port number. */
    ASSERT_OK(rtc_ice_agent_add_host_candidate(a, &base, 65535, NULL, 0));
    rtc_ice_candidate tc;
    ASSERT_OK(rtc_ice_agent_add_tcp_host_candidate(a, &base, 65535, RTC_ICE_TCP_PASSIVE, &tc, 0));
    ASSERT_EQ(rtc_ice_agent_add_tcp_host_candidate(a, &base, 65535, RTC_ICE_TCP_PASSIVE, NULL, 0), RTC_EEXISTS);
    ASSERT_EQ(rtc_ice_agent_add_tcp_host_candidate(a, &base, 65535, RTC_ICE_TCP_ACTIVE, NULL, 0), RTC_ENOTSUP);
    ASSERT_EQ(tc.transport, RTC_ICE_TCP);
    ASSERT_STREQ(tc.tcptype, "passive");
    ASSERT(tc.priority < rtc_ice_candidate_priority(RTC_ICE_SRFLX, 65535, 1));
    char line[512];
    ASSERT(rtc_ice_candidate_format(&tc, line, sizeof line) > 0);
    ASSERT(strstr(line, " 1 tcp ") && strstr(line, " 10.0.0.1 5000 typ host tcptype passive"));
    /* Both are announced; the TCP one as signalled. */
    int ncand = 0, ntcp = 0;
    rtc_ice_event ev;
    while (rtc_ice_agent_poll_event(a, &ev))
        if (ev.type == RTC_ICE_EV_LOCAL_CANDIDATE) { ncand++; ntcp += ev.u.cand.transport == RTC_ICE_TCP; }
    ASSERT_EQ(ncand, 2);
    ASSERT_EQ(ntcp, 1);

    ASSERT_OK(rtc_ice_agent_set_remote_credentials(a, RTC_STR("peer"), RTC_STR(PEER_PWD), 0));
    add_remote(a, "candidate:1 1 udp 2122260223 10.0.0.2 6000 typ host", 0);
    ASSERT_EQ(pairs_of(a), 1);                                  /* UDP with UDP */
    add_remote(a, "candidate:2 1 tcp 1518280447 10.0.0.2 9 typ host tcptype active", 0);
    ASSERT_EQ(pairs_of(a), 1);        /* our passive waits for its connection; not with UDP */
    add_remote(a, "candidate:3 1 tcp 1518214911 10.0.0.2 7000 typ host tcptype passive", 0);
    ASSERT_EQ(pairs_of(a), 1);                                  /* never passive-passive */
    add_remote(a, "candidate:4 1 tcp 1518149375 10.0.0.2 7001 typ host tcptype so", RTC_ENOTSUP);
    add_remote(a, "candidate:5 1 tcp 1518149375 10.0.0.2 7002 typ host", RTC_ENOTSUP);
    /* The same address over UDP and TCP are two candidates. */
    add_remote(a, "candidate:6 1 tcp 1518214911 10.0.0.2 6000 typ host tcptype passive", 0);
    ASSERT_EQ(pairs_of(a), 1);

    /* Drain the UDP check(s): none may go out on TCP. */
    rtc_ice_agent_handle_timeout(a, RTC_MS(1));
    rtc_transmit tx;
    while (rtc_ice_agent_poll_transmit(a, &tx)) {
        ASSERT_EQ(tx.proto, RTC_PROTO_UDP);
        rtc_buf_unref(tx.buf);
    }

    /* The peer's active candidate connected to our listener and checks on it. A frame
     * naming no listener of ours is dropped. */
    uint8_t msg[512], tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    size_t n = build_check(msg, sizeof msg, tid, true);
    rtc_addr other;
    rtc_addr_parse(&other, "10.0.0.1:5001");
    ASSERT_EQ(rtc_ice_agent_handle_packet(a, &other, &peer_conn, msg, n, RTC_PROTO_TCP, RTC_MS(10)), RTC_EIGNORED);
    ASSERT_OK(rtc_ice_agent_handle_packet(a, &base, &peer_conn, msg, n, RTC_PROTO_TCP, RTC_MS(10)));
    ASSERT_EQ(pairs_of(a), 2);
    bool answered = false;
    uint8_t our_tid[12];
    bool checked_back = false;
    rtc_ice_agent_handle_timeout(a, RTC_MS(100));
    while (rtc_ice_agent_poll_transmit(a, &tx)) {
        rtc_stun_msg m;
        if (tx.proto == RTC_PROTO_TCP) {
            ASSERT(rtc_addr_eq(&tx.local, &base));
            ASSERT(rtc_addr_eq(&tx.remote, &peer_conn));
            ASSERT_OK(rtc_stun_parse(tx.buf->data, tx.buf->len, &m));
            if (m.cls == RTC_STUN_SUCCESS) {
                ASSERT_MEMEQ(m.tid, tid, 12);
                rtc_addr mapped;
                ASSERT_OK(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped));
                ASSERT(rtc_addr_eq(&mapped, &peer_conn));
                answered = true;
            } else if (m.cls == RTC_STUN_REQUEST) {
                uint32_t prio;
                ASSERT_OK(rtc_stun_get_u32(&m, RTC_STUN_ATTR_PRIORITY, &prio));
                ASSERT_EQ(prio >> 24, 80);                  /* a TCP peer-reflexive priority */
                memcpy(our_tid, m.tid, 12);
                checked_back = true;
            }
        } else {
            /* UDP checks go to the UDP candidate only. */
            ASSERT(rtc_addr_eq(&tx.remote, &peer_udp));
        }
        rtc_buf_unref(tx.buf);
    }
    ASSERT(answered);
    ASSERT(checked_back);                          /* the triggered check, on the connection */
    ASSERT_NE(rtc_ice_agent_selected_pair(a, &(rtc_ice_pair_info){ 0 }), 0);

    /* The peer answers our check on the connection: nominated, so selected. */
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, msg, sizeof msg, RTC_STUN_BINDING, RTC_STUN_SUCCESS, our_tid);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &base);
    rtc_stun_put_integrity(&w, (const uint8_t *)PEER_PWD, strlen(PEER_PWD));
    rtc_stun_put_fingerprint(&w);
    int k = rtc_stun_finish(&w);
    ASSERT(k > 0);
    ASSERT_OK(rtc_ice_agent_handle_packet(a, &base, &peer_conn, msg, (size_t)k, RTC_PROTO_TCP, RTC_MS(120)));
    rtc_ice_pair_info pi;
    ASSERT_OK(rtc_ice_agent_selected_pair(a, &pi));
    ASSERT_EQ(pi.proto, RTC_PROTO_TCP);
    ASSERT(rtc_addr_eq(&pi.local, &base));
    ASSERT(rtc_addr_eq(&pi.remote, &peer_conn));
    ASSERT_EQ(pi.local_type, RTC_ICE_HOST);
    ASSERT_EQ(pi.remote_type, RTC_ICE_PRFLX);
    ASSERT_EQ(rtc_ice_agent_state(a), RTC_ICE_CONNECTED);
    while (rtc_ice_agent_poll_transmit(a, &tx)) rtc_buf_unref(tx.buf);
    /* Data and consent for the selected pair go on the connection. */
    ASSERT_OK(rtc_ice_agent_send(a, (const uint8_t *)"x", 1, RTC_MS(130)));
    ASSERT(rtc_ice_agent_poll_transmit(a, &tx));
    ASSERT_EQ(tx.proto, RTC_PROTO_TCP);
    ASSERT(rtc_addr_eq(&tx.remote, &peer_conn));
    rtc_buf_unref(tx.buf);
    rtc_ice_agent_handle_timeout(a, RTC_SEC(7));
    int consent_tcp = 0;
    while (rtc_ice_agent_poll_transmit(a, &tx)) {
        rtc_stun_msg m;
        if (rtc_stun_parse(tx.buf->data, tx.buf->len, &m) == 0 && m.cls == RTC_STUN_REQUEST && rtc_addr_eq(&tx.remote, &peer_conn))
            consent_tcp += tx.proto == RTC_PROTO_TCP;
        rtc_buf_unref(tx.buf);
    }
    ASSERT_GE(consent_tcp, 1);
    while (rtc_ice_agent_poll_event(a, &ev)) {}
    rtc_ice_agent_free(a);
}

/* A check arriving on UDP from the same address makes a UDP candidate, not the TCP one. */
static void test_udp_check_not_tcp(void)
{
    rtc_ice_config cfg = { .controlling = false, .tie_breaker = 7, .rng = &rng,
                           .local_ufrag = RTC_STR("ours"), .local_pwd = RTC_STR(PWD) };
    rtc_ice_agent *a = NULL;
    ASSERT_OK(rtc_ice_agent_new(&a, &cfg, 0));
    rtc_addr base, peer;
    rtc_addr_parse(&base, "10.0.0.1:5000");
    rtc_addr_parse(&peer, "10.0.0.2:54321");
    ASSERT_OK(rtc_ice_agent_add_tcp_host_candidate(a, &base, 65535, RTC_ICE_TCP_PASSIVE, NULL, 0));
    ASSERT_OK(rtc_ice_agent_set_remote_credentials(a, RTC_STR("peer"), RTC_STR(PEER_PWD), 0));
    uint8_t msg[512], tid[12] = { 9 };
    size_t n = build_check(msg, sizeof msg, tid, false);
    /* No UDP candidate of ours: nothing answers it, and no pair is made. */
    rtc_ice_agent_handle_packet(a, &base, &peer, msg, n, RTC_PROTO_UDP, RTC_MS(1));
    ASSERT_EQ(pairs_of(a), 0);
    rtc_transmit tx;
    while (rtc_ice_agent_poll_transmit(a, &tx)) { ASSERT_NE(tx.proto, RTC_PROTO_TCP); rtc_buf_unref(tx.buf); }
    rtc_ice_event ev;
    while (rtc_ice_agent_poll_event(a, &ev)) {}
    rtc_ice_agent_free(a);
}

/* A lite server (the SFU case): the nominating check on the connection selects the TCP
 * pair at once, and the answer goes back on it. */
static void test_lite_over_tcp(void)
{
    rtc_ice_config cfg = { .lite = true, .tie_breaker = 7, .rng = &rng,
                           .local_ufrag = RTC_STR("ours"), .local_pwd = RTC_STR(PWD) };
    rtc_ice_agent *a = NULL;
    ASSERT_OK(rtc_ice_agent_new(&a, &cfg, 0));
    rtc_addr base, udp_base, peer;
    rtc_addr_parse(&base, "10.0.0.1:443");
    rtc_addr_parse(&udp_base, "10.0.0.1:5000");
    rtc_addr_parse(&peer, "10.0.0.2:50000");
    ASSERT_OK(rtc_ice_agent_add_host_candidate(a, &udp_base, 65535, NULL, 0));
    ASSERT_OK(rtc_ice_agent_add_tcp_host_candidate(a, &base, 65535, RTC_ICE_TCP_PASSIVE, NULL, 0));
    ASSERT_OK(rtc_ice_agent_set_remote_credentials(a, RTC_STR("peer"), RTC_STR(PEER_PWD), 0));
    uint8_t msg[512], tid[12] = { 5 };
    size_t n = build_check(msg, sizeof msg, tid, true);
    ASSERT_OK(rtc_ice_agent_handle_packet(a, &base, &peer, msg, n, RTC_PROTO_TCP, RTC_MS(1)));
    rtc_ice_pair_info pi;
    ASSERT_OK(rtc_ice_agent_selected_pair(a, &pi));
    ASSERT_EQ(pi.proto, RTC_PROTO_TCP);
    ASSERT(rtc_addr_eq(&pi.local, &base));
    rtc_transmit tx;
    int answers = 0;
    while (rtc_ice_agent_poll_transmit(a, &tx)) {
        ASSERT_EQ(tx.proto, RTC_PROTO_TCP);
        ASSERT(rtc_addr_eq(&tx.remote, &peer));
        answers++;
        rtc_buf_unref(tx.buf);
    }
    ASSERT_EQ(answers, 1);
    rtc_ice_event ev;
    while (rtc_ice_agent_poll_event(a, &ev)) {}
    rtc_ice_agent_free(a);
}

int main(void)
{
    rtc_rng_init_seed(&rng, 3);
    RUN(test_tcptype_grammar);
    RUN(test_priorities);
    RUN(test_pairing_and_connection);
    RUN(test_udp_check_not_tcp);
    RUN(test_lite_over_tcp);
    return 0;
}
