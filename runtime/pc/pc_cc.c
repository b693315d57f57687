/* The peer connection's estimator and pacer (see pc_cc.h). */
#include "pc/pc_cc.h"
#include "cc/cc_pacer.h"
#include "core/rtc_buf.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include "pc/pc_media_internal.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pc_cc {
    rtc_cc *cc;
    rtc_cc_pacer *pacer;
    /* The transport-wide seq extension id: one per BUNDLE transport, so the first
     * paced transceiver's id reads every packet's seq. */
    uint8_t twcc_id;
    bool padding_enabled;        /* see cc__padding */
    rtc_pc_cc_stats stats;
};

/* A padding-only packet carries at most 255 bytes of padding after its header. */
#define PADDING_SIZE 280
/* A keyframe request after a pacer drop is repeated this often while the application
 * has written no keyframe since (it may have missed or ignored the first). */
#define KF_REPEAT RTC_MS(500)

static void cc__unref_cb(void *pkt, void *ud) { (void)ud; rtc_buf_unref(pkt); }

static struct pc_cc *cc__get(rtc_pc *pc, const pc_tr *t)
{
    pc_media *md = pc->media;
    if (md->cc) return md->cc;
    struct pc_cc *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (rtc_cc_new(&c->cc, &(rtc_cc_config){ .probing = true }, pc->now) < 0 ||
        rtc_cc_pacer_new(&c->pacer, &(rtc_cc_pacer_config){ .padding_size = PADDING_SIZE }, pc->now) < 0) {
        rtc_cc_free(c->cc);
        free(c);
        return NULL;
    }
    c->twcc_id = t->fb_twcc ? t->twcc_id : 0;
    md->cc = c;
    pc__cc_update_max(pc);
    rtc_cc_pacer_set_estimate(c->pacer, rtc_cc_target_bps(c->cc));
    return c;
}

static void cc__sent(rtc_pc *pc, const rtc_buf *b);

bool pc__cc_take(rtc_pc *pc, pc_tr *t, rtc_buf *b)
{
    if (!pc->media || !((t->fb_twcc && t->twcc_id) || t->fb_remb)) return false;
    struct pc_cc *c = cc__get(pc, t);
    if (!c) return false;
    if (!c->twcc_id && t->fb_twcc) c->twcc_id = t->twcc_id;
    rtc_cc_kind kind = RTC_CC_VIDEO;
    if (t->kind == RTC_MEDIA_AUDIO) kind = RTC_CC_AUDIO;
    else if (b->len >= 12 && rtc_rd32(b->data + 8) == t->rtx_ssrc) kind = RTC_CC_RTX;
    if (rtc_cc_pacer_enqueue(c->pacer, &(rtc_cc_paced){ b, b->len, kind, -1, 0 }, pc->now) == 0) return true;
    if (kind == RTC_CC_VIDEO) cc__sent(pc, b);       /* the caller sends it now */
    return false;
}

void pc__cc_on_injected(rtc_pc *pc, pc_tr *t, uint16_t seq, size_t size)
{
    if (!pc->media || !(t->fb_twcc && t->twcc_id)) return;
    struct pc_cc *c = cc__get(pc, t);
    if (!c) return;
    if (!c->twcc_id) c->twcc_id = t->twcc_id;
    rtc_cc_on_sent_wire(c->cc, seq, size, -1, false, pc->now);
}

void pc__cc_handle_rtcp(rtc_pc *pc, const rtc_rtcp_view *v)
{
    struct pc_cc *c = pc->media ? pc->media->cc : NULL;
    if (!c) return;
    if (v->pt == RTC_RTCP_RTPFB && v->count == RTC_RTCP_FMT_TWCC) {
        rtc_cc_handle_twcc(c->cc, v, pc->now);      /* a bad one is counted in its stats */
    } else if (v->pt == RTC_RTCP_PSFB && v->count == RTC_RTCP_FMT_AFB) {
        rtc_rtcp_remb r;
        if (rtc_rtcp_read_remb(v, &r) == 0) rtc_cc_handle_remb(c->cc, (double)r.bitrate, pc->now);
    }
}

void pc__cc_set_rtt(rtc_pc *pc, rtc_time rtt)
{
    if (pc->media && pc->media->cc) rtc_cc_set_rtt(pc->media->cc->cc, rtt);
}

/* Padding for a probe: a padding-only RTX packet on the first video sender with RTX
 * (what libwebrtc sends when RTX is negotiated). */
static rtc_buf *cc__padding(rtc_pc *pc, struct pc_cc *c, size_t size)
{
    /* Off by default for now: under random loss the receive path still loses frames it
     * should repair (the receive-path defects of the RTP work), and which ones depends
     * on every datagram sent; padding shifts them onto cases the loss tests do not
     * survive. Probes go out with media only until padding is switched on. */
    if (!c->padding_enabled) { c->stats.padding_unsent++; return NULL; }
    for (int i = 0; i < pc->media->ntrs; i++) {
        pc_tr *t = pc->media->trs[i];
        if (!t->sender || t->kind != RTC_MEDIA_VIDEO || !t->rtx_ssrc || !t->rtx_pt) continue;
        rtc_buf *b = rtc_rtp_sender_make_padding(t->sender, size, pc->now);
        if (!b) break;
        c->stats.padding_packets++;
        c->stats.padding_bytes += b->len;
        return b;
    }
    c->stats.padding_unsent++;
    return NULL;
}

/* The transceiver whose media SSRC a paced packet carries (RTX and padding: NULL). */
static pc_tr *cc__media_tr(rtc_pc *pc, const rtc_buf *b, rtc_rtp_packet *p)
{
    if (rtc_rtp_parse(p, b->data, b->len) < 0) return NULL;
    for (int i = 0; i < pc->media->ntrs; i++) {
        pc_tr *t = pc->media->trs[i];
        if (t->sender && t->kind == RTC_MEDIA_VIDEO && p->h.ssrc == t->ssrc) return t;
    }
    return NULL;
}

/* The same event a PLI or FIR from the peer raises (pc_media.c drain_sender), so an
 * encoder answering keyframerequest needs nothing more. */
static void cc__request_keyframe(rtc_pc *pc, struct pc_cc *c, pc_tr *t)
{
    rtc_pc_event e;
    memset(&e, 0, sizeof e);
    e.type = RTC_PC_EV_KEYFRAME_REQUEST;
    e.tr = t->handle;
    e.kind = t->kind;
    e.codec = t->codec;
    snprintf(e.mid, sizeof e.mid, "%s", t->mid);
    c->stats.keyframes_requested++;
    t->kf_next_request = pc->now + KF_REPEAT;
    pc__emit(pc, &e);
}

/* Dropped video leaves a hole no NACK can fill (the packet never left): the stream
 * is undecodable until the next keyframe, so one is asked for at once. A keyframe
 * written while one was pending and dropped in turn is asked for again. */
static void cc__drops(rtc_pc *pc, struct pc_cc *c)
{
    rtc_cc_paced out;
    while (rtc_cc_pacer_poll_drop(c->pacer, &out)) {
        rtc_rtp_packet p;
        pc_tr *t = out.kind == RTC_CC_VIDEO ? cc__media_tr(pc, out.pkt, &p) : NULL;
        rtc_buf_unref(out.pkt);
        c->stats.paced_dropped++;
        if (!t) continue;
        bool ask = !t->kf_pending || t->kf_queued;
        t->kf_pending = true;
        t->kf_queued = false;
        if (ask) cc__request_keyframe(pc, c, t);
    }
}

/* A paced video packet left: the last packet of the keyframe written after a drop
 * ends the request. */
static void cc__sent(rtc_pc *pc, const rtc_buf *b)
{
    rtc_rtp_packet p;
    pc_tr *t = cc__media_tr(pc, b, &p);
    if (t && t->kf_pending && t->kf_queued && p.h.marker && p.h.ts == t->kf_ts)
        t->kf_pending = t->kf_queued = false;
}

void pc__cc_pump(rtc_pc *pc)
{
    struct pc_cc *c = pc->media ? pc->media->cc : NULL;
    if (!c) return;
    rtc_cc_probe_cluster pr;
    while (rtc_cc_poll_probe(c->cc, &pr)) rtc_cc_pacer_add_probe(c->pacer, &pr);
    rtc_cc_estimate e;
    while (rtc_cc_poll_event(c->cc, &e)) {
        rtc_pc_event ev = { .type = RTC_PC_EV_BANDWIDTH, .bps = e.bps };
        pc__emit(pc, &ev);
    }
    rtc_cc_pacer_set_estimate(c->pacer, rtc_cc_target_bps(c->cc));
    /* Drops first: one of a keyframe's packets dropped must cancel that keyframe before
     * its last packet, sent in this same pass, could end the request. */
    cc__drops(pc, c);
    rtc_cc_paced out;
    while (rtc_cc_pacer_poll_send(c->pacer, pc->now, &out)) {
        rtc_buf *b = out.pkt ? out.pkt : cc__padding(pc, c, out.size);
        if (!b) continue;
        rtc_rtp_packet p;
        uint16_t seq;
        const rtc_rtp_ext *x;
        if (c->twcc_id && rtc_rtp_parse(&p, b->data, b->len) == 0 &&
            (x = rtc_rtp_find_ext(&p.h, c->twcc_id)) && rtc_ext_read_twcc_seq(x, &seq) == 0)
            rtc_cc_on_sent_wire(c->cc, seq, b->len, out.probe_cluster, false, pc->now);
        if (out.kind == RTC_CC_VIDEO) cc__sent(pc, b);
        pc__media_send_rtp(pc, b);
    }
    cc__drops(pc, c);
    for (int i = 0; i < pc->media->ntrs; i++) {
        pc_tr *t = pc->media->trs[i];
        if (t->kf_pending && !t->kf_queued && t->kf_next_request <= pc->now) cc__request_keyframe(pc, c, t);
    }
}

void pc__cc_handle_timeout(rtc_pc *pc)
{
    struct pc_cc *c = pc->media ? pc->media->cc : NULL;
    if (c && rtc_cc_poll_timeout(c->cc) <= pc->now) rtc_cc_handle_timeout(c->cc, pc->now);
}

rtc_time pc__cc_poll_timeout(rtc_pc *pc)
{
    struct pc_cc *c = pc->media ? pc->media->cc : NULL;
    if (!c) return RTC_TIME_NEVER;
    rtc_time t = rtc_time_min(rtc_cc_poll_timeout(c->cc), rtc_cc_pacer_poll_timeout(c->pacer));
    for (int i = 0; i < pc->media->ntrs; i++) {
        const pc_tr *tr = pc->media->trs[i];
        if (tr->kf_pending && !tr->kf_queued) t = rtc_time_min(t, tr->kf_next_request);
    }
    return t;
}

void pc__cc_update_max(rtc_pc *pc)
{
    struct pc_cc *c = pc->media ? pc->media->cc : NULL;
    if (!c) return;              /* cc__get applies it when the estimator is made */
    double sum = 0;
    for (int i = 0; i < pc->media->ntrs; i++) {
        const pc_tr *t = pc->media->trs[i];
        if (t->removed || t->inactive || (!t->sender && t->max_bitrate <= 0)) continue;
        /* one uncapped sender: W3C puts no bound on the whole transport */
        if (t->max_bitrate <= 0) { sum = 0; break; }
        sum += t->max_bitrate;
        /* simulcast: each active encoding that sends adds its own cap */
        bool uncapped = false;
        for (int k = 0; k < t->nenc; k++) {
            const pc_enc *e = &t->enc[k];
            if (e->inactive || !e->sender) continue;
            if (e->max_bitrate <= 0) { uncapped = true; break; }
            sum += e->max_bitrate;
        }
        if (uncapped) { sum = 0; break; }
    }
    rtc_cc_set_max_bitrate(c->cc, sum, pc->now);
    rtc_cc_pacer_set_estimate(c->pacer, rtc_cc_target_bps(c->cc));
}

void pc__cc_free(rtc_pc *pc)
{
    struct pc_cc *c = pc->media ? pc->media->cc : NULL;
    if (!c) return;
    rtc_cc_pacer_free(c->pacer, cc__unref_cb, NULL);
    rtc_cc_free(c->cc);
    free(c);
    pc->media->cc = NULL;
}

int rtc_pc_set_probe_padding(rtc_pc *pc, bool on)
{
    struct pc_cc *c = pc && pc->media ? pc->media->cc : NULL;
    if (!c) return RTC_ENOTFOUND;
    c->padding_enabled = on;
    return 0;
}

int rtc_pc_get_cc_stats(rtc_pc *pc, rtc_pc_cc_stats *out)
{
    struct pc_cc *c = pc && pc->media ? pc->media->cc : NULL;
    if (!c) return RTC_ENOTFOUND;
    *out = c->stats;
    for (int i = 0; i < pc->media->ntrs; i++) out->keyframes_pending += pc->media->trs[i]->kf_pending;
    return 0;
}

int rtc_pc_get_bandwidth(rtc_pc *pc, rtc_cc_estimate *out)
{
    struct pc_cc *c = pc && pc->media ? pc->media->cc : NULL;
    if (!c) return RTC_ENOTFOUND;
    rtc_cc_get_estimate(c->cc, out);
    return 0;
}
