/* Pacer: a leaky budget per burst over four priority FIFOs. */
#include "cc/cc_pacer.h"
#include "core/rtc_errors.h"
#include <stdlib.h>

/* A ring that starts empty and doubles up to `max` as packets queue: a connection whose
 * queues stay short (one that forwards a few streams) holds a few slots, not 4 x max. */
typedef struct pacer__fifo { rtc_cc_paced *a; size_t cap, max, head, n; } pacer__fifo;

struct rtc_cc_pacer {
    rtc_cc_pacer_config cfg;
    double rate_bps, padding_bps;
    double budget;               /* bytes; may go negative (debt) after a large packet */
    double padding_budget;
    rtc_time last;
    pacer__fifo q[RTC_CC_PADDING];          /* audio, rtx, video */
    pacer__fifo drops;
    size_t queued, queued_bytes;
    rtc_cc_probe_cluster probes[4];
    size_t nprobes;
    bool probe_active;
    size_t probe_bytes; int probe_packets;
    rtc_cc_pacer_stats stats;
};

static void fifo__init(pacer__fifo *f, size_t max) { *f = (pacer__fifo){ .max = max }; }
/* Room for one more (the caller keeps n below max). */
static int fifo__reserve(pacer__fifo *f)
{
    if (f->n < f->cap) return 0;
    size_t cap = f->cap ? f->cap * 2 : 16;
    if (cap > f->max) cap = f->max;
    rtc_cc_paced *a = malloc(cap * sizeof *a);
    if (!a) return RTC_ENOMEM;
    for (size_t i = 0; i < f->n; i++) a[i] = f->a[(f->head + i) % f->cap];
    free(f->a);
    f->a = a;
    f->cap = cap;
    f->head = 0;
    return 0;
}
static rtc_cc_paced *fifo__front(pacer__fifo *f) { return f->n ? &f->a[f->head] : NULL; }
static void fifo__push(pacer__fifo *f, const rtc_cc_paced *x) { f->a[(f->head + f->n++) % f->cap] = *x; }
static rtc_cc_paced fifo__pop(pacer__fifo *f)
{
    rtc_cc_paced x = f->a[f->head];
    f->head = (f->head + 1) % f->cap;
    f->n--;
    return x;
}

int rtc_cc_pacer_new(rtc_cc_pacer **out, const rtc_cc_pacer_config *cfg, rtc_time now)
{
    if (!out) return RTC_EINVAL;
    rtc_cc_pacer *p = calloc(1, sizeof *p);
    if (!p) return RTC_ENOMEM;
    if (cfg) p->cfg = *cfg;
    if (p->cfg.pacing_factor <= 0) p->cfg.pacing_factor = 2.5;
    if (p->cfg.burst <= 0) p->cfg.burst = RTC_MS(5);
    if (!p->cfg.max_packets) p->cfg.max_packets = 2048;
    if (p->cfg.max_delay <= 0) p->cfg.max_delay = RTC_SEC(1);
    if (!p->cfg.padding_size) p->cfg.padding_size = 1100;
    for (int k = 0; k < RTC_CC_PADDING; k++) fifo__init(&p->q[k], p->cfg.max_packets);
    fifo__init(&p->drops, p->cfg.max_packets);
    p->rate_bps = 2.5 * 300e3;
    p->last = now;
    *out = p;
    return 0;
}

void rtc_cc_pacer_free(rtc_cc_pacer *p, void (*free_cb)(void *pkt, void *ud), void *ud)
{
    if (!p) return;
    pacer__fifo *all[] = { &p->q[0], &p->q[1], &p->q[2], &p->drops };
    for (size_t i = 0; i < 4; i++) {
        while (all[i]->a && all[i]->n) { rtc_cc_paced x = fifo__pop(all[i]); if (free_cb && x.pkt) free_cb(x.pkt, ud); }
        free(all[i]->a);
    }
    free(p);
}

void rtc_cc_pacer_set_estimate(rtc_cc_pacer *p, double bps) { p->rate_bps = p->cfg.pacing_factor * (bps > 0 ? bps : 0); }
void rtc_cc_pacer_set_padding(rtc_cc_pacer *p, double bps) { p->padding_bps = bps > 0 ? bps : 0; }

int rtc_cc_pacer_add_probe(rtc_cc_pacer *p, const rtc_cc_probe_cluster *c)
{
    if (p->nprobes == 4) return RTC_EAGAIN;
    if (!c || c->bps <= 0) return RTC_EINVAL;
    p->probes[p->nprobes++] = *c;
    return 0;
}

static double pacer__rate(const rtc_cc_pacer *p) { return p->nprobes ? p->probes[0].bps : p->rate_bps; }

/* A probe's budget holds about one packet so its packets are spread at its rate, which
 * is what the probe result estimator measures. */
static double pacer__cap(const rtc_cc_pacer *p)
{
    double r = pacer__rate(p);
    double cap = p->nprobes ? r * 1e-3 / 8 : r * (double)p->cfg.burst / 8e6;
    return cap < 1200 ? 1200 : cap;
}

static void pacer__advance(rtc_cc_pacer *p, rtc_time now)
{
    if (now <= p->last) return;
    double dt = (double)(now - p->last);
    p->budget += pacer__rate(p) * dt / 8e6;
    double cap = pacer__cap(p);
    if (p->budget > cap) p->budget = cap;
    p->padding_budget += p->padding_bps * dt / 8e6;
    double pcap = p->padding_bps * (double)p->cfg.burst / 8e6;
    if (p->padding_budget > pcap) p->padding_budget = pcap;
    p->last = now;
}

static int pacer__drop_one(rtc_cc_pacer *p, pacer__fifo *f)
{
    if (fifo__reserve(&p->drops) < 0) return RTC_ENOMEM;
    rtc_cc_paced x = fifo__pop(f);
    p->queued--;
    p->queued_bytes -= x.size;
    p->stats.dropped_packets++;
    p->stats.dropped_bytes += x.size;
    fifo__push(&p->drops, &x);
    return 0;
}

/* The video queue ages first: a retransmission is of a packet the receiver is
 * waiting for, a new video packet of a frame that may be skipped. */
static void pacer__enforce_delay(rtc_cc_pacer *p, rtc_time now)
{
    for (int k = RTC_CC_VIDEO; k >= RTC_CC_RTX; k--) {
        rtc_cc_paced *f;
        while ((f = fifo__front(&p->q[k])) && now - f->enqueued > p->cfg.max_delay && p->drops.n < p->drops.max)
            if (pacer__drop_one(p, &p->q[k]) < 0) return;
    }
}

int rtc_cc_pacer_enqueue(rtc_cc_pacer *p, const rtc_cc_paced *pk, rtc_time now)
{
    if (!pk || pk->kind >= RTC_CC_PADDING || !pk->pkt) return RTC_EINVAL;
    if (now < p->last) now = p->last;
    pacer__advance(p, now);
    pacer__enforce_delay(p, now);
    if (p->queued >= p->cfg.max_packets) {
        /* Make room from the lowest class that is lower than or equal to this one. */
        int victim = -1;
        for (int k = RTC_CC_VIDEO; k >= (int)pk->kind && k >= RTC_CC_RTX; k--)
            if (p->q[k].n) { victim = k; break; }
        if (victim < 0 || p->drops.n == p->drops.max) { p->stats.rejected++; return RTC_EQUOTA; }
        int rc = pacer__drop_one(p, &p->q[victim]);
        if (rc < 0) return rc;
    }
    if (fifo__reserve(&p->q[pk->kind]) < 0) return RTC_ENOMEM;
    rtc_cc_paced x = *pk;
    x.enqueued = now;
    x.probe_cluster = -1;
    fifo__push(&p->q[pk->kind], &x);
    p->queued++;
    p->queued_bytes += pk->size;
    return 0;
}

static void pacer__account(rtc_cc_pacer *p, rtc_cc_paced *out)
{
    p->budget -= (double)out->size;
    double floor = -pacer__cap(p) * 4;        /* one huge packet must not stall us for long */
    if (p->budget < floor) p->budget = floor;
    out->probe_cluster = -1;
    if (p->nprobes) {
        rtc_cc_probe_cluster *c = &p->probes[0];
        out->probe_cluster = c->id;
        p->probe_bytes += out->size;
        p->probe_packets++;
        p->stats.probe_bytes += out->size;
        if (p->probe_bytes >= c->min_bytes && p->probe_packets >= c->min_packets) {
            for (size_t i = 1; i < p->nprobes; i++) p->probes[i - 1] = p->probes[i];
            p->nprobes--;
            p->probe_bytes = 0;
            p->probe_packets = 0;
            if (p->budget > pacer__cap(p)) p->budget = pacer__cap(p);
        }
    }
    p->stats.sent_packets++;
    p->stats.sent_bytes += out->size;
}

bool rtc_cc_pacer_poll_send(rtc_cc_pacer *p, rtc_time now, rtc_cc_paced *out)
{
    if (now < p->last) now = p->last;
    pacer__advance(p, now);
    pacer__enforce_delay(p, now);
    if (p->q[RTC_CC_AUDIO].n) {
        *out = fifo__pop(&p->q[RTC_CC_AUDIO]);
        p->queued--;
        p->queued_bytes -= out->size;
        pacer__account(p, out);
        return true;
    }
    if (p->budget <= 0) return false;
    for (int k = RTC_CC_RTX; k <= RTC_CC_VIDEO; k++) {
        if (!p->q[k].n) continue;
        *out = fifo__pop(&p->q[k]);
        p->queued--;
        p->queued_bytes -= out->size;
        pacer__account(p, out);
        return true;
    }
    if (p->nprobes) {
        *out = (rtc_cc_paced){ NULL, p->cfg.padding_size, RTC_CC_PADDING, -1, now };
    } else if (p->padding_bps > 0 && p->padding_budget > 0) {
        *out = (rtc_cc_paced){ NULL, p->cfg.padding_size, RTC_CC_PADDING, -1, now };
        p->padding_budget -= (double)out->size;
    } else {
        return false;
    }
    pacer__account(p, out);
    p->stats.padding_packets++;
    p->stats.padding_bytes += out->size;
    return true;
}

bool rtc_cc_pacer_poll_drop(rtc_cc_pacer *p, rtc_cc_paced *out)
{
    if (!p->drops.n) return false;
    *out = fifo__pop(&p->drops);
    return true;
}

rtc_time rtc_cc_pacer_poll_timeout(const rtc_cc_pacer *p)
{
    if (p->q[RTC_CC_AUDIO].n || p->drops.n) return p->last;
    bool media = p->q[RTC_CC_RTX].n || p->q[RTC_CC_VIDEO].n;
    double rate = pacer__rate(p);
    if (media || p->nprobes) {
        if (p->budget > 0) return p->last;
        if (rate <= 0) return RTC_TIME_NEVER;
        return p->last + (rtc_time)((-p->budget + 1) * 8e6 / rate) + 1;
    }
    if (p->padding_bps > 0) {
        if (p->padding_budget > 0 && p->budget > 0) return p->last;
        double need = p->padding_budget > 0 ? -p->budget : -p->padding_budget;
        double r = p->padding_budget > 0 ? rate : p->padding_bps;
        return p->last + (rtc_time)((need + 1) * 8e6 / (r > 0 ? r : 1)) + 1;
    }
    return RTC_TIME_NEVER;
}

void rtc_cc_pacer_get_stats(const rtc_cc_pacer *p, rtc_cc_pacer_stats *out)
{
    *out = p->stats;
    out->queued_packets = p->queued;
    out->queued_bytes = p->queued_bytes;
    out->oldest_wait = 0;
    for (int k = 0; k < RTC_CC_PADDING; k++) {
        const rtc_cc_paced *f = p->q[k].n ? &p->q[k].a[p->q[k].head] : NULL;
        if (f && p->last - f->enqueued > out->oldest_wait) out->oldest_wait = p->last - f->enqueued;
    }
}
