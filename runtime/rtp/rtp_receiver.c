/* An incoming RTP stream: RTX unwrap -> stats -> NACK -> jitter buffer; RTCP out. */
#include "rtp/rtp_receiver.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtx.h"
#include "codec/red.h"
#include "rtp/fec_recovery.h"
#include <stdlib.h>
#include <string.h>

#define RECV_EVQ 8
/* Sequence numbers remembered for duplicate detection: far more than a jitter buffer
 * or a NACK history spans, so any repeat a sender can still produce is caught. */
#define SEEN_WINDOW 2048
/* Forwarded packets waiting for the caller: one datagram yields one (an RTX unwrap gives
 * one too), so a caller that drains after each call never gets near this. */
#define FWD_QUEUE 64

struct rtc_rtp_receiver {
    rtc_rtp_receiver_config cfg;
    char cname[256];
    rtc_time now, next_rr, last_pli;
    bool want_pli;               /* a keyframe is wanted: PLI every pli_interval until one comes */
    bool fir_open;               /* a FIR request is out (its repeats keep fir_seq) */
    uint8_t fir_seq;
    bool rr_due, bye_seen;
    rtc_rtp_recv_stats rstats;
    rtc_nack_generator *nack;
    rtc_jitter_buffer *jb;
    rtc_rtp_receiver_stats stats;
    rtc_rtp_receiver_event evq[RECV_EVQ];
    size_t ev_count;
    uint64_t seen[SEEN_WINDOW / 64];   /* bit (ext seq % SEEN_WINDOW): that packet arrived */
    int64_t seen_max;                  /* highest extended seq marked */
    bool seen_init;
    bool forward;
    rtc_buf *fwd[FWD_QUEUE];
    size_t fwd_head, fwd_count;
    rtc_jitter_buffer_config jbc;      /* to start the jitter buffer over on a restart */
    rtc_time rtt;                      /* last handle_rtt, 0 = none */
    rtc_buf *held;                     /* our ref: a packet far from the highest seq, until the next */
    uint16_t held_seq;
    bool held_rtx;
    rtc_remb_estimator remb;
    rtc_seq_unwrapper remb_seq;
    rtc_fec_recovery *fec;             /* ULPFEC negotiated: the window rebuilt packets come from */
    uint64_t fec_discarded_before, fec_malformed_before;   /* counted by windows a restart replaced */
};

/* How a media packet reached the receiver. */
typedef enum { VIA_MEDIA, VIA_RTX, VIA_RED, VIA_FEC } recv_via;

/* How long an audio hole may hold back later packets while NACK repairs it: the
 * first NACK's round trip and one retry, plus room for reordering. Audio plays out
 * continuously, so every ms of wait here is added delay on each hole. */
static rtc_time recv__audio_wait(const rtc_rtp_receiver *r, rtc_time rtt)
{
    rtc_time w = 2 * rtt + RTC_MS(20);
    rtc_time cap = r->cfg.latency > 0 ? r->cfg.latency : RTC_MS(200);
    return w < cap ? w : cap;
}

static bool recv__is_audio(const rtc_rtp_receiver_config *c) { return !rtc_codec_is_video(c->codec); }

static void recv__event(rtc_rtp_receiver *r, rtc_rtp_receiver_event_type t)
{
    if (r->ev_count < RECV_EVQ) r->evq[r->ev_count++] = (rtc_rtp_receiver_event){ t };
}

int rtc_rtp_receiver_new(rtc_rtp_receiver **out, const rtc_rtp_receiver_config *cfg, rtc_time now)
{
    if (!out || !cfg || (unsigned)cfg->codec >= RTC_CODEC__COUNT || cfg->pt > 127 || cfg->rtx_pt > 127 ||
        cfg->ulpfec_pt > 127 || (cfg->ulpfec_pt && (!cfg->red_pt || cfg->ulpfec_pt == cfg->pt || cfg->ulpfec_pt == cfg->red_pt)))
        return RTC_EINVAL;
    if (cfg->cname && strlen(cfg->cname) > 255) return RTC_EINVAL;
    rtc_rtp_receiver *r = calloc(1, sizeof *r);
    if (!r) return RTC_ENOMEM;
    r->cfg = *cfg;
    if (cfg->cname) strcpy(r->cname, cfg->cname);
    r->cfg.cname = NULL;
    if (!r->cfg.clock_rate) r->cfg.clock_rate = cfg->codec == RTC_CODEC_OPUS ? 48000 : 90000;
    if (r->cfg.rr_interval <= 0) r->cfg.rr_interval = RTC_SEC(1);
    if (r->cfg.pli_interval <= 0) r->cfg.pli_interval = RTC_MS(500);
    rtc_jitter_buffer_config jc = { .codec = cfg->codec, .latency = cfg->latency, .wait_keyframe = cfg->wait_keyframe,
                                    .pool = cfg->pool };
    if (recv__is_audio(cfg) && !cfg->nack) jc.no_wait = true;      /* nothing would fill a hole */
    else if (recv__is_audio(cfg))
        jc.latency = recv__audio_wait(r, cfg->nack_cfg.default_rtt > 0 ? cfg->nack_cfg.default_rtt : RTC_MS(100));
    r->jbc = jc;
    int e = rtc_jitter_buffer_new(&r->jb, &jc, now);
    if (e == 0 && cfg->nack) e = rtc_nack_generator_new(&r->nack, &cfg->nack_cfg, now);
    if (e == 0 && cfg->ulpfec_pt) e = rtc_fec_recovery_new(&r->fec, cfg->ssrc, cfg->pool);
    if (e < 0) { rtc_rtp_receiver_free(r); return e; }
    rtc_rtp_recv_stats_init(&r->rstats, cfg->ssrc, r->cfg.clock_rate);
    r->now = now;
    rtc_remb_estimator_init(&r->remb, 0, now);
    r->next_rr = now + r->cfg.rr_interval;
    r->last_pli = INT64_MIN / 2;
    *out = r;
    return 0;
}

void rtc_rtp_receiver_free(rtc_rtp_receiver *r)
{
    if (!r) return;
    while (r->fwd_count) { rtc_buf_unref(r->fwd[r->fwd_head]); r->fwd_head = (r->fwd_head + 1) % FWD_QUEUE; r->fwd_count--; }
    rtc_jitter_buffer_free(r->jb);
    rtc_nack_generator_free(r->nack);
    rtc_buf_unref(r->held);
    rtc_fec_recovery_free(r->fec);
    free(r);
}

static void recv__set_now(rtc_rtp_receiver *r, rtc_time now) { if (now > r->now) r->now = now; }

/* Keyframe hints from the NACK generator and the jitter buffer become one PLI. */
static void recv__collect(rtc_rtp_receiver *r)
{
    rtc_nack_event ne;
    rtc_jb_event je;
    while (r->nack && rtc_nack_generator_poll_event(r->nack, &ne)) r->want_pli |= !r->forward;
    while (rtc_jitter_buffer_poll_event(r->jb, &je)) r->want_pli = true;
}

static bool seen__has(const rtc_rtp_receiver *r, uint16_t seq)
{
    if (!r->seen_init) return false;
    int64_t delta = (int16_t)(uint16_t)(seq - (uint16_t)r->seen_max);
    if (delta > 0 || delta <= -SEEN_WINDOW) return false;
    uint64_t i = (uint64_t)(r->seen_max + delta) % SEEN_WINDOW;
    return r->seen[i / 64] & (UINT64_C(1) << (i % 64));
}

static void seen__set(rtc_rtp_receiver *r, int64_t ext, bool on)
{
    uint64_t i = (uint64_t)ext % SEEN_WINDOW, bit = UINT64_C(1) << (i % 64);
    if (on) r->seen[i / 64] |= bit; else r->seen[i / 64] &= ~bit;
}

/* Marks seq as arrived; false when it had already arrived. Browsers probe bandwidth
 * with RTX copies of packets we already have, and a repair can race its original:
 * counting those again would make the loss count negative. libwebrtc likewise counts
 * a sequence number once. A packet older than the window cannot be judged here and
 * is left to the RFC 3550 statistics, which ignore stale packets themselves. */
static bool seen__mark(rtc_rtp_receiver *r, uint16_t seq)
{
    if (!r->seen_init) {
        r->seen_init = true;
        r->seen_max = seq;
        seen__set(r, seq, true);
        return true;
    }
    int64_t delta = (int16_t)(uint16_t)(seq - (uint16_t)r->seen_max);
    int64_t ext = r->seen_max + delta;
    if (delta > 0) {
        if (delta >= SEEN_WINDOW) memset(r->seen, 0, sizeof r->seen);
        else for (int64_t s = r->seen_max + 1; s < ext; s++) seen__set(r, s, false);
        r->seen_max = ext;
        seen__set(r, ext, true);
        return true;
    }
    if (delta <= -SEEN_WINDOW) return true;
    uint64_t i = (uint64_t)ext % SEEN_WINDOW;
    if (r->seen[i / 64] & (UINT64_C(1) << (i % 64))) return false;
    seen__set(r, ext, true);
    return true;
}

/* The sender restarted on this SSRC (a sequence jump the next packet confirmed):
 * everything that orders packets starts over, and video needs a keyframe. */
static int recv__restart(rtc_rtp_receiver *r)
{
    rtc_jitter_buffer *jb;
    rtc_nack_generator *ng = NULL;
    int e = rtc_jitter_buffer_new(&jb, &r->jbc, r->now);
    if (e == 0 && r->nack) e = rtc_nack_generator_new(&ng, &r->cfg.nack_cfg, r->now);
    if (e < 0) { rtc_jitter_buffer_free(jb); return e; }
    rtc_jb_frame f;
    while (rtc_jitter_buffer_poll_frame(r->jb, &f)) rtc_buf_unref(f.data);   /* the caller drained them */
    rtc_jitter_buffer_free(r->jb);
    r->jb = jb;
    if (r->nack) {
        rtc_nack_generator_free(r->nack);
        r->nack = ng;
        if (r->rtt > 0) rtc_nack_generator_handle_rtt(r->nack, r->rtt);
    }
    memset(r->seen, 0, sizeof r->seen);
    r->seen_init = false;
    if (r->fec) {
        rtc_fec_recovery *f;
        if (rtc_fec_recovery_new(&f, r->cfg.ssrc, r->cfg.pool) == 0) {
            rtc_fec_recovery_stats fs;
            rtc_fec_recovery_get_stats(r->fec, &fs);
            r->fec_discarded_before += fs.discarded;    /* the new window counts from 0 */
            r->fec_malformed_before += fs.malformed;
            rtc_fec_recovery_free(r->fec);
            r->fec = f;
        }
    }
    r->remb_seq.init = false;                           /* the estimate itself carries on */
    r->remb.started = false;
    /* A restarted sender's abs-send-time clock is another one: regroup from scratch. */
    r->remb.have_abs = false;
    r->remb.delay.cur.valid = r->remb.delay.prev.valid = false;
    rtc_rtp_recv_stats_restart(&r->rstats);
    if (r->cfg.wait_keyframe) r->want_pli = true;
    r->stats.restarts++;
    return 0;
}

/* Forward mode: the packet goes out as it is (the caller keeps its ref) instead of
 * into the jitter buffer; a full queue drops it and counts the drop. */
static int recv__forward(rtc_rtp_receiver *r, rtc_buf *media)
{
    if (r->fwd_count == FWD_QUEUE) r->stats.forward_dropped++;
    else { r->fwd[(r->fwd_head + r->fwd_count++) % FWD_QUEUE] = rtc_buf_ref(media); r->stats.forwarded++; }
    recv__collect(r);
    return 0;
}

/* A media packet (RTX unwrapped) for stats, NACK and the jitter buffer. A copy
 * recovered from RED or rebuilt from ULPFEC was not received as such: the RFC 3550
 * counts and the receive rate leave it out, NACK stops asking for it, the jitter
 * buffer takes it. Every packet taken joins the FEC window. */
static int recv__accept_as(rtc_rtp_receiver *r, rtc_buf *media, recv_via via)
{
    bool rtx = via == VIA_RTX;
    rtc_rtp_packet p;
    int e = rtc_rtp_parse(&p, media->data, media->len);
    if (e < 0) { r->stats.malformed++; return e; }
    if (via == VIA_FEC && (p.h.pt != r->cfg.pt || p.h.ssrc != r->cfg.ssrc)) { r->stats.fec_malformed++; return RTC_EPROTO; }
    if (!seen__mark(r, p.h.seq)) {
        r->stats.duplicates++;
        return RTC_EIGNORED;
    }
    if (r->fec) rtc_fec_recovery_add_media(r->fec, media);
    if (via == VIA_RED || via == VIA_FEC) {
        if (via == VIA_RED) r->stats.red_recovered++; else r->stats.fec_recovered++;
        if (r->nack) rtc_nack_generator_handle_packet(r->nack, p.h.seq, r->now);
        if (r->forward) return recv__forward(r, media);
        e = rtc_jitter_buffer_handle_packet(r->jb, media, r->now);
        recv__collect(r);
        return e < 0 ? e : 0;
    }
    r->stats.packets++;
    r->stats.bytes += p.payload_len;
    rtc_rtp_recv_stats_on_packet(&r->rstats, p.h.seq, p.h.ts, p.payload_len, r->now);
    /* Without RTX the sender resends on the media SSRC: a NACKed hole filled there is
     * counted as retransmitted (as RTX is), so repaired never exceeds retransmitted.
     * With RTX negotiated, a media packet is always an original, however late. */
    bool repair = false;
    if (r->nack && rtc_nack_generator_handle_packet(r->nack, p.h.seq, r->now) == 1 && (rtx || !r->cfg.rtx_pt)) {
        repair = true;
        r->stats.repaired++;                            /* not a late original: a real repair */
        if (!rtx) r->stats.retransmitted++;
    }
    if (r->cfg.remb) {
        /* A plain resend keeps its first abs-send-time (an RTX packet is restamped but
         * its spacing is the NACK's, not the encoder's): only originals measure delay. */
        int32_t abs = -1;
        const rtc_rtp_ext *x;
        uint32_t v;
        if (r->cfg.abs_send_time_id && !rtx && !repair && (x = rtc_rtp_find_ext(&p.h, r->cfg.abs_send_time_id)) &&
            rtc_ext_read_abs_send_time(x, &v) == 0)
            abs = (int32_t)v;
        rtc_remb_estimator_handle_packet(&r->remb, rtc_seq_unwrap(&r->remb_seq, p.h.seq), media->len, abs, r->now);
    }
    if (r->forward) return recv__forward(r, media);
    e = rtc_jitter_buffer_handle_packet(r->jb, media, r->now);
    recv__collect(r);
    return e == RTC_EIGNORED ? RTC_EIGNORED : e < 0 ? (r->stats.malformed++, e) : 0;
}

/* Packets the FEC window rebuilt (after any packet or FEC packet joined it). */
static void recv__drain_fec(rtc_rtp_receiver *r)
{
    rtc_buf *b;
    while (r->fec && rtc_fec_recovery_poll(r->fec, &b)) {
        recv__accept_as(r, b, VIA_FEC);
        rtc_buf_unref(b);
    }
}

static int recv__accept(rtc_rtp_receiver *r, rtc_buf *media, bool rtx)
{
    int e = recv__accept_as(r, media, rtx ? VIA_RTX : VIA_MEDIA);
    recv__drain_fec(r);
    return e;
}

/* A packet with header h (hlen bytes of `pkt`) and the given payload, as the media
 * stream would have carried it: the primary's payload type, seq and timestamp. */
static rtc_buf *recv__unred(rtc_rtp_receiver *r, const rtc_buf *pkt, size_t hlen, uint16_t seq, uint32_t ts,
                            bool marker, const uint8_t *pay, size_t plen)
{
    rtc_buf *b = rtc_buf_alloc(r->cfg.pool, hlen + plen);
    if (!b) return NULL;
    memcpy(b->data, pkt->data, hlen);
    b->data[0] &= (uint8_t)~0x20;                       /* no padding in the rebuilt packet */
    rtc_rtp_set_pt(b->data, r->cfg.pt);
    rtc_rtp_set_seq(b->data, seq);
    rtc_rtp_set_ts(b->data, ts);
    rtc_rtp_set_marker(b->data, marker);
    if (plen) memcpy(b->data + hlen, pay, plen);
    b->len = hlen + plen;
    return b;
}

/* An ULPFEC packet (the RED block fec[0..len)) takes a sequence number of the media
 * stream: it is received there (RFC 3550 counts, NACK does not ask for it) and fills
 * its slot in the jitter buffer as padding between frames; then its parity joins the
 * window and may rebuild a lost packet. Far from the highest seq (a stray, or a
 * restart the media packets will show) it is dropped. */
static int recv__ulpfec(rtc_rtp_receiver *r, rtc_buf *pkt, const rtc_rtp_packet *p, const uint8_t *fec, size_t len)
{
    if (r->held || rtc_rtp_recv_stats_is_jump(&r->rstats, p->h.seq)) { r->stats.ignored++; return RTC_EIGNORED; }
    if (!seen__mark(r, p->h.seq)) { r->stats.duplicates++; return RTC_EIGNORED; }
    r->stats.fec_packets++;
    rtc_rtp_recv_stats_on_packet(&r->rstats, p->h.seq, p->h.ts, p->payload_len, r->now);
    if (r->nack) rtc_nack_generator_handle_packet(r->nack, p->h.seq, r->now);
    if (!r->forward) {
        rtc_buf *pad = recv__unred(r, pkt, p->header_len, p->h.seq, p->h.ts, false, NULL, 0);
        if (!pad) return RTC_ENOMEM;
        rtc_jitter_buffer_handle_packet(r->jb, pad, r->now);
        rtc_buf_unref(pad);
        recv__collect(r);
    }
    int e = rtc_fec_recovery_add_ulpfec(r->fec, fec, len);   /* a malformed one is counted there */
    recv__drain_fec(r);
    return e < 0 ? e : 0;
}

/* RED: earlier copies first, for the seqs just before this one that are missing (one
 * packet per frame, as Opus is sent), then the primary goes on as a media packet. */
static rtc_buf *recv__red(rtc_rtp_receiver *r, rtc_buf *pkt, const rtc_rtp_packet *p, int *err)
{
    rtc_red_block blk[RTC_RED_MAX_BLOCKS];
    size_t n = 0;
    *err = rtc_red_parse(p->payload, p->payload_len, blk, RTC_RED_MAX_BLOCKS, &n);
    if (*err < 0) { r->stats.malformed++; return NULL; }
    r->stats.red_packets++;
    const rtc_red_block *pri = &blk[n - 1];
    if (r->fec && pri->pt == r->cfg.ulpfec_pt) { *err = recv__ulpfec(r, pkt, p, pri->data, pri->len); return NULL; }
    if (pri->pt != r->cfg.pt || !pri->len) { r->stats.ignored++; *err = RTC_EIGNORED; return NULL; }
    bool near = !rtc_rtp_recv_stats_is_jump(&r->rstats, p->h.seq) && !r->held;
    for (size_t i = 0; near && i + 1 < n; i++) {
        uint16_t seq = (uint16_t)(p->h.seq - (n - 1 - i));
        if (blk[i].pt != r->cfg.pt || !blk[i].len || !blk[i].ts_offset || seen__has(r, seq) || !r->seen_init) continue;
        rtc_buf *c = recv__unred(r, pkt, p->header_len, seq, p->h.ts - blk[i].ts_offset, false, blk[i].data, blk[i].len);
        if (!c) break;
        recv__accept_as(r, c, VIA_RED);
        rtc_buf_unref(c);
    }
    rtc_buf *m = recv__unred(r, pkt, p->header_len, p->h.seq, p->h.ts, p->h.marker, pri->data, pri->len);
    if (!m) *err = RTC_ENOMEM;
    return m;
}

int rtc_rtp_receiver_handle_rtp(rtc_rtp_receiver *r, rtc_buf *pkt, rtc_time now)
{
    recv__set_now(r, now);
    rtc_rtp_packet p;
    int e = rtc_rtp_parse(&p, pkt->data, pkt->len);
    if (e < 0) { r->stats.malformed++; return e; }
    rtc_buf *media = NULL;
    bool rtx = false;
    if (p.h.ssrc == r->cfg.ssrc && p.h.pt == r->cfg.pt) {
        media = rtc_buf_ref(pkt);
    } else if (r->cfg.red_pt && p.h.ssrc == r->cfg.ssrc && p.h.pt == r->cfg.red_pt) {
        media = recv__red(r, pkt, &p, &e);
        if (!media) return e;
        rtc_rtp_parse(&p, media->data, media->len);
    } else if (r->cfg.rtx_ssrc && p.h.ssrc == r->cfg.rtx_ssrc && p.h.pt == r->cfg.rtx_pt) {
        media = rtc_buf_alloc(r->cfg.pool, pkt->len);
        if (!media) return RTC_ENOMEM;
        e = rtc_rtx_unwrap(pkt->data, pkt->len, r->cfg.pt, r->cfg.ssrc, media->data, media->cap);
        if (e < 0) {
            rtc_buf_unref(media);
            if (e == RTC_EIGNORED) r->stats.ignored++; else r->stats.malformed++;
            return e;
        }
        media->len = (size_t)e;
        rtc_rtp_parse(&p, media->data, media->len);
        r->stats.rtx_packets++;
        r->stats.retransmitted++;
        rtx = true;
    } else {
        r->stats.ignored++;
        return RTC_EIGNORED;
    }
    /* A jump far from the highest seq is either a stray (a very late or bogus packet)
     * or a sender that restarted on this SSRC; RFC 3550 A.1 tells them apart by the
     * next packet. Hold it until then: a restart keeps it, a stray is judged as usual.
     * A retransmission names an old seq by design: RTX repairs that arrive very late,
     * several in a row, are never a restart (that shows on the media SSRC). */
    bool jump = !rtx && rtc_rtp_recv_stats_is_jump(&r->rstats, p.h.seq);
    if (jump && !(r->held && p.h.seq == (uint16_t)(r->held_seq + 1))) {
        if (r->held) { r->stats.ignored++; rtc_buf_unref(r->held); }
        r->held = media;
        r->held_seq = p.h.seq;
        r->held_rtx = rtx;
        return 0;
    }
    if (r->held) {
        rtc_buf *h = r->held;
        r->held = NULL;
        if (jump && (e = recv__restart(r)) < 0) { rtc_buf_unref(h); rtc_buf_unref(media); return e; }
        recv__accept(r, h, r->held_rtx);
        rtc_buf_unref(h);
    }
    e = recv__accept(r, media, rtx);
    rtc_buf_unref(media);
    return e;
}

int rtc_rtp_receiver_handle_rtcp(rtc_rtp_receiver *r, const rtc_rtcp_view *v, rtc_time now)
{
    recv__set_now(r, now);
    if (v->pt == RTC_RTCP_SR) {
        rtc_rtcp_sr sr;
        int e = rtc_rtcp_read_sr(v, &sr);
        if (e < 0) return e;
        if (sr.ssrc != r->cfg.ssrc) return RTC_EIGNORED;
        rtc_rtp_recv_stats_on_sr(&r->rstats, sr.ntp, r->now);
        r->stats.srs_received++;
        r->stats.sr_packets = sr.packet_count;
        r->stats.sr_octets = sr.octet_count;
        r->stats.sr_ntp = sr.ntp;
        return 0;
    }
    if (v->pt == RTC_RTCP_BYE) {
        rtc_rtcp_bye b;
        int e = rtc_rtcp_read_bye(v, &b);
        if (e < 0) return e;
        for (unsigned i = 0; i < b.count; i++)
            if (b.ssrc[i] == r->cfg.ssrc && !r->bye_seen) {
                r->bye_seen = true;
                recv__event(r, RTC_RTP_RECV_EV_BYE);
                return 0;
            }
    }
    return RTC_EIGNORED;
}

void rtc_rtp_receiver_set_rtx_ssrc(rtc_rtp_receiver *r, uint32_t rtx_ssrc) { r->cfg.rtx_ssrc = rtx_ssrc; }

void rtc_rtp_receiver_handle_rtt(rtc_rtp_receiver *r, rtc_time rtt)
{
    if (rtt <= 0) return;
    r->rtt = rtt;
    rtc_remb_estimator_set_rtt(&r->remb, rtt);
    if (r->nack) rtc_nack_generator_handle_rtt(r->nack, rtt);
    if (r->nack && recv__is_audio(&r->cfg)) {
        r->jbc.latency = recv__audio_wait(r, rtt);
        rtc_jitter_buffer_set_latency(r->jb, r->jbc.latency);
    }
}

void rtc_rtp_receiver_handle_timeout(rtc_rtp_receiver *r, rtc_time now)
{
    recv__set_now(r, now);
    if (r->nack) rtc_nack_generator_handle_timeout(r->nack, r->now);
    if (r->cfg.remb) rtc_remb_estimator_handle_timeout(&r->remb, r->now);
    rtc_jitter_buffer_handle_timeout(r->jb, r->now);
    recv__collect(r);
    if (r->now >= r->next_rr) {
        r->rr_due = true;
        r->next_rr += r->cfg.rr_interval;
        if (r->next_rr <= r->now) r->next_rr = r->now + r->cfg.rr_interval;   /* long sleep */
    }
}

void rtc_rtp_receiver_request_keyframe(rtc_rtp_receiver *r) { r->want_pli = true; }

/* RR (with the report block) + SDES CNAME into out; the length, or RTC_EOVERFLOW
 * before the report moves its baseline. `room` more bytes must fit after it. */
static int recv__write_rr(rtc_rtp_receiver *r, uint8_t *out, size_t cap, size_t room)
{
    rtc_rtcp_rr rr = { .ssrc = r->cfg.local_ssrc, .rb_count = r->rstats.init ? 1 : 0 };
    size_t clen = strlen(r->cname);
    size_t need = 8 + 24u * rr.rb_count + (clen ? 4 + ((4 + 2 + clen + 4) & ~(size_t)3) : 0);
    if (cap < need + room) return RTC_EOVERFLOW;
    if (rr.rb_count) rtc_rtp_recv_stats_report(&r->rstats, r->now, &rr.rb[0]);
    int len = rtc_rtcp_write_rr(out, cap, &rr);
    if (len >= 0 && clen) {
        rtc_rtcp_sdes_chunk c = { r->cfg.local_ssrc, { r->cname, clen } };
        int n = rtc_rtcp_write_sdes(out + len, cap - (size_t)len, &c, 1);
        if (n < 0) return n;
        len += n;
    }
    if (len >= 0) r->stats.rrs_sent++;
    return len;
}

/* Without rtcp-rsize a feedback message must follow an RR (RFC 4585 3.1): room for
 * it is made first, then the message is written after it. */
static int recv__prefix(rtc_rtp_receiver *r, uint8_t *out, size_t cap, size_t room)
{
    if (r->cfg.rsize) return 0;
    return recv__write_rr(r, out, cap, room);
}

int rtc_rtp_receiver_poll_rtcp(rtc_rtp_receiver *r, uint8_t *out, size_t cap)
{
    if (r->nack) {
        uint16_t seqs[128];
        size_t max = cap >= 12 + 4 * 128 + (r->cfg.rsize ? 0 : 300) ? 128 : 1;
        size_t n = rtc_nack_generator_poll_nack(r->nack, seqs, max);
        if (n) {
            int pre = recv__prefix(r, out, cap, 12 + 4 * n);
            if (pre < 0) return pre;
            int len = rtc_rtcp_write_nack(out + pre, cap - (size_t)pre, r->cfg.local_ssrc, r->cfg.ssrc, seqs, n);
            if (len > 0) r->stats.nacks_sent++;
            return len < 0 ? len : pre + len;
        }
    }
    bool can_ask = r->cfg.pli || r->cfg.fir;
    if (r->want_pli && can_ask && r->now - r->last_pli >= r->cfg.pli_interval) {
        int pre = recv__prefix(r, out, cap, 20);
        if (pre < 0) return pre;
        int len;
        if (r->cfg.pli) {
            len = rtc_rtcp_write_pli(out + pre, cap - (size_t)pre, r->cfg.local_ssrc, r->cfg.ssrc);
            if (len >= 0) r->stats.plis_sent++;
        } else {
            if (!r->fir_open) { r->fir_open = true; r->fir_seq++; }
            rtc_rtcp_fir_entry fe = { r->cfg.ssrc, r->fir_seq };
            len = rtc_rtcp_write_fir(out + pre, cap - (size_t)pre, r->cfg.local_ssrc, &fe, 1);
            if (len >= 0) r->stats.firs_sent++;
        }
        if (len < 0) return len;
        r->last_pli = r->now;
        recv__event(r, RTC_RTP_RECV_EV_KEYFRAME_REQUESTED);
        return pre + len;
    }
    uint64_t bitrate;
    if (r->cfg.remb && rtc_remb_estimator_poll(&r->remb, &bitrate)) {
        int pre = recv__prefix(r, out, cap, 24);
        if (pre < 0) return pre;
        uint32_t ssrc = r->cfg.ssrc;
        int len = rtc_rtcp_write_remb(out + pre, cap - (size_t)pre, r->cfg.local_ssrc, bitrate, &ssrc, 1);
        if (len < 0) return len;
        r->stats.rembs_sent++;
        r->stats.remb_bitrate = bitrate;
        return pre + len;
    }
    if (r->rr_due) {
        int len = recv__write_rr(r, out, cap, 0);
        if (len < 0) return len;
        r->rr_due = false;
        return len;
    }
    return 0;
}

int rtc_rtp_receiver_poll_frame(rtc_rtp_receiver *r, rtc_jb_frame *out)
{
    int got = rtc_jitter_buffer_poll_frame(r->jb, out);
    if (got && out->keyframe) {
        r->want_pli = false;
        r->fir_open = false;                            /* the next request is a new one */
        /* Holes before a keyframe no longer matter to the decoder: stop asking. */
        if (r->nack) rtc_nack_generator_handle_keyframe(r->nack, out->first_seq);
    }
    recv__collect(r);
    return got;
}

void rtc_rtp_receiver_set_forward(rtc_rtp_receiver *r, bool on)
{
    r->forward = on;
    if (on) r->want_pli = false;
}

int rtc_rtp_receiver_poll_packet(rtc_rtp_receiver *r, rtc_buf **out)
{
    if (!r->fwd_count) return 0;
    *out = r->fwd[r->fwd_head];
    r->fwd_head = (r->fwd_head + 1) % FWD_QUEUE;
    r->fwd_count--;
    return 1;
}

int rtc_rtp_receiver_poll_event(rtc_rtp_receiver *r, rtc_rtp_receiver_event *out)
{
    if (!r->ev_count) return 0;
    *out = r->evq[0];
    memmove(&r->evq[0], &r->evq[1], (--r->ev_count) * sizeof r->evq[0]);
    return 1;
}

rtc_time rtc_rtp_receiver_poll_timeout(const rtc_rtp_receiver *r)
{
    if (r->rr_due || r->ev_count) return r->now;
    rtc_time t = r->next_rr;
    if (r->want_pli && (r->cfg.pli || r->cfg.fir)) t = rtc_time_min(t, r->last_pli + r->cfg.pli_interval);
    if (r->nack) t = rtc_time_min(t, rtc_nack_generator_poll_timeout(r->nack));
    if (r->cfg.remb) t = rtc_time_min(t, rtc_remb_estimator_poll_timeout(&r->remb));
    return rtc_time_min(t, rtc_jitter_buffer_poll_timeout(r->jb));
}

void rtc_rtp_receiver_get_stats(const rtc_rtp_receiver *r, rtc_rtp_receiver_stats *out)
{
    *out = r->stats;
    if (r->nack) rtc_nack_generator_get_stats(r->nack, &out->nack);
    else memset(&out->nack, 0, sizeof out->nack);
    rtc_jitter_buffer_get_stats(r->jb, &out->jb);
    out->lost = rtc_rtp_recv_stats_lost(&r->rstats);
    out->jitter = r->rstats.jitter_q4 >> 4;
    if (r->fec) {
        rtc_fec_recovery_stats fs;
        rtc_fec_recovery_get_stats(r->fec, &fs);
        out->fec_discarded = r->fec_discarded_before + fs.discarded;
        out->fec_malformed += r->fec_malformed_before + fs.malformed;
    }
}
