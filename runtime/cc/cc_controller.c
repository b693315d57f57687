/* Send-side bandwidth estimation: the history, both GCC controllers, REMB, probing. */
#include "cc/cc_controller.h"
#include "cc/cc_acked_rate.h"
#include "cc/cc_alr.h"
#include "cc/gcc_delay.h"
#include "cc/gcc_loss.h"
#include "core/rtc_errors.h"
#include <stdlib.h>

#define TICK RTC_MS(100)
#define EVENT_CHANGE 0.05        /* "moved by more than a few percent" */
#define MAX_RECORDS 2048

struct rtc_cc {
    rtc_cc_config cfg;
    rtc_cc_send_history *hist;
    rtc_gcc_delay delay;
    rtc_gcc_loss loss;
    rtc_cc_acked_rate acked;
    rtc_cc_alr alr;
    rtc_cc_probe_controller probe;
    rtc_cc_probe_estimator probe_est;
    bool have_twcc;
    bool have_loss_reports;      /* rtc_cc_handle_loss_report has been called */
    double remb_bps, probe_bps, target;
    double reported;             /* target of the last event; 0 before the first */
    bool event_due;
    rtc_time rtt, last_tick, now;
    rtc_cc_stats stats;
    rtc_cc_packet *rec;          /* one feedback's records; grows with the history's ring */
    size_t rec_cap;
};

int rtc_cc_new(rtc_cc **out, const rtc_cc_config *cfg, rtc_time now)
{
    if (!out) return RTC_EINVAL;
    rtc_cc *c = calloc(1, sizeof *c);
    if (!c) return RTC_ENOMEM;
    if (cfg) c->cfg = *cfg;
    else c->cfg.probing = true;
    if (c->cfg.start_bps <= 0) c->cfg.start_bps = 300e3;
    if (c->cfg.min_bps <= 0) c->cfg.min_bps = 30e3;
    if (c->cfg.max_bps <= 0) c->cfg.max_bps = 20e6;
    if (c->cfg.min_bps > c->cfg.max_bps) c->cfg.min_bps = c->cfg.max_bps;
    if (c->cfg.start_bps > c->cfg.max_bps) c->cfg.start_bps = c->cfg.max_bps;
    int rc = rtc_cc_send_history_new(&c->hist, 0);
    if (rc < 0) { free(c); return rc; }
    rtc_gcc_delay_init(&c->delay, c->cfg.start_bps, c->cfg.min_bps, c->cfg.max_bps);
    rtc_gcc_loss_init(&c->loss, c->cfg.start_bps, c->cfg.min_bps, c->cfg.max_bps);
    rtc_cc_acked_rate_init(&c->acked);
    rtc_cc_alr_init(&c->alr);
    rtc_cc_probe_init(&c->probe, c->cfg.max_bps);
    rtc_cc_probe_estimator_init(&c->probe_est);
    c->target = c->cfg.start_bps;
    rtc_cc_alr_set_estimate(&c->alr, c->target);
    c->rtt = RTC_MS(100);
    c->last_tick = c->now = now;
    c->event_due = true;                 /* the start rate is the first estimate */
    if (c->cfg.probing) rtc_cc_probe_start(&c->probe, c->cfg.start_bps, now);
    *out = c;
    return 0;
}

void rtc_cc_free(rtc_cc *c)
{
    if (!c) return;
    rtc_cc_send_history_free(c->hist);
    free(c->rec);
    rtc_cc_acked_rate_free(&c->acked);
    free(c);
}

static rtc_time cc__clamp_now(rtc_cc *c, rtc_time now)
{
    if (now < c->now) now = c->now;
    c->now = now;
    return now;
}

/* Recompute the target from its parts and decide whether it is news. */
static void cc__update_target(rtc_cc *c, rtc_time now)
{
    double t = c->loss.bitrate;
    if (c->have_twcc && c->delay.aimd.bitrate < t) t = c->delay.aimd.bitrate;
    if (c->remb_bps > 0 && c->remb_bps < t) t = c->remb_bps;
    if (t > c->cfg.max_bps) t = c->cfg.max_bps;
    if (t < c->cfg.min_bps) t = c->cfg.min_bps;
    c->target = t;
    /* The loss side never strays far above the delay side, or a loss burst would
     * have seconds of headroom to cut through before it showed. */
    if (c->have_twcc && c->loss.bitrate > 1.2 * c->delay.aimd.bitrate) rtc_gcc_loss_set(&c->loss, 1.2 * c->delay.aimd.bitrate);
    rtc_cc_alr_set_estimate(&c->alr, t);
    bool alr = rtc_cc_alr_update(&c->alr, now);
    if (c->cfg.probing)
        rtc_cc_probe_on_estimate(&c->probe, t, alr, c->delay.usage == RTC_GCC_NORMAL, now);
    if (c->reported <= 0 || t > c->reported * (1 + EVENT_CHANGE) || t < c->reported * (1 - EVENT_CHANGE))
        c->event_due = true;
}

int64_t rtc_cc_on_sent(rtc_cc *c, size_t size, int probe_cluster, bool padding, rtc_time now)
{
    now = cc__clamp_now(c, now);
    if (!padding) rtc_cc_alr_on_sent(&c->alr, size, now);
    return rtc_cc_send_history_add(c->hist, size, probe_cluster, now);
}

int64_t rtc_cc_on_sent_wire(rtc_cc *c, uint16_t seq, size_t size, int probe_cluster, bool padding, rtc_time now)
{
    now = cc__clamp_now(c, now);
    if (!padding) rtc_cc_alr_on_sent(&c->alr, size, now);
    return rtc_cc_send_history_add_wire(c->hist, seq, size, probe_cluster, now);
}

int rtc_cc_handle_twcc(rtc_cc *c, const rtc_rtcp_view *v, rtc_time now)
{
    now = cc__clamp_now(c, now);
    /* A feedback reports each remembered packet at most once: as many records as slots. */
    size_t want = rtc_cc_send_history_slots(c->hist);
    if (want > MAX_RECORDS) want = MAX_RECORDS;
    if (c->rec_cap < want) {
        rtc_cc_packet *r = realloc(c->rec, want * sizeof *r);
        if (!r) return RTC_ENOMEM;
        c->rec = r;
        c->rec_cap = want;
    }
    int n = rtc_cc_send_history_handle_feedback(c->hist, v, c->rec, c->rec_cap);
    if (n < 0) { c->stats.feedback_errors++; return n; }
    c->stats.feedback++;
    c->have_twcc = true;
    uint32_t lost = 0;
    double probe = 0, newest = 0;
    int newest_id = -1;
    for (int i = 0; i < n; i++) {
        const rtc_cc_packet *p = &c->rec[i];
        if (p->arrival == RTC_TIME_NEVER) { lost++; continue; }
        rtc_cc_acked_rate_add(&c->acked, p->arrival, p->size);
        int id;
        double r = rtc_cc_probe_estimator_update(&c->probe_est, p, now, &id);
        if (r > probe) probe = r;
        if (r > 0 && id >= newest_id) { newest_id = id; newest = r; }
    }
    c->stats.packets_reported += (uint64_t)n;
    c->stats.packets_lost += lost;
    double acked = rtc_cc_acked_rate_bps(&c->acked);
    rtc_gcc_delay_update(&c->delay, c->rec, (size_t)n, acked, c->rtt, now);
    if (probe > 0) {
        c->stats.probe_results++;
        c->probe_bps = probe;
        /* A probe that got through is a better guess than a slow ramp, unless the
         * detector is seeing a queue right now. */
        if (c->delay.usage != RTC_GCC_OVERUSE && probe > c->delay.aimd.bitrate) {
            rtc_gcc_aimd_set(&c->delay.aimd, probe, now);
            if (c->loss.bitrate < probe) rtc_gcc_loss_set(&c->loss, probe);
        }
        if (c->cfg.probing) rtc_cc_probe_on_result(&c->probe, newest_id, newest, now);
    }
    if (n > 0) rtc_gcc_loss_update(&c->loss, lost, (uint32_t)n, c->rtt, now);
    cc__update_target(c, now);
    return 0;
}

void rtc_cc_handle_remb(rtc_cc *c, double bps, rtc_time now)
{
    now = cc__clamp_now(c, now);
    c->remb_bps = bps > 0 ? bps : 0;
    /* Without TWCC the loss side is all we have besides REMB: let it start near it.
     * With no loss reports feeding it either, it would stay at the lowest REMB ever
     * seen and hold the target there while the REMB climbs: it follows REMB instead. */
    if (!c->have_twcc && c->remb_bps > 0 && (c->loss.bitrate > c->remb_bps || !c->have_loss_reports))
        rtc_gcc_loss_set(&c->loss, c->remb_bps);
    cc__update_target(c, now);
}

void rtc_cc_handle_loss_report(rtc_cc *c, uint8_t fraction_lost, uint32_t packets, rtc_time now)
{
    now = cc__clamp_now(c, now);
    if (c->have_twcc) return;
    c->have_loss_reports = true;
    if (packets < 1) packets = 1;
    uint32_t lost = (uint32_t)((uint64_t)fraction_lost * packets / 256);
    rtc_gcc_loss_update(&c->loss, lost, packets, c->rtt, now);
    cc__update_target(c, now);
}

void rtc_cc_set_rtt(rtc_cc *c, rtc_time rtt) { if (rtt > 0) c->rtt = rtt; }

void rtc_cc_set_max_bitrate(rtc_cc *c, double bps, rtc_time now)
{
    now = cc__clamp_now(c, now);
    c->cfg.max_bps = bps > 0 ? bps : 20e6;
    if (c->cfg.min_bps > c->cfg.max_bps) c->cfg.min_bps = c->cfg.max_bps;
    c->delay.aimd.max_bitrate = c->loss.max_bitrate = c->cfg.max_bps;
    c->delay.aimd.min_bitrate = c->loss.min_bitrate = c->cfg.min_bps;
    if (c->delay.aimd.bitrate > c->cfg.max_bps) c->delay.aimd.bitrate = c->cfg.max_bps;
    if (c->loss.bitrate > c->cfg.max_bps) c->loss.bitrate = c->cfg.max_bps;
    rtc_cc_probe_set_max(&c->probe, c->cfg.max_bps);
    cc__update_target(c, now);
}

void rtc_cc_handle_timeout(rtc_cc *c, rtc_time now)
{
    now = cc__clamp_now(c, now);
    if (now - c->last_tick < TICK) return;
    c->last_tick = now;
    cc__update_target(c, now);       /* ALR and probe timers advance here */
}

bool rtc_cc_poll_probe(rtc_cc *c, rtc_cc_probe_cluster *out)
{
    if (!rtc_cc_probe_poll(&c->probe, out)) return false;
    rtc_cc_probe_estimator_add(&c->probe_est, out, c->now);
    c->stats.probes_sent++;
    return true;
}

bool rtc_cc_poll_event(rtc_cc *c, rtc_cc_estimate *out)
{
    if (!c->event_due) return false;
    c->event_due = false;
    c->reported = c->target;
    rtc_cc_get_estimate(c, out);
    return true;
}

rtc_time rtc_cc_poll_timeout(const rtc_cc *c)
{
    if (c->event_due || c->probe.npending) return c->now;
    return c->last_tick + TICK;
}

double rtc_cc_target_bps(const rtc_cc *c) { return c->target; }

void rtc_cc_get_estimate(const rtc_cc *c, rtc_cc_estimate *out)
{
    *out = (rtc_cc_estimate){
        .bps = c->target, .delay_bps = c->have_twcc ? c->delay.aimd.bitrate : 0,
        .loss_bps = c->loss.bitrate, .remb_bps = c->remb_bps, .probe_bps = c->probe_bps,
        .acked_bps = rtc_cc_acked_rate_bps(&c->acked), .loss_fraction = c->loss.last_fraction,
        .usage = rtc_gcc_usage_name(c->delay.usage), .state = rtc_gcc_rate_state_name(c->delay.aimd.state),
        .alr = c->alr.in_alr,
    };
}

void rtc_cc_get_stats(const rtc_cc *c, rtc_cc_stats *out) { *out = c->stats; }
