/* Probe result estimator: what a probe cluster's packets say the path carried. */
#include "cc/cc_probe.h"

#define TRACK_LIFETIME RTC_SEC(2)

void rtc_cc_probe_estimator_init(rtc_cc_probe_estimator *e)
{
    for (size_t i = 0; i < RTC_CC_PROBE_TRACKED; i++) e->t[i].id = -1;
}

void rtc_cc_probe_estimator_add(rtc_cc_probe_estimator *e, const rtc_cc_probe_cluster *c, rtc_time now)
{
    rtc_cc_probe_track *slot = &e->t[0];
    for (size_t i = 0; i < RTC_CC_PROBE_TRACKED; i++) {       /* a free slot, else the oldest */
        if (e->t[i].id < 0) { slot = &e->t[i]; break; }
        if (e->t[i].created < slot->created) slot = &e->t[i];
    }
    *slot = (rtc_cc_probe_track){ .id = c->id, .target_bps = c->bps, .min_bytes = c->min_bytes,
                                  .min_packets = c->min_packets, .created = now };
}

double rtc_cc_probe_estimator_update(rtc_cc_probe_estimator *e, const rtc_cc_packet *p, rtc_time now, int *cluster)
{
    *cluster = p->probe_cluster;
    if (p->probe_cluster < 0 || p->arrival == RTC_TIME_NEVER) return 0;
    rtc_cc_probe_track *t = NULL;
    for (size_t i = 0; i < RTC_CC_PROBE_TRACKED; i++) {
        if (e->t[i].id >= 0 && now - e->t[i].created > TRACK_LIFETIME) e->t[i].id = -1;
        if (e->t[i].id == p->probe_cluster) t = &e->t[i];
    }
    if (!t) return 0;
    if (t->count == 0) {
        t->first_send = t->last_send = p->sent;
        t->first_recv = t->last_recv = p->arrival;
        t->first_recv_size = t->last_send_size = p->size;
    }
    if (p->sent < t->first_send) t->first_send = p->sent;
    if (p->sent >= t->last_send) { t->last_send = p->sent; t->last_send_size = p->size; }
    if (p->arrival < t->first_recv) { t->first_recv = p->arrival; t->first_recv_size = p->size; }
    if (p->arrival > t->last_recv) t->last_recv = p->arrival;
    t->count++;
    t->bytes += p->size;
    /* 80% of the cluster is enough: a lost packet or two must not void the probe. */
    if (t->count * 5 < t->min_packets * 4 || t->bytes * 5 < t->min_bytes * 4) return 0;
    rtc_time send_iv = t->last_send - t->first_send, recv_iv = t->last_recv - t->first_recv;
    if (send_iv <= 0 || send_iv > RTC_SEC(1) || recv_iv <= 0 || recv_iv > RTC_SEC(1)) return 0;
    /* The last packet sent took no send time, the first received no receive time. */
    double send_bps = (double)(t->bytes - t->last_send_size) * 8e6 / (double)send_iv;
    double recv_bps = (double)(t->bytes - t->first_recv_size) * 8e6 / (double)recv_iv;
    if (recv_bps > 2 * send_bps) return 0;              /* arrival compressed by a queue: no signal */
    double res = send_bps < recv_bps ? send_bps : recv_bps;
    if (recv_bps < 0.9 * send_bps) res = 0.95 * recv_bps; /* the path saturated below the probe */
    return res;
}
