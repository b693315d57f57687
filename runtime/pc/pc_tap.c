/* The forwarding tap and inject path (pc/pc_tap.h): plain packets out of tapped
 * receivers into a queue the driver drains, and forwarded packets into SRTP. */
#include "pc/pc_tap.h"
#include "pc/pc_media_internal.h"
#include "pc/pc_cc.h"
#include "pc/pc_inject_log.h"
#include "core/rtc_errors.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>
#include <string.h>

/* A connection forwards a few streams; the driver drains after every datagram, so the
 * queue holds one or two records at a time. The bound only stops a driver that never
 * drains from growing it without end. */
#define TAPQ_MAX 4096

typedef struct pc_tapq {
    rtc_pc_tapped *v;
    size_t head, n, cap;
    rtc_pc_tap_stats st;
} pc_tapq;

static pc_tapq *tapq_get(rtc_pc *pc)
{
    pc_media *md = pc__media_get(pc);
    if (!md) return NULL;
    if (!md->tapq) md->tapq = calloc(1, sizeof *md->tapq);
    return md->tapq;
}

/* Takes the ref of rec->buf (dropped when the queue is full). */
static void tapq_push(pc_tapq *q, const rtc_pc_tapped *rec)
{
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 16;
        rtc_pc_tapped *nv = ncap <= TAPQ_MAX ? malloc(ncap * sizeof *nv) : NULL;
        if (!nv) { q->st.tap_dropped++; rtc_buf_unref(rec->buf); return; }
        for (size_t i = 0; i < q->n; i++) nv[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = nv;
        q->cap = ncap;
        q->head = 0;
    }
    q->v[(q->head + q->n++) % q->cap] = *rec;
    if (rec->kind == RTC_PC_TAP_RTP) q->st.tapped_rtp++; else q->st.tapped_rtcp++;
}

void pc__tap_free(pc_media *md)
{
    pc_tapq *q = md->tapq;
    if (!q) return;
    for (size_t i = 0; i < q->n; i++) rtc_buf_unref(q->v[(q->head + i) % q->cap].buf);
    free(q->v);
    free(q);
    md->tapq = NULL;
}

static bool any_forwarding(const pc_media *md)
{
    for (int i = 0; i < md->ntrs; i++)
        if (md->trs[i]->tap || md->trs[i]->inject) return true;
    return false;
}

void pc__tap_drain_layer(rtc_pc *pc, pc_tr *t, pc_layer *l)
{
    rtc_buf *b;
    while (rtc_rtp_receiver_poll_packet(l->recv, &b) > 0) {
        pc_tapq *q = tapq_get(pc);
        if (!q) { rtc_buf_unref(b); continue; }
        rtc_pc_tapped rec = { .kind = RTC_PC_TAP_RTP, .tr = t->handle, .buf = b };
        memcpy(rec.rid, l->rid, sizeof rec.rid);
        tapq_push(q, &rec);
    }
}

void pc__tap_rtcp(rtc_pc *pc, const uint8_t *data, size_t len)
{
    pc_media *md = pc->media;
    if (!md || !any_forwarding(md)) return;
    pc_tapq *q = tapq_get(pc);
    rtc_buf *b = q ? rtc_buf_alloc(pc->cfg.pool, len) : NULL;
    if (!b) { if (q) q->st.tap_dropped++; return; }
    memcpy(b->data, data, len);
    b->len = len;
    tapq_push(q, &(rtc_pc_tapped){ .kind = RTC_PC_TAP_RTCP, .tr = -1, .buf = b });
}

bool rtc_pc_poll_tapped(rtc_pc *pc, rtc_pc_tapped *out)
{
    pc_tapq *q = pc->media ? pc->media->tapq : NULL;
    if (!q || !q->n) return false;
    *out = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return true;
}

int rtc_pc_set_tap(rtc_pc *pc, int tr, bool on)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (on && !tapq_get(pc)) return RTC_ENOMEM;
    t->tap = on;
    for (int k = 0; k < t->nlayers; k++) rtc_rtp_receiver_set_forward(t->layers[k].recv, on);
    return 0;
}

int rtc_pc_set_inject(rtc_pc *pc, int tr, bool on)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (on && !tapq_get(pc)) return RTC_ENOMEM;
    t->inject = on;
    return 0;
}

int rtc_pc_forward_params_get(rtc_pc *pc, int tr, rtc_pc_forward_params *out)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (!t->negotiated || t->codec < 0) return RTC_ESTATE;
    memset(out, 0, sizeof *out);
    out->kind = t->kind;
    out->codec = t->codec;
    out->pt = t->pt;
    out->rtx_pt = t->rtx_pt;
    out->red_pt = t->red_pt;
    out->red_send = t->red_pt && t->red_send;
    out->clock_rate = t->clock_rate;
    out->sends = pc__dir_sends(t->current);
    out->recvs = pc__dir_recvs(t->current);
    out->ssrc = t->ssrc;
    out->rtx_ssrc = t->rtx_pt ? t->rtx_ssrc : 0;
    out->remote_ssrc = t->nlayers ? t->layers[0].ssrc : t->remote_ssrc;
    out->remote_rtx_ssrc = t->nlayers ? t->layers[0].rtx_ssrc : t->remote_rtx_ssrc;
    /* The same SSRC the stream's receiver reports from (pc_media.c start_receiver), so
     * the sender sees one receiver. */
    out->rtcp_ssrc = t->sender ? t->ssrc : pc->media->rtcp_ssrc;
    out->mid_id = t->mid_id;
    out->abs_send_time_id = t->abs_id;
    out->twcc_id = t->fb_twcc ? t->twcc_id : 0;
    out->audio_level_id = t->level_id;
    out->video_orientation_id = t->cvo_id;
    out->fb_nack = t->fb_nack;
    out->fb_pli = t->fb_pli;
    out->fb_fir = t->fb_fir;
    out->mid = t->mid;
    out->cname = pc->media->cname;
    out->fmtp = t->fmtp;
    return 0;
}

static bool can_send(rtc_pc *pc) { return pc->has_pair && !pc->closed && pc__srtp(pc); }

static int refuse(rtc_pc *pc, int err)
{
    if (pc->media && pc->media->tapq) pc->media->tapq->st.inject_refused++;
    return err;
}

int rtc_pc_inject_rtp(rtc_pc *pc, int tr, const uint8_t *data, size_t len, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (!t->inject || !t->negotiated) return refuse(pc, RTC_ESTATE);
    if (!can_send(pc)) return refuse(pc, RTC_ESTATE);
    rtc_rtp_packet p;
    if (rtc_rtp_parse(&p, data, len) < 0) return refuse(pc, RTC_EINVAL);
    bool media = p.h.ssrc == t->ssrc && (p.h.pt == t->pt || (t->red_pt && p.h.pt == t->red_pt));
    bool rtx = t->rtx_pt && p.h.ssrc == t->rtx_ssrc && p.h.pt == t->rtx_pt;
    if (!media && !rtx) return refuse(pc, RTC_EINVAL);
    /* One log per stream: RTX packets have their own SSRC and indices. Plain resends
     * of a media seq are repairs only on a stream with NACK and no RTX. */
    pc_inject_log **logp = media ? &t->inject_log : &t->inject_rtx_log;
    if (!*logp && !(*logp = pc__inject_log_new(pc->cfg.rng))) return RTC_ENOMEM;
    bool resends = media && t->fb_nack && !t->rtx_pt;
    rtc_buf *b = rtc_buf_alloc(pc->cfg.pool, len + RTC_SRTP_TRAILER_MAX);
    if (!b) return RTC_ENOMEM;
    memcpy(b->data, data, len);
    b->len = len;
    const rtc_rtp_ext *e = t->fb_twcc && t->twcc_id ? rtc_rtp_find_ext(&p.h, t->twcc_id) : NULL;
    const rtc_rtp_ext *ea = t->abs_id ? rtc_rtp_find_ext(&p.h, t->abs_id) : NULL;
    uint8_t *twcc_at = e && e->len == 2 ? b->data + (e->data - data) : NULL;
    uint8_t *abs_at = ea && ea->len == 3 ? b->data + (ea->data - data) : NULL;
    int kind = pc__inject_log_check(*logp, b->data, len, p.h.seq, twcc_at, abs_at, resends);
    if (kind < 0) {
        rtc_buf_unref(b);
        pc->media->tapq->st.inject_reuse_refused++;
        return refuse(pc, kind);
    }
    /* The transport-wide seq is per connection, so only this pc can write it; a resend
     * has the one it first went out with back. */
    int twcc = -1;
    if (kind == PC_INJECT_FIRST) {
        if (twcc_at) {
            twcc = pc->media->twcc_seq++;
            rtc_ext_put_twcc_seq(twcc_at, (uint16_t)twcc);
        }
        pc__inject_log_note(*logp, b->data, len, p.h.seq, twcc_at, abs_at, resends);
    }
    if (rtc_srtp_session_protect_rtp(pc->srtp, b) < 0) { rtc_buf_unref(b); return refuse(pc, RTC_EPROTO); }
    pc_tapq *q = pc->media->tapq;
    q->st.injected_rtp++;
    q->st.injected_bytes += len;
    if (kind == PC_INJECT_RESEND) q->st.injected_resends++;
    if (twcc >= 0) pc__cc_on_injected(pc, t, (uint16_t)twcc, b->len);
    pc__send_packet(pc, b);
    return 0;
}

int rtc_pc_inject_rtcp(rtc_pc *pc, const uint8_t *data, size_t len, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    rtc_rtcp_view v[16];
    if (rtc_rtcp_parse_compound(data, len, v, 16) < 0) return refuse(pc, RTC_EINVAL);
    if (!can_send(pc) || !pc->media) return refuse(pc, RTC_ESTATE);
    rtc_buf *b = rtc_buf_alloc(pc->cfg.pool, len + RTC_SRTP_TRAILER_MAX);
    if (!b) return RTC_ENOMEM;
    memcpy(b->data, data, len);
    b->len = len;
    if (rtc_srtp_session_protect_rtcp(pc->srtp, b) < 0) { rtc_buf_unref(b); return refuse(pc, RTC_EPROTO); }
    if (pc->media->tapq) pc->media->tapq->st.injected_rtcp++;
    pc__send_packet(pc, b);
    return 0;
}

void rtc_pc_tap_get_stats(const rtc_pc *pc, rtc_pc_tap_stats *out)
{
    if (pc->media && pc->media->tapq) *out = pc->media->tapq->st;
    else memset(out, 0, sizeof *out);
}
