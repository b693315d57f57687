/* ICE agents in the topologies real deployments have, on the virtual network with our
 * own TURN server machine: two interfaces reaching one TURN server, STUN and TURN on one
 * host:port, single-port routing of TURN traffic, two ICE restarts in a row, a lite
 * agent whose peer goes silent, and a full agent whose peer never signals
 * end-of-candidates. */
#include "rtc_test.h"
#include "vnet.h"
#include "test_heap.h"
#include "core/rtc_errors.h"
#include "ice/ice_agent.h"
#include "stun/stun.h"
#include "turn/turn_client.h"
#include "turn/turn_server.h"
#include <stdio.h>

#define MAXP 4
#define MAXB 4
#define MAXR 16
#define PWD "0123456789abcdefghijklmn"

typedef struct peer {
    rtc_ice_agent *a;
    rtc_addr base[MAXB];
    int nbase;
    struct peer *other;
    bool trickle, send_eoc;
    rtc_ice_state state;
    int nstate[8];
    rtc_time state_at[8];
    int selected, relay_cands, srflx_cands, turn_failed, gathering_done;
    rtc_time gathering_done_at;
    uint64_t data_rx;
    rtc_time last_data_rx;
} peer;

typedef struct world {
    vnet *net;
    rtc_time now;
    peer *p[MAXP];
    int np;
    rtc_turn_server *srv;          /* NULL: no TURN server */
    rtc_addr srv_addr;
    struct { uint32_t id; rtc_addr addr; } relay[MAXR];
    int nrelay;
    struct peer *measure;          /* heap growth of each packet from the TURN server into it */
    size_t max_growth;
    int measured;
} world;

static rtc_rng rng;

static peer *mk_peer(world *w, bool controlling, bool lite, uint64_t tb, const char *ufrag)
{
    peer *p = calloc(1, sizeof *p);
    rtc_ice_config cfg = { .controlling = controlling, .lite = lite, .tie_breaker = tb, .rng = &rng,
                           .local_ufrag = rtc_str_c(ufrag), .local_pwd = RTC_STR(PWD) };
    ASSERT_EQ(rtc_ice_agent_new(&p->a, &cfg, w->now), 0);
    p->trickle = p->send_eoc = true;
    w->p[w->np++] = p;
    return p;
}

static const rtc_addr *add_base(world *w, peer *p, const char *addr)
{
    ASSERT(p->nbase < MAXB);
    ASSERT_EQ(rtc_addr_parse(&p->base[p->nbase], addr), 0);
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(p->a, &p->base[p->nbase], (uint16_t)(65535 - p->nbase * 256), NULL, w->now), 0);
    return &p->base[p->nbase++];
}

static void set_creds(world *w, peer *x, const char *their_ufrag)
{
    ASSERT_EQ(rtc_ice_agent_set_remote_credentials(x->a, rtc_str_c(their_ufrag), RTC_STR(PWD), w->now), 0);
}

static void drain(world *w, peer *p)
{
    rtc_transmit t;
    rtc_ice_event e;
    bool more = true;
    while (more) {
        more = false;
        while (rtc_ice_agent_poll_transmit(p->a, &t)) {
            more = true;
            ASSERT(rtc_addr_family(&t.local));
            ASSERT_EQ(t.proto, RTC_PROTO_UDP);
            vnet_send(w->net, &t.local, &t.remote, t.buf->data, t.buf->len, w->now);
            rtc_buf_unref(t.buf);
        }
        while (rtc_ice_agent_poll_event(p->a, &e)) {
            more = true;
            switch (e.type) {
            case RTC_ICE_EV_STATE:
                p->state = e.u.state;
                p->nstate[e.u.state]++;
                p->state_at[e.u.state] = w->now;
                break;
            case RTC_ICE_EV_SELECTED_PAIR: p->selected++; break;
            case RTC_ICE_EV_LOCAL_CANDIDATE:
                if (e.u.cand.type == RTC_ICE_RELAY) p->relay_cands++;
                if (e.u.cand.type == RTC_ICE_SRFLX) p->srflx_cands++;
                if (p->other && p->trickle) {
                    int r = rtc_ice_agent_add_remote_candidate(p->other->a, &e.u.cand, w->now);
                    ASSERT(r == 0 || r == RTC_EEXISTS);
                }
                break;
            case RTC_ICE_EV_GATHERING_DONE:
                p->gathering_done++;
                p->gathering_done_at = w->now;
                if (p->other && p->trickle && p->send_eoc) rtc_ice_agent_end_of_candidates(p->other->a, w->now);
                break;
            case RTC_ICE_EV_TURN_FAILED: p->turn_failed++; break;
            case RTC_ICE_EV_DATA: rtc_buf_unref(e.u.data.buf); break;
            default: break;
            }
        }
    }
}

static void drain_server(world *w)
{
    if (!w->srv) return;
    rtc_transmit t;
    rtc_turn_srv_event e;
    uint32_t rid;
    bool more = true;
    while (more) {
        more = false;
        while (rtc_turn_server_poll_transmit2(w->srv, &t, &rid)) {
            more = true;
            vnet_send(w->net, &t.local, &t.remote, t.buf->data, t.buf->len, w->now);
            rtc_buf_unref(t.buf);
        }
        while (rtc_turn_server_poll_event(w->srv, &e)) {
            more = true;
            if (e.type == RTC_TURN_SRV_EV_RELAY_OPEN) {
                ASSERT(w->nrelay < MAXR);
                w->relay[w->nrelay].id = e.relay_id;
                w->relay[w->nrelay].addr = e.addr;
                w->nrelay++;
                ASSERT_EQ(rtc_turn_server_relay_bound(w->srv, e.relay_id, 0, &e.addr, w->now), 0);
            }
        }
    }
}

static void deliver(world *w, const vnet_packet *pk)
{
    if (w->srv && rtc_addr_eq(&pk->to, &w->srv_addr)) {
        rtc_turn_server_handle_packet(w->srv, &pk->to, &pk->from, RTC_PROTO_UDP, pk->data, pk->len, w->now);
        drain_server(w);
        return;
    }
    for (int i = 0; i < w->nrelay; i++) {
        if (!rtc_addr_eq(&pk->to, &w->relay[i].addr)) continue;
        rtc_turn_server_handle_relay(w->srv, w->relay[i].id, &pk->from, pk->data, pk->len, w->now);
        drain_server(w);
        return;
    }
    for (int i = 0; i < w->np; i++) {
        peer *p = w->p[i];
        for (int b = 0; b < p->nbase; b++) {
            if (!rtc_addr_eq(&p->base[b], &pk->to)) continue;
            if (pk->len == 8 && memcmp(pk->data, "app-data", 8) == 0) {
                p->data_rx++;
                p->last_data_rx = w->now;
            } else if (w->measure == p && rtc_addr_eq(&pk->from, &w->srv_addr)) {
                /* what the agent holds for one datagram until it is drained */
                size_t before = heap_in_use();
                rtc_ice_agent_handle_packet(p->a, &pk->to, &pk->from, pk->data, pk->len, RTC_PROTO_UDP, w->now);
                size_t after = heap_in_use();
                if (after > before && after - before > w->max_growth) w->max_growth = after - before;
                w->measured++;
            } else {
                rtc_ice_agent_handle_packet(p->a, &pk->to, &pk->from, pk->data, pk->len, RTC_PROTO_UDP, w->now);
            }
            drain(w, p);
            return;
        }
    }
}

static void run(world *w, rtc_time until)
{
    for (int i = 0; i < w->np; i++) drain(w, w->p[i]);
    drain_server(w);
    for (;;) {
        rtc_time next = vnet_next_delivery(w->net);
        for (int i = 0; i < w->np; i++) next = rtc_time_min(next, rtc_ice_agent_poll_timeout(w->p[i]->a));
        if (w->srv) next = rtc_time_min(next, rtc_turn_server_poll_timeout(w->srv));
        if (next > until) { w->now = until; return; }
        if (next > w->now) w->now = next;
        vnet_packet pk;
        while (vnet_poll(w->net, w->now, &pk)) deliver(w, &pk);
        for (int i = 0; i < w->np; i++) {
            if (rtc_ice_agent_poll_timeout(w->p[i]->a) <= w->now) {
                rtc_ice_agent_handle_timeout(w->p[i]->a, w->now);
                drain(w, w->p[i]);
            }
        }
        if (w->srv && rtc_turn_server_poll_timeout(w->srv) <= w->now) {
            rtc_turn_server_handle_timeout(w->srv, w->now);
            drain_server(w);
        }
    }
}

static void pump_data(world *w, peer *x, peer *y, rtc_time dur)
{
    rtc_time end = w->now + dur;
    while (w->now < end) {
        if (rtc_ice_agent_send(x->a, (const uint8_t *)"app-data", 8, w->now) == 0) drain(w, x);
        if (rtc_ice_agent_send(y->a, (const uint8_t *)"app-data", 8, w->now) == 0) drain(w, y);
        run(w, w->now + RTC_MS(20));
    }
}

static void start_server(world *w)
{
    rtc_turn_server_config sc = { .realm = RTC_STR("example.org"), .rng = &rng, .min_port = 50000, .max_port = 50100,
                                  .allow_private = true };
    ASSERT_OK(rtc_addr_parse(&w->srv_addr, "192.0.2.100:3478"));
    ASSERT_OK(rtc_addr_parse(&sc.relay_v4, "192.0.2.100:0"));
    ASSERT_EQ(rtc_turn_server_new(&w->srv, &sc, w->now), 0);
    ASSERT_EQ(rtc_turn_server_add_user(w->srv, RTC_STR("user"), RTC_STR("pass")), 0);
    ASSERT_EQ(rtc_turn_server_add_own_address(w->srv, &w->srv_addr), 0);
}

static void add_turn(world *w, peer *p, const rtc_addr *base)
{
    ASSERT_EQ(rtc_ice_agent_add_turn_server(p->a, base, &w->srv_addr, RTC_TURN_UDP, RTC_STR("user"), RTC_STR("pass"), w->now), 0);
}

static void world_free(world *w)
{
    for (int i = 0; i < w->np; i++) { rtc_ice_agent_free(w->p[i]->a); free(w->p[i]); }
    rtc_turn_server_free(w->srv);
    vnet_free(w->net);
}

/* A controlling agent x behind a NAT (10.0.0.1 seen as 203.0.113.1) with one base,
 * returned in *b. */
static peer *natted_peer(world *w, const rtc_addr **b)
{
    rtc_addr in_ip, out_ip;
    ASSERT_OK(rtc_addr_parse(&in_ip, "10.0.0.1:0"));
    ASSERT_OK(rtc_addr_parse(&out_ip, "203.0.113.1:0"));
    vnet_add_nat(w->net, &in_ip, &out_ip);
    peer *x = mk_peer(w, true, false, 1, "xufr");
    *b = add_base(w, x, "10.0.0.1:1000");
    return x;
}

static world *connected_pair(world *w, peer **xo, peer **yo, bool y_lite)
{
    *w = (world){ .net = vnet_new(21) };
    vnet_set_link(w->net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x = mk_peer(w, !y_lite, false, 100, "xufr");
    peer *y = mk_peer(w, false, y_lite, 50, "yufr");
    x->other = y;
    y->other = x;
    set_creds(w, x, "yufr");
    set_creds(w, y, "xufr");
    add_base(w, x, "192.0.2.1:1000");
    add_base(w, y, "192.0.2.2:2000");
    run(w, RTC_SEC(2));
    ASSERT_EQ(x->selected, 1);
    ASSERT_EQ(y->selected, 1);
    ASSERT(x->state == RTC_ICE_CONNECTED || x->state == RTC_ICE_COMPLETED);
    *xo = x;
    *yo = y;
    return w;
}

/* A host with two interfaces, both reaching one TURN server: two allocations (the
 * server tells them apart by 5-tuple; the agent must too), gathering done at once. */
static void test_two_interfaces_one_turn_server(void)
{
    world w = { .net = vnet_new(1) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    start_server(&w);
    peer *x = mk_peer(&w, true, false, 1, "xufr");
    const rtc_addr *b1 = add_base(&w, x, "192.0.2.1:1000");
    const rtc_addr *b2 = add_base(&w, x, "198.51.100.1:1000");
    add_turn(&w, x, b1);
    add_turn(&w, x, b2);
    run(&w, RTC_SEC(5));
    ASSERT_EQ(x->turn_failed, 0);
    ASSERT_EQ(x->relay_cands, 2);
    ASSERT_EQ(x->gathering_done, 1);
    ASSERT(x->gathering_done_at < RTC_SEC(1));
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(w.srv, &st);
    ASSERT_EQ(st.allocations, 2);
    world_free(&w);
}

/* stun: and turn: naming one host:port (one server does both): the Binding response
 * belongs to the agent's gathering, not to the TURN client on the same 5-tuple. */
static void test_stun_and_turn_on_one_port(void)
{
    world w = { .net = vnet_new(2) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    start_server(&w);
    const rtc_addr *b;
    peer *x = natted_peer(&w, &b);
    ASSERT_EQ(rtc_ice_agent_add_stun_server(x->a, b, &w.srv_addr, w.now), 0);
    add_turn(&w, x, b);
    run(&w, RTC_SEC(12));
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(w.srv, &st);
    ASSERT_EQ(st.binding_requests, 1);               /* answered at the first try */
    ASSERT_EQ(x->turn_failed, 0);
    ASSERT_EQ(x->relay_cands, 1);
    ASSERT_EQ(x->srflx_cands, 1);
    ASSERT_EQ(x->gathering_done, 1);
    ASSERT(x->gathering_done_at < RTC_SEC(1));
    world_free(&w);
}

/* Single-port routing: TURN traffic is claimed only by the agent whose allocation uses
 * the socket it arrived on. */
static void test_accepts_turn_traffic_by_socket(void)
{
    world w = { .net = vnet_new(3) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    start_server(&w);
    peer *x = mk_peer(&w, false, false, 1, "xufr");
    peer *y = mk_peer(&w, false, false, 2, "yufr");
    rtc_addr shared;
    ASSERT_OK(rtc_addr_parse(&shared, "192.0.2.1:3478"));
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(x->a, &shared, 65535, NULL, 0), 0);
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(y->a, &shared, 65535, NULL, 0), 0);
    const rtc_addr *own = add_base(&w, x, "192.0.2.1:40000");  /* x's own socket for TURN */
    add_turn(&w, x, own);
    run(&w, RTC_SEC(2));
    ASSERT_EQ(x->relay_cands, 1);
    static const uint8_t chdata[8] = { 0x40, 0x00, 0x00, 0x04, 'a', 'b', 'c', 'd' };
    ASSERT(rtc_ice_agent_accepts(x->a, own, chdata, sizeof chdata, &w.srv_addr));
    ASSERT(!rtc_ice_agent_accepts(x->a, &shared, chdata, sizeof chdata, &w.srv_addr));
    ASSERT(!rtc_ice_agent_accepts(y->a, &shared, chdata, sizeof chdata, &w.srv_addr));
    ASSERT(!rtc_ice_agent_accepts(x->a, NULL, chdata, sizeof chdata, &w.srv_addr));
    world_free(&w);
}

static void restart_both(world *w, peer *x, peer *y, const char *xu, const char *yu)
{
    ASSERT_EQ(rtc_ice_agent_restart(x->a, rtc_str_c(xu), RTC_STR(PWD), w->now), 0);
    ASSERT_EQ(rtc_ice_agent_restart(y->a, rtc_str_c(yu), RTC_STR(PWD), w->now), 0);
    set_creds(w, x, yu);
    set_creds(w, y, xu);
}

/* Two restarts before a new pair is selected: consent on the old pair keeps using the
 * old pair's credentials, so the call lives on until the new candidates arrive. */
static void test_second_restart_keeps_consent(void)
{
    world w;
    peer *x, *y;
    connected_pair(&w, &x, &y, false);
    x->trickle = y->trickle = false;                 /* candidates of the new generations withheld */
    restart_both(&w, x, y, "xgen2", "ygen2");
    pump_data(&w, x, y, RTC_SEC(3));
    restart_both(&w, x, y, "xgen3", "ygen3");
    pump_data(&w, x, y, RTC_SEC(40));
    ASSERT_EQ(x->nstate[RTC_ICE_DISCONNECTED], 0);
    ASSERT_EQ(y->nstate[RTC_ICE_DISCONNECTED], 0);
    ASSERT_EQ(x->nstate[RTC_ICE_FAILED], 0);
    ASSERT(x->last_data_rx >= w.now - RTC_MS(100) && y->last_data_rx >= w.now - RTC_MS(100));
    rtc_ice_candidate c;
    for (int i = 0; rtc_ice_agent_local_candidate(x->a, i, &c) == 0; i++) rtc_ice_agent_add_remote_candidate(y->a, &c, w.now);
    for (int i = 0; rtc_ice_agent_local_candidate(y->a, i, &c) == 0; i++) rtc_ice_agent_add_remote_candidate(x->a, &c, w.now);
    pump_data(&w, x, y, RTC_SEC(2));
    ASSERT_EQ(x->selected, 2);
    ASSERT_EQ(y->selected, 2);
    run(&w, w.now + RTC_SEC(40));                    /* consent with generation 3 now */
    ASSERT(x->state == RTC_ICE_CONNECTED || x->state == RTC_ICE_COMPLETED);
    ASSERT(y->state == RTC_ICE_CONNECTED || y->state == RTC_ICE_COMPLETED);
    world_free(&w);
}

/* A lite agent sends no consent requests; when the full peer's checks stop it still
 * goes disconnected, then failed, on the consent timeouts, and comes back if they
 * resume before that. */
static void test_lite_notices_silent_peer(void)
{
    world w;
    peer *x, *y;
    connected_pair(&w, &x, &y, true);
    run(&w, w.now + RTC_SEC(20));
    ASSERT_EQ(y->nstate[RTC_ICE_DISCONNECTED], 0);   /* consent checks keep it fresh */
    rtc_time cut = w.now;
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10), .loss = 1.0 });
    run(&w, cut + RTC_SEC(10));
    ASSERT_EQ(y->state, RTC_ICE_DISCONNECTED);
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    run(&w, w.now + RTC_SEC(8));
    ASSERT(y->state == RTC_ICE_CONNECTED || y->state == RTC_ICE_COMPLETED);
    cut = w.now;
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10), .loss = 1.0 });
    run(&w, cut + RTC_SEC(40));
    ASSERT_EQ(y->state, RTC_ICE_FAILED);
    ASSERT(y->state_at[RTC_ICE_FAILED] - cut <= RTC_SEC(31));
    ASSERT(y->state_at[RTC_ICE_DISCONNECTED] - cut <= RTC_SEC(9));
    world_free(&w);
}

/* The peer's candidates are unreachable and its end-of-candidates never comes (an
 * application that drops the null candidate): failed after failed_after of silence,
 * not checking forever; a candidate trickled before then still connects. */
static void test_failed_without_end_of_candidates(void)
{
    world w = { .net = vnet_new(5) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x = mk_peer(&w, true, false, 100, "xufr");
    add_base(&w, x, "192.0.2.1:1000");
    set_creds(&w, x, "yufr");
    rtc_ice_candidate c;
    const char *unreachable = "candidate:1 1 udp 2130706431 198.51.100.9 9 typ host";
    ASSERT_EQ(rtc_ice_candidate_parse(&c, unreachable, strlen(unreachable)), 0);
    ASSERT_EQ(rtc_ice_agent_add_remote_candidate(x->a, &c, w.now), 0);
    run(&w, RTC_SEC(60));
    ASSERT_EQ(x->state, RTC_ICE_FAILED);
    ASSERT(x->state_at[RTC_ICE_FAILED] <= RTC_SEC(31));
    ASSERT(x->state_at[RTC_ICE_FAILED] >= RTC_SEC(29));
    world_free(&w);

    /* The same, but the peer's real candidate comes late (20 s): connected, not failed. */
    w = (world){ .net = vnet_new(6) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    x = mk_peer(&w, true, false, 100, "xufr");
    peer *y = mk_peer(&w, false, false, 50, "yufr");
    y->other = x;
    y->trickle = false;
    add_base(&w, x, "192.0.2.1:1000");
    add_base(&w, y, "192.0.2.2:2000");
    set_creds(&w, x, "yufr");
    ASSERT_EQ(rtc_ice_agent_add_remote_candidate(x->a, &c, w.now), 0);
    run(&w, RTC_SEC(20));
    ASSERT_EQ(x->state, RTC_ICE_CHECKING);
    set_creds(&w, y, "xufr");
    ASSERT_EQ(rtc_ice_agent_local_candidate(y->a, 0, &c), 0);
    ASSERT_EQ(rtc_ice_agent_add_remote_candidate(x->a, &c, w.now), 0);
    run(&w, RTC_SEC(60));
    ASSERT_EQ(x->nstate[RTC_ICE_FAILED], 0);
    ASSERT(x->state == RTC_ICE_CONNECTED || x->state == RTC_ICE_COMPLETED);
    world_free(&w);
}

/* RFC 8445 14.3: a check's first retransmission waits Ta x (pairs Waiting or
 * In-Progress), not a fixed 250 ms, so a long checklist's retransmissions do not crowd
 * out its first checks. */
static void test_check_rto_scales_with_pairs(void)
{
    enum { NREMOTE = 24 };
    world w = { .net = vnet_new(7) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10), .loss = 1.0 });
    peer *x = mk_peer(&w, true, false, 100, "xufr");
    add_base(&w, x, "192.0.2.1:1000");
    set_creds(&w, x, "yufr");
    for (int i = 0; i < NREMOTE; i++) {
        char line[128];
        snprintf(line, sizeof line, "candidate:%d 1 udp %u 198.51.100.%d %d typ host", i, 2130706431u - (unsigned)i, i + 1, 9000 + i);
        rtc_ice_candidate c;
        ASSERT_EQ(rtc_ice_candidate_parse(&c, line, strlen(line)), 0);
        ASSERT_EQ(rtc_ice_agent_add_remote_candidate(x->a, &c, w.now), 0);
    }
    /* Drive by hand to see every transmit: when does the first check go out again? */
    rtc_addr first;
    ASSERT_OK(rtc_addr_parse(&first, "198.51.100.1:9000"));
    rtc_time sends[2] = { -1, -1 };
    int nsends = 0;
    for (rtc_time now = 0; now < RTC_SEC(3) && nsends < 2; now = rtc_ice_agent_poll_timeout(x->a)) {
        rtc_ice_agent_handle_timeout(x->a, now);
        rtc_transmit t;
        while (rtc_ice_agent_poll_transmit(x->a, &t)) {
            if (rtc_addr_eq(&t.remote, &first) && nsends < 2) sends[nsends++] = now;
            rtc_buf_unref(t.buf);
        }
        rtc_ice_event e;
        while (rtc_ice_agent_poll_event(x->a, &e)) {}
    }
    ASSERT_EQ(nsends, 2);
    /* At the first check all 24 pairs are Waiting or In-Progress: 24 x 50 ms. */
    ASSERT_GE(sends[1] - sends[0], RTC_MS(1200));
    world_free(&w);
}

/* The driver's TCP connection to a TURN server failed: the allocation fails at once
 * and gathering ends, instead of waiting out the Allocate's 39.5 s. */
static void test_turn_tcp_failure_reported(void)
{
    world w = { .net = vnet_new(8) };
    peer *x = mk_peer(&w, true, false, 1, "xufr");
    const rtc_addr *b = add_base(&w, x, "192.0.2.1:1000");
    rtc_addr srv;
    ASSERT_OK(rtc_addr_parse(&srv, "192.0.2.100:3478"));
    ASSERT_EQ(rtc_ice_agent_add_turn_server(x->a, b, &srv, RTC_TURN_TCP, RTC_STR("user"), RTC_STR("pass"), 0), 0);
    /* Its Allocate goes out as stream bytes; the test's "driver" drops them. */
    rtc_transmit t;
    int tcp = 0;
    while (rtc_ice_agent_poll_transmit(x->a, &t)) { tcp += t.proto == RTC_PROTO_TCP_RAW; rtc_buf_unref(t.buf); }
    ASSERT_EQ(tcp, 1);
    run(&w, RTC_MS(100));
    ASSERT_EQ(x->gathering_done, 0);                 /* waiting for the allocation */
    ASSERT_EQ(rtc_ice_agent_turn_transport_failed(x->a, b, &srv, RTC_TURN_UDP, RTC_EIO, NULL, w.now), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_ice_agent_turn_transport_failed(x->a, b, &srv, RTC_TURN_TCP, RTC_EIO, NULL, w.now), 0);
    run(&w, w.now + RTC_MS(1));
    ASSERT_EQ(x->turn_failed, 1);
    ASSERT_EQ(x->gathering_done, 1);
    ASSERT_EQ(x->relay_cands, 0);
    ASSERT_EQ(rtc_ice_agent_turn_transport_failed(x->a, b, &srv, RTC_TURN_TCP, RTC_EIO, NULL, w.now), 0);   /* once */
    run(&w, w.now + RTC_MS(1));
    ASSERT_EQ(x->turn_failed, 1);
    world_free(&w);
}

/* A server name with several addresses: the first does not answer, so after its
 * Binding request / Allocate times out the agent tries the next one, in order. */
static void test_server_addresses_in_order(void)
{
    world w = { .net = vnet_new(2) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    start_server(&w);
    const rtc_addr *b;
    peer *x = natted_peer(&w, &b);
    rtc_addr addrs[3];
    ASSERT_OK(rtc_addr_parse(&addrs[0], "192.0.2.98:3478"));      /* nobody there */
    addrs[1] = w.srv_addr;
    ASSERT_OK(rtc_addr_parse(&addrs[2], "192.0.2.99:3478"));      /* never needed */
    ASSERT_EQ(rtc_ice_agent_add_stun_servers(x->a, b, addrs, 3, w.now), 0);
    ASSERT_EQ(rtc_ice_agent_add_turn_servers(x->a, b, addrs, 3, RTC_TURN_UDP, RTC_STR("user"), RTC_STR("pass"), w.now), 0);
    run(&w, RTC_SEC(20));
    ASSERT_EQ(x->srflx_cands, 1);                    /* the Binding request timed out (9.5 s), then the server */
    ASSERT_EQ(x->relay_cands, 0);                    /* the Allocate is still waiting for 192.0.2.98 */
    run(&w, RTC_SEC(60));
    ASSERT_EQ(x->turn_failed, 0);
    ASSERT_EQ(x->relay_cands, 1);
    ASSERT_EQ(x->gathering_done, 1);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(w.srv, &st);
    ASSERT_EQ(st.allocations, 1);
    ASSERT_EQ(st.binding_requests, 1);
    /* Bad arguments: no address, too many, mixed families. */
    rtc_addr many[RTC_ICE_MAX_ALT + 1];
    for (int i = 0; i <= RTC_ICE_MAX_ALT; i++) many[i] = w.srv_addr;
    ASSERT_EQ(rtc_ice_agent_add_stun_servers(x->a, b, addrs, 0, w.now), RTC_EINVAL);
    ASSERT_EQ(rtc_ice_agent_add_stun_servers(x->a, b, many, RTC_ICE_MAX_ALT + 1, w.now), RTC_EINVAL);
    ASSERT_OK(rtc_addr_parse(&many[1], "[2001:db8::1]:3478"));
    ASSERT_EQ(rtc_ice_agent_add_turn_servers(x->a, b, many, 2, RTC_TURN_UDP, RTC_STR("u"), RTC_STR("p"), w.now), RTC_EINVAL);
    world_free(&w);
}

/* An answer ends the search, even an error: with a wrong password the first address's
 * 401 fails the allocation at once, the next address is never tried. Over TCP a
 * connection the driver reports failed moves on to the next address at once. */
static void test_server_addresses_answer_or_tcp_failure(void)
{
    world w = { .net = vnet_new(3) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    start_server(&w);
    peer *x = mk_peer(&w, true, false, 1, "xufr");
    const rtc_addr *b = add_base(&w, x, "192.0.2.1:1000");
    rtc_addr addrs[2] = { w.srv_addr };
    ASSERT_OK(rtc_addr_parse(&addrs[1], "192.0.2.99:3478"));
    ASSERT_EQ(rtc_ice_agent_add_turn_servers(x->a, b, addrs, 2, RTC_TURN_UDP, RTC_STR("user"), RTC_STR("wrong"), w.now), 0);
    run(&w, RTC_SEC(1));
    ASSERT_EQ(x->turn_failed, 1);
    run(&w, RTC_SEC(60));
    ASSERT_EQ(x->turn_failed, 1);
    ASSERT_EQ(x->relay_cands, 0);
    world_free(&w);

    w = (world){ .net = vnet_new(4) };
    x = mk_peer(&w, true, false, 1, "xufr");
    b = add_base(&w, x, "192.0.2.1:1000");
    rtc_addr tcp[2];
    ASSERT_OK(rtc_addr_parse(&tcp[0], "192.0.2.100:443"));
    ASSERT_OK(rtc_addr_parse(&tcp[1], "192.0.2.101:443"));
    ASSERT_EQ(rtc_ice_agent_add_turn_servers(x->a, b, tcp, 2, RTC_TURN_TCP, RTC_STR("user"), RTC_STR("pass"), 0), 0);
    rtc_transmit t;
    ASSERT(rtc_ice_agent_poll_transmit(x->a, &t));
    ASSERT(rtc_addr_eq(&t.remote, &tcp[0]) && t.proto == RTC_PROTO_TCP_RAW);
    rtc_buf_unref(t.buf);
    ASSERT_EQ(rtc_ice_agent_turn_transport_failed(x->a, b, &tcp[0], RTC_TURN_TCP, RTC_EIO, NULL, 0), 0);
    ASSERT(rtc_ice_agent_poll_transmit(x->a, &t));    /* the Allocate, to the next address */
    ASSERT(rtc_addr_eq(&t.remote, &tcp[1]) && t.proto == RTC_PROTO_TCP_RAW);
    rtc_buf_unref(t.buf);
    ASSERT(!rtc_ice_agent_poll_transmit(x->a, &t));
    rtc_ice_event e;
    while (rtc_ice_agent_poll_event(x->a, &e)) ASSERT(e.type != RTC_ICE_EV_TURN_FAILED);
    ASSERT_EQ(rtc_ice_agent_turn_transport_failed(x->a, b, &tcp[0], RTC_TURN_TCP, RTC_EIO, NULL, 0), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_ice_agent_turn_transport_failed(x->a, b, &tcp[1], RTC_TURN_TCP, RTC_EIO, NULL, 0), 0);
    int failed = 0;
    while (rtc_ice_agent_poll_event(x->a, &e)) failed += e.type == RTC_ICE_EV_TURN_FAILED;
    ASSERT_EQ(failed, 1);                            /* the last address: now it is reported */
    world_free(&w);
}

/* The answerer's (controlled) check goes first and succeeds before the controlling
 * peer has our credentials; when the peer's own check then arrives on that valid pair,
 * the controlled agent checks back once, so a controlling agent that nominates only on
 * its next tick or on a request after its own success can nominate at once. */
static void test_controlled_checks_back_on_valid_pair(void)
{
    world w = { .net = vnet_new(9) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(5) });
    peer *x = mk_peer(&w, true, false, 100, "xufr");     /* offerer, controlling */
    peer *y = mk_peer(&w, false, false, 50, "yufr");     /* answerer, controlled */
    x->trickle = y->trickle = false;
    add_base(&w, x, "192.0.2.1:1000");
    add_base(&w, y, "192.0.2.2:2000");
    /* y has the offer (x's credentials and candidate); x does not have the answer yet. */
    set_creds(&w, y, "xufr");
    rtc_ice_candidate c;
    ASSERT_EQ(rtc_ice_agent_local_candidate(x->a, 0, &c), 0);
    ASSERT_EQ(rtc_ice_agent_add_remote_candidate(y->a, &c, w.now), 0);
    run(&w, RTC_MS(100));
    rtc_ice_stats st;
    rtc_ice_agent_get_stats(y->a, &st);
    uint64_t y_checks = st.checks_sent;
    ASSERT_EQ(y_checks, 1);                               /* answered by x: valid for y */
    /* The answer reaches x. */
    set_creds(&w, x, "yufr");
    ASSERT_EQ(rtc_ice_agent_local_candidate(y->a, 0, &c), 0);
    int r = rtc_ice_agent_add_remote_candidate(x->a, &c, w.now);  /* replaces the prflx learnt from y's check */
    ASSERT(r == 0 || r == RTC_EEXISTS);
    run(&w, w.now + RTC_SEC(2));
    rtc_ice_agent_get_stats(y->a, &st);
    ASSERT_EQ(st.checks_sent, y_checks + 1);              /* one check back, no more */
    ASSERT_EQ(x->selected, 1);
    ASSERT_EQ(y->selected, 1);
    world_free(&w);
}

/* A datagram relayed through our TURN client costs its own buffer and nothing else:
 * no event or transmit ring is allocated for it (the event ring, 16 events of 920
 * bytes, used to be allocated for each relayed datagram and freed when drained). */
static void test_relayed_datagram_memory(void)
{
    world w = { .net = vnet_new(8) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    start_server(&w);
    peer *x = calloc(1, sizeof *x);
    rtc_ice_config cfg = { .controlling = true, .tie_breaker = 100, .rng = &rng, .relay_only = true,
                           .local_ufrag = RTC_STR("xufr"), .local_pwd = RTC_STR(PWD) };
    ASSERT_EQ(rtc_ice_agent_new(&x->a, &cfg, w.now), 0);
    x->trickle = x->send_eoc = true;
    w.p[w.np++] = x;
    peer *y = mk_peer(&w, false, false, 50, "yufr");
    x->other = y;
    y->other = x;
    set_creds(&w, x, "yufr");
    set_creds(&w, y, "xufr");
    const rtc_addr *xb = add_base(&w, x, "192.0.2.1:1000");
    add_base(&w, y, "192.0.2.2:2000");
    add_turn(&w, x, xb);
    run(&w, RTC_SEC(3));
    ASSERT_EQ(x->selected, 1);
    ASSERT(x->state == RTC_ICE_CONNECTED || x->state == RTC_ICE_COMPLETED);
    rtc_ice_pair_info pi;
    ASSERT_OK(rtc_ice_agent_selected_pair(x->a, &pi));
    ASSERT(pi.relayed);
    pump_data(&w, x, y, RTC_SEC(1));                  /* warm up: permissions, channel */
    w.measure = x;
    size_t out_max = 0;
    for (int i = 0; i < 200; i++) {
        size_t before = heap_in_use();
        ASSERT_OK(rtc_ice_agent_send(x->a, (const uint8_t *)"app-data", 8, w.now));
        size_t after = heap_in_use();
        if (after > before && after - before > out_max) out_max = after - before;
        drain(&w, x);
        ASSERT_OK(rtc_ice_agent_send(y->a, (const uint8_t *)"app-data", 8, w.now));
        drain(&w, y);
        run(&w, w.now + RTC_MS(20));
    }
    fprintf(stderr, "relayed datagram: %zu bytes held in, %zu out (%d measured)\n", w.max_growth, out_max, w.measured);
    ASSERT_GE(w.measured, 150);
    ASSERT_LE(w.max_growth, 1024);                    /* the data's buffer */
    ASSERT_LE(out_max, 1024);                         /* the ChannelData's buffer */
    ASSERT_GE(x->data_rx + y->data_rx, 150);
    world_free(&w);
}

/* The peer restarts ICE as a controlling libwebrtc does: it gathers a new port at once
 * and pairs it with the candidates it has, ours of the generation before, so that port
 * checks our old ufrag with its own new one (or, when the peer has not restarted, with
 * its old one from a port not on the selected pair). `z` plays that port: a controlling
 * agent of its own with our old credentials. `y` (controlled, us) has or has not
 * applied the peer's restart yet. The check must not succeed: z would nominate the
 * pair and the peer move its traffic there, while y has no such pair, drops what
 * arrives from z and keeps sending on the old pair. The old pair carries data until
 * the new generation selects a pair. */
static void stale_generation_check(const char *z_ufrag, bool y_restarted)
{
    world w;
    peer *x, *y;
    connected_pair(&w, &x, &y, false);
    x->trickle = y->trickle = false;
    if (y_restarted) {                               /* the offer applied, our answer on its way */
        ASSERT_EQ(rtc_ice_agent_restart(y->a, RTC_STR("ygen2"), RTC_STR(PWD), w.now), 0);
        set_creds(&w, y, "xgen2");
    }
    peer *z = mk_peer(&w, true, false, 100, z_ufrag);
    const rtc_addr *zb = add_base(&w, z, "192.0.2.1:1001");
    set_creds(&w, z, "yufr");
    rtc_ice_candidate c;
    ASSERT_EQ(rtc_ice_agent_local_candidate(y->a, 0, &c), 0);
    ASSERT_EQ(rtc_ice_agent_add_remote_candidate(z->a, &c, w.now), 0);
    rtc_ice_stats before;
    rtc_ice_agent_get_stats(y->a, &before);
    pump_data(&w, x, y, RTC_SEC(3));
    ASSERT_EQ(z->selected, 0);
    ASSERT(!rtc_ice_agent_validated(y->a, zb));
    rtc_ice_stats st;
    rtc_ice_agent_get_stats(y->a, &st);
    ASSERT(st.dropped > before.dropped);             /* z's checks went unanswered */
    ASSERT(x->last_data_rx >= w.now - RTC_MS(100) && y->last_data_rx >= w.now - RTC_MS(100));
    ASSERT_EQ(y->nstate[RTC_ICE_DISCONNECTED], 0);
    if (y_restarted) {
        /* Our answer reaches the peer: its new port checks the new generation. */
        ASSERT_EQ(rtc_ice_agent_restart(z->a, RTC_STR("xgen2"), RTC_STR(PWD), w.now), 0);
        set_creds(&w, z, "ygen2");
        ASSERT_EQ(rtc_ice_agent_local_candidate(y->a, 0, &c), 0);
        ASSERT_EQ(rtc_ice_agent_add_remote_candidate(z->a, &c, w.now), 0);
        run(&w, w.now + RTC_SEC(2));
        ASSERT_EQ(z->selected, 1);
        ASSERT_EQ(y->selected, 2);
        rtc_ice_pair_info info;
        ASSERT_EQ(rtc_ice_agent_selected_pair(y->a, &info), 0);
        ASSERT(rtc_addr_eq(&info.remote, zb));
    }
    world_free(&w);
}

/* Our answer is applied (we restarted), the peer does not have it yet. */
static void test_stale_generation_check_after_restart(void) { stale_generation_check("xgen2", true); }
/* The peer's new port checks before its offer reaches us: our current ufrag, its new one. */
static void test_stale_generation_check_before_offer(void) { stale_generation_check("xgen2", false); }
/* We restarted, the peer checks the old generation from a port not on the selected pair. */
static void test_old_generation_only_on_selected_pair(void) { stale_generation_check("xufr", true); }

int main(void)
{
    rtc_rng_init_seed(&rng, 1);
    RUN(test_two_interfaces_one_turn_server);
    RUN(test_relayed_datagram_memory);
    RUN(test_server_addresses_in_order);
    RUN(test_server_addresses_answer_or_tcp_failure);
    RUN(test_stun_and_turn_on_one_port);
    RUN(test_accepts_turn_traffic_by_socket);
    RUN(test_second_restart_keeps_consent);
    RUN(test_lite_notices_silent_peer);
    RUN(test_failed_without_end_of_candidates);
    RUN(test_check_rto_scales_with_pairs);
    RUN(test_turn_tcp_failure_reported);
    RUN(test_controlled_checks_back_on_valid_pair);
    RUN(test_stale_generation_check_after_restart);
    RUN(test_stale_generation_check_before_offer);
    RUN(test_old_generation_only_on_selected_pair);
    return 0;
}
