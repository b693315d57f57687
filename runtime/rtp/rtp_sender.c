/* An outgoing RTP stream: packetize -> header extensions -> history -> queue; RTCP in. */
#include "rtp/rtp_sender.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtx.h"
#include "codec/red.h"
#include "rtp/fec_ulp.h"
#include <stdlib.h>
#include <string.h>

#define SEND_EVQ 16
/* Room beyond the payload in each buffer: RTP header with our extensions (<= 48),
 * the RTX OSN (2) and the SRTP trailer (srtp_session.h: up to 148). */
#define SEND_SLACK 300

struct rtc_rtp_sender {
    rtc_rtp_sender_config cfg;
    char mid[17], rid[16], cname[256];
    rtc_time now, next_sr;
    uint16_t seq, rtx_seq;
    int32_t picture_id;
    rtc_rtp_history *hist;
    rtc_rtp_send_stats sstats;
    rtc_bufq rtp_q, rtcp_q;
    rtc_rtp_sender_stats stats;
    rtc_rtp_sender_event evq[SEND_EVQ];
    size_t ev_count;
    int last_fir_seq;            /* -1 = no FIR yet */
    uint8_t red_prev[1276];      /* RED: the previous Opus frame, sent again with the next */
    size_t red_prev_len;
    uint32_t red_prev_ts;
    bool bye_sent;
    int16_t next_level;          /* raw RFC 6464 byte for the next frame, -1 none */
};

static void send__event(rtc_rtp_sender *s, rtc_rtp_sender_event ev)
{
    if (s->ev_count < SEND_EVQ) s->evq[s->ev_count++] = ev;
    else s->evq[SEND_EVQ - 1] = ev;                     /* keep the newest when flooded */
}

int rtc_rtp_sender_new(rtc_rtp_sender **out, const rtc_rtp_sender_config *cfg, rtc_time now)
{
    if (!out || !cfg || (unsigned)cfg->codec >= RTC_CODEC__COUNT || cfg->pt > 127 || cfg->rtx_pt > 127)
        return RTC_EINVAL;
    /* A MID fits a one-byte element (RFC 8843 keeps them short; browsers use "0", "1"). */
    if ((cfg->mid && strlen(cfg->mid) > 16) || (cfg->rid && strlen(cfg->rid) > 15) || (cfg->cname && strlen(cfg->cname) > 255)) return RTC_EINVAL;
    bool video_fec = cfg->ulpfec_pt && rtc_codec_is_video(cfg->codec);
    if (cfg->red_pt > 127 || cfg->ulpfec_pt > 127 || (cfg->red_pt && cfg->codec != RTC_CODEC_OPUS && !video_fec) ||
        (cfg->ulpfec_pt && (!video_fec || !cfg->red_pt || cfg->ulpfec_pt == cfg->pt || cfg->ulpfec_pt == cfg->red_pt)) ||
        cfg->fec_group > RTC_ULPFEC_MAX_SPAN)
        return RTC_EINVAL;
    rtc_rtp_sender *s = calloc(1, sizeof *s);
    if (!s) return RTC_ENOMEM;
    s->cfg = *cfg;
    if (cfg->mid) strcpy(s->mid, cfg->mid);
    if (cfg->rid) strcpy(s->rid, cfg->rid);
    if (cfg->cname) strcpy(s->cname, cfg->cname);
    s->cfg.mid = s->cfg.rid = s->cfg.cname = NULL;
    if (!s->cfg.clock_rate) s->cfg.clock_rate = cfg->codec == RTC_CODEC_OPUS ? 48000 : 90000;
    if (!s->cfg.history) s->cfg.history = 1024;
    if (!s->cfg.max_payload) s->cfg.max_payload = 1100;
    /* An Opus packet cannot be split: make room for the largest one (1275 bytes). */
    if (cfg->codec == RTC_CODEC_OPUS && s->cfg.max_payload < 1276) s->cfg.max_payload = 1276;
    if (s->cfg.max_payload > RTC_POOL_BUFSIZE - SEND_SLACK) s->cfg.max_payload = RTC_POOL_BUFSIZE - SEND_SLACK;
    if (s->cfg.sr_interval <= 0) s->cfg.sr_interval = RTC_SEC(1);
    /* The history (32 bytes a slot, 32 KB by default) comes with the first frame: a
     * sender that never packetizes (an SFU connection injects ready packets) keeps none. */
    size_t hc = s->cfg.history;
    if (hc < 16 || hc > 32768 || (hc & (hc - 1))) { free(s); return RTC_EINVAL; }
    rtc_rtp_send_stats_init(&s->sstats, cfg->ssrc, s->cfg.clock_rate);
    s->seq = cfg->initial_seq;
    s->rtx_seq = cfg->initial_rtx_seq;
    s->now = now;
    s->next_sr = now + s->cfg.sr_interval;
    s->stats.rtt = -1;
    s->last_fir_seq = -1;
    s->next_level = -1;
    *out = s;
    return 0;
}

void rtc_rtp_sender_next_seqs(const rtc_rtp_sender *s, uint16_t *seq, uint16_t *rtx_seq)
{
    *seq = s->seq;
    *rtx_seq = s->rtx_seq;
}

void rtc_rtp_sender_free(rtc_rtp_sender *s)
{
    if (!s) return;
    rtc_bufq_clear(&s->rtp_q);
    rtc_bufq_clear(&s->rtcp_q);
    rtc_rtp_history_free(s->hist);
    free(s);
}

static void send__set_now(rtc_rtp_sender *s, rtc_time now) { if (now > s->now) s->now = now; }

static rtc_buf *send__alloc(rtc_rtp_sender *s) { return rtc_buf_alloc(s->cfg.pool, s->cfg.max_payload + SEND_SLACK); }

/* The transmit copy: SRTP protects in place, the history keeps the plain packet. */
static int send__queue_copy(rtc_rtp_sender *s, const rtc_buf *b)
{
    rtc_buf *c = send__alloc(s);
    if (!c) return RTC_ENOMEM;
    memcpy(c->data, b->data, b->len);
    c->len = b->len;
    rtc_bufq_push(&s->rtp_q, c);
    return 0;
}

/* Writes the next transport-wide seq into the packet's extension (a new packet or an
 * RTX packet: never a resend, which must repeat its first bytes exactly). */
static void send__stamp_twcc(rtc_rtp_sender *s, rtc_buf *b)
{
    if (!s->cfg.twcc_id || !s->cfg.twcc_seq) return;
    uint8_t v[2];
    rtc_ext_put_twcc_seq(v, *s->cfg.twcc_seq);
    if (rtc_rtp_rewrite_ext(b->data, b->len, s->cfg.twcc_id, v, 2) == 0) (*s->cfg.twcc_seq)++;
}

/* An RTX packet leaves now: receivers estimate bandwidth from abs-send-time, and the
 * original's stamp would make the repair look delayed by the whole NACK round trip.
 * (A resend without RTX keeps its bytes: see the header on SRTP.) */
static void send__stamp_abs_send_time(rtc_rtp_sender *s, rtc_buf *b)
{
    if (!s->cfg.abs_send_time_id) return;
    uint8_t v[3];
    rtc_ext_put_abs_send_time(v, rtc_abs_send_time_from_us(s->now + s->cfg.unix_offset_us));
    rtc_rtp_rewrite_ext(b->data, b->len, s->cfg.abs_send_time_id, v, 3);
}

/* Rewrite the Opus payload at p[0..n) as RED: the previous frame (when it fits the
 * packet and its offset the 14-bit field) then this one; remember this one. */
static int send__red(rtc_rtp_sender *s, uint8_t *p, size_t n, size_t cap, uint32_t ts)
{
    uint8_t cur[1276];
    memcpy(cur, p, n);
    rtc_red_block prev = { s->cfg.pt, (uint16_t)(ts - s->red_prev_ts), s->red_prev, s->red_prev_len };
    bool with = s->red_prev_len && (uint32_t)(ts - s->red_prev_ts) > 0 && (uint32_t)(ts - s->red_prev_ts) < (1u << 14) &&
                s->red_prev_len < 1024 && 4 + s->red_prev_len + 1 + n <= s->cfg.max_payload;
    int len = rtc_red_write(p, cap, &prev, with ? 1 : 0, s->cfg.pt, cur, n);
    memcpy(s->red_prev, cur, n);
    s->red_prev_len = n;
    s->red_prev_ts = ts;
    return len;
}

void rtc_rtp_sender_set_audio_level(rtc_rtp_sender *s, uint8_t level, bool voice)
{
    uint8_t b;
    rtc_ext_put_audio_level(&b, voice, level);
    s->next_level = b;
}

static bool send__fec(const rtc_rtp_sender *s) { return s->cfg.ulpfec_pt != 0; }
static unsigned send__fec_group(const rtc_rtp_sender *s) { return s->cfg.fec_group ? s->cfg.fec_group : 4; }

/* The media packet a RED-wrapped video packet b carries (its header with the media
 * payload type, the block's payload): what ULPFEC protects and the receiver rebuilds. */
static rtc_buf *send__unred(rtc_rtp_sender *s, const rtc_buf *b)
{
    rtc_rtp_packet p;
    if (rtc_rtp_parse(&p, b->data, b->len) < 0 || p.payload_len < 1) return NULL;
    rtc_buf *u = send__alloc(s);
    if (!u) return NULL;
    memcpy(u->data, b->data, p.header_len);
    rtc_rtp_set_pt(u->data, s->cfg.pt);
    memcpy(u->data + p.header_len, p.payload + 1, p.payload_len - 1);
    u->len = p.header_len + p.payload_len - 1;
    return u;
}

/* One FEC packet over group[0..n) (unwrapped media), in RED with seq `seq`, onto q. */
static int send__make_fec(rtc_rtp_sender *s, rtc_buf *const *group, size_t n, uint16_t seq, uint32_t ts,
                          const uint8_t *ast, rtc_bufq *q)
{
    rtc_ulpfec_media m[RTC_ULPFEC_MAX_SPAN];
    for (size_t i = 0; i < n; i++) m[i] = (rtc_ulpfec_media){ group[i]->data, group[i]->len };
    rtc_buf *b = rtc_buf_alloc(s->cfg.pool, s->cfg.max_payload + SEND_SLACK + RTC_ULPFEC_HEADER_MAX);
    if (!b) return RTC_ENOMEM;
    uint8_t tw[2] = { 0, 0 };
    rtc_rtp_header h = { .pt = s->cfg.red_pt, .seq = seq, .ts = ts, .ssrc = s->cfg.ssrc };
    if (s->cfg.mid_id && s->mid[0]) rtc_ext_add_sdes(&h, s->cfg.mid_id, rtc_str_c(s->mid));
    if (s->cfg.rid_id && s->rid[0]) rtc_ext_add_sdes(&h, s->cfg.rid_id, rtc_str_c(s->rid));
    if (s->cfg.abs_send_time_id) rtc_rtp_add_ext(&h, s->cfg.abs_send_time_id, ast, 3);
    if (s->cfg.twcc_id) rtc_rtp_add_ext(&h, s->cfg.twcc_id, tw, 2);
    int hl = rtc_rtp_write_header(b->data, b->cap, &h);
    if (hl < 0 || (size_t)hl + 1 >= b->cap) { rtc_buf_unref(b); return hl < 0 ? hl : RTC_EOVERFLOW; }
    b->data[hl] = s->cfg.ulpfec_pt;                     /* the RED header: one block */
    int n2 = rtc_ulpfec_write(b->data + hl + 1, b->cap - (size_t)hl - 1, m, n);
    if (n2 < 0) { rtc_buf_unref(b); return n2; }
    b->len = (size_t)hl + 1 + (size_t)n2;
    rtc_bufq_push(q, b);
    return 0;
}

int rtc_rtp_sender_send_frame(rtc_rtp_sender *s, const uint8_t *frame, size_t len, uint32_t ts,
                              const rtc_pack_params *pp, rtc_time now)
{
    uint8_t level[1] = { (uint8_t)s->next_level };
    bool with_level = s->cfg.audio_level_id && s->next_level >= 0;
    s->next_level = -1;
    send__set_now(s, now);
    int e;
    if (!s->hist && (e = rtc_rtp_history_new(&s->hist, s->cfg.history)) < 0) return e;
    rtc_pack_params params = pp ? *pp : (rtc_pack_params){ .picture_id = s->picture_id++ };
    rtc_packetizer pk;
    e = rtc_packetizer_init(&pk, s->cfg.codec, frame, len, s->cfg.max_payload, &params);
    if (e < 0) return e;
    rtc_bufq frame_q = {0};
    uint16_t seq = s->seq;
    int count = 0;
    uint8_t ast[3], tw[2] = { 0, 0 };
    rtc_ext_put_abs_send_time(ast, rtc_abs_send_time_from_us(s->now + s->cfg.unix_offset_us));
    for (;;) {
        rtc_buf *b = send__alloc(s);
        if (!b) { e = RTC_ENOMEM; break; }
        rtc_rtp_header h = { .pt = s->cfg.red_pt ? s->cfg.red_pt : s->cfg.pt, .seq = seq, .ts = ts, .ssrc = s->cfg.ssrc };
        if (s->cfg.mid_id && s->mid[0]) rtc_ext_add_sdes(&h, s->cfg.mid_id, rtc_str_c(s->mid));
        if (s->cfg.rid_id && s->rid[0]) rtc_ext_add_sdes(&h, s->cfg.rid_id, rtc_str_c(s->rid));
        if (s->cfg.abs_send_time_id) rtc_rtp_add_ext(&h, s->cfg.abs_send_time_id, ast, 3);
        if (s->cfg.twcc_id) rtc_rtp_add_ext(&h, s->cfg.twcc_id, tw, 2);
        if (with_level) rtc_rtp_add_ext(&h, s->cfg.audio_level_id, level, 1);
        size_t hl = rtc_rtp_header_size(&h);
        bool last;
        int n = rtc_packetizer_next(&pk, b->data + hl, b->cap - hl, &last);
        if (n <= 0) { rtc_buf_unref(b); e = n; break; }
        if (send__fec(s)) {                                 /* one RED block: the media type, then its payload */
            memmove(b->data + hl + 1, b->data + hl, (size_t)n);
            b->data[hl] = s->cfg.pt;
            n++;
        } else if (s->cfg.red_pt && (n = send__red(s, b->data + hl, (size_t)n, b->cap - hl, ts)) < 0) {
            rtc_buf_unref(b); e = n; break;
        }
        h.marker = last && rtc_codec_is_video(s->cfg.codec);
        rtc_rtp_write_header(b->data, b->cap, &h);
        b->len = hl + (size_t)n;
        rtc_bufq_push(&frame_q, b);
        seq++;
        count++;
        if (last) break;
    }
    if (e < 0) { rtc_bufq_clear(&frame_q); return e; }
    rtc_buf *b, *group[RTC_ULPFEC_MAX_SPAN];
    size_t ng = 0;
    int done = 0;
    /* FEC packets follow the frame's last packet: receivers (libwebrtc's packet buffer,
     * ours) take the sequence numbers they use as padding, which may sit between
     * frames but not inside one. */
    rtc_bufq fec_q = {0};
    while ((b = rtc_bufq_pop(&frame_q))) {
        rtc_rtp_packet p;
        rtc_rtp_parse(&p, b->data, b->len);
        send__stamp_twcc(s, b);
        rtc_buf *u = send__fec(s) ? send__unred(s, b) : NULL;
        /* RTX (apt = the media type) resends the media packet RED carried; a resend
         * without RTX repeats the bytes first sent (see the header on SRTP). */
        rtc_rtp_history_put(s->hist, p.h.seq, u && s->cfg.rtx_pt ? u : b, s->now);
        rtc_rtp_send_stats_on_packet(&s->sstats, ts, p.payload_len, s->now);
        s->stats.packets++;
        s->stats.bytes += p.payload_len;
        done++;
        if (u) group[ng++] = u;
        if ((e = send__queue_copy(s, b)) < 0) { rtc_buf_unref(b); rtc_bufq_clear(&frame_q); break; }
        rtc_buf_unref(b);
        if (send__fec(s) && (done == count || done % (int)send__fec_group(s) == 0)) {
            /* A packet that could not be unwrapped (out of memory) leaves its group unprotected. */
            if (ng == (size_t)(done - 1) % send__fec_group(s) + 1)
                send__make_fec(s, group, ng, (uint16_t)(seq + fec_q.count), ts, ast, &fec_q);
            for (size_t i = 0; i < ng; i++) rtc_buf_unref(group[i]);
            ng = 0;
        }
    }
    for (size_t i = 0; i < ng; i++) rtc_buf_unref(group[i]);
    if (e < 0) { rtc_bufq_clear(&fec_q); return e; }
    while ((b = rtc_bufq_pop(&fec_q))) {
        send__stamp_twcc(s, b);
        if (!s->cfg.rtx_pt) rtc_rtp_history_put(s->hist, seq, b, s->now);   /* RTX could not say it is FEC */
        s->stats.fec_packets++;
        seq++;
        e = send__queue_copy(s, b);
        rtc_buf_unref(b);
        if (e < 0) { rtc_bufq_clear(&fec_q); return e; }
    }
    s->seq = seq;
    s->stats.frames++;
    return count;
}

static void send__answer_nack(rtc_rtp_sender *s, const rtc_rtcp_view *v)
{
    uint16_t seqs[512];
    int n = rtc_rtcp_read_nack(v, seqs, 512);
    rtc_time spacing = s->stats.rtt > 0 ? rtc_time_min(s->stats.rtt, RTC_MS(100)) : RTC_MS(10);
    for (int i = 0; i < n; i++) {
        s->stats.nacks_received++;
        rtc_buf *orig = s->hist ? rtc_rtp_history_get(s->hist, seqs[i], s->now, spacing) : NULL;
        if (!orig) { s->stats.nack_misses++; continue; }
        if (!s->cfg.rtx_ssrc) { if (send__queue_copy(s, orig) == 0) s->stats.rtx_packets++; continue; }
        rtc_buf *b = send__alloc(s);
        if (!b) return;
        int len = rtc_rtx_wrap(orig->data, orig->len, s->cfg.rtx_pt, s->cfg.rtx_ssrc, s->rtx_seq, b->data, b->cap);
        if (len < 0) { rtc_buf_unref(b); continue; }
        b->len = (size_t)len;
        send__stamp_twcc(s, b);     /* a new packet on the transport: its own seq */
        send__stamp_abs_send_time(s, b);
        s->rtx_seq++;
        s->stats.rtx_packets++;
        rtc_bufq_push(&s->rtp_q, b);
    }
}

rtc_buf *rtc_rtp_sender_make_padding(rtc_rtp_sender *s, size_t size, rtc_time now)
{
    send__set_now(s, now);
    if (!s->cfg.rtx_ssrc) return NULL;
    rtc_buf *b = send__alloc(s);
    if (!b) return NULL;
    uint8_t tw[2] = { 0, 0 };
    rtc_rtp_header h = { .pt = s->cfg.rtx_pt, .seq = s->rtx_seq, .ts = 0, .ssrc = s->cfg.rtx_ssrc };
    if (s->cfg.mid_id && s->mid[0]) rtc_ext_add_sdes(&h, s->cfg.mid_id, rtc_str_c(s->mid));
    if (s->cfg.twcc_id) rtc_rtp_add_ext(&h, s->cfg.twcc_id, tw, 2);
    size_t hl = rtc_rtp_header_size(&h);
    size_t pad = size > hl ? size - hl : 1;
    if (pad > 255) pad = 255;
    if (hl + pad > b->cap || rtc_rtp_write_header(b->data, b->cap, &h) < 0) { rtc_buf_unref(b); return NULL; }
    b->data[0] |= 0x20;                                  /* P: the last byte counts the padding */
    memset(b->data + hl, 0, pad - 1);
    b->data[hl + pad - 1] = (uint8_t)pad;
    b->len = hl + pad;
    send__stamp_twcc(s, b);
    s->rtx_seq++;
    return b;
}

static void send__report_blocks(rtc_rtp_sender *s, const rtc_rtcp_report_block *rb, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (rb[i].ssrc != s->cfg.ssrc) continue;
        s->stats.fraction_lost = rb[i].fraction_lost;
        s->stats.reports_received++;
        s->stats.remote_lost = rb[i].cumulative_lost;
        s->stats.remote_jitter = rb[i].jitter;
        int64_t rtt = rtc_rtp_send_stats_rtt(&s->sstats, &rb[i], s->now);
        if (rtt < 0) continue;
        s->stats.rtt = rtt;
        s->stats.rtt_total += rtt;
        s->stats.rtt_measurements++;
        send__event(s, (rtc_rtp_sender_event){ RTC_RTP_SEND_EV_RTT, { .rtt = rtt } });
    }
}

int rtc_rtp_sender_handle_rtcp(rtc_rtp_sender *s, const rtc_rtcp_view *v, rtc_time now)
{
    send__set_now(s, now);
    uint32_t sender, media;
    int e;
    switch (v->pt) {
    case RTC_RTCP_RR: {
        rtc_rtcp_rr rr;
        if ((e = rtc_rtcp_read_rr(v, &rr)) < 0) return e;
        send__report_blocks(s, rr.rb, rr.rb_count);
        return 0;
    }
    case RTC_RTCP_SR: {
        rtc_rtcp_sr sr;
        if ((e = rtc_rtcp_read_sr(v, &sr)) < 0) return e;
        send__report_blocks(s, sr.rb, sr.rb_count);
        return 0;
    }
    case RTC_RTCP_RTPFB:
        if ((e = rtc_rtcp_read_fb(v, &sender, &media)) < 0) return e;
        if (v->count != RTC_RTCP_FMT_NACK || media != s->cfg.ssrc) return RTC_EIGNORED;
        send__answer_nack(s, v);
        return 0;
    case RTC_RTCP_PSFB:
        if ((e = rtc_rtcp_read_fb(v, &sender, &media)) < 0) return e;
        if (v->count == RTC_RTCP_FMT_PLI && media == s->cfg.ssrc) {
            s->stats.plis_received++;
            send__event(s, (rtc_rtp_sender_event){ RTC_RTP_SEND_EV_KEYFRAME_REQUESTED, { 0 } });
            return 0;
        }
        if (v->count == RTC_RTCP_FMT_FIR) {
            rtc_rtcp_fir_entry fe[16];
            int n = rtc_rtcp_read_fir(v, fe, 16);
            for (int i = 0; i < n; i++)
                if (fe[i].ssrc == s->cfg.ssrc) {
                    if (fe[i].seq == s->last_fir_seq) { s->stats.firs_repeated++; return 0; }
                    s->last_fir_seq = fe[i].seq;
                    s->stats.firs_received++;
                    send__event(s, (rtc_rtp_sender_event){ RTC_RTP_SEND_EV_KEYFRAME_REQUESTED, { 0 } });
                    return 0;
                }
            return RTC_EIGNORED;
        }
        if (v->count == RTC_RTCP_FMT_AFB) {
            rtc_rtcp_remb remb;
            if (rtc_rtcp_read_remb(v, &remb) < 0) return RTC_EIGNORED;
            for (unsigned i = 0; i < remb.ssrc_count; i++)
                if (remb.ssrc[i] == s->cfg.ssrc) {
                    send__event(s, (rtc_rtp_sender_event){ RTC_RTP_SEND_EV_REMB, { .bitrate = remb.bitrate } });
                    return 0;
                }
        }
        return RTC_EIGNORED;
    default:
        return RTC_EIGNORED;
    }
}

/* SR (or an RR without blocks when nothing was sent) + SDES CNAME into b. */
static int send__write_report(rtc_rtp_sender *s, rtc_buf *b)
{
    int len;
    if (s->stats.packets) {
        rtc_rtcp_sr sr;
        rtc_rtp_send_stats_sr(&s->sstats, s->now, s->now + s->cfg.unix_offset_us, &sr);
        len = rtc_rtcp_write_sr(b->data, b->cap, &sr);
        if (len > 0) s->stats.srs_sent++;
    } else {
        rtc_rtcp_rr rr = { .ssrc = s->cfg.ssrc };
        len = rtc_rtcp_write_rr(b->data, b->cap, &rr);
    }
    if (len > 0 && s->cname[0]) {
        rtc_rtcp_sdes_chunk c = { s->cfg.ssrc, rtc_str_c(s->cname) };
        int n = rtc_rtcp_write_sdes(b->data + len, b->cap - (size_t)len, &c, 1);
        if (n > 0) len += n;
    }
    return len;
}

void rtc_rtp_sender_handle_timeout(rtc_rtp_sender *s, rtc_time now)
{
    send__set_now(s, now);
    if (s->now < s->next_sr || s->bye_sent) return;
    s->next_sr += s->cfg.sr_interval;
    if (s->next_sr <= s->now) s->next_sr = s->now + s->cfg.sr_interval;
    if (!s->stats.packets) return;                      /* nothing sent: nothing to report */
    rtc_buf *b = send__alloc(s);
    if (!b) return;
    int len = send__write_report(s, b);
    if (len < 0) { rtc_buf_unref(b); return; }
    b->len = (size_t)len;
    rtc_bufq_push(&s->rtcp_q, b);
}

void rtc_rtp_sender_bye(rtc_rtp_sender *s, rtc_time now)
{
    send__set_now(s, now);
    if (s->bye_sent) return;
    rtc_buf *b = send__alloc(s);
    if (!b) return;
    int len = send__write_report(s, b);
    uint32_t ssrcs[2] = { s->cfg.ssrc, s->cfg.rtx_ssrc };
    int n = len < 0 ? len : rtc_rtcp_write_bye(b->data + len, b->cap - (size_t)len, ssrcs, s->cfg.rtx_ssrc ? 2 : 1,
                                               (rtc_str){ NULL, 0 });
    if (n < 0) { rtc_buf_unref(b); return; }
    b->len = (size_t)(len + n);
    s->bye_sent = true;
    s->stats.byes_sent++;
    rtc_bufq_push(&s->rtcp_q, b);
}

int rtc_rtp_sender_poll_transmit(rtc_rtp_sender *s, rtc_rtp_out *out)
{
    rtc_buf *b = rtc_bufq_pop(&s->rtcp_q);
    if (b) { *out = (rtc_rtp_out){ b, true }; return 1; }
    b = rtc_bufq_pop(&s->rtp_q);
    if (b) { *out = (rtc_rtp_out){ b, false }; return 1; }
    return 0;
}

int rtc_rtp_sender_poll_event(rtc_rtp_sender *s, rtc_rtp_sender_event *out)
{
    if (!s->ev_count) return 0;
    *out = s->evq[0];
    memmove(&s->evq[0], &s->evq[1], (--s->ev_count) * sizeof s->evq[0]);
    return 1;
}

rtc_time rtc_rtp_sender_poll_timeout(const rtc_rtp_sender *s)
{
    if (s->rtp_q.count || s->rtcp_q.count || s->ev_count) return s->now;
    return s->stats.packets && !s->bye_sent ? s->next_sr : RTC_TIME_NEVER;
}

void rtc_rtp_sender_get_stats(const rtc_rtp_sender *s, rtc_rtp_sender_stats *out) { *out = s->stats; }
