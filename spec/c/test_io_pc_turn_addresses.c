/* A TURN server whose name resolved to several addresses, through the peer connection
 * host (io/rtc_pc_host) over real sockets on loopback: the first address refuses the
 * TCP connection (nothing listens on 127.0.0.2), so the agent moves on to the next one,
 * the host connects there, and the allocation succeeds; no candidate error is
 * reported. A name given one unreachable address only does report one. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "io/rtc_loop.h"
#include "io/rtc_pc_host.h"
#include "io/rtc_turn_host.h"
#include "turn/turn_client.h"
#include <signal.h>

typedef struct ctx {
    rtc_loop *lp;
    rtc_turn_host *th;
    rtc_pc_host *ph;
    int relay_cands, cand_errors, gathering_done, allocated, closed;
    rtc_addr error_server;
} ctx;

static void on_turn_event(rtc_turn_host *h, const rtc_turn_srv_event *e, void *ud)
{
    (void)h;
    if (e->type == RTC_TURN_SRV_EV_ALLOCATED) ((ctx *)ud)->allocated++;
}

static void on_pc_event(rtc_pc_host *h, rtc_pc_event *ev, void *ud)
{
    (void)h;
    ctx *x = ud;
    if (ev->type == RTC_PC_EV_ICE_CANDIDATE && strstr(ev->candidate, " typ relay")) x->relay_cands++;
    if (ev->type == RTC_PC_EV_ICE_CANDIDATE && ev->candidate[0] == 0) x->gathering_done++;
    if (ev->type == RTC_PC_EV_ICE_CANDIDATE_ERROR) { x->cand_errors++; x->error_server = ev->server; }
    rtc_buf_unref(ev->buf);
}

static void on_pc_closed(rtc_pc_host *h, void *ud) { (void)h; ((ctx *)ud)->closed++; }
static void on_turn_closed(rtc_turn_host *h, void *ud) { (void)h; ((ctx *)ud)->closed++; }

static void run_until(ctx *x, bool (*done)(ctx *))
{
    rtc_time deadline = rtc_clock_now() + RTC_SEC(15);   /* a stuck test fails, not hangs */
    while (!done(x)) {
        ASSERT(rtc_clock_now() < deadline);
        rtc_loop_run(x->lp, UV_RUN_ONCE);
    }
}

static bool gathered(ctx *x) { return x->gathering_done > 0; }
static bool both_closed(ctx *x) { return x->closed == 2; }

static void gather(ctx *x, const char *first, bool with_second)
{
    ASSERT_EQ(rtc_loop_new(&x->lp), 0);
    rtc_turn_host_config tc = { .nlisten = 1, .tcp = true };
    rtc_addr_set(&tc.listen[0], "127.0.0.1", 0);
    tc.server.realm = RTC_STR("test");
    tc.server.allow_loopback = true;
    rtc_addr_set(&tc.server.relay_v4, "127.0.0.1", 0);
    ASSERT_EQ(rtc_turn_host_new(&x->th, x->lp, &tc, on_turn_event, x), 0);
    ASSERT_EQ(rtc_turn_server_add_user(rtc_turn_host_server(x->th), RTC_STR("alice"), RTC_STR("pw")), 0);
    rtc_turn_host_kick(x->th);
    rtc_addr srv;
    ASSERT_EQ(rtc_turn_host_local_addr(x->th, 0, &srv), 0);

    rtc_pc_host_config pc = { .nbind = 1, .nservers = 1 };
    pc.pc.relay_only = true;
    rtc_addr_set(&pc.bind[0], "127.0.0.1", 0);
    rtc_pc_host_server *sv = &pc.servers[0];
    sv->turn = true;
    sv->transport = RTC_TURN_TCP;
    strcpy(sv->user, "alice");
    strcpy(sv->pass, "pw");
    rtc_addr_set(&sv->addr, first, rtc_addr_port(&srv));            /* the resolver's first answer */
    if (with_second) {
        sv->more[0] = srv;                                           /* its second: the server */
        sv->nmore = 1;
    }
    ASSERT_EQ(rtc_pc_host_new(&x->ph, x->lp, &pc, on_pc_event, x), 0);
    rtc_pc *p = rtc_pc_host_pc(x->ph);
    rtc_dc_init di = { .label = "x", .max_retransmits = -1, .max_packet_life_time = -1 };
    ASSERT(rtc_pc_create_data_channel(p, &di, rtc_pc_host_now(x->ph)) >= 0);
    char *sdp = NULL;
    ASSERT_OK(rtc_pc_create_offer(p, false, &sdp, rtc_pc_host_now(x->ph)));
    free(sdp);
    ASSERT_OK(rtc_pc_set_local_description(p, RTC_SDP_OFFER, NULL, rtc_pc_host_now(x->ph)));
    rtc_pc_host_kick(x->ph);
    run_until(x, gathered);
}

static void finish(ctx *x)
{
    rtc_pc_host_close(x->ph, on_pc_closed);
    rtc_turn_host_close(x->th, on_turn_closed, x);
    run_until(x, both_closed);
    rtc_loop_free(x->lp);
}

static void test_next_address_after_refused_connection(void)
{
    ctx *x = calloc(1, sizeof *x);
    gather(x, "127.0.0.2", true);
    ASSERT_EQ(x->relay_cands, 1);
    ASSERT_EQ(x->allocated, 1);
    ASSERT_EQ(x->cand_errors, 0);
    rtc_pc_host_stats hs;
    rtc_pc_host_get_stats(x->ph, &hs);
    ASSERT_GE(hs.turn_tcp_tx_bytes, 1);                /* the second connection carried the Allocate */
    finish(x);
    free(x);
}

static void test_single_unreachable_address_reported(void)
{
    ctx *x = calloc(1, sizeof *x);
    gather(x, "127.0.0.2", false);
    ASSERT_EQ(x->relay_cands, 0);
    ASSERT_EQ(x->allocated, 0);
    ASSERT_EQ(x->cand_errors, 1);
    rtc_addr want;
    rtc_addr_set(&want, "127.0.0.2", rtc_addr_port(&x->error_server));
    ASSERT(rtc_addr_eq(&x->error_server, &want));
    finish(x);
    free(x);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_next_address_after_refused_connection);
    RUN(test_single_unreachable_address_reported);
    return 0;
}
