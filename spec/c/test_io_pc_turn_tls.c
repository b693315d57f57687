/* TURN over TLS (turns:) through the peer connection host (io/rtc_pc_host) over real
 * sockets on loopback, against our own TURN server's TLS listener (io/rtc_turn_host)
 * with a self-signed CA made here (SAN DNS:localhost, IP:127.0.0.1):
 * - two relay-only connections allocate over TLS, connect relay/relay and a data
 *   channel message goes both ways; the relay candidates' priorities say "tls";
 * - a client that trusts another CA, or checks another host name, gets one candidate
 *   error naming the certificate check, no relay candidate, and the server sees a
 *   failed handshake and no allocation;
 * - a plain (non-TLS) TCP listener given as turns: fails the handshake the same way. */
#include "rtc_test.h"
#include "test_tls_pair.h"
#include "core/rtc_errors.h"
#include "ice/ice_agent.h"
#include "ice/ice_candidate.h"
#include "io/rtc_loop.h"
#include "io/rtc_pc_host.h"
#include "io/rtc_turn_host.h"
#include "tls/tls_context.h"
#include "turn/turn_client.h"
#include <signal.h>

typedef struct peer {
    rtc_pc_host *ph;
    int relay_cands, tls_relays, gathering_done, cand_errors, cand_error_code, dc_open, got, closed;
    char cand_error[160], msg[64];
    int dc;
} peer;

typedef struct ctx {
    rtc_loop *lp;
    rtc_turn_host *th;
    rtc_addr tls_addr, tcp_addr;
    int allocated, closed;
    char *ca_pem, *key_pem, *other_ca_pem, *other_key_pem;
} ctx;

static void on_turn_event(rtc_turn_host *h, const rtc_turn_srv_event *e, void *ud)
{
    (void)h;
    if (e->type == RTC_TURN_SRV_EV_ALLOCATED) ((ctx *)ud)->allocated++;
}

static void on_pc_event(rtc_pc_host *h, rtc_pc_event *ev, void *ud)
{
    (void)h;
    peer *p = ud;
    switch (ev->type) {
    case RTC_PC_EV_ICE_CANDIDATE:
        if (ev->candidate[0] == 0) { p->gathering_done++; break; }
        if (strstr(ev->candidate, " typ relay")) {
            p->relay_cands++;
            rtc_ice_candidate c;
            ASSERT_OK(rtc_ice_candidate_parse(&c, ev->candidate, strlen(ev->candidate)));
            const char *rp = rtc_ice_relay_protocol(c.priority);
            if (rp && strcmp(rp, "tls") == 0) p->tls_relays++;
        }
        break;
    case RTC_PC_EV_ICE_CANDIDATE_ERROR:
        p->cand_errors++;
        p->cand_error_code = ev->code;
        snprintf(p->cand_error, sizeof p->cand_error, "%s", ev->reason);
        break;
    case RTC_PC_EV_DATACHANNEL:
        p->dc = ev->dc;
        p->dc_open++;
        break;
    case RTC_PC_EV_DC_OPEN:
        p->dc_open++;
        break;
    case RTC_PC_EV_DC_MESSAGE:
        p->got++;
        snprintf(p->msg, sizeof p->msg, "%.*s", (int)ev->buf->len, (const char *)ev->buf->data);
        break;
    default:
        break;
    }
    rtc_buf_unref(ev->buf);
}

static void on_pc_closed(rtc_pc_host *h, void *ud) { (void)h; ((peer *)ud)->closed++; }
static void on_turn_closed(rtc_turn_host *h, void *ud) { (void)h; ((ctx *)ud)->closed++; }

typedef bool (*cond_fn)(void *);
static void run_until(ctx *x, cond_fn done, void *arg)
{
    rtc_time deadline = rtc_clock_now() + RTC_SEC(15);   /* a stuck test fails, not hangs */
    while (!done(arg)) {
        ASSERT(rtc_clock_now() < deadline);
        rtc_loop_run(x->lp, UV_RUN_ONCE);
    }
}

static bool gathered(void *a) { return ((peer *)a)->gathering_done > 0; }
static bool closed(void *a) { return ((peer *)a)->closed > 0; }
static bool turn_closed(void *a) { return ((ctx *)a)->closed > 0; }

static void server_start(ctx *x)
{
    memset(x, 0, sizeof *x);
    tls_make_cert(&x->ca_pem, &x->key_pem, "luartc test CA");
    tls_make_cert(&x->other_ca_pem, &x->other_key_pem, "another CA");
    ASSERT_EQ(rtc_loop_new(&x->lp), 0);
    rtc_tls_context *sctx;
    rtc_tls_context_config sc = { .role = RTC_TLS_SERVER, .cert_pem = x->ca_pem, .key_pem = x->key_pem };
    ASSERT_OK(rtc_tls_context_new(&sctx, &sc, NULL, 0));
    rtc_turn_host_config tc = { .nlisten = 1, .tcp = true, .ntls_listen = 1, .tls = sctx };
    rtc_addr_set(&tc.listen[0], "127.0.0.1", 0);
    rtc_addr_set(&tc.tls_listen[0], "127.0.0.1", 0);
    tc.server.realm = RTC_STR("test");
    tc.server.allow_loopback = true;
    rtc_addr_set(&tc.server.relay_v4, "127.0.0.1", 0);
    ASSERT_EQ(rtc_turn_host_new(&x->th, x->lp, &tc, on_turn_event, x), 0);
    rtc_tls_context_unref(sctx);                       /* the host holds its own ref */
    ASSERT_EQ(rtc_turn_server_add_user(rtc_turn_host_server(x->th), RTC_STR("alice"), RTC_STR("pw")), 0);
    rtc_turn_host_kick(x->th);
    ASSERT_OK(rtc_turn_host_tls_addr(x->th, 0, &x->tls_addr));
    ASSERT_OK(rtc_turn_host_local_addr(x->th, 0, &x->tcp_addr));
}

static void server_stop(ctx *x)
{
    rtc_turn_host_close(x->th, on_turn_closed, x);
    run_until(x, turn_closed, x);
    rtc_loop_free(x->lp);
    free(x->ca_pem); free(x->key_pem); free(x->other_ca_pem); free(x->other_key_pem);
}

/* A relay-only connection whose only ICE server is turns:<name>@server, trusting ca_pem. */
static void peer_new(ctx *x, peer *p, const rtc_addr *server, const char *name, const char *ca_pem)
{
    memset(p, 0, sizeof *p);
    p->dc = -1;
    rtc_pc_host_config pc = { .nbind = 1, .nservers = 1 };
    pc.pc.relay_only = true;
    rtc_addr_set(&pc.bind[0], "127.0.0.1", 0);
    rtc_pc_host_server *sv = &pc.servers[0];
    sv->turn = true;
    sv->transport = RTC_TURN_TLS;
    strcpy(sv->user, "alice");
    strcpy(sv->pass, "pw");
    sv->addr = *server;
    snprintf(sv->server_name, sizeof sv->server_name, "%s", name);
    rtc_tls_context_config cc = { .role = RTC_TLS_CLIENT, .ca_pem = ca_pem };
    ASSERT_OK(rtc_tls_context_new(&sv->tls, &cc, NULL, 0));
    ASSERT_EQ(rtc_pc_host_new(&p->ph, x->lp, &pc, on_pc_event, p), 0);
    rtc_tls_context_unref(sv->tls);                    /* the host took a ref */
}

static void peer_free(ctx *x, peer *p)
{
    rtc_pc_host_close(p->ph, on_pc_closed);
    run_until(x, closed, p);
}

static char *offer_gathered(ctx *x, peer *p)
{
    rtc_pc *pc = rtc_pc_host_pc(p->ph);
    rtc_dc_init di = { .label = "x", .max_retransmits = -1, .max_packet_life_time = -1 };
    ASSERT((p->dc = rtc_pc_create_data_channel(pc, &di, rtc_pc_host_now(p->ph))) >= 0);
    char *sdp = NULL;
    ASSERT_OK(rtc_pc_create_offer(pc, false, &sdp, rtc_pc_host_now(p->ph)));
    free(sdp);
    ASSERT_OK(rtc_pc_set_local_description(pc, RTC_SDP_OFFER, NULL, rtc_pc_host_now(p->ph)));
    rtc_pc_host_kick(p->ph);
    run_until(x, gathered, p);
    rtc_pc_sdp_type t;
    ASSERT_OK(rtc_pc_local_description(pc, &t, &sdp));
    return sdp;
}

typedef struct pair { peer *a, *b; } pair;
static bool both_open(void *v) { pair *p = v; return p->a->dc_open > 0 && p->b->dc_open > 0; }
static bool both_got(void *v) { pair *p = v; return p->a->got > 0 && p->b->got > 0; }

static void test_turns_relay_data_flows(void)
{
    ctx x;
    server_start(&x);
    peer a, b;
    peer_new(&x, &a, &x.tls_addr, "localhost", x.ca_pem);
    peer_new(&x, &b, &x.tls_addr, "127.0.0.1", x.ca_pem);   /* an IP literal: checked as an IP */
    char *offer = offer_gathered(&x, &a);
    ASSERT_EQ(a.relay_cands, 1);
    ASSERT_EQ(a.tls_relays, 1);
    ASSERT_EQ(a.cand_errors, 0);
    rtc_pc *pb = rtc_pc_host_pc(b.ph), *pa = rtc_pc_host_pc(a.ph);
    ASSERT_OK(rtc_pc_set_remote_description(pb, RTC_SDP_OFFER, offer, rtc_pc_host_now(b.ph)));
    free(offer);
    char *answer = NULL;
    ASSERT_OK(rtc_pc_create_answer(pb, &answer, rtc_pc_host_now(b.ph)));
    free(answer);
    ASSERT_OK(rtc_pc_set_local_description(pb, RTC_SDP_ANSWER, NULL, rtc_pc_host_now(b.ph)));
    rtc_pc_host_kick(b.ph);
    run_until(&x, gathered, &b);
    ASSERT_EQ(b.tls_relays, 1);
    rtc_pc_sdp_type t;
    ASSERT_OK(rtc_pc_local_description(pb, &t, &answer));
    ASSERT(strstr(answer, " typ relay") != NULL);
    ASSERT(strstr(answer, " typ host") == NULL);
    ASSERT_OK(rtc_pc_set_remote_description(pa, RTC_SDP_ANSWER, answer, rtc_pc_host_now(a.ph)));
    free(answer);
    rtc_pc_host_kick(a.ph);
    pair pr = { &a, &b };
    run_until(&x, both_open, &pr);
    ASSERT_OK(rtc_pc_dc_send(pa, a.dc, "over tls", 8, false, rtc_pc_host_now(a.ph)));
    rtc_pc_host_kick(a.ph);
    ASSERT_OK(rtc_pc_dc_send(pb, b.dc, "and back", 8, false, rtc_pc_host_now(b.ph)));
    rtc_pc_host_kick(b.ph);
    run_until(&x, both_got, &pr);
    ASSERT_STREQ(b.msg, "over tls");
    ASSERT_STREQ(a.msg, "and back");
    rtc_pc_stats st;
    rtc_pc_get_stats(pa, &st);
    ASSERT(st.has_pair);
    ASSERT_EQ(st.pair_local_type, RTC_ICE_RELAY);
    rtc_pc_host_stats hs;
    rtc_pc_host_get_stats(a.ph, &hs);
    ASSERT_EQ(hs.turn_tls_handshakes, 1);
    ASSERT_EQ(hs.turn_tls_failures, 0);
    ASSERT_EQ(x.allocated, 2);
    rtc_turn_host_stats ts;
    rtc_turn_host_get_stats(x.th, &ts);
    ASSERT_EQ(ts.tls_handshakes, 2);
    ASSERT_EQ(ts.tls_failures, 0);
    peer_free(&x, &a);
    peer_free(&x, &b);
    server_stop(&x);
}

/* One connection that must not get a relay: the error names the certificate check. */
static void refused(const char *name, bool other_ca, bool plain_port, const char *want)
{
    ctx x;
    server_start(&x);
    peer a;
    peer_new(&x, &a, plain_port ? &x.tcp_addr : &x.tls_addr, name, other_ca ? x.other_ca_pem : x.ca_pem);
    char *offer = offer_gathered(&x, &a);
    free(offer);
    ASSERT_EQ(a.relay_cands, 0);
    ASSERT_EQ(a.cand_errors, 1);
    ASSERT_EQ(a.cand_error_code, 0);                  /* no STUN answer: W3C's 701 in Lua */
    if (!strstr(a.cand_error, want)) { fprintf(stderr, "reason: %s\n", a.cand_error); ASSERT(0); }
    ASSERT(strstr(a.cand_error, "TLS") != NULL);
    rtc_pc_host_stats hs;
    rtc_pc_host_get_stats(a.ph, &hs);
    ASSERT_EQ(hs.turn_tls_handshakes, 0);
    ASSERT_EQ(hs.turn_tls_failures, 1);
    peer_free(&x, &a);
    ASSERT_EQ(x.allocated, 0);
    server_stop(&x);
}

static void test_turns_wrong_ca(void) { refused("localhost", true, false, "certificate verify failed"); }
static void test_turns_wrong_host_name(void) { refused("turn.example.org", false, false, "certificate verify failed"); }
static void test_turns_plain_tcp_port(void) { refused("localhost", false, true, "TLS with the TURN server failed"); }

/* turns: without a context would send the allocation in the clear: refused. */
static void test_turns_needs_context(void)
{
    ctx x;
    server_start(&x);
    rtc_pc_host_config pc = { .nbind = 1, .nservers = 1 };
    rtc_addr_set(&pc.bind[0], "127.0.0.1", 0);
    pc.servers[0] = (rtc_pc_host_server){ .turn = true, .transport = RTC_TURN_TLS, .addr = x.tls_addr,
                                          .user = "alice", .pass = "pw", .server_name = "localhost" };
    rtc_pc_host *h = NULL;
    ASSERT_EQ(rtc_pc_host_new(&h, x.lp, &pc, on_pc_event, NULL), RTC_EINVAL);
    server_stop(&x);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_turns_relay_data_flows);
    RUN(test_turns_wrong_ca);
    RUN(test_turns_wrong_host_name);
    RUN(test_turns_plain_tcp_port);
    RUN(test_turns_needs_context);
    return 0;
}
