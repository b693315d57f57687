/* The router: owns producers and consumers, fans a packet out lazily (one pending
 * packet and a cursor, rewritten per consumer inside poll_transmit), queues the rare
 * outputs (RTCP, NACK answers), and dispatches RTCP from each leg. */
#include "sfu/sfu_internal.h"
#include "sfu/sfu_speaker.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

typedef struct fanout { rtc_sfu_producer *p; rtc_sfu_packet pk; size_t cursor; } fanout;

struct rtc_sfu_router {
    rtc_sfu_router_config cfg;
    rtc_sfu_producer *producers;
    rtc_sfu_consumer *consumers;
    uint32_t next_gen;
    fanout *fo; size_t fo_head, fo_count, fo_cap;
    rtc_sfu_transmit *q; size_t q_head, q_count, q_cap;
    rtc_sfu_event ev[64]; size_t ev_head, ev_count;
    sfu_timers ctimers;          /* consumers by deadline: a wake-up touches only the due ones */
    rtc_time next;
    rtc_sfu_speaker *speakers;   /* active speaker observers (sfu_speaker.c) */
};

rtc_sfu_speaker **sfu__router_speakers(rtc_sfu_router *r) { return &r->speakers; }

int64_t sfu__unix_offset(const rtc_sfu_router *r) { return r->cfg.unix_offset_us; }
rtc_pool *sfu__pool(const rtc_sfu_router *r) { return r->cfg.pool; }
void sfu__lower_timeout(rtc_sfu_router *r, rtc_time t) { if (t < r->next) r->next = t; }

int rtc_sfu_router_new(rtc_sfu_router **out, const rtc_sfu_router_config *cfg, rtc_time now)
{
    rtc_sfu_router *r = calloc(1, sizeof *r);
    if (!r) return RTC_ENOMEM;
    if (cfg) r->cfg = *cfg;
    r->next = RTC_TIME_NEVER;
    *out = r;
    return 0;
}

void rtc_sfu_router_free(rtc_sfu_router *r)
{
    if (!r) return;
    rtc_sfu_transmit t;
    while (rtc_sfu_router_poll_transmit(r, &t)) rtc_sfu_transmit_release(&t);
    while (r->consumers) rtc_sfu_router_remove_consumer(r, r->consumers);
    while (r->producers) rtc_sfu_router_remove_producer(r, r->producers);
    while (r->speakers) rtc_sfu_router_remove_speaker(r, r->speakers);
    sfu_timers_free(&r->ctimers);
    free(r->fo);
    free(r->q);
    free(r);
}

int sfu__queue(rtc_sfu_router *r, const rtc_sfu_transmit *t)
{
    if (r->q_count == r->q_cap) {
        size_t n = r->q_cap ? r->q_cap * 2 : 16;
        rtc_sfu_transmit *a = malloc(n * sizeof *a);
        if (!a) { rtc_buf_unref(t->pkt); return RTC_ENOMEM; }
        for (size_t i = 0; i < r->q_count; i++) a[i] = r->q[(r->q_head + i) % r->q_cap];
        free(r->q);
        r->q = a; r->q_cap = n; r->q_head = 0;
    }
    r->q[(r->q_head + r->q_count++) % r->q_cap] = *t;
    return 0;
}

int sfu__queue_rtcp(rtc_sfu_router *r, rtc_sfu_producer *p, rtc_sfu_consumer *c, const uint8_t *d, size_t n)
{
    rtc_buf *b = rtc_buf_alloc(r->cfg.pool, n);
    if (!b) return RTC_ENOMEM;
    memcpy(b->data, d, n);
    b->len = n;
    rtc_sfu_transmit t = { .kind = RTC_SFU_TX_RTCP, .producer = p, .consumer = c,
                           .user = p ? p->cfg.user : c->cfg.user, .pkt = b, .len = n };
    return sfu__queue(r, &t);
}

void sfu__event(rtc_sfu_router *r, rtc_sfu_event_type type, rtc_sfu_producer *p, rtc_sfu_consumer *c)
{
    if (r->ev_count == 64) return;                     /* events are hints; a full queue drops the newest */
    r->ev[(r->ev_head + r->ev_count++) % 64] = (rtc_sfu_event){ type, p, c, p ? p->cfg.user : c->cfg.user, 0, 0, 0, NULL };
}

void sfu__layer_event(rtc_sfu_router *r, rtc_sfu_consumer *c, int spatial, int temporal, int why)
{
    /* A newer change of the same consumer replaces one not yet polled: the last word counts. */
    for (size_t i = 0; i < r->ev_count; i++) {
        rtc_sfu_event *ev = &r->ev[(r->ev_head + i) % 64];
        if (ev->type == RTC_SFU_EV_LAYER_CHANGE && ev->consumer == c) ev->type = 0;
    }
    if (r->ev_count == 64) return;
    r->ev[(r->ev_head + r->ev_count++) % 64] =
        (rtc_sfu_event){ RTC_SFU_EV_LAYER_CHANGE, NULL, c, c->cfg.user, spatial, temporal, why, NULL };
}

void sfu__rearm_consumer(rtc_sfu_router *r, rtc_sfu_consumer *c)
{
    rtc_time at = sfu__consumer_next(c);
    sfu_timers_set(&r->ctimers, &c->timer, at);
    sfu__lower_timeout(r, at);
}

void sfu__event_speaker(rtc_sfu_router *r, rtc_sfu_event_type type, rtc_sfu_speaker *s, rtc_sfu_producer *p, void *user)
{
    if (r->ev_count == 64) return;
    r->ev[(r->ev_head + r->ev_count++) % 64] = (rtc_sfu_event){ type, p, NULL, user, 0, 0, 0, s };
}

void sfu__drop_speaker_events(rtc_sfu_router *r, const rtc_sfu_speaker *s)
{
    for (size_t i = 0; i < r->ev_count; i++) {
        rtc_sfu_event *ev = &r->ev[(r->ev_head + i) % 64];
        if (ev->speaker == s) ev->type = 0;
    }
}

int rtc_sfu_router_add_producer(rtc_sfu_router *r, const rtc_sfu_producer_config *cfg,
                                rtc_sfu_producer **out, rtc_time now)
{
    rtc_sfu_producer *p;
    int e = sfu__producer_new(r, cfg, &p, now);
    if (e < 0) return e;
    p->gen = ++r->next_gen;
    p->next_p = r->producers;
    r->producers = p;
    sfu__lower_timeout(r, sfu__producer_next(p));
    *out = p;
    return 0;
}

void rtc_sfu_router_remove_producer(rtc_sfu_router *r, rtc_sfu_producer *p)
{
    if (!p) return;
    sfu__speaker_forget(p);
    for (rtc_sfu_producer **pp = &r->producers; *pp; pp = &(*pp)->next_p)
        if (*pp == p) { *pp = p->next_p; break; }
    for (size_t i = 0; i < p->ncons; i++) {
        rtc_sfu_consumer *c = p->cons[i];
        sfu__layers_forget(c, p);
        if (c->source == p) { c->source = NULL; c->need_restart = true; c->waiting_keyframe = c->video; }
    }
    for (size_t i = 0; i < r->fo_count; i++) {
        fanout *f = &r->fo[(r->fo_head + i) % r->fo_cap];
        if (f->p == p) f->p = NULL;                    /* skipped by poll; its ref dropped there */
    }
    for (size_t i = 0; i < r->q_count; i++) {
        rtc_sfu_transmit *t = &r->q[(r->q_head + i) % r->q_cap];
        if (t->producer == p) { t->producer = NULL; t->kind = 0; }
    }
    for (size_t i = 0; i < r->ev_count; i++) {
        rtc_sfu_event *ev = &r->ev[(r->ev_head + i) % 64];
        if (ev->producer == p) ev->type = 0;
    }
    sfu__producer_free(p);
}

int rtc_sfu_router_add_consumer(rtc_sfu_router *r, const rtc_sfu_consumer_config *cfg,
                                rtc_sfu_producer *src, rtc_sfu_consumer **out, rtc_time now)
{
    if (src && (src->cfg.codec != cfg->codec || (cfg->clock_rate && cfg->clock_rate != src->cfg.clock_rate)))
        return RTC_ENOTSUP;
    rtc_sfu_consumer *c = calloc(1, sizeof *c);
    if (!c) return RTC_ENOMEM;
    c->router = r;
    int e = sfu__consumer_init(c, cfg, src, now);
    if (e < 0) { free(c); return e; }
    if ((e = sfu_timers_add(&r->ctimers, &c->timer, sfu__consumer_next(c))) < 0) { free(c); return e; }
    if (src && (e = sfu__producer_attach(src, c)) < 0) { sfu_timers_remove(&r->ctimers, &c->timer); free(c); return e; }
    c->source = src;
    c->source_gen = src ? src->gen : 0;
    c->next_c = r->consumers;
    r->consumers = c;
    if (src && c->video && !c->paused) sfu__producer_want_keyframe(src, now);
    sfu__lower_timeout(r, sfu__consumer_next(c));
    *out = c;
    return 0;
}

/* Take c off p's list, keeping the cursors of pending fan-outs of p on the right consumer. */
void sfu__router_detach(rtc_sfu_router *r, rtc_sfu_producer *p, rtc_sfu_consumer *c)
{
    for (size_t i = 0; i < r->fo_count; i++) {
        fanout *f = &r->fo[(r->fo_head + i) % r->fo_cap];
        if (f->p != p) continue;
        for (size_t k = 0; k < f->cursor && k < p->ncons; k++)
            if (p->cons[k] == c) { f->cursor--; break; }
    }
    sfu__producer_detach(p, c);
}

void rtc_sfu_router_remove_consumer(rtc_sfu_router *r, rtc_sfu_consumer *c)
{
    if (!c) return;
    for (rtc_sfu_consumer **pp = &r->consumers; *pp; pp = &(*pp)->next_c)
        if (*pp == c) { *pp = c->next_c; break; }
    sfu_timers_remove(&r->ctimers, &c->timer);
    if (c->source) sfu__router_detach(r, c->source, c);
    for (int i = 0; i < c->nlayers; i++)
        if (c->layer[i] && c->layer[i] != c->source) sfu__router_detach(r, c->layer[i], c);
    for (size_t i = 0; i < r->q_count; i++) {
        rtc_sfu_transmit *t = &r->q[(r->q_head + i) % r->q_cap];
        if (t->consumer == c) { t->consumer = NULL; t->kind = 0; }
    }
    for (size_t i = 0; i < r->ev_count; i++) {
        rtc_sfu_event *ev = &r->ev[(r->ev_head + i) % 64];
        if (ev->consumer == c) ev->type = 0;
    }
    free(c);
}

int rtc_sfu_consumer_set_source(rtc_sfu_consumer *c, rtc_sfu_producer *p, rtc_time now)
{
    if (p && (p->cfg.codec != c->cfg.codec || p->cfg.clock_rate != c->cfg.clock_rate)) return RTC_ENOTSUP;
    if (c->nlayers) {
        /* One source from now on: the layer set goes (p may be one of it). */
        int e = rtc_sfu_consumer_set_layers(c, NULL, 0, now);
        if (e < 0) return e;
    }
    if (p == c->source) return 0;
    if (p) { int e = sfu__producer_attach(p, c); if (e < 0) return e; }
    if (c->source) sfu__router_detach(c->router, c->source, c);
    c->source = p;
    c->source_gen = p ? p->gen : 0;
    c->need_restart = true;
    c->waiting_keyframe = c->video;
    if (p && c->video && !c->paused) sfu__producer_want_keyframe(p, now);
    return 0;
}

int rtc_sfu_router_handle_rtp(rtc_sfu_router *r, rtc_sfu_producer *p, rtc_buf *pkt, rtc_time now)
{
    rtc_sfu_packet pk;
    int e = sfu__producer_take_rtp(p, pkt, &pk, now);
    if (e < 0) return e;
    if (!p->ncons) return 0;
    if (r->fo_count == r->fo_cap) {
        size_t n = r->fo_cap ? r->fo_cap * 2 : 4;
        fanout *a = malloc(n * sizeof *a);
        if (!a) return RTC_ENOMEM;
        for (size_t i = 0; i < r->fo_count; i++) a[i] = r->fo[(r->fo_head + i) % r->fo_cap];
        free(r->fo);
        r->fo = a; r->fo_cap = n; r->fo_head = 0;
    }
    rtc_buf_ref(pk.buf);
    r->fo[(r->fo_head + r->fo_count++) % r->fo_cap] = (fanout){ p, pk, 0 };
    return 0;
}

int rtc_sfu_router_handle_producer_rtcp(rtc_sfu_router *r, rtc_sfu_producer *p,
                                        const uint8_t *data, size_t len, rtc_time now)
{
    rtc_rtcp_view v[16];
    int n = rtc_rtcp_parse_compound(data, len, v, 16);
    if (n < 0) return n;
    for (int i = 0; i < n; i++) {
        if (v[i].pt == RTC_RTCP_SR) {
            rtc_rtcp_sr sr;
            if (rtc_rtcp_read_sr(&v[i], &sr) < 0 || sr.ssrc != p->cfg.ssrc) continue;
            p->have_sr = true;
            p->sr_ntp = sr.ntp; p->sr_rtp = sr.rtp_ts; p->sr_at = now;
            rtc_rtp_recv_stats_on_sr(&p->rs, sr.ntp, now);
            p->st.srs_received++;
        } else if (v[i].pt == RTC_RTCP_BYE) {
            rtc_rtcp_bye bye;
            if (rtc_rtcp_read_bye(&v[i], &bye) < 0) continue;
            for (int k = 0; k < bye.count; k++)
                if (bye.ssrc[k] == p->cfg.ssrc) sfu__event(r, RTC_SFU_EV_PRODUCER_BYE, p, NULL);
        }
    }
    return 0;
}

int rtc_sfu_router_handle_consumer_rtcp(rtc_sfu_router *r, rtc_sfu_consumer *c,
                                        const uint8_t *data, size_t len, rtc_time now)
{
    rtc_rtcp_view v[16];
    int n = rtc_rtcp_parse_compound(data, len, v, 16);
    if (n < 0) { c->st.malformed_rtcp++; return n; }
    for (int i = 0; i < n; i++) {
        uint32_t sender, media;
        if (v[i].pt == RTC_RTCP_RR || v[i].pt == RTC_RTCP_SR) {
            rtc_rtcp_rr rr;
            rtc_rtcp_sr sr;
            const rtc_rtcp_report_block *rb = NULL; int cnt = 0;
            if (v[i].pt == RTC_RTCP_RR && rtc_rtcp_read_rr(&v[i], &rr) == 0) { rb = rr.rb; cnt = rr.rb_count; }
            if (v[i].pt == RTC_RTCP_SR && rtc_rtcp_read_sr(&v[i], &sr) == 0) { rb = sr.rb; cnt = sr.rb_count; }
            for (int k = 0; k < cnt; k++) {
                if (rb[k].ssrc != c->cfg.ssrc) continue;
                c->st.rrs_received++;
                c->st.fraction_lost = rb[k].fraction_lost;
                int64_t rtt = rtc_rtp_send_stats_rtt(&c->ss, &rb[k], now);
                if (rtt >= 0) c->st.rtt = rtt;
            }
            continue;                                  /* ends here: never forwarded upstream */
        }
        if (v[i].pt != RTC_RTCP_RTPFB && v[i].pt != RTC_RTCP_PSFB) { c->st.ignored_rtcp++; continue; }
        if (v[i].pt == RTC_RTCP_PSFB && v[i].count == RTC_RTCP_FMT_FIR) {
            rtc_rtcp_fir_entry fe[4];
            int k = rtc_rtcp_read_fir(&v[i], fe, 4);
            bool ours = false;
            for (int j = 0; j < k; j++) ours |= fe[j].ssrc == c->cfg.ssrc;
            if (!ours) { c->st.ignored_rtcp++; continue; }
            c->st.firs_received++;
            rtc_sfu_consumer_request_keyframe(c, now);
            continue;
        }
        if (rtc_rtcp_read_fb(&v[i], &sender, &media) < 0 || media != c->cfg.ssrc) { c->st.ignored_rtcp++; continue; }
        if (v[i].pt == RTC_RTCP_PSFB && v[i].count == RTC_RTCP_FMT_PLI) {
            c->st.plis_received++;
            rtc_sfu_consumer_request_keyframe(c, now);
        } else if (v[i].pt == RTC_RTCP_RTPFB && v[i].count == RTC_RTCP_FMT_NACK) {
            uint16_t seqs[256];
            int k = rtc_rtcp_read_nack(&v[i], seqs, 256);
            for (int j = 0; j < k; j++) {
                rtc_sfu_transmit t;
                if (sfu__consumer_answer_nack(c, seqs[j], &t, now) == 1 && sfu__queue(r, &t) < 0) break;
            }
        } else {
            c->st.ignored_rtcp++;
        }
    }
    if (c->source) sfu__producer_flush_nack(c->source);   /* one upstream NACK per compound */
    return 0;
}

void rtc_sfu_router_handle_timeout(rtc_sfu_router *r, rtc_time now)
{
    rtc_time next = RTC_TIME_NEVER;
    for (rtc_sfu_producer *p = r->producers; p; p = p->next_p) {
        sfu__producer_timeout(p, now);
        next = rtc_time_min(next, sfu__producer_next(p));
    }
    /* Only the consumers that are due; each one's deadline moves on (an SR interval),
     * so the loop ends even when the clock jumped far ahead. */
    for (sfu_timer *t; (t = sfu_timers_first(&r->ctimers)) && t->at <= now; ) {
        rtc_sfu_consumer *c = (rtc_sfu_consumer *)((char *)t - offsetof(rtc_sfu_consumer, timer));
        sfu__consumer_timeout(c, now);
        rtc_time at = sfu__consumer_next(c);
        if (at <= now) at = now + 1;                   /* never spin on a deadline that stays due */
        sfu_timers_set(&r->ctimers, t, at);
    }
    for (rtc_sfu_speaker *s = r->speakers; s; s = sfu__speaker_next_in_router(s)) {
        sfu__speaker_timeout(s, now);
        next = rtc_time_min(next, sfu__speaker_next(s));
    }
    r->next = rtc_time_min(next, sfu_timers_next(&r->ctimers));
}

bool rtc_sfu_router_poll_transmit(rtc_sfu_router *r, rtc_sfu_transmit *out)
{
    while (r->q_count) {
        *out = r->q[r->q_head];
        r->q_head = (r->q_head + 1) % r->q_cap;
        r->q_count--;
        if (out->kind) return true;
        rtc_buf_unref(out->pkt);                       /* its leg went away */
    }
    while (r->fo_count) {
        fanout *f = &r->fo[r->fo_head];
        while (f->p && f->cursor < f->p->ncons) {
            rtc_sfu_consumer *c = f->p->cons[f->cursor++];
            if (sfu__consumer_forward(c, f->p, &f->pk, out, f->pk.arrival) == 1) return true;
        }
        rtc_buf_unref(f->pk.buf);
        r->fo_head = (r->fo_head + 1) % r->fo_cap;
        r->fo_count--;
    }
    return false;
}

bool rtc_sfu_router_poll_event(rtc_sfu_router *r, rtc_sfu_event *out)
{
    while (r->ev_count) {
        *out = r->ev[r->ev_head];
        r->ev_head = (r->ev_head + 1) % 64;
        r->ev_count--;
        if (out->type) return true;
    }
    return false;
}

rtc_time rtc_sfu_router_poll_timeout(const rtc_sfu_router *r) { return r->next; }

int rtc_sfu_transmit_flatten(const rtc_sfu_transmit *t, uint8_t *out, size_t cap)
{
    if (t->head_len + t->len > cap) return RTC_EOVERFLOW;
    memcpy(out, t->head, t->head_len);
    if (t->len) memcpy(out + t->head_len, t->pkt->data + t->off, t->len);
    return (int)(t->head_len + t->len);
}

void rtc_sfu_transmit_release(rtc_sfu_transmit *t)
{
    rtc_buf_unref(t->pkt);
    t->pkt = NULL;
}
