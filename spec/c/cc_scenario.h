/* Congestion control scenarios on the virtual network, shared by spec/c/test_cc_vnet.c
 * and bench/cc.c: senders with the estimator and the pacer, receivers with the TWCC
 * feedback generator, a bottleneck between them, all on the virtual clock. Media
 * packets carry their transport-wide seq and send time; the receiver measures
 * queuing delay from them. Include once per program (the functions are static). */
#ifndef CC_SCENARIO_H
#define CC_SCENARIO_H
#include "rtc_test.h"
#include "vnet.h"
#include "cc/cc_controller.h"
#include "cc/cc_pacer.h"
#include "core/rtc_bytes.h"
#include "rtp/twcc.h"
#include <math.h>

#define MAX_FLOWS 2
#define PKT 1200
#define MAX_SAMPLES 2000000

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
    rtc_time base_delay;                 /* one way */
    double (*clock)(void);               /* when set: seconds, to time the estimator */
    double fb_seconds; uint64_t fb_count;
} scenario;

static int tags[1];                      /* the pacer only needs a non-NULL handle */

static void sc_init_rtt(scenario *s, uint64_t seed, int nflows, double offered, rtc_time rtt)
{
    memset(s, 0, sizeof *s);
    s->base_delay = rtt / 2;
    s->net = vnet_new(seed);
    vnet_set_link(s->net, (vnet_link){ .delay = s->base_delay });
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
            if (s->sample && s->ndelay < MAX_SAMPLES) s->delay_ms[s->ndelay++] = (double)(now - sent - s->base_delay) / 1000.0;
        } else if (rtc_addr_eq(&p->to, &f->tx)) {
            rtc_rtcp_view v[4];
            int k = rtc_rtcp_parse_compound(p->data, p->len, v, 4);
            double t0 = s->clock ? s->clock() : 0;
            for (int j = 0; j < k; j++) rtc_cc_handle_twcc(f->cc, &v[j], now);
            if (s->clock && k > 0) { s->fb_seconds += s->clock() - t0; s->fb_count += (uint64_t)k; }
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

static inline double p95_delay(scenario *s)
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

static inline void sc_init(scenario *s, uint64_t seed, int nflows, double offered)
{
    sc_init_rtt(s, seed, nflows, offered, RTC_MS(50));
}

#endif
