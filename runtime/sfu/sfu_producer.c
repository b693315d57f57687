/* One incoming stream: parse, describe and cache its packets; keep the publisher's
 * SR and audio level; aggregate keyframe requests and NACKs from all consumers into
 * rate-limited upstream RTCP; send receiver reports. */
#include "sfu/sfu_internal.h"
#include "sfu/sfu_speaker.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>
#include <string.h>

static void copy_name(char *dst, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 16) n = 16;
    if (n) memcpy(dst, s, n);
    dst[n] = 0;
}

int sfu__producer_new(rtc_sfu_router *r, const rtc_sfu_producer_config *cfg, rtc_sfu_producer **out, rtc_time now)
{
    if ((unsigned)cfg->codec >= RTC_CODEC__COUNT || cfg->pt > 127) return RTC_EINVAL;
    rtc_sfu_producer *p = calloc(1, sizeof *p);
    if (!p) return RTC_ENOMEM;
    p->router = r;
    p->cfg = *cfg;
    copy_name(p->mid, cfg->mid);
    copy_name(p->rid, cfg->rid);
    p->cfg.mid = p->mid;
    p->cfg.rid = p->rid;
    if (!p->cfg.clock_rate) p->cfg.clock_rate = cfg->codec == RTC_CODEC_OPUS ? 48000 : 90000;
    if (!p->cfg.keyframe_interval) p->cfg.keyframe_interval = RTC_MS(500);
    if (!p->cfg.rr_interval) p->cfg.rr_interval = RTC_SEC(1);
    if (!p->cfg.upstream_nack_interval) p->cfg.upstream_nack_interval = RTC_MS(100);
    int e = rtc_sfu_cache_new(&p->cache, &cfg->cache);
    if (e < 0) { free(p); return e; }
    rtc_rtp_recv_stats_init(&p->rs, cfg->ssrc, p->cfg.clock_rate);
    p->rr_next = p->cfg.rr_interval > 0 ? now + p->cfg.rr_interval : RTC_TIME_NEVER;
    p->meter.max_tid = -1;
    *out = p;
    return 0;
}

void sfu__producer_free(rtc_sfu_producer *p)
{
    if (!p) return;
    rtc_sfu_cache_free(p->cache);
    free(p->cons);
    free(p);
}

int sfu__producer_attach(rtc_sfu_producer *p, rtc_sfu_consumer *c)
{
    if (p->ncons == p->capcons) {
        size_t n = p->capcons ? p->capcons * 2 : 8;
        rtc_sfu_consumer **a = realloc(p->cons, n * sizeof *a);
        if (!a) return RTC_ENOMEM;
        p->cons = a;
        p->capcons = n;
    }
    p->cons[p->ncons++] = c;
    return 0;
}

void sfu__producer_detach(rtc_sfu_producer *p, rtc_sfu_consumer *c)
{
    for (size_t i = 0; i < p->ncons; i++) {
        if (p->cons[i] != c) continue;
        memmove(&p->cons[i], &p->cons[i + 1], (p->ncons - i - 1) * sizeof *p->cons);
        p->ncons--;
        return;
    }
}

/* Element `id` of an extension block the parser checked, scanned in the packet itself:
 * for a block with more elements than the parsed header keeps (RTC_RTP_MAX_EXT), so
 * a publisher's many extensions we do not know cannot hide one we do. */
static const uint8_t *scan_ext(const uint8_t *pkt, const rtc_rtp_header *h, uint8_t id, uint8_t *len)
{
    size_t at = 12 + (size_t)h->csrc_count * 4;
    bool two = (h->ext_profile & 0xFFF0) == RTC_RTP_EXT_PROFILE_TWO_BYTE;
    size_t end = at + 4 + (size_t)rtc_rd16(pkt + at + 2) * 4;
    for (size_t i = at + 4; i < end;) {
        uint8_t eid = two ? pkt[i] : pkt[i] >> 4, elen;
        if (eid == 0) { i++; continue; }
        if (!two && eid == 15) break;
        if (two) { elen = pkt[i + 1]; i += 2; } else { elen = (uint8_t)((pkt[i] & 0x0f) + 1); i++; }
        if (eid == id) { *len = elen; return pkt + i; }
        i += elen;
    }
    return NULL;
}

/* A one-byte value (audio level, orientation) in either form of the block, or -1. */
static void one_byte_ext(const uint8_t *pkt, const rtc_rtp_header *h, uint8_t id, int16_t *out)
{
    *out = -1;
    if (!id) return;
    const rtc_rtp_ext *e = rtc_rtp_find_ext(h, id);
    if (e) { if (e->len >= 1) *out = e->data[0]; return; }
    uint8_t len;
    const uint8_t *d = h->ext_dropped ? scan_ext(pkt, h, id, &len) : NULL;
    if (d && len >= 1) *out = d[0];
}

int sfu__producer_take_rtp(rtc_sfu_producer *p, rtc_buf *pkt, rtc_sfu_packet *out, rtc_time now)
{
    rtc_rtp_packet rp;
    int e = rtc_rtp_parse(&rp, pkt->data, pkt->len);
    if (e < 0) { p->st.malformed++; return e; }
    if (!p->cfg.ssrc && rp.h.pt == p->cfg.pt) {
        /* An unsignaled stream (found by MID/RID): its first packet names the SSRC. */
        p->cfg.ssrc = rp.h.ssrc;
        rtc_rtp_recv_stats_init(&p->rs, rp.h.ssrc, p->cfg.clock_rate);
    }
    if (rp.h.ssrc != p->cfg.ssrc || rp.h.pt != p->cfg.pt) { p->st.ignored++; return RTC_EIGNORED; }
    memset(out, 0, sizeof *out);
    out->info = (rtc_depack_info){ .picture_id = -1, .tl0picidx = -1, .temporal_id = -1, .spatial_id = -1 };
    if (rp.payload_len > 0) {
        size_t hl = 0;
        if (p->cfg.codec == RTC_CODEC_VP8) e = rtc_vp8_depack_parse(rp.payload, rp.payload_len, &out->info, &hl);
        else if (p->cfg.codec == RTC_CODEC_VP9) e = rtc_vp9_depack_parse(rp.payload, rp.payload_len, &out->info, &hl);
        else e = rtc_depack_parse(p->cfg.codec, rp.payload, rp.payload_len, &out->info);
        if (e < 0) { p->st.malformed++; return e; }
        /* A descriptor too long to copy into a consumer's header (a VP9 scalability
         * structure with many groups) is forwarded as it came, its ids unchanged. */
        out->desc_len = hl <= SFU_DESC_MAX ? (uint8_t)hl : 0;
    }
    out->buf = pkt;
    out->seq = rp.h.seq;
    out->ts = rp.h.ts;
    out->marker = rp.h.marker;
    out->header_len = (uint16_t)rp.header_len;
    out->payload_len = (uint16_t)rp.payload_len;
    one_byte_ext(pkt->data, &rp.h, p->cfg.ext_id[RTC_SFU_EXT_AUDIO_LEVEL], &out->audio_level);
    one_byte_ext(pkt->data, &rp.h, p->cfg.ext_id[RTC_SFU_EXT_VIDEO_ORIENTATION], &out->video_orientation);
    e = rtc_sfu_cache_put(p->cache, out, now);
    if (e < 0) { p->st.ignored++; return e; }
    out->arrival = now;
    rtc_rtp_recv_stats_on_packet(&p->rs, rp.h.seq, rp.h.ts, rp.payload_len, now);
    p->st.packets++;
    p->st.bytes += rp.payload_len;
    sfu__meter_add(p, out, pkt->len, now);
    if (out->audio_level >= 0) {
        p->have_level = true;
        p->voice = out->audio_level & 0x80;
        p->level = out->audio_level & 0x7f;
        p->level_at = now;
        sfu__speaker_on_level(p, (uint8_t)out->audio_level, now);
    }
    if (out->info.keyframe && out->info.begin) {
        p->st.keyframes++;
        p->kf_wanted = false;                       /* served: nothing pending upstream */
    }
    return 0;
}

/* Send the keyframe request now if the interval allows; else it stays wanted and the
 * timeout sends it, so many requests within one interval become one. */
static void producer__flush_keyframe(rtc_sfu_producer *p, rtc_time now)
{
    if (!p->kf_wanted || (p->kf_ever && now < p->kf_last + p->cfg.keyframe_interval)) return;
    uint8_t b[64];
    int n;
    if (p->cfg.use_fir) {
        rtc_rtcp_fir_entry fe = { p->cfg.ssrc, p->fir_seq++ };
        n = rtc_rtcp_write_fir(b, sizeof b, p->cfg.local_ssrc, &fe, 1);
        p->st.firs_sent++;
    } else {
        n = rtc_rtcp_write_pli(b, sizeof b, p->cfg.local_ssrc, p->cfg.ssrc);
        p->st.plis_sent++;
    }
    if (n > 0) sfu__queue_rtcp(p->router, p, NULL, b, (size_t)n);
    p->kf_ever = true;
    p->kf_last = now;
    /* Still wanted until a keyframe arrives: ask again one interval later. */
    sfu__lower_timeout(p->router, now + p->cfg.keyframe_interval);
    sfu__event(p->router, RTC_SFU_EV_KEYFRAME_REQUESTED, p, NULL);
}

void sfu__producer_want_keyframe(rtc_sfu_producer *p, rtc_time now)
{
    p->st.keyframe_requests++;
    if (!rtc_codec_is_video(p->cfg.codec)) return;
    p->kf_wanted = true;
    producer__flush_keyframe(p, now);
    if (p->kf_wanted) sfu__lower_timeout(p->router, p->kf_last + p->cfg.keyframe_interval);
}

void sfu__producer_flush_nack(rtc_sfu_producer *p)
{
    if (!p->n_up_nack) return;
    /* The writer wants ascending order with wraparound: sort by distance from the first. */
    uint16_t base = p->up_nack[0];
    for (size_t i = 0; i < p->n_up_nack; i++)
        if ((int16_t)(p->up_nack[i] - base) < 0) base = p->up_nack[i];
    for (size_t i = 1; i < p->n_up_nack; i++) {
        uint16_t v = p->up_nack[i];
        size_t j = i;
        while (j > 0 && (uint16_t)(p->up_nack[j - 1] - base) > (uint16_t)(v - base)) { p->up_nack[j] = p->up_nack[j - 1]; j--; }
        p->up_nack[j] = v;
    }
    uint8_t b[12 + 4 * SFU_UP_NACK_MAX];
    int n = rtc_rtcp_write_nack(b, sizeof b, p->cfg.local_ssrc, p->cfg.ssrc, p->up_nack, p->n_up_nack);
    if (n > 0 && sfu__queue_rtcp(p->router, p, NULL, b, (size_t)n) == 0) {
        p->st.nacks_sent++;
        p->st.nack_seqs_sent += p->n_up_nack;
    }
    p->n_up_nack = 0;
}

void sfu__producer_nack_upstream(rtc_sfu_producer *p, uint16_t seq, rtc_time now)
{
    unsigned i = seq & (SFU_UP_NACK_MEMORY - 1);
    if (p->up_mem[i].used && p->up_mem[i].seq == seq && now < p->up_mem[i].at + p->cfg.upstream_nack_interval)
        return;
    p->up_mem[i].used = true;
    p->up_mem[i].seq = seq;
    p->up_mem[i].at = now;
    if (p->n_up_nack == SFU_UP_NACK_MAX) sfu__producer_flush_nack(p);
    p->up_nack[p->n_up_nack++] = seq;
    sfu__lower_timeout(p->router, now);              /* sent at the end of this call's drain */
}

void sfu__producer_timeout(rtc_sfu_producer *p, rtc_time now)
{
    sfu__producer_flush_nack(p);
    producer__flush_keyframe(p, now);
    rtc_sfu_cache_expire(p->cache, now);
    sfu__meter_timeout(p, now);
    if (now >= p->rr_next) {
        rtc_rtcp_rr rr = { .ssrc = p->cfg.local_ssrc };
        if (p->rs.init) { rtc_rtp_recv_stats_report(&p->rs, now, &rr.rb[0]); rr.rb_count = 1; }
        uint8_t b[64];
        int n = rtc_rtcp_write_rr(b, sizeof b, &rr);
        if (n > 0 && sfu__queue_rtcp(p->router, p, NULL, b, (size_t)n) == 0) p->st.rrs_sent++;
        p->rr_next = now + p->cfg.rr_interval;
    }
}

rtc_time sfu__producer_next(const rtc_sfu_producer *p)
{
    rtc_time t = p->rr_next;
    if (p->n_up_nack) t = 0;
    if (p->kf_wanted) t = rtc_time_min(t, p->kf_last + p->cfg.keyframe_interval);
    t = rtc_time_min(t, sfu__meter_next(p));
    return rtc_time_min(t, rtc_sfu_cache_next_expiry(p->cache));
}

void rtc_sfu_producer_params(const rtc_sfu_producer *p, rtc_codec_id *codec, uint8_t *pt, uint32_t *clock_rate)
{
    *codec = p->cfg.codec;
    *pt = p->cfg.pt;
    *clock_rate = p->cfg.clock_rate;
}

void rtc_sfu_producer_get_stats(const rtc_sfu_producer *p, rtc_sfu_producer_stats *out)
{
    *out = p->st;
    rtc_sfu_cache_get_stats(p->cache, &out->cache);
}

int rtc_sfu_producer_audio_level(const rtc_sfu_producer *p, bool *voice, uint8_t *level, rtc_time *at)
{
    if (!p->have_level) return RTC_ENOTFOUND;
    *voice = p->voice; *level = p->level;
    if (at) *at = p->level_at;
    return 0;
}

int rtc_sfu_producer_sr(const rtc_sfu_producer *p, uint64_t *ntp, uint32_t *rtp_ts, rtc_time *at)
{
    if (!p->have_sr) return RTC_ENOTFOUND;
    *ntp = p->sr_ntp; *rtp_ts = p->sr_rtp;
    if (at) *at = p->sr_at;
    return 0;
}
