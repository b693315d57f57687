/* Congestion control end to end on the virtual network: senders with the estimator
 * and the pacer, receivers with the TWCC feedback generator, a bottleneck between
 * them. Everything runs on the virtual clock with a fixed seed, so the outcomes below
 * are replayed exactly; they are outcomes in virtual time, not wall-clock timings. */
#include "rtc_test.h"
#include "vnet.h"
#include "cc/cc_controller.h"
#include "cc/cc_pacer.h"
#include "core/rtc_bytes.h"
#include "rtp/twcc.h"
#include <math.h>

#define MAX_FLOWS 2
#define PKT 1200
#define BASE_DELAY RTC_MS(25)            /* one way; RTT 50 ms */
#define MAX_SAMPLES 200000

typedef struct flow {
    rtc_addr tx, rx;
    rtc_cc *cc;
    rtc_cc_pacer *pacer;
    rtc_twcc_receiver *twcc;
    double offered_bps;                  /* what the application would send if allowed */
    rtc_time next_frame;
    uint64_t rx_bytes_window;            /* received since the last reset */
    double est;                          /* the last estimate event */
    int events;
} flow;

typedef struct scenario {
    vnet *net;
    flow f[MAX_FLOWS];
    int nflows;
    rtc_time now;
    double *delay_ms; size_t ndelay;     /* queuing delay samples (one way minus base) */
    bool sample;
    uint64_t trace;                      /* a hash of every estimate event, for replay */
} scenario;

static int tags[1];                      /* the pacer only needs a non-NULL handle */

static void sc_init(scenario *s, uint64_t seed, int nflows, double offered)
{
    memset(s, 0, sizeof *s);
    s->net = vnet_new(seed);
    vnet_set_link(s->net, (vnet_link){ .delay = BASE_DELAY });
    s->nflows = nflows;
    s->delay_ms = calloc(MAX_SAMPLES, sizeof *s->delay_ms);
    for (int i = 0; i < nflows; i++) {
        flow *f = &s->f[i];
        rtc_addr_set(&f->tx, "10.0.0.1", (uint16_t)(5000 + i));
        rtc_addr_set(&f->rx, "10.0.0.2", (uint16_t)(6000 + i));
        ASSERT_OK(rtc_cc_new(&f->cc, &(rtc_cc_config){ .start_bps = 300e3, .max_bps = offered, .probing = true }, 0));
        ASSERT_OK(rtc_cc_pacer_new(&f->pacer, NULL, 0));
        ASSERT_OK(rtc_twcc_receiver_new(&f->twcc, &(rtc_twcc_receiver_config){ .sender_ssrc = 1, .media_ssrc = 2 }, 0));
        f->offered_bps = offered;
        f->next_frame = RTC_MS(7 * i);
    }
}

static void sc_free(scenario *s)
{
    for (int i = 0; i < s->nflows; i++) {
        rtc_cc_free(s->f[i].cc);
        rtc_cc_pacer_free(s->f[i].pacer, NULL, NULL);
        rtc_twcc_receiver_free(s->f[i].twcc);
    }
    vnet_free(s->net);
    free(s->delay_ms);
}

/* Like an encoder: a frame every 33 ms sized to the target (capped at what the
 * application offers), cut into packets for the pacer. */
static void flow_encode(flow *f, rtc_time now)
{
    while (f->next_frame <= now) {
        double rate = rtc_cc_target_bps(f->cc);
        if (rate > f->offered_bps) rate = f->offered_bps;
        size_t bytes = (size_t)(rate / 30 / 8);
        while (bytes > 0) {
            size_t sz = bytes > PKT ? PKT : bytes;
            if (sz < 100) sz = 100;
            rtc_cc_pacer_enqueue(f->pacer, &(rtc_cc_paced){ tags, sz, RTC_CC_VIDEO, 0, 0 }, now);
            bytes = bytes > sz ? bytes - sz : 0;
        }
        f->next_frame += RTC_MS(1000) / 30;
    }
}

static void flow_drain(scenario *s, flow *f, rtc_time now)
{
    rtc_cc_probe_cluster pc;
    rtc_cc_estimate e;
    for (;;) {
        bool any = false;
        while (rtc_cc_poll_probe(f->cc, &pc)) { rtc_cc_pacer_add_probe(f->pacer, &pc); any = true; }
        while (rtc_cc_poll_event(f->cc, &e)) {
            f->est = e.bps;
            f->events++;
            rtc_cc_pacer_set_estimate(f->pacer, e.bps);
            s->trace = s->trace * 1099511628211ULL ^ (uint64_t)e.bps ^ (uint64_t)now;
            any = true;
        }
        rtc_cc_pacer_set_estimate(f->pacer, rtc_cc_target_bps(f->cc));
        rtc_cc_paced out;
        while (rtc_cc_pacer_poll_send(f->pacer, now, &out)) {
            uint8_t buf[PKT + 16] = { 0 };
            int64_t seq = rtc_cc_on_sent(f->cc, out.size, out.probe_cluster, out.kind == RTC_CC_PADDING, now);
            buf[0] = 0x80;
            rtc_wr16(buf + 1, (uint16_t)seq);
            rtc_wr32(buf + 3, (uint32_t)(now >> 32));
            rtc_wr32(buf + 7, (uint32_t)now);
            vnet_send(s->net, &f->tx, &f->rx, buf, out.size, now);
            any = true;
        }
        while (rtc_cc_pacer_poll_drop(f->pacer, &out)) any = true;
        uint8_t fb[1500];
        int n;
        while ((n = rtc_twcc_receiver_poll_transmit(f->twcc, fb, sizeof fb)) > 0) {
            vnet_send(s->net, &f->rx, &f->tx, fb, (size_t)n, now);
            any = true;
        }
        if (!any) break;
    }
}

static void deliver(scenario *s, const vnet_packet *p, rtc_time now)
{
    for (int i = 0; i < s->nflows; i++) {
        flow *f = &s->f[i];
        if (rtc_addr_eq(&p->to, &f->rx) && p->len >= 11 && p->data[0] == 0x80) {
            rtc_twcc_receiver_handle_packet(f->twcc, rtc_rd16(p->data + 1), now);
            f->rx_bytes_window += p->len;
            rtc_time sent = (rtc_time)(((uint64_t)rtc_rd32(p->data + 3) << 32) | rtc_rd32(p->data + 7));
            if (s->sample && s->ndelay < MAX_SAMPLES) s->delay_ms[s->ndelay++] = (double)(now - sent - BASE_DELAY) / 1000.0;
        } else if (rtc_addr_eq(&p->to, &f->tx)) {
            rtc_rtcp_view v[4];
            int k = rtc_rtcp_parse_compound(p->data, p->len, v, 4);
            for (int j = 0; j < k; j++) rtc_cc_handle_twcc(f->cc, &v[j], now);
        }
    }
}

/* Advance the whole system to `until`, always to the earliest deadline. */
static void sc_run(scenario *s, rtc_time until)
{
    while (s->now < until) {
        rtc_time next = until;
        next = rtc_time_min(next, vnet_next_delivery(s->net));
        for (int i = 0; i < s->nflows; i++) {
            flow *f = &s->f[i];
            next = rtc_time_min(next, f->next_frame);
            next = rtc_time_min(next, rtc_cc_pacer_poll_timeout(f->pacer));
            next = rtc_time_min(next, rtc_cc_poll_timeout(f->cc));
            next = rtc_time_min(next, rtc_twcc_receiver_poll_timeout(f->twcc));
        }
        if (next < s->now) next = s->now;
        if (next == s->now && next < until) next = s->now + 1;   /* timers due now were served */
        s->now = next;
        vnet_packet p;
        while (vnet_poll(s->net, s->now, &p)) deliver(s, &p, s->now);
        for (int i = 0; i < s->nflows; i++) {
            flow *f = &s->f[i];
            flow_encode(f, s->now);
            rtc_cc_handle_timeout(f->cc, s->now);
            rtc_twcc_receiver_handle_timeout(f->twcc, s->now);
            flow_drain(s, f, s->now);
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double p95_delay(scenario *s)
{
    if (!s->ndelay) return 0;
    qsort(s->delay_ms, s->ndelay, sizeof *s->delay_ms, cmp_double);
    return s->delay_ms[(size_t)(0.95 * (double)(s->ndelay - 1))];
}

/* Receive rate over [now, now + span) of one flow, in bps. */
static double goodput(scenario *s, int i, rtc_time span)
{
    s->f[i].rx_bytes_window = 0;
    sc_run(s, s->now + span);
    return (double)s->f[i].rx_bytes_window * 8e6 / (double)span;
}

static void set_link(scenario *s, uint64_t bps)
{
    /* A queue of 300 ms at the link rate, as a home router might have. */
    vnet_set_bottleneck(s->net, &s->f[0].rx, bps, (size_t)(bps * 3 / 80));
}

static void test_converges_to_bottleneck(void)
{
    scenario s;
    sc_init(&s, 17, 1, 5e6);
    set_link(&s, 1000000);
    sc_run(&s, RTC_SEC(5));
    double at5 = rtc_cc_target_bps(s.f[0].cc);
    fprintf(stderr, "estimate at 5 s: %.0f\n", at5);
    ASSERT(at5 > 0.9e6 && at5 < 1.1e6);              /* within 10% of the link by 5 s */
    s.sample = true;
    double minest = 1e12, maxest = 0;
    for (int k = 0; k < 20; k++) {
        sc_run(&s, s.now + RTC_MS(500));
        double e = rtc_cc_target_bps(s.f[0].cc);
        if (e < minest) minest = e;
        if (e > maxest) maxest = e;
    }
    double p95 = p95_delay(&s);
    double gp = goodput(&s, 0, RTC_SEC(5));
    fprintf(stderr, "5-15 s: estimate %.0f..%.0f, p95 queuing delay %.1f ms, goodput %.0f, queue drops %zu\n",
            minest, maxest, p95, gp, vnet_queue_dropped(s.net));
    ASSERT(minest > 0.6e6 && maxest < 1.15e6);          /* around the link, never far above */
    ASSERT(p95 < 100);
    ASSERT(gp > 0.7e6);                                 /* the link is used */
    sc_free(&s);
}

static void test_recovers_when_link_returns(void)
{
    scenario s;
    sc_init(&s, 18, 1, 5e6);
    set_link(&s, 3000000);
    sc_run(&s, RTC_SEC(15));
    double high = rtc_cc_target_bps(s.f[0].cc);
    set_link(&s, 1000000);
    sc_run(&s, RTC_SEC(30));
    double low = rtc_cc_target_bps(s.f[0].cc);
    set_link(&s, 3000000);
    sc_run(&s, RTC_SEC(50));
    double back = rtc_cc_target_bps(s.f[0].cc);
    fprintf(stderr, "3M: %.0f, 1M: %.0f, 3M again: %.0f\n", high, low, back);
    ASSERT(high > 2.2e6 && high < 3.3e6);
    ASSERT(low > 0.6e6 && low < 1.15e6);
    ASSERT(back > 2.2e6);
    sc_free(&s);
}

static void test_two_flows_share(void)
{
    scenario s;
    sc_init(&s, 19, 2, 5e6);
    set_link(&s, 2000000);
    sc_run(&s, RTC_SEC(20));
    s.f[0].rx_bytes_window = s.f[1].rx_bytes_window = 0;
    sc_run(&s, RTC_SEC(40));
    double a = (double)s.f[0].rx_bytes_window * 8 / 20, b = (double)s.f[1].rx_bytes_window * 8 / 20;
    fprintf(stderr, "two flows over 2M: %.0f + %.0f\n", a, b);
    ASSERT(a + b > 0.75 * 2e6);
    ASSERT(a > 0.3 * 2e6 && b > 0.3 * 2e6);
    sc_free(&s);
}

static double run_loss(double loss, uint64_t seed)
{
    scenario s;
    sc_init(&s, seed, 1, 5e6);
    set_link(&s, 2000000);
    vnet_set_link(s.net, (vnet_link){ .delay = BASE_DELAY, .loss = loss });
    sc_run(&s, RTC_SEC(20));
    double e = rtc_cc_target_bps(s.f[0].cc);
    rtc_cc_estimate est;
    rtc_cc_get_estimate(s.f[0].cc, &est);
    fprintf(stderr, "loss %.0f%%: estimate %.0f (loss side %.0f, delay side %.0f, measured loss %.3f)\n",
            loss * 100, e, est.loss_bps, est.delay_bps, est.loss_fraction);
    sc_free(&s);
    return e;
}

static void test_random_loss(void)
{
    double none = run_loss(0, 20), five = run_loss(0.05, 20), twenty = run_loss(0.20, 20);
    ASSERT(five > 0.6 * none);                          /* 5% does not collapse it */
    ASSERT(twenty < 0.5 * five);                        /* 20% backs it off */
}

static void test_replays_exactly(void)
{
    uint64_t t[2];
    for (int k = 0; k < 2; k++) {
        scenario s;
        sc_init(&s, 77, 1, 5e6);
        set_link(&s, 1000000);
        vnet_set_link(s.net, (vnet_link){ .delay = BASE_DELAY, .loss = 0.02, .jitter = RTC_MS(3) });
        sc_run(&s, RTC_SEC(8));
        t[k] = s.trace;
        ASSERT(s.f[0].events > 3);
        sc_free(&s);
    }
    ASSERT(t[0] == t[1]);
}

int main(void)
{
    RUN(test_converges_to_bottleneck);
    RUN(test_recovers_when_link_returns);
    RUN(test_two_flows_share);
    RUN(test_random_loss);
    RUN(test_replays_exactly);
    return 0;
}
