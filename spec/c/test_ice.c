/* ICE agent on the virtual network: connect, loss/jitter, NAT (srflx + prflx), role
 * conflict, restart with data flowing, consent loss and recovery, lite, trickle,
 * unresolved mDNS candidates, and 100 agents behind one address (single-port mode). */
#include "rtc_test.h"
#include "vnet.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "ice/ice_agent.h"
#include "stun/stun.h"
#include <stdio.h>

#define MAXP 220

typedef struct peer {
    rtc_ice_agent *a;
    rtc_addr addr;
    struct peer *other;          /* signalling partner */
    bool trickle;                /* forward local candidates to the other side as they come */
    bool hide_host;              /* signal host candidates as an unresolvable .local name */
    int nstate[8];
    rtc_ice_state state;
    int selected, prflx, roles, gathered_srflx, gathering_done, local_cands;
    rtc_ice_pair_info sel;
    rtc_time selected_at, state_at[8];
    uint64_t data_rx;            /* application datagrams that arrived at this peer */
    rtc_time last_data_rx;
} peer;

typedef struct world {
    vnet *net;
    rtc_time now;
    peer *p[MAXP];
    int np;
    rtc_addr stun_server;        /* a tiny STUN server machine, if set */
    bool has_stun;
    uint64_t stun_answered;
    bool single_port;            /* many agents share one address: route by accepts() */
    struct peer *deaf;           /* STUN responses to this peer are dropped */
} world;

static rtc_rng rng;

static rtc_ice_agent *mk_agent(bool controlling, bool lite, uint64_t tb, const char *ufrag)
{
    rtc_ice_config cfg = {
        .controlling = controlling, .lite = lite, .tie_breaker = tb, .rng = &rng,
        .local_ufrag = rtc_str_c(ufrag), .local_pwd = RTC_STR("0123456789abcdefghijklmn"),
    };
    rtc_ice_agent *a = NULL;
    ASSERT_EQ(rtc_ice_agent_new(&a, &cfg, 0), 0);
    return a;
}

static peer *mk_peer(world *w, const char *addr, bool controlling, bool lite, uint64_t tb, const char *ufrag)
{
    peer *p = calloc(1, sizeof *p);
    p->a = mk_agent(controlling, lite, tb, ufrag);
    ASSERT_EQ(rtc_addr_parse(&p->addr, addr), 0);
    p->trickle = true;
    w->p[w->np++] = p;
    return p;
}

static void set_creds(peer *x, const char *their_ufrag, rtc_time now)
{
    ASSERT_EQ(rtc_ice_agent_set_remote_credentials(x->a, rtc_str_c(their_ufrag),
                                                   RTC_STR("0123456789abcdefghijklmn"), now), 0);
}

static void signal_candidate(peer *from, const rtc_ice_candidate *c, rtc_time now)
{
    if (!from->other || !from->trickle) return;
    char line[512];
    rtc_ice_candidate copy = *c;
    if (from->hide_host && c->type == RTC_ICE_HOST) {
        snprintf(copy.hostname, sizeof copy.hostname, "9b1f3a52-0c4e-4f4e-8d2e-6a1b%08x.local", (unsigned)rtc_addr_port(&c->addr));
        memset(&copy.addr, 0, sizeof copy.addr);
    }
    /* Through the SDP grammar, as a real signalling channel would carry it. */
    ASSERT(rtc_ice_candidate_format(&copy, line, sizeof line) > 0);
    rtc_ice_candidate parsed;
    ASSERT_EQ(rtc_ice_candidate_parse(&parsed, line, strlen(line)), 0);
    int r = rtc_ice_agent_add_remote_candidate(from->other->a, &parsed, now);
    ASSERT(r == 0 || r == RTC_EEXISTS);
}

static bool is_private10(const rtc_addr *a)
{
    size_t n;
    const uint8_t *b = rtc_addr_bytes(a, &n);
    return n == 4 && b[0] == 10;
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
            /* 10/8 sits behind NATs in these tests: unreachable from outside. */
            if (!(is_private10(&t.remote) && !is_private10(&t.local)))
                vnet_send(w->net, &t.local, &t.remote, t.buf->data, t.buf->len, w->now);
            rtc_buf_unref(t.buf);
        }
        while (rtc_ice_agent_poll_event(p->a, &e)) {
            more = true;
            switch (e.type) {
            case RTC_ICE_EV_STATE:
                p->nstate[e.u.state]++;
                p->state = e.u.state;
                p->state_at[e.u.state] = w->now;
                break;
            case RTC_ICE_EV_SELECTED_PAIR:
                p->selected++;
                p->sel = e.u.pair;
                p->selected_at = w->now;
                break;
            case RTC_ICE_EV_LOCAL_CANDIDATE:
                p->local_cands++;
                if (e.u.cand.type == RTC_ICE_SRFLX) p->gathered_srflx++;
                signal_candidate(p, &e.u.cand, w->now);
                break;
            case RTC_ICE_EV_GATHERING_DONE:
                p->gathering_done++;
                if (p->other && p->trickle) rtc_ice_agent_end_of_candidates(p->other->a, w->now);
                break;
            case RTC_ICE_EV_PEER_REFLEXIVE: p->prflx++; break;
            case RTC_ICE_EV_ROLE: p->roles++; break;
            case RTC_ICE_EV_DATA: rtc_buf_unref(e.u.data.buf); break;
            case RTC_ICE_EV_TURN_FAILED: break;
            }
        }
    }
}

/* A minimal STUN server: answers Binding requests with the source address. */
static void stun_server_answer(world *w, const vnet_packet *pk)
{
    rtc_stun_msg m;
    if (rtc_stun_parse(pk->data, pk->len, &m) < 0 || m.cls != RTC_STUN_REQUEST) return;
    uint8_t buf[128];
    rtc_stun_writer wr;
    rtc_stun_writer_init(&wr, buf, sizeof buf, RTC_STUN_BINDING, RTC_STUN_SUCCESS, m.tid);
    rtc_stun_put_addr(&wr, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &pk->from);
    rtc_stun_put_fingerprint(&wr);
    int n = rtc_stun_finish(&wr);
    ASSERT(n > 0);
    w->stun_answered++;
    vnet_send(w->net, &pk->to, &pk->from, buf, (size_t)n, w->now);
}

static void deliver(world *w, const vnet_packet *pk)
{
    if (w->has_stun && rtc_addr_eq(&pk->to, &w->stun_server)) { stun_server_answer(w, pk); return; }
    for (int i = 0; i < w->np; i++) {
        peer *p = w->p[i];
        if (!rtc_addr_eq(&p->addr, &pk->to)) continue;
        if (w->single_port && !rtc_ice_agent_accepts(p->a, &pk->to, pk->data, pk->len, &pk->from)) continue;
        if (rtc_stun_is_stun(pk->data, pk->len)) {
            rtc_stun_msg m;
            if (w->deaf == p && rtc_stun_parse(pk->data, pk->len, &m) == 0 && m.cls != RTC_STUN_REQUEST) return;
            rtc_ice_agent_handle_packet(p->a, &pk->to, &pk->from, pk->data, pk->len, RTC_PROTO_UDP, w->now);
        } else {
            ASSERT(pk->len == 8 && memcmp(pk->data, "app-data", 8) == 0);
            p->data_rx++;
            p->last_data_rx = w->now;
        }
        drain(w, p);
        return;
    }
}

/* Advance the virtual clock to `until`, always to the earliest deadline. */
static void run(world *w, rtc_time until)
{
    for (int i = 0; i < w->np; i++) drain(w, w->p[i]);
    for (;;) {
        rtc_time next = vnet_next_delivery(w->net);
        for (int i = 0; i < w->np; i++) next = rtc_time_min(next, rtc_ice_agent_poll_timeout(w->p[i]->a));
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
    }
}

/* Run until both are connected (or `limit`); returns the time it happened. */
static rtc_time run_until_connected(world *w, peer *x, peer *y, rtc_time limit)
{
    while (w->now < limit) {
        run(w, w->now + RTC_MS(10));
        if (x->selected && y->selected && x->state >= RTC_ICE_CONNECTED && y->state >= RTC_ICE_CONNECTED &&
            x->state <= RTC_ICE_COMPLETED && y->state <= RTC_ICE_COMPLETED)
            return w->now;
    }
    return -1;
}

static void world_free(world *w)
{
    for (int i = 0; i < w->np; i++) { rtc_ice_agent_free(w->p[i]->a); free(w->p[i]); }
    vnet_free(w->net);
}

static void pair_up(world *w, peer *x, peer *y, const char *xu, const char *yu)
{
    x->other = y;
    y->other = x;
    set_creds(x, yu, w->now);
    set_creds(y, xu, w->now);
}

static void add_host(world *w, peer *p)
{
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(p->a, &p->addr, 65535, NULL, w->now), 0);
    drain(w, p);
}

/* Both sides exchange data every 20 ms for `dur`. */
/* The usual two: x controlling at 192.0.2.1, y controlled at 192.0.2.2, each with the
 * other's credentials and its host candidate trickled. */
static void host_pair(world *w, peer **x, peer **y)
{
    *x = mk_peer(w, "192.0.2.1:1000", true, false, 100, "xufr");
    *y = mk_peer(w, "192.0.2.2:2000", false, false, 50, "yufr");
    pair_up(w, *x, *y, "xufr", "yufr");
    add_host(w, *x);
    add_host(w, *y);
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

/* Whom the agent vouches for (DTLS/SRTP are taken only from these addresses): a
 * check that passes integrity makes its sender `checked`; a valid pair makes its
 * remote `validated`; an address that never sent a check is neither. */
static void test_validated_and_checked_addresses(void)
{
    world w = { .net = vnet_new(9) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x = mk_peer(&w, "192.0.2.1:1000", true, false, 100, "xufr");
    peer *y = mk_peer(&w, "192.0.2.2:2000", false, false, 50, "yufr");
    rtc_addr stranger;
    ASSERT_OK(rtc_addr_parse(&stranger, "192.0.2.66:6666"));
    /* Only y knows the other side's credentials: its checks reach x, which answers
     * but cannot check back. */
    x->other = y;
    y->other = x;
    set_creds(y, "xufr", w.now);
    add_host(&w, x);
    add_host(&w, y);
    ASSERT(!rtc_ice_agent_checked(x->a, &y->addr) && !rtc_ice_agent_validated(x->a, &y->addr));
    run(&w, w.now + RTC_SEC(1));
    ASSERT(rtc_ice_agent_checked(x->a, &y->addr));
    ASSERT(!rtc_ice_agent_validated(x->a, &y->addr));
    ASSERT(rtc_ice_agent_validated(y->a, &x->addr));      /* y's check to x succeeded */
    ASSERT(!rtc_ice_agent_checked(x->a, &stranger) && !rtc_ice_agent_validated(x->a, &stranger));
    set_creds(x, "yufr", w.now);
    run_until_connected(&w, x, y, RTC_SEC(5));
    ASSERT(rtc_ice_agent_validated(x->a, &y->addr) && rtc_ice_agent_validated(y->a, &x->addr));
    ASSERT(!rtc_ice_agent_validated(y->a, &stranger) && !rtc_ice_agent_checked(y->a, &stranger));
    world_free(&w);
}

static void test_basic_connect(void)
{
    world w = { .net = vnet_new(1) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x, *y;
    host_pair(&w, &x, &y);
    rtc_time t = run_until_connected(&w, x, y, RTC_SEC(5));
    if (t < 0 || t >= RTC_SEC(1)) fprintf(stderr, "t=%lld x %s/%d y %s/%d\n", (long long)t, rtc_ice_state_name(x->state), x->selected, rtc_ice_state_name(y->state), y->selected);
    ASSERT(t > 0 && t < RTC_SEC(1));
    ASSERT_EQ(x->selected, 1);
    ASSERT_EQ(y->selected, 1);
    ASSERT(rtc_addr_eq(&x->sel.remote, &y->addr));
    ASSERT(rtc_addr_eq(&y->sel.remote, &x->addr));
    ASSERT_EQ(x->sel.local_type, RTC_ICE_HOST);
    ASSERT(!x->sel.relayed);
    ASSERT(rtc_ice_agent_controlling(x->a) && !rtc_ice_agent_controlling(y->a));
    run(&w, w.now + RTC_SEC(1));
    ASSERT_EQ(x->state, RTC_ICE_COMPLETED);            /* end-of-candidates was signalled */
    ASSERT_EQ(y->state, RTC_ICE_COMPLETED);
    pump_data(&w, x, y, RTC_SEC(1));
    ASSERT(x->data_rx >= 45 && y->data_rx >= 45);
    /* Consent keeps it alive for a minute without any data. */
    run(&w, w.now + RTC_SEC(60));
    ASSERT_EQ(x->state, RTC_ICE_COMPLETED);
    ASSERT_EQ(x->nstate[RTC_ICE_DISCONNECTED], 0);
    ASSERT_EQ(y->nstate[RTC_ICE_DISCONNECTED], 0);
    rtc_ice_stats st;
    rtc_ice_agent_get_stats(x->a, &st);
    ASSERT(st.checks_sent >= 1 && st.responses_received >= 12);   /* consent every ~5 s */
    world_free(&w);
}

static void test_loss_and_jitter(void)
{
    static const double losses[] = { 0.1, 0.2, 0.3 };
    for (int k = 0; k < 3; k++) {
        for (uint64_t seed = 1; seed <= 4; seed++) {
            rtc_rng_init_seed(&rng, seed * 7 + (uint64_t)k);
            world w = { .net = vnet_new(seed * 31 + (uint64_t)k) };
            vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(20), .jitter = RTC_MS(40), .loss = losses[k] });
            peer *x = mk_peer(&w, "192.0.2.1:1000", true, false, 100, "xufr");
            peer *y = mk_peer(&w, "192.0.2.2:2000", false, false, 50, "yufr");
            rtc_addr x2, y2;
            rtc_addr_parse(&x2, "198.51.100.1:1001");
            rtc_addr_parse(&y2, "198.51.100.2:2001");
            pair_up(&w, x, y, "xufr", "yufr");
            add_host(&w, x);
            add_host(&w, y);
            /* A second interface each, unreachable: its pairs must fail without harm. */
            rtc_ice_agent_add_host_candidate(x->a, &x2, 100, NULL, 0);
            rtc_ice_agent_add_host_candidate(y->a, &y2, 100, NULL, 0);
            rtc_time t = run_until_connected(&w, x, y, RTC_SEC(20));
            if (t < 0) fprintf(stderr, "loss %.1f seed %d: x %s y %s\n", losses[k], (int)seed,
                               rtc_ice_state_name(x->state), rtc_ice_state_name(y->state));
            ASSERT(t > 0);
            ASSERT(rtc_addr_eq(&x->sel.remote, &y->addr));
            ASSERT(rtc_addr_eq(&y->sel.remote, &x->addr));
            world_free(&w);
        }
    }
    rtc_rng_init_seed(&rng, 1);
}

static void test_nat_srflx_prflx(void)
{
    world w = { .net = vnet_new(3), .has_stun = true };
    rtc_addr_parse(&w.stun_server, "192.0.2.100:3478");
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(15) });
    peer *x = mk_peer(&w, "10.0.0.1:1000", true, false, 100, "xufr");   /* behind a NAT */
    peer *y = mk_peer(&w, "192.0.2.2:2000", false, false, 50, "yufr");  /* public */
    rtc_addr in_ip, out_ip;
    rtc_addr_parse(&in_ip, "10.0.0.1:0");
    rtc_addr_parse(&out_ip, "203.0.113.1:0");
    vnet_add_nat(w.net, &in_ip, &out_ip);
    pair_up(&w, x, y, "xufr", "yufr");
    add_host(&w, x);
    ASSERT_EQ(rtc_ice_agent_add_stun_server(x->a, &x->addr, &w.stun_server, 0), 0);
    add_host(&w, y);
    rtc_time t = run_until_connected(&w, x, y, RTC_SEC(10));
    ASSERT(t > 0);
    ASSERT_EQ(x->gathered_srflx, 1);
    ASSERT(w.stun_answered >= 1);
    ASSERT_EQ(x->gathering_done, 1);
    /* y only knows x's unreachable host and its srflx; x's checks come from the NAT's
     * mapping, which y learns as a peer-reflexive candidate. */
    ASSERT(y->prflx >= 1 || y->sel.remote_type == RTC_ICE_SRFLX);
    ASSERT(rtc_addr_ip_eq(&y->sel.remote, &out_ip));
    ASSERT(rtc_addr_eq(&x->sel.remote, &y->addr));
    pump_data(&w, x, y, RTC_MS(500));
    ASSERT(x->data_rx >= 20 && y->data_rx >= 20);
    world_free(&w);
}

static void test_role_conflict(void)
{
    world w = { .net = vnet_new(4) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x = mk_peer(&w, "192.0.2.1:1000", true, false, 1000, "xufr");
    peer *y = mk_peer(&w, "192.0.2.2:2000", true, false, 5, "yufr");    /* both controlling */
    pair_up(&w, x, y, "xufr", "yufr");
    add_host(&w, x);
    add_host(&w, y);
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(10)) > 0);
    ASSERT(rtc_ice_agent_controlling(x->a));          /* larger tie-breaker keeps the role */
    ASSERT(!rtc_ice_agent_controlling(y->a));
    ASSERT_EQ(y->roles, 1);
    ASSERT_EQ(x->roles, 0);
    world_free(&w);

    /* Both controlled: the larger tie-breaker takes control. */
    w = (world){ .net = vnet_new(5) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    x = mk_peer(&w, "192.0.2.1:1000", false, false, 1000, "xufr");
    y = mk_peer(&w, "192.0.2.2:2000", false, false, 5, "yufr");
    pair_up(&w, x, y, "xufr", "yufr");
    add_host(&w, x);
    add_host(&w, y);
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(10)) > 0);
    ASSERT(rtc_ice_agent_controlling(x->a));
    ASSERT(!rtc_ice_agent_controlling(y->a));
    world_free(&w);
}

static void restart_side(world *w, peer *p, const char *ufrag)
{
    ASSERT_EQ(rtc_ice_agent_restart(p->a, rtc_str_c(ufrag), RTC_STR("0123456789abcdefghijklmn"), w->now), 0);
}

static void test_restart_keeps_data(void)
{
    world w = { .net = vnet_new(6) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10), .jitter = RTC_MS(5) });
    peer *x, *y;
    host_pair(&w, &x, &y);
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(5)) > 0);
    pump_data(&w, x, y, RTC_MS(500));

    /* Restart: new credentials both ways; candidates re-signalled only after a delay. */
    uint64_t xrx = x->data_rx, yrx = y->data_rx;
    restart_side(&w, x, "xnew");
    restart_side(&w, y, "ynew");
    set_creds(x, "ynew", w.now);
    set_creds(y, "xnew", w.now);
    /* Signalling is slow: 12 s pass before the new candidates arrive. Consent keeps
     * running on the old pair with the old credentials meanwhile. */
    pump_data(&w, x, y, RTC_SEC(12));
    ASSERT(x->data_rx > xrx + 500 && y->data_rx > yrx + 500);   /* the old pair still carries data */
    ASSERT(x->last_data_rx >= w.now - RTC_MS(100));
    ASSERT_EQ(x->nstate[RTC_ICE_DISCONNECTED], 0);
    ASSERT_EQ(y->nstate[RTC_ICE_DISCONNECTED], 0);
    ASSERT_EQ(x->selected, 1);
    rtc_ice_candidate c;
    for (int i = 0; rtc_ice_agent_local_candidate(x->a, i, &c) == 0; i++) rtc_ice_agent_add_remote_candidate(y->a, &c, w.now);
    for (int i = 0; rtc_ice_agent_local_candidate(y->a, i, &c) == 0; i++) rtc_ice_agent_add_remote_candidate(x->a, &c, w.now);
    drain(&w, x);
    drain(&w, y);
    pump_data(&w, x, y, RTC_SEC(2));
    ASSERT_EQ(x->selected, 2);                       /* a new pair was nominated */
    ASSERT_EQ(y->selected, 2);
    ASSERT(x->last_data_rx >= w.now - RTC_MS(100) && y->last_data_rx >= w.now - RTC_MS(100));
    ASSERT_EQ(x->nstate[RTC_ICE_DISCONNECTED], 0);
    ASSERT_EQ(x->nstate[RTC_ICE_FAILED], 0);
    /* Consent runs with the new credentials afterwards. */
    run(&w, w.now + RTC_SEC(40));
    ASSERT(x->state == RTC_ICE_CONNECTED || x->state == RTC_ICE_COMPLETED);
    ASSERT(y->state == RTC_ICE_CONNECTED || y->state == RTC_ICE_COMPLETED);
    world_free(&w);
}

/* W3C candidate-pair stats: each pair's state and STUN counters, and round trips timed
 * on the selected pair by its checks and consent requests (virtual clock: 10 ms each way). */
static void test_pair_stats(void)
{
    world w = { .net = vnet_new(8) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x = mk_peer(&w, "192.0.2.1:1000", true, false, 100, "xufr");
    peer *y = mk_peer(&w, "192.0.2.2:2000", false, false, 50, "yufr");
    pair_up(&w, x, y, "xufr", "yufr");
    add_host(&w, x);
    add_host(&w, y);
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(5)) > 0);
    run(&w, w.now + RTC_SEC(12));                     /* two consent intervals */
    rtc_ice_pair_stats ps;
    ASSERT_EQ(rtc_ice_agent_pair_stats(x->a, 0, &ps), 0);
    ASSERT_EQ(rtc_ice_agent_pair_stats(x->a, 1, &ps), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_ice_agent_pair_stats(x->a, 0, &ps), 0);
    ASSERT(ps.selected && ps.nominated && !ps.previous);
    ASSERT_EQ(ps.state, RTC_ICE_PAIR_SUCCEEDED);
    ASSERT(rtc_addr_eq(&ps.local, &x->addr) && rtc_addr_eq(&ps.remote, &y->addr));
    ASSERT_EQ(ps.local_type, RTC_ICE_HOST);
    ASSERT(ps.requests_sent >= 2);                    /* the check and the nomination */
    ASSERT(ps.consent_requests_sent >= 2);
    ASSERT(ps.responses_received >= ps.consent_requests_sent);
    ASSERT(ps.requests_received >= 1 && ps.responses_sent == ps.requests_received);
    ASSERT_EQ(ps.current_rtt, RTC_MS(20));
    ASSERT(ps.rtt_measurements >= 3);
    ASSERT_EQ(ps.total_rtt, (rtc_time)ps.rtt_measurements * RTC_MS(20));
    /* After a restart the old selected pair is listed (it still carries data), counters kept. */
    uint32_t before = ps.rtt_measurements;
    restart_side(&w, x, "xnew");
    ASSERT_EQ(rtc_ice_agent_pair_stats(x->a, 0, &ps), 0);
    ASSERT(ps.selected && ps.previous);
    ASSERT_EQ(ps.rtt_measurements, before);
    ASSERT_EQ(rtc_ice_agent_pair_stats(x->a, 1, &ps), RTC_ENOTFOUND);
    world_free(&w);
}

/* W3C setConfiguration's iceTransportPolicy: set just before a restart, "relay"
 * stops signalling and pairing the host candidate while the pair selected before keeps
 * carrying data (its consent still answered on the host socket); "all" signals the
 * host candidate again and the next restart pairs it. */
static void test_policy_change_at_restart(void)
{
    world w = { .net = vnet_new(7) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x = mk_peer(&w, "192.0.2.1:1000", true, false, 100, "xufr");
    peer *y = mk_peer(&w, "192.0.2.2:2000", false, false, 50, "yufr");
    pair_up(&w, x, y, "xufr", "yufr");
    add_host(&w, x);
    add_host(&w, y);
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(5)) > 0);
    ASSERT_EQ(x->local_cands, 1);

    ASSERT_EQ(rtc_ice_agent_set_relay_only(x->a, true, w.now), 0);
    restart_side(&w, x, "xrel");
    restart_side(&w, y, "yrel");
    set_creds(x, "yrel", w.now);
    set_creds(y, "xrel", w.now);
    drain(&w, x);
    ASSERT_EQ(x->local_cands, 1);                     /* nothing new to signal */
    rtc_ice_candidate c;
    ASSERT_EQ(rtc_ice_agent_local_candidate(x->a, 0, &c), RTC_ENOTFOUND);
    for (int i = 0; rtc_ice_agent_local_candidate(y->a, i, &c) == 0; i++) rtc_ice_agent_add_remote_candidate(x->a, &c, w.now);
    /* y learns x's host address from the old pair and checks it with the new ufrag */
    ASSERT_EQ(rtc_ice_agent_add_remote_candidate(y->a, &(rtc_ice_candidate){ .type = RTC_ICE_HOST,
              .addr = x->addr, .port = rtc_addr_port(&x->addr), .priority = 2130706431, .foundation = "1",
              .component = 1, .transport = RTC_ICE_UDP }, w.now), 0);
    uint64_t xrx = x->data_rx, yrx = y->data_rx;
    pump_data(&w, x, y, RTC_SEC(35));                 /* past y's consent timeout (30 s) */
    ASSERT(x->data_rx > xrx + 1500 && y->data_rx > yrx + 1500);
    ASSERT(y->last_data_rx >= w.now - RTC_MS(100));
    ASSERT_EQ(x->nstate[RTC_ICE_DISCONNECTED] + x->nstate[RTC_ICE_FAILED], 0);
    ASSERT_EQ(y->nstate[RTC_ICE_DISCONNECTED] + y->nstate[RTC_ICE_FAILED], 0);
    ASSERT_EQ(x->selected, 1);                        /* the host pair is not checked again */
    ASSERT_EQ(y->selected, 1);

    ASSERT_EQ(rtc_ice_agent_set_relay_only(x->a, false, w.now), 0);
    drain(&w, x);
    ASSERT_EQ(x->local_cands, 2);                     /* the host candidate, signalled again */
    ASSERT_EQ(rtc_ice_agent_local_candidate(x->a, 0, &c), 0);
    ASSERT_EQ(c.type, RTC_ICE_HOST);
    restart_side(&w, x, "xall");
    restart_side(&w, y, "yall");
    set_creds(x, "yall", w.now);
    set_creds(y, "xall", w.now);
    for (int i = 0; rtc_ice_agent_local_candidate(x->a, i, &c) == 0; i++) rtc_ice_agent_add_remote_candidate(y->a, &c, w.now);
    for (int i = 0; rtc_ice_agent_local_candidate(y->a, i, &c) == 0; i++) rtc_ice_agent_add_remote_candidate(x->a, &c, w.now);
    pump_data(&w, x, y, RTC_SEC(2));
    ASSERT_EQ(x->selected, 2);
    ASSERT_EQ(y->selected, 2);
    world_free(&w);
}

static uint64_t consent_sent(peer *p)
{
    rtc_ice_stats st;
    rtc_ice_agent_get_stats(p->a, &st);
    return st.consent_sent;
}

/* Follows x's consent requests for `dur` in 100 ms steps: how many, and whether each
 * came 4..6 s (0.8..1.2 of the 5 s interval) after the one before. */
static uint64_t count_consent(world *w, peer *x, rtc_time dur, bool check_gaps)
{
    uint64_t start = consent_sent(x), last = start;
    rtc_time last_at = -1, end = w->now + dur;
    while (w->now < end) {
        run(w, w->now + RTC_MS(100));
        uint64_t n = consent_sent(x);
        ASSERT_LE(n - last, 1);                      /* never two at once */
        if (n != last) {
            if (check_gaps && last_at >= 0) {
                ASSERT_GE(w->now - last_at, RTC_MS(3900));
                ASSERT_LE(w->now - last_at, RTC_MS(6100));
            }
            last_at = w->now;
            last = n;
        }
    }
    return last - start;
}

/* RFC 7675: one consent request per interval on the selected pair, 4-6 s apart, and
 * not retransmitted: while the peer is silent the rate stays the same (a new request
 * each interval, not a retransmission schedule per request). */
static void test_consent_once_per_interval(void)
{
    world w = { .net = vnet_new(11) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x, *y;
    host_pair(&w, &x, &y);
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(5)) > 0);
    ASSERT_EQ(consent_sent(x), 0);                   /* none before a pair is selected */
    uint64_t n = count_consent(&w, x, RTC_SEC(120), true);
    ASSERT_GE(n, 120 / 6);
    ASSERT_LE(n, 120 / 4 + 1);
    /* The peer goes silent for 20 s (with the up to 6 s since the last response, under
     * the 30 s consent lasts): still one request an interval. */
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10), .loss = 1.0 });
    n = count_consent(&w, x, RTC_SEC(20), true);
    ASSERT_GE(n, 20 / 6);
    ASSERT_LE(n, 20 / 4 + 1);
    ASSERT_EQ(x->state, RTC_ICE_DISCONNECTED);
    /* Back: the next request restores it. */
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    n = count_consent(&w, x, RTC_SEC(7), false);
    ASSERT(n >= 1 && n <= 2);
    ASSERT(x->state == RTC_ICE_CONNECTED || x->state == RTC_ICE_COMPLETED);
    ASSERT_EQ(x->nstate[RTC_ICE_FAILED], 0);
    world_free(&w);
}

/* Consent is our requests answered, nothing else (RFC 7675): with every response to x
 * lost, x fails 30 s after the last one although y's checks keep arriving. Those
 * checks do count as liveness, so x is not `disconnected` meanwhile. */
static void test_consent_needs_responses(void)
{
    world w = { .net = vnet_new(12) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x, *y;
    host_pair(&w, &x, &y);
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(5)) > 0);
    run(&w, w.now + RTC_SEC(10));
    rtc_time cut = w.now;
    w.deaf = x;
    run(&w, cut + RTC_SEC(24));
    ASSERT(x->state == RTC_ICE_CONNECTED || x->state == RTC_ICE_COMPLETED);
    ASSERT_EQ(x->nstate[RTC_ICE_DISCONNECTED], 0);
    run(&w, cut + RTC_SEC(40));
    ASSERT_EQ(x->state, RTC_ICE_FAILED);
    ASSERT(x->state_at[RTC_ICE_FAILED] - cut >= RTC_SEC(24));
    ASSERT(x->state_at[RTC_ICE_FAILED] - cut <= RTC_SEC(31));
    ASSERT_EQ(y->nstate[RTC_ICE_FAILED], 0);         /* y's own requests were answered */
    world_free(&w);
}

static void test_consent_loss(void)
{
    world w = { .net = vnet_new(7) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x, *y;
    host_pair(&w, &x, &y);
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(5)) > 0);
    run(&w, w.now + RTC_SEC(2));

    /* Everything dropped for 12 s: disconnected after ~7 s, then back. */
    rtc_time cut = w.now;
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10), .loss = 1.0 });
    run(&w, cut + RTC_SEC(12));
    ASSERT_EQ(x->state, RTC_ICE_DISCONNECTED);
    ASSERT_EQ(y->state, RTC_ICE_DISCONNECTED);
    ASSERT(x->state_at[RTC_ICE_DISCONNECTED] - cut >= RTC_SEC(5));
    ASSERT(x->state_at[RTC_ICE_DISCONNECTED] - cut <= RTC_SEC(9));
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    run(&w, w.now + RTC_SEC(8));
    ASSERT(x->state == RTC_ICE_CONNECTED || x->state == RTC_ICE_COMPLETED);
    ASSERT(y->state == RTC_ICE_CONNECTED || y->state == RTC_ICE_COMPLETED);
    ASSERT_EQ(x->nstate[RTC_ICE_FAILED], 0);

    /* Dropped for good: failed 30 s after the last consent response. */
    run(&w, w.now + RTC_SEC(3));
    cut = w.now;
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10), .loss = 1.0 });
    run(&w, cut + RTC_SEC(40));
    ASSERT_EQ(x->state, RTC_ICE_FAILED);
    ASSERT_EQ(y->state, RTC_ICE_FAILED);
    ASSERT(x->state_at[RTC_ICE_FAILED] - cut >= RTC_SEC(24));
    ASSERT(x->state_at[RTC_ICE_FAILED] - cut <= RTC_SEC(31));
    ASSERT_EQ(rtc_ice_agent_send(x->a, (const uint8_t *)"app-data", 8, w.now), RTC_ESTATE);
    ASSERT_EQ(rtc_ice_agent_poll_timeout(x->a), RTC_TIME_NEVER);

    /* An ICE restart is the way back from failed. */
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    restart_side(&w, x, "xnew");
    restart_side(&w, y, "ynew");
    ASSERT_EQ(rtc_ice_agent_state(x->a), RTC_ICE_CHECKING);
    set_creds(x, "ynew", w.now);
    set_creds(y, "xnew", w.now);
    rtc_ice_candidate c;
    for (int i = 0; rtc_ice_agent_local_candidate(x->a, i, &c) == 0; i++) rtc_ice_agent_add_remote_candidate(y->a, &c, w.now);
    for (int i = 0; rtc_ice_agent_local_candidate(y->a, i, &c) == 0; i++) rtc_ice_agent_add_remote_candidate(x->a, &c, w.now);
    run(&w, w.now + RTC_SEC(2));
    ASSERT_EQ(x->state, RTC_ICE_CONNECTED);
    ASSERT_EQ(y->state, RTC_ICE_CONNECTED);
    ASSERT_EQ(rtc_ice_agent_send(x->a, (const uint8_t *)"app-data", 8, w.now), 0);
    world_free(&w);
}

static void test_lite(void)
{
    world w = { .net = vnet_new(8) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10), .loss = 0.1 });
    peer *x = mk_peer(&w, "192.0.2.1:1000", false, false, 100, "xufr");  /* full: takes control */
    peer *y = mk_peer(&w, "192.0.2.2:2000", true, true, 50, "yufr");     /* lite: always controlled */
    pair_up(&w, x, y, "xufr", "yufr");
    add_host(&w, y);
    add_host(&w, x);
    ASSERT(!rtc_ice_agent_controlling(y->a));
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(10)) > 0);
    rtc_ice_stats st;
    rtc_ice_agent_get_stats(y->a, &st);
    ASSERT_EQ(st.checks_sent, 0);                    /* lite never checks */
    ASSERT(st.checks_received >= 1);
    ASSERT(rtc_addr_eq(&y->sel.remote, &x->addr));
    pump_data(&w, x, y, RTC_MS(500));
    ASSERT(y->data_rx > 10 && x->data_rx > 10);
    world_free(&w);
}

static void test_trickle_late_and_eoc(void)
{
    world w = { .net = vnet_new(9) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x = mk_peer(&w, "192.0.2.1:1000", true, false, 100, "xufr");
    peer *y = mk_peer(&w, "192.0.2.2:2000", false, false, 50, "yufr");
    x->other = y;
    y->other = x;
    x->trickle = y->trickle = false;                 /* candidates by hand, late */
    add_host(&w, x);
    add_host(&w, y);
    run(&w, RTC_MS(500));
    ASSERT_EQ(x->state, RTC_ICE_NEW);                /* nothing known yet */
    set_creds(x, "yufr", w.now);
    set_creds(y, "xufr", w.now);
    run(&w, RTC_SEC(1));
    ASSERT_EQ(x->selected, 0);
    rtc_ice_candidate c;
    ASSERT_EQ(rtc_ice_agent_local_candidate(y->a, 0, &c), 0);
    ASSERT_EQ(rtc_ice_agent_add_remote_candidate(x->a, &c, w.now), 0);   /* x learns y late */
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(5)) > 0);
    ASSERT(y->prflx >= 1);                           /* y never got x's candidate: prflx */
    ASSERT_EQ(x->state, RTC_ICE_CONNECTED);          /* no end-of-candidates yet */
    rtc_ice_agent_end_of_candidates(x->a, w.now);
    rtc_ice_agent_end_of_candidates(y->a, w.now);
    run(&w, w.now + RTC_MS(100));
    ASSERT_EQ(x->state, RTC_ICE_COMPLETED);
    world_free(&w);

    /* Only unreachable candidates, then end-of-candidates: failed, quickly. */
    w = (world){ .net = vnet_new(10) };
    x = mk_peer(&w, "192.0.2.1:1000", true, false, 100, "xufr");
    x->trickle = false;
    add_host(&w, x);
    set_creds(x, "yufr", 0);
    const char *unreachable = "candidate:1 1 udp 2130706431 198.51.100.9 9 typ host";
    ASSERT_EQ(rtc_ice_candidate_parse(&c, unreachable, strlen(unreachable)), 0);
    ASSERT_EQ(rtc_ice_agent_add_remote_candidate(x->a, &c, 0), 0);
    rtc_ice_agent_end_of_candidates(x->a, 0);
    run(&w, RTC_SEC(30));
    ASSERT_EQ(x->state, RTC_ICE_FAILED);
    ASSERT(x->state_at[RTC_ICE_FAILED] < RTC_SEC(12));
    world_free(&w);
}

static void test_unresolved_mdns(void)
{
    world w = { .net = vnet_new(11) };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(10) });
    peer *x = mk_peer(&w, "192.0.2.1:1000", true, false, 100, "xufr");
    peer *y = mk_peer(&w, "192.0.2.2:2000", false, false, 50, "yufr");
    y->hide_host = true;                             /* y's host candidate arrives as <uuid>.local */
    pair_up(&w, x, y, "xufr", "yufr");
    add_host(&w, x);
    add_host(&w, y);
    rtc_ice_stats st;
    rtc_ice_agent_get_stats(x->a, &st);
    ASSERT_EQ(st.remote_candidates, 1);              /* kept ... */
    ASSERT_EQ(st.pairs, 0);                          /* ... but not paired */
    ASSERT(run_until_connected(&w, x, y, RTC_SEC(5)) > 0);
    ASSERT_EQ(x->prflx, 1);
    ASSERT_EQ(x->sel.remote_type, RTC_ICE_PRFLX);
    ASSERT(rtc_addr_eq(&x->sel.remote, &y->addr));
    world_free(&w);
}

static void test_single_port_100(void)
{
    enum { N = 100 };
    world w = { .net = vnet_new(12), .single_port = true };
    vnet_set_link(w.net, (vnet_link){ .delay = RTC_MS(5), .jitter = RTC_MS(5) });
    peer *srv[N], *cli[N];
    char uf[32], addr[64];
    for (int i = 0; i < N; i++) {
        snprintf(uf, sizeof uf, "srv%03d", i);
        srv[i] = mk_peer(&w, "192.0.2.1:3478", false, false, 10, uf);    /* all on one address */
        snprintf(uf, sizeof uf, "cli%03d", i);
        snprintf(addr, sizeof addr, "198.51.100.%d:%d", i + 1, 5000 + i);
        cli[i] = mk_peer(&w, addr, true, false, 1000, uf);
    }
    for (int i = 0; i < N; i++) {
        char su[32], cu[32];
        snprintf(su, sizeof su, "srv%03d", i);
        snprintf(cu, sizeof cu, "cli%03d", i);
        pair_up(&w, srv[i], cli[i], su, cu);
        add_host(&w, srv[i]);
        add_host(&w, cli[i]);
    }
    run(&w, RTC_SEC(5));
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(srv[i]->selected, 1);
        ASSERT_EQ(cli[i]->selected, 1);
        ASSERT(rtc_addr_eq(&srv[i]->sel.remote, &cli[i]->addr));   /* routed to the right agent */
        ASSERT(rtc_addr_eq(&cli[i]->sel.remote, &srv[i]->addr));
    }
    /* Data demultiplexes by validated peer address. */
    for (int i = 0; i < N; i++) { rtc_ice_agent_send(cli[i]->a, (const uint8_t *)"app-data", 8, w.now); drain(&w, cli[i]); }
    run(&w, w.now + RTC_MS(100));
    for (int i = 0; i < N; i++) ASSERT_EQ(srv[i]->data_rx, 1);
    world_free(&w);
}

static void test_candidate_grammar(void)
{
    rtc_ice_candidate c;
    char out[512];
    const char *s = "a=candidate:842163049 1 udp 1677729535 203.0.113.5 61665 typ srflx raddr 10.0.0.5 rport 61665 "
                    "generation 0 ufrag EsAw network-id 1 network-cost 10 foo bar\r\n";
    ASSERT_EQ(rtc_ice_candidate_parse(&c, s, strlen(s)), 0);
    ASSERT_STREQ(c.foundation, "842163049");
    ASSERT_EQ(c.type, RTC_ICE_SRFLX);
    ASSERT_EQ(c.priority, 1677729535u);
    ASSERT_EQ(rtc_addr_port(&c.addr), 61665);
    ASSERT(c.has_related);
    ASSERT_EQ(c.generation, 0);
    ASSERT_STREQ(c.ufrag, "EsAw");
    ASSERT_EQ(c.network_id, 1);
    ASSERT_EQ(c.network_cost, 10);
    ASSERT_STREQ(c.ext, "foo bar");
    ASSERT(rtc_ice_candidate_format(&c, out, sizeof out) > 0);
    ASSERT_STREQ(out, "candidate:842163049 1 udp 1677729535 203.0.113.5 61665 typ srflx raddr 10.0.0.5 rport 61665 "
                      "generation 0 ufrag EsAw network-id 1 network-cost 10 foo bar");
    const char *m = "candidate:1 1 UDP 2122262783 1b4e3c5a-1111-2222-3333-444455556666.local 54321 typ host generation 0";
    ASSERT_EQ(rtc_ice_candidate_parse(&c, m, strlen(m)), 0);
    ASSERT(rtc_ice_candidate_is_mdns(&c));
    ASSERT_EQ(rtc_addr_family(&c.addr), 0);
    ASSERT_EQ(c.port, 54321);
    ASSERT(rtc_ice_candidate_format(&c, out, sizeof out) > 0);
    ASSERT(strstr(out, "1b4e3c5a-1111-2222-3333-444455556666.local 54321 typ host"));
    const char *v6 = "candidate:2 1 udp 2122197247 2001:db8::1 9 typ host tcptype passive";
    ASSERT_EQ(rtc_ice_candidate_parse(&c, v6, strlen(v6)), 0);
    ASSERT_EQ(rtc_addr_family(&c.addr), AF_INET6);
    ASSERT_STREQ(c.tcptype, "passive");
    const char *relay = "candidate:3 1 udp 16777215 198.51.100.7 50000 typ relay raddr 0.0.0.0 rport 0";
    ASSERT_EQ(rtc_ice_candidate_parse(&c, relay, strlen(relay)), 0);
    ASSERT_EQ(c.type, RTC_ICE_RELAY);
    static const char *bad[] = {
        "candidate:1 1 udp 1 1.2.3.4 5 typ", "candidate:1 1 udp x 1.2.3.4 5 typ host",
        "candidate:1 1 sctp 1 1.2.3.4 5 typ host", "candidate:1 1 udp 1 1.2.3.4 70000 typ host",
        "candidate:1 1 udp 1 1.2.3.4 5 typ bogus", "candidate:1 1 udp 1 1.2.3.4 5 typ host raddr",
        "candidate:1 1 udp 1 bad!host 5 typ host", "", "candidate:",
        "candidate:1 0 udp 1 1.2.3.4 5 typ host",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) ASSERT(rtc_ice_candidate_parse(&c, bad[i], strlen(bad[i])) < 0);
    ASSERT_EQ(rtc_ice_candidate_priority(RTC_ICE_HOST, 65535, 1), 2130706431u);
    /* The agent computes host priority and foundation itself. */
    rtc_ice_agent *a = mk_agent(true, false, 1, "abcd");
    rtc_addr h;
    rtc_addr_parse(&h, "192.0.2.1:9");
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(a, &h, 65535, &c, 0), 0);
    ASSERT_EQ(c.priority, 2130706431u);
    ASSERT(c.foundation[0]);
    ASSERT_EQ(rtc_ice_agent_add_host_candidate(a, &h, 65535, NULL, 0), RTC_EEXISTS);
    rtc_ice_agent_free(a);
    /* Bad configuration is refused. */
    rtc_ice_config cfg = { .rng = &rng, .local_ufrag = RTC_STR("ab"), .local_pwd = RTC_STR("0123456789abcdefghijklmn") };
    ASSERT_EQ(rtc_ice_agent_new(&a, &cfg, 0), RTC_EINVAL);
}

static void test_hostile_input(void)
{
    rtc_ice_agent *a = mk_agent(false, false, 1, "abcd");
    rtc_addr h, r;
    rtc_addr_parse(&h, "192.0.2.1:9");
    rtc_addr_parse(&r, "192.0.2.2:9");
    rtc_ice_agent_add_host_candidate(a, &h, 65535, NULL, 0);
    uint8_t b[256], tid[12] = { 0 };
    rtc_stun_writer w;
    /* Right username, wrong integrity: dropped, no state change. */
    rtc_stun_writer_init(&w, b, sizeof b, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, RTC_STR("abcd:zzzz"));
    rtc_stun_put_integrity(&w, (const uint8_t *)"wrongpassword", 13);
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    ASSERT_EQ(rtc_ice_agent_handle_packet(a, &h, &r, b, (size_t)n, 0, 1), RTC_EIGNORED);
    /* Unknown comprehension-required attribute with valid integrity: 420. */
    rtc_stun_writer_init(&w, b, sizeof b, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, RTC_STR("abcd:zzzz"));
    rtc_stun_put(&w, 0x7001, "q", 1);
    rtc_stun_put_integrity(&w, (const uint8_t *)"0123456789abcdefghijklmn", 24);
    rtc_stun_put_fingerprint(&w);
    n = rtc_stun_finish(&w);
    ASSERT_EQ(rtc_ice_agent_handle_packet(a, &h, &r, b, (size_t)n, 0, 2), 0);
    rtc_transmit t;
    ASSERT(rtc_ice_agent_poll_transmit(a, &t));
    rtc_stun_msg m;
    ASSERT_EQ(rtc_stun_parse(t.buf->data, t.buf->len, &m), 0);
    int code = 0;
    ASSERT_EQ(m.cls, RTC_STUN_ERROR);
    ASSERT_EQ(rtc_stun_get_error(&m, &code, NULL), 0);
    ASSERT_EQ(code, 420);
    rtc_buf_unref(t.buf);
    /* Garbage of every length. */
    for (int i = 0; i < 5000; i++) {
        size_t len = rtc_rng_below(&rng, 200);
        rtc_rng_bytes(&rng, b, len);
        if (len >= 8 && (i & 1)) { b[0] &= 0x3F; rtc_wr32(b + 4, RTC_STUN_MAGIC); }
        rtc_ice_agent_handle_packet(a, &h, &r, b, len, 0, 3);
    }
    while (rtc_ice_agent_poll_transmit(a, &t)) rtc_buf_unref(t.buf);
    ASSERT_EQ(rtc_ice_agent_state(a), RTC_ICE_NEW);
    rtc_ice_stats st;
    rtc_ice_agent_get_stats(a, &st);
    ASSERT(st.dropped > 4000);
    rtc_ice_agent_free(a);
}

/* The candidate and pair tables grow as candidates arrive and stop at their caps
 * (16 local, 64 remote, 256 pairs) with RTC_EQUOTA, the agent still working. */
static void test_table_caps(void)
{
    rtc_ice_agent *a = mk_agent(true, false, 7, "capz");
    ASSERT_EQ(rtc_ice_agent_set_remote_credentials(a, RTC_STR("peer"), RTC_STR("0123456789abcdefghijklmn"), 0), 0);
    char buf[160];
    for (int i = 0; i < 17; i++) {
        rtc_addr h;
        snprintf(buf, sizeof buf, "10.1.0.%d:4000", i + 1);
        ASSERT_EQ(rtc_addr_parse(&h, buf), 0);
        int r = rtc_ice_agent_add_host_candidate(a, &h, (uint16_t)(65535 - i), NULL, 0);
        if (i < 16) ASSERT(r >= 0);
        else ASSERT_EQ(r, RTC_EQUOTA);
    }
    for (int i = 0; i < 65; i++) {
        rtc_ice_candidate c;
        snprintf(buf, sizeof buf, "candidate:%d 1 udp %d 10.2.%d.%d 5000 typ host", i, 2000000000 - i, i / 200, i % 200 + 1);
        ASSERT_EQ(rtc_ice_candidate_parse(&c, buf, strlen(buf)), 0);
        int r = rtc_ice_agent_add_remote_candidate(a, &c, 0);
        if (i < 64) ASSERT_EQ(r, 0);
        else ASSERT_EQ(r, RTC_EQUOTA);
    }
    rtc_ice_stats st;
    rtc_ice_agent_get_stats(a, &st);
    ASSERT_EQ(st.local_candidates, 16);
    ASSERT_EQ(st.remote_candidates, 64);
    ASSERT_EQ(st.pairs, 256);
    /* Checks run from the capped table. */
    rtc_time now = 0;
    int sent = 0;
    for (int i = 0; i < 20; i++) {
        now = rtc_time_min(rtc_ice_agent_poll_timeout(a), RTC_SEC(1));
        rtc_ice_agent_handle_timeout(a, now);
        rtc_transmit t;
        while (rtc_ice_agent_poll_transmit(a, &t)) { sent++; rtc_buf_unref(t.buf); }
        rtc_ice_event ev;
        while (rtc_ice_agent_poll_event(a, &ev)) if (ev.type == RTC_ICE_EV_DATA) rtc_buf_unref(ev.u.data.buf);
    }
    ASSERT(sent > 0);
    rtc_ice_agent_free(a);
}

int main(void)
{
    rtc_rng_init_seed(&rng, 1);
    if (getenv("RTC_LOG")) rtc_log_set_filter(getenv("RTC_LOG"));
    RUN(test_candidate_grammar);
    RUN(test_hostile_input);
    RUN(test_table_caps);
    RUN(test_basic_connect);
    RUN(test_validated_and_checked_addresses);
    RUN(test_loss_and_jitter);
    RUN(test_nat_srflx_prflx);
    RUN(test_role_conflict);
    RUN(test_restart_keeps_data);
    RUN(test_policy_change_at_restart);
    RUN(test_pair_stats);
    RUN(test_consent_loss);
    RUN(test_consent_once_per_interval);
    RUN(test_consent_needs_responses);
    RUN(test_lite);
    RUN(test_trickle_late_and_eoc);
    RUN(test_unresolved_mdns);
    RUN(test_single_port_100);
    return 0;
}
