/* One outgoing stream to one subscriber: its own SSRC, sequence numbers, timestamps
 * and VP8 picture ids, kept continuous across pauses and source changes by epochs
 * (sfu_internal.h); the header is written fresh with this leg's payload type and
 * extension ids; NACKs are answered from the producer's cache (as RTX when
 * negotiated); sender reports carry the publisher's NTP/RTP mapping over. */
#include "sfu/sfu_internal.h"
#include "core/rtc_errors.h"
#include "codec/red.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include <string.h>

static const uint8_t opus_silence[3] = { 0xf8, 0xff, 0xfe };   /* one 20 ms CELT silence frame */

static sfu_epoch *cur_epoch(rtc_sfu_consumer *c)
{
    return c->ep_count ? &c->ep[(c->ep_head + c->ep_count - 1) % SFU_EPOCHS] : NULL;
}

static sfu_epoch *push_epoch(rtc_sfu_consumer *c)
{
    if (c->ep_count == SFU_EPOCHS) { c->ep_head = (c->ep_head + 1) % SFU_EPOCHS; c->ep_count--; }
    /* Indexed directly, not through cur_epoch: at -O3 GCC follows its NULL branch. */
    sfu_epoch *e = &c->ep[(c->ep_head + c->ep_count) % SFU_EPOCHS];
    c->ep_count++;
    memset(e, 0, sizeof *e);
    return e;
}

int sfu__consumer_init(rtc_sfu_consumer *c, const rtc_sfu_consumer_config *cfg, rtc_sfu_producer *src, rtc_time now)
{
    if ((unsigned)cfg->codec >= RTC_CODEC__COUNT || cfg->pt > 127 || cfg->rtx_pt > 127 || cfg->red_pt > 127 ||
        (cfg->red_pt && cfg->codec != RTC_CODEC_OPUS))
        return RTC_EINVAL;
    c->cfg = *cfg;
    size_t n = cfg->mid ? strlen(cfg->mid) : 0;
    if (n > 16) return RTC_EINVAL;
    memcpy(c->mid, cfg->mid ? cfg->mid : "", n);
    n = cfg->cname ? strlen(cfg->cname) : 0;
    if (n > 64) return RTC_EINVAL;
    memcpy(c->cname, cfg->cname ? cfg->cname : "", n);
    c->cfg.mid = c->mid;
    c->cfg.cname = c->cname;
    if (!c->cfg.sr_interval) c->cfg.sr_interval = RTC_SEC(1);
    if (!c->cfg.rtx_rate) c->cfg.rtx_rate = 400;
    if (!c->cfg.rtx_burst) c->cfg.rtx_burst = 200;
    if (!c->cfg.clock_rate) c->cfg.clock_rate = src ? src->cfg.clock_rate : (cfg->codec == RTC_CODEC_OPUS ? 48000 : 90000);
    c->video = rtc_codec_is_video(cfg->codec);
    for (int k = 0; k < RTC_SFU_EXT__COUNT; k++) c->ext_two_byte |= cfg->ext_id[k] > 14;
    c->paused = cfg->paused;
    c->need_restart = true;
    c->waiting_keyframe = c->video;
    c->last_out_pic = -1;
    c->last_out_tl0 = -1;
    c->last_out_ext = (int64_t)cfg->initial_seq - 1;
    c->rtx_seq = cfg->initial_rtx_seq;
    c->tokens = c->cfg.rtx_burst;
    c->tokens_at = now;
    rtc_rtp_send_stats_init(&c->ss, cfg->ssrc, c->cfg.clock_rate);
    c->sr_next = now + c->cfg.sr_interval;
    c->st.rtt = -1;
    sfu__layers_init(c);
    return 0;
}

/* Fixed header, the publisher's CSRCs, and an extension block with this leg's ids.
 * Only extensions the core knows are written (the publisher's others, and their ids,
 * mean nothing on this leg). The block is one-byte (RFC 8285 section 4.2) unless this
 * leg negotiated an id above 14, which only the two-byte form (4.3) can carry. */
static size_t write_header(rtc_sfu_consumer *c, uint8_t *h, const rtc_sfu_packet *pk, bool rtx, uint8_t pt,
                           uint16_t seq, uint32_t ts, bool muted, bool marker, rtc_time now)
{
    /* A mixer upstream named its contributing sources: they stay named (RFC 3550
     * section 7.3); the parser checked they are inside the packet. */
    uint8_t cc = pk->buf->data[0] & 0x0f;
    h[0] = (uint8_t)(0x80 | cc);
    h[1] = (uint8_t)((marker && !muted ? 0x80 : 0) | pt);
    rtc_wr16(h + 2, seq);
    rtc_wr32(h + 4, ts);
    rtc_wr32(h + 8, rtx ? c->cfg.rtx_ssrc : c->cfg.ssrc);
    memcpy(h + 12, pk->buf->data + 12, (size_t)cc * 4);
    size_t x = 12 + (size_t)cc * 4, o = x + 4;
    const uint8_t *id = c->cfg.ext_id;
    bool two = c->ext_two_byte;
#define PUT(k, n) (id[k] ? (two ? (h[o++] = id[k], h[o++] = (uint8_t)(n)) \
                                : (h[o++] = (uint8_t)(id[k] << 4 | ((n) - 1))), 1) : 0)
    if (pk->audio_level >= 0 && PUT(RTC_SFU_EXT_AUDIO_LEVEL, 1))
        h[o++] = muted ? 0x7f : (uint8_t)pk->audio_level;
    if (pk->video_orientation >= 0 && PUT(RTC_SFU_EXT_VIDEO_ORIENTATION, 1)) h[o++] = (uint8_t)pk->video_orientation;
    size_t ml = strlen(c->mid);
    if (ml && PUT(RTC_SFU_EXT_MID, ml)) { memcpy(h + o, c->mid, ml); o += ml; }
    if (PUT(RTC_SFU_EXT_ABS_SEND_TIME, 3)) {
        rtc_ext_put_abs_send_time(h + o, rtc_abs_send_time_from_us(now));
        o += 3;
    }
    if (PUT(RTC_SFU_EXT_TWCC, 2)) { h[o++] = 0; h[o++] = 0; }
#undef PUT
    if (o == x + 4) return x;
    while (o & 3) h[o++] = 0;
    h[0] |= 0x10;
    rtc_wr16(h + x, two ? RTC_RTP_EXT_PROFILE_TWO_BYTE : RTC_RTP_EXT_PROFILE_ONE_BYTE);
    rtc_wr16(h + x + 2, (uint16_t)((o - x - 4) / 4));
    return o;
}

/* RED for a subscriber that is to get it (cfg.red_pt): the packet sent just before on
 * this leg (the source's previous seq, in the same epoch, so at out seq - 1) as the
 * redundant block, then pk's payload as the primary, both under the subscriber's own
 * Opus payload type. The publisher's leg unpacked whatever RED it sent, so this works
 * whichever way the publisher sends. A pooled buffer: 50 packets a second at most per
 * audio consumer, and the payload is built from the cache each time the same way, so a
 * resend repeats the bytes first sent while both packets are cached. NULL: plain Opus. */
static rtc_buf *red_payload(rtc_sfu_consumer *c, const sfu_epoch *e, rtc_sfu_producer *src,
                            const rtc_sfu_packet *pk, rtc_time now)
{
    const rtc_sfu_packet *prev = src ? rtc_sfu_cache_get(src->cache, (uint16_t)(pk->ext_seq - 1), now) : NULL;
    rtc_red_block blk = { 0 };
    size_t nred = 0;
    if (prev && prev->ext_seq == pk->ext_seq - 1 && prev->ext_seq >= e->in_first && prev->payload_len > 0 &&
        prev->payload_len < 1024 && pk->ts - prev->ts > 0 && pk->ts - prev->ts < (1u << 14)) {
        blk = (rtc_red_block){ .pt = c->cfg.pt, .ts_offset = (uint16_t)(pk->ts - prev->ts),
                               .data = prev->buf->data + prev->header_len, .len = prev->payload_len };
        nred = 1;
    }
    size_t cap = 5 + blk.len + pk->payload_len;
    rtc_buf *b = rtc_buf_alloc(sfu__pool(c->router), cap);
    if (!b) return NULL;
    int n = rtc_red_write(b->data, cap, &blk, nred, c->cfg.pt, pk->buf->data + pk->header_len, pk->payload_len);
    if (n < 0) { rtc_buf_unref(b); return NULL; }
    b->len = (size_t)n;
    return b;
}

/* Header (+ OSN for RTX) + rewritten descriptor into out; the rest of the payload by ref. */
static int emit(rtc_sfu_consumer *c, const sfu_epoch *e, rtc_sfu_producer *src, const rtc_sfu_packet *pk, bool rtx,
                rtc_sfu_transmit *out, rtc_time now)
{
    int64_t out_ext = pk->ext_seq + e->seq_off;
    uint32_t ts = pk->ts + e->ts_off;
    memset(out, 0, offsetof(rtc_sfu_transmit, head));
    out->kind = RTC_SFU_TX_RTP;
    out->consumer = c;
    out->user = c->cfg.user;
    out->rtx = rtx;
    /* A retransmission on RTX (apt = the Opus type) carries the plain Opus packet:
     * the subscriber takes either form for that seq. */
    rtc_buf *red = c->cfg.red_pt && !rtx && !e->muted && pk->payload_len ? red_payload(c, e, src, pk, now) : NULL;
    uint8_t pt = rtx ? c->cfg.rtx_pt : red ? c->cfg.red_pt : c->cfg.pt;
    uint8_t *h = out->head;
    /* VP9 SVC with upper layers left out: the end of the highest layer forwarded ends
     * the picture, and the subscriber's decoder waits for the marker to take it. The
     * epoch says which layer that was, so a retransmission carries the same marker. */
    bool marker = pk->marker || (e->top_s >= 0 && pk->info.end && pk->info.spatial_id == e->top_s);
    size_t n = write_header(c, h, pk, rtx, pt, rtx ? c->rtx_seq++ : (uint16_t)out_ext, ts, e->muted, marker, now);
    if (rtx) { rtc_wr16(h + n, (uint16_t)out_ext); n += 2; }
    if (red) {
        out->head_len = n;
        out->pkt = red;
        out->off = 0;
        out->len = red->len;
        return 1;
    }
    if (e->muted && !c->video) {
        memcpy(h + n, opus_silence, sizeof opus_silence);
        out->head_len = n + sizeof opus_silence;
        return 1;
    }
    size_t off = pk->header_len, len = pk->payload_len;
    if (pk->desc_len && (e->pic_off || e->tl0_off) && (size_t)pk->desc_len + 1 <= len) {
        size_t d = (size_t)pk->desc_len + 1;              /* the parser wants one VP8 byte after it */
        memcpy(h + n, pk->buf->data + off, d);
        int32_t pic = pk->info.picture_id >= 0 ? (int32_t)((pk->info.picture_id + e->pic_off) & 0x7fff) : -1;
        int32_t tl0 = pk->info.tl0picidx >= 0 ? (uint8_t)(pk->info.tl0picidx + e->tl0_off) : -1;
        if (c->cfg.codec == RTC_CODEC_VP9) rtc_vp9_rewrite_ids(h + n, d, pic, tl0);
        else rtc_vp8_rewrite_ids(h + n, d, pic, tl0);
        n += d; off += d; len -= d;
    }
    out->head_len = n;
    out->pkt = rtc_buf_ref(pk->buf);
    out->off = off;
    out->len = len;
    return 1;
}

/* Start an epoch at packet pk: seq continues after the last sent; on another source or
 * a timeline that would go backwards, the timestamp continues from the last sent plus
 * the time elapsed; picture ids and TL0PICIDX continue from the last sent. */
static void restart_epoch(rtc_sfu_consumer *c, const rtc_sfu_packet *pk, rtc_time now)
{
    sfu_epoch *prev = cur_epoch(c);
    uint32_t ts_off = prev ? prev->ts_off : 0;
    bool same = prev && prev->source_gen == c->source_gen;
    sfu_epoch *e = push_epoch(c);
    e->source_gen = c->source_gen;
    e->in_first = pk->ext_seq;
    e->in_last = pk->ext_seq - 1;
    e->seq_off = c->last_out_ext + 1 - pk->ext_seq;
    e->ts_off = ts_off;
    e->muted = c->muted;
    e->top_s = (int8_t)sfu__layers_svc_top(c);
    if (c->have_out && (!same || (int32_t)(pk->ts + ts_off - c->last_out_ts) <= 0)) {
        int64_t el = (now - c->last_out_at) * (int64_t)c->cfg.clock_rate / 1000000;
        if (el < 1) el = 1;
        e->ts_off = c->last_out_ts + (uint32_t)el - pk->ts;
    }
    if (c->last_out_pic >= 0 && pk->info.picture_id >= 0)
        e->pic_off = (uint16_t)((c->last_out_pic + 1 - pk->info.picture_id) & 0x7fff);
    if (c->last_out_tl0 >= 0 && pk->info.tl0picidx >= 0)
        e->tl0_off = (uint8_t)(c->last_out_tl0 + 1 - pk->info.tl0picidx);
    c->need_restart = c->need_mute_epoch = false;
}

static void note_sent(rtc_sfu_consumer *c, const sfu_epoch *e, const rtc_sfu_packet *pk, const rtc_sfu_transmit *t, rtc_time now)
{
    int64_t out_ext = pk->ext_seq + e->seq_off;
    c->st.packets++;
    size_t bytes = t->head_len + t->len;
    c->st.bytes += bytes;
    if (!c->have_out || out_ext > c->last_out_ext) {
        c->last_out_ext = out_ext;
        c->last_out_ts = pk->ts + e->ts_off;
        c->last_out_at = now;
        if (pk->info.picture_id >= 0) c->last_out_pic = (pk->info.picture_id + e->pic_off) & 0x7fff;
        if (pk->info.tl0picidx >= 0) c->last_out_tl0 = (uint8_t)(pk->info.tl0picidx + e->tl0_off);
        c->have_out = true;
    }
    rtc_rtp_send_stats_on_packet(&c->ss, c->last_out_ts, bytes, now);
    if (!c->started) { c->started = true; sfu__event(c->router, RTC_SFU_EV_CONSUMER_STARTED, NULL, c); }
}

/* Leave packet pk out of c's numbering: the packets after it move down by one (and
 * picture ids by one per dropped frame), in a new epoch, so the subscriber sees no gap
 * and a NACK still maps back. A hole before pk stays with the old epoch (its packet
 * may still come); a packet inside the forwarded range just stays a hole. */
static void skip_packet(rtc_sfu_consumer *c, sfu_epoch *e, const rtc_sfu_packet *pk, bool new_frame)
{
    if (pk->ext_seq <= e->in_last) return;
    if (e->in_last < e->in_first && pk->ext_seq == e->in_first) {
        e->in_first = pk->ext_seq + 1;                 /* nothing sent in it yet: just shift */
        e->in_last = pk->ext_seq;
    } else {
        sfu_epoch keep = *e;
        e->in_last = pk->ext_seq - 1;
        e = push_epoch(c);
        *e = keep;
        e->in_first = pk->ext_seq + 1;
        e->in_last = pk->ext_seq;
    }
    e->seq_off--;
    if (new_frame) e->pic_off = (uint16_t)((e->pic_off - 1) & 0x7fff);
}

int sfu__consumer_forward(rtc_sfu_consumer *c, rtc_sfu_producer *from, const rtc_sfu_packet *pk,
                          rtc_sfu_transmit *out, rtc_time now)
{
    if (c->paused) { c->st.dropped_paused++; return 0; }
    int admit = sfu__layers_admit(c, from, pk, now);
    if (admit == 0) return 0;                         /* another layer's packet: not ours */
    sfu_epoch *e = cur_epoch(c);
    if (e && !c->need_restart && e->source_gen == c->source_gen && pk->ext_seq > e->in_last + SFU_SEQ_JUMP)
        c->need_restart = true;                       /* the source jumped: re-base, stay gapless */
    if (!c->need_restart && e && pk->ext_seq < e->in_first) {
        /* Late: forward only inside an earlier epoch of this source that covered it. */
        if (admit == -1) { c->st.dropped_temporal++; return 0; }
        if (admit < 0) { c->st.dropped_spatial++; return 0; }
        for (unsigned i = c->ep_count; i-- > 0; ) {
            sfu_epoch *o = &c->ep[(c->ep_head + i) % SFU_EPOCHS];
            if (o->source_gen == c->source_gen && pk->ext_seq >= o->in_first && pk->ext_seq <= o->in_last) {
                emit(c, o, from, pk, false, out, now);
                note_sent(c, o, pk, out, now);
                return 1;
            }
        }
        c->st.dropped_late++;
        return 0;
    }
    if (c->need_restart) {
        if (c->video && c->waiting_keyframe && !(pk->info.keyframe && pk->info.begin)) {
            c->st.dropped_waiting_keyframe++;
            return 0;
        }
        c->waiting_keyframe = false;
        restart_epoch(c, pk, now);
        e = cur_epoch(c);
    } else if ((c->need_mute_epoch || (admit > 0 && e->top_s != sfu__layers_svc_top(c))) && pk->ext_seq > e->in_last) {
        /* Muted or not, or another SVC spatial layer on top: same numbering, new epoch. */
        sfu_epoch keep = *e;
        e = push_epoch(c);
        *e = keep;
        e->in_first = pk->ext_seq;
        e->in_last = pk->ext_seq - 1;
        e->muted = c->muted;
        e->top_s = (int8_t)sfu__layers_svc_top(c);
        c->need_mute_epoch = false;
    }
    if (admit == -1) {
        /* A temporal layer above the one forwarded: drop, closing the gap. */
        /* Picture ids close up too, except in VP9's flexible mode (no TL0PICIDX),
         * whose references are picture-id differences. */
        bool compact = c->cfg.codec == RTC_CODEC_VP8 || pk->info.tl0picidx >= 0;
        bool new_frame = compact && pk->info.picture_id >= 0 && pk->info.picture_id != c->last_drop_pic;
        c->last_drop_pic = pk->info.picture_id;
        skip_packet(c, e, pk, new_frame);
        c->st.dropped_temporal++;
        sfu__layers_report(c);
        return 0;
    }
    if (admit < 0) {
        /* An SVC spatial layer above the one forwarded: drop, closing the gap; the
         * picture itself is forwarded (its lower layers), so its id stays. */
        skip_packet(c, e, pk, false);
        c->st.dropped_spatial++;
        sfu__layers_report(c);
        return 0;
    }
    if (pk->payload_len == 0 && pk->ext_seq == e->in_last + 1 && e->in_last >= e->in_first) {
        /* Padding only, in order: drop it and close the gap it would leave. */
        skip_packet(c, e, pk, false);
        c->st.dropped_padding++;
        return 0;
    }
    if (pk->ext_seq > e->in_last) e->in_last = pk->ext_seq;
    emit(c, e, from, pk, false, out, now);
    note_sent(c, e, pk, out, now);
    sfu__layers_report(c);
    return 1;
}

static bool take_token(rtc_sfu_consumer *c, rtc_time now)
{
    c->tokens += (double)(now - c->tokens_at) * c->cfg.rtx_rate / 1e6;
    if (c->tokens > c->cfg.rtx_burst) c->tokens = c->cfg.rtx_burst;
    c->tokens_at = now;
    if (c->tokens < 1) return false;
    c->tokens -= 1;
    return true;
}

int sfu__consumer_answer_nack(rtc_sfu_consumer *c, uint16_t seq, rtc_sfu_transmit *out, rtc_time now)
{
    c->st.nack_seqs_received++;
    if (!c->have_out) { c->st.nack_unanswerable++; return 0; }
    int64_t out_ext = c->last_out_ext - (int16_t)(uint16_t)((uint16_t)c->last_out_ext - seq);
    for (unsigned i = c->ep_count; i-- > 0; ) {
        sfu_epoch *e = &c->ep[(c->ep_head + i) % SFU_EPOCHS];
        int64_t in = out_ext - e->seq_off;
        if (in < e->in_first || in > e->in_last) continue;
        /* Sent from the current source or another layer of c's: its cache has it. */
        rtc_sfu_producer *src = sfu__layers_source_of(c, e->source_gen);
        if (!src) break;                              /* sent from a source we no longer have */
        if (!take_token(c, now)) { c->st.nack_rate_limited++; return 0; }
        const rtc_sfu_packet *pk = rtc_sfu_cache_get(src->cache, (uint16_t)in, now);
        if (!pk || pk->ext_seq != in) {
            sfu__producer_nack_upstream(src, (uint16_t)in, now);
            c->st.nack_forwarded++;
            return 0;
        }
        bool rtx = c->cfg.rtx_pt != 0;
        emit(c, e, src, pk, rtx, out, now);
        c->st.nack_answered++;
        c->st.rtx_packets++;
        return 1;
    }
    c->st.nack_unanswerable++;
    return 0;
}

void sfu__consumer_timeout(rtc_sfu_consumer *c, rtc_time now)
{
    sfu__layers_timeout(c, now);
    if (now < c->sr_next) return;
    c->sr_next = now + c->cfg.sr_interval;
    if (!c->have_out) return;                          /* RFC 3550: SRs only from a sender */
    rtc_rtcp_sr sr;
    rtc_rtp_send_stats_sr(&c->ss, now, now + sfu__unix_offset(c->router), &sr);
    sfu_epoch *e = cur_epoch(c);
    rtc_sfu_producer *p = c->source;
    if (p && p->have_sr && e && e->source_gen == c->source_gen) {
        /* The publisher's mapping, carried to now on our clock and into our timeline:
         * audio and video of one publisher shift alike, so lip sync survives. */
        int64_t dt = now - p->sr_at;
        sr.ntp = p->sr_ntp + (uint64_t)(((__int128)dt << 32) / 1000000);
        sr.rtp_ts = p->sr_rtp + e->ts_off + (uint32_t)(dt * (int64_t)p->cfg.clock_rate / 1000000);
    }
    uint8_t b[256];
    int n = rtc_rtcp_write_sr(b, sizeof b, &sr);
    if (n < 0) return;
    if (c->cname[0]) {
        rtc_rtcp_sdes_chunk ch = { c->cfg.ssrc, rtc_str_c(c->cname) };
        int m = rtc_rtcp_write_sdes(b + n, sizeof b - (size_t)n, &ch, 1);
        if (m > 0) n += m;
    }
    if (sfu__queue_rtcp(c->router, NULL, c, b, (size_t)n) == 0) c->st.srs_sent++;
}

rtc_time sfu__consumer_next(const rtc_sfu_consumer *c) { return rtc_time_min(c->sr_next, c->layers_next); }

void rtc_sfu_consumer_get_stats(const rtc_sfu_consumer *c, rtc_sfu_consumer_stats *out) { *out = c->st; }

void rtc_sfu_consumer_pause(rtc_sfu_consumer *c, rtc_time now) { c->paused = true; }

void rtc_sfu_consumer_resume(rtc_sfu_consumer *c, rtc_time now)
{
    if (!c->paused) return;
    c->paused = false;
    c->need_restart = true;
    c->waiting_keyframe = c->video;
    if (c->video && c->source) sfu__producer_want_keyframe(c->source, now);
    if (c->nlayers && c->layer[c->tgt_s] && c->layer[c->tgt_s] != c->source) sfu__producer_want_keyframe(c->layer[c->tgt_s], now);
}

void rtc_sfu_consumer_set_muted(rtc_sfu_consumer *c, bool muted, rtc_time now)
{
    if (c->video || c->muted == muted) return;
    c->muted = muted;
    c->need_mute_epoch = true;
}

void rtc_sfu_consumer_request_keyframe(rtc_sfu_consumer *c, rtc_time now)
{
    if (c->source) sfu__producer_want_keyframe(c->source, now);
    /* A switch is pending: the keyframe that matters is the target's. */
    if (c->nlayers && c->layer[c->tgt_s] && c->layer[c->tgt_s] != c->source) sfu__producer_want_keyframe(c->layer[c->tgt_s], now);
}
