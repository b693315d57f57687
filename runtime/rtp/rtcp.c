/* RTCP compound parsing, per-type readers and writers, NTP helpers. */
#include "rtp/rtcp.h"
#include "core/rtc_errors.h"

bool rtc_rtcp_is_rtcp(const uint8_t *p, size_t len)
{
    return len >= 4 && (p[0] >> 6) == 2 && p[1] >= 192 && p[1] <= 223;
}

int rtc_rtcp_parse_compound(const uint8_t *p, size_t len, rtc_rtcp_view *out, size_t max)
{
    if (!p || !out) return RTC_EINVAL;
    if (len < 4) return RTC_ETRUNC;
    size_t off = 0;
    int n = 0;
    while (off < len) {
        if (len - off < 4) return RTC_ETRUNC;
        const uint8_t *h = p + off;
        if ((h[0] >> 6) != 2) return RTC_EPROTO;
        size_t plen = ((size_t)rtc_rd16(h + 2) + 1) * 4;
        if (plen > len - off) return RTC_ETRUNC;
        size_t body = plen;
        if (h[0] & 0x20) {
            uint8_t pad = h[plen - 1];
            if (pad == 0 || pad > plen - 4) return RTC_EPROTO;
            body -= pad;
        }
        if ((size_t)n >= max) return RTC_EOVERFLOW;
        out[n++] = (rtc_rtcp_view){ h[1], (uint8_t)(h[0] & 0x1F), h, body };
        off += plen;
    }
    return n;
}

static void rtcp__read_rb(const uint8_t *p, rtc_rtcp_report_block *rb)
{
    rb->ssrc = rtc_rd32(p);
    rb->fraction_lost = p[4];
    rb->cumulative_lost = (int32_t)(rtc_rd24(p + 5) << 8) >> 8;
    rb->ext_highest_seq = rtc_rd32(p + 8);
    rb->jitter = rtc_rd32(p + 12);
    rb->lsr = rtc_rd32(p + 16);
    rb->dlsr = rtc_rd32(p + 20);
}

static void rtcp__write_rb(uint8_t *p, const rtc_rtcp_report_block *rb)
{
    int32_t cl = rb->cumulative_lost;
    if (cl > 0x7FFFFF) cl = 0x7FFFFF;                 /* saturate, as RFC 3550 A.3 */
    if (cl < -0x800000) cl = -0x800000;
    rtc_wr32(p, rb->ssrc);
    p[4] = rb->fraction_lost;
    rtc_wr24(p + 5, (uint32_t)cl & 0xFFFFFF);
    rtc_wr32(p + 8, rb->ext_highest_seq);
    rtc_wr32(p + 12, rb->jitter);
    rtc_wr32(p + 16, rb->lsr);
    rtc_wr32(p + 20, rb->dlsr);
}

static void rtcp__header(uint8_t *p, uint8_t count, uint8_t pt, size_t len)
{
    p[0] = (uint8_t)(0x80 | (count & 0x1F));
    p[1] = pt;
    rtc_wr16(p + 2, (uint16_t)(len / 4 - 1));
}

int rtc_rtcp_read_sr(const rtc_rtcp_view *v, rtc_rtcp_sr *out)
{
    if (v->pt != RTC_RTCP_SR) return RTC_EINVAL;
    if (v->len < 28 + (size_t)v->count * 24) return RTC_ETRUNC;
    const uint8_t *p = v->data;
    out->ssrc = rtc_rd32(p + 4);
    out->ntp = rtc_rd64(p + 8);
    out->rtp_ts = rtc_rd32(p + 16);
    out->packet_count = rtc_rd32(p + 20);
    out->octet_count = rtc_rd32(p + 24);
    out->rb_count = v->count;
    for (unsigned i = 0; i < v->count; i++) rtcp__read_rb(p + 28 + i * 24, &out->rb[i]);
    return 0;
}

int rtc_rtcp_read_rr(const rtc_rtcp_view *v, rtc_rtcp_rr *out)
{
    if (v->pt != RTC_RTCP_RR) return RTC_EINVAL;
    if (v->len < 8 + (size_t)v->count * 24) return RTC_ETRUNC;
    out->ssrc = rtc_rd32(v->data + 4);
    out->rb_count = v->count;
    for (unsigned i = 0; i < v->count; i++) rtcp__read_rb(v->data + 8 + i * 24, &out->rb[i]);
    return 0;
}

int rtc_rtcp_write_sr(uint8_t *out, size_t cap, const rtc_rtcp_sr *sr)
{
    if (sr->rb_count > RTC_RTCP_MAX_RB) return RTC_EINVAL;
    size_t len = 28 + (size_t)sr->rb_count * 24;
    if (cap < len) return RTC_EOVERFLOW;
    rtcp__header(out, sr->rb_count, RTC_RTCP_SR, len);
    rtc_wr32(out + 4, sr->ssrc);
    rtc_wr64(out + 8, sr->ntp);
    rtc_wr32(out + 16, sr->rtp_ts);
    rtc_wr32(out + 20, sr->packet_count);
    rtc_wr32(out + 24, sr->octet_count);
    for (unsigned i = 0; i < sr->rb_count; i++) rtcp__write_rb(out + 28 + i * 24, &sr->rb[i]);
    return (int)len;
}

int rtc_rtcp_write_rr(uint8_t *out, size_t cap, const rtc_rtcp_rr *rr)
{
    if (rr->rb_count > RTC_RTCP_MAX_RB) return RTC_EINVAL;
    size_t len = 8 + (size_t)rr->rb_count * 24;
    if (cap < len) return RTC_EOVERFLOW;
    rtcp__header(out, rr->rb_count, RTC_RTCP_RR, len);
    rtc_wr32(out + 4, rr->ssrc);
    for (unsigned i = 0; i < rr->rb_count; i++) rtcp__write_rb(out + 8 + i * 24, &rr->rb[i]);
    return (int)len;
}

int rtc_rtcp_read_sdes(const rtc_rtcp_view *v, rtc_rtcp_sdes_chunk *out, size_t max)
{
    if (v->pt != RTC_RTCP_SDES) return RTC_EINVAL;
    const uint8_t *p = v->data;
    size_t off = 4, end = v->len;
    int n = 0;
    for (unsigned c = 0; c < v->count; c++) {
        if (end - off < 4) return RTC_ETRUNC;
        rtc_rtcp_sdes_chunk ch = { rtc_rd32(p + off), { NULL, 0 } };
        off += 4;
        for (;;) {                                    /* items until a zero type */
            if (off >= end) return RTC_ETRUNC;
            uint8_t type = p[off];
            if (type == 0) break;
            if (end - off < 2) return RTC_ETRUNC;
            uint8_t ilen = p[off + 1];
            if ((size_t)ilen > end - off - 2) return RTC_ETRUNC;
            if (type == 1) ch.cname = (rtc_str){ (const char *)p + off + 2, ilen };
            off += 2u + ilen;
        }
        off = (off + 4) & ~(size_t)3;                 /* the null item, then pad to a word */
        if (off > end) return RTC_ETRUNC;
        if ((size_t)n < max) out[n++] = ch;
    }
    return n;
}

int rtc_rtcp_write_sdes(uint8_t *out, size_t cap, const rtc_rtcp_sdes_chunk *chunks, size_t n)
{
    if (n > 31) return RTC_EINVAL;
    size_t len = 4;
    for (size_t i = 0; i < n; i++) {
        if (chunks[i].cname.len > 255) return RTC_EINVAL;
        len += (4 + 2 + chunks[i].cname.len + 4) & ~(size_t)3;
    }
    if (cap < len) return RTC_EOVERFLOW;
    rtcp__header(out, (uint8_t)n, RTC_RTCP_SDES, len);
    size_t off = 4;
    for (size_t i = 0; i < n; i++) {
        size_t clen = (4 + 2 + chunks[i].cname.len + 4) & ~(size_t)3;
        memset(out + off, 0, clen);
        rtc_wr32(out + off, chunks[i].ssrc);
        out[off + 4] = 1;
        out[off + 5] = (uint8_t)chunks[i].cname.len;
        if (chunks[i].cname.len) memcpy(out + off + 6, chunks[i].cname.p, chunks[i].cname.len);
        off += clen;
    }
    return (int)len;
}

int rtc_rtcp_read_bye(const rtc_rtcp_view *v, rtc_rtcp_bye *out)
{
    if (v->pt != RTC_RTCP_BYE) return RTC_EINVAL;
    size_t off = 4 + (size_t)v->count * 4;
    if (v->len < off) return RTC_ETRUNC;
    out->count = v->count;
    for (unsigned i = 0; i < v->count; i++) out->ssrc[i] = rtc_rd32(v->data + 4 + i * 4);
    out->reason = (rtc_str){ NULL, 0 };
    if (v->len > off) {
        uint8_t rl = v->data[off];
        if ((size_t)rl > v->len - off - 1) return RTC_ETRUNC;
        out->reason = (rtc_str){ (const char *)v->data + off + 1, rl };
    }
    return 0;
}

int rtc_rtcp_write_bye(uint8_t *out, size_t cap, const uint32_t *ssrcs, size_t n, rtc_str reason)
{
    if (n > 31 || reason.len > 255) return RTC_EINVAL;
    size_t len = 4 + n * 4 + (reason.len ? (1 + reason.len + 3) & ~(size_t)3 : 0);
    if (cap < len) return RTC_EOVERFLOW;
    memset(out, 0, len);
    rtcp__header(out, (uint8_t)n, RTC_RTCP_BYE, len);
    for (size_t i = 0; i < n; i++) rtc_wr32(out + 4 + i * 4, ssrcs[i]);
    if (reason.len) {
        out[4 + n * 4] = (uint8_t)reason.len;
        memcpy(out + 5 + n * 4, reason.p, reason.len);
    }
    return (int)len;
}

int rtc_rtcp_read_fb(const rtc_rtcp_view *v, uint32_t *sender_ssrc, uint32_t *media_ssrc)
{
    if (v->pt != RTC_RTCP_RTPFB && v->pt != RTC_RTCP_PSFB) return RTC_EINVAL;
    if (v->len < 12) return RTC_ETRUNC;
    if (sender_ssrc) *sender_ssrc = rtc_rd32(v->data + 4);
    if (media_ssrc) *media_ssrc = rtc_rd32(v->data + 8);
    return 0;
}

int rtc_rtcp_read_nack(const rtc_rtcp_view *v, uint16_t *seqs, size_t max)
{
    if (v->pt != RTC_RTCP_RTPFB || v->count != RTC_RTCP_FMT_NACK) return RTC_EINVAL;
    if (v->len < 16) return RTC_ETRUNC;
    size_t n = 0;
    for (size_t off = 12; off + 4 <= v->len; off += 4) {
        uint16_t pid = rtc_rd16(v->data + off), blp = rtc_rd16(v->data + off + 2);
        if (n < max) seqs[n++] = pid;
        for (unsigned b = 0; b < 16; b++)
            if ((blp >> b) & 1 && n < max) seqs[n++] = (uint16_t)(pid + b + 1);
    }
    return (int)n;
}

static void rtcp__fb_header(uint8_t *out, uint8_t fmt, uint8_t pt, size_t len, uint32_t s, uint32_t m)
{
    rtcp__header(out, fmt, pt, len);
    rtc_wr32(out + 4, s);
    rtc_wr32(out + 8, m);
}

int rtc_rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender, uint32_t media,
                        const uint16_t *seqs, size_t n)
{
    if (n == 0) return RTC_EINVAL;
    size_t pairs = 0, off = 12;
    for (size_t i = 0; i < n; ) {                      /* count pairs first */
        uint16_t pid = seqs[i++];
        while (i < n && (uint16_t)(seqs[i] - pid) <= 16 && seqs[i] != pid) i++;
        pairs++;
    }
    size_t len = 12 + pairs * 4;
    if (len > 4 * 65536) return RTC_ETOOBIG;
    if (cap < len) return RTC_EOVERFLOW;
    rtcp__fb_header(out, RTC_RTCP_FMT_NACK, RTC_RTCP_RTPFB, len, sender, media);
    for (size_t i = 0; i < n; ) {
        uint16_t pid = seqs[i++], blp = 0;
        while (i < n && (uint16_t)(seqs[i] - pid) <= 16 && seqs[i] != pid) {
            blp |= (uint16_t)(1u << ((uint16_t)(seqs[i] - pid) - 1));
            i++;
        }
        rtc_wr16(out + off, pid);
        rtc_wr16(out + off + 2, blp);
        off += 4;
    }
    return (int)len;
}

int rtc_rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender, uint32_t media)
{
    if (cap < 12) return RTC_EOVERFLOW;
    rtcp__fb_header(out, RTC_RTCP_FMT_PLI, RTC_RTCP_PSFB, 12, sender, media);
    return 12;
}

int rtc_rtcp_read_fir(const rtc_rtcp_view *v, rtc_rtcp_fir_entry *out, size_t max)
{
    if (v->pt != RTC_RTCP_PSFB || v->count != RTC_RTCP_FMT_FIR) return RTC_EINVAL;
    if (v->len < 20) return RTC_ETRUNC;
    size_t n = 0;
    for (size_t off = 12; off + 8 <= v->len && n < max; off += 8)
        out[n++] = (rtc_rtcp_fir_entry){ rtc_rd32(v->data + off), v->data[off + 4] };
    return (int)n;
}

int rtc_rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender,
                       const rtc_rtcp_fir_entry *e, size_t n)
{
    if (n == 0 || n > 1000) return RTC_EINVAL;
    size_t len = 12 + n * 8;
    if (cap < len) return RTC_EOVERFLOW;
    rtcp__fb_header(out, RTC_RTCP_FMT_FIR, RTC_RTCP_PSFB, len, sender, 0);  /* RFC 5104: media SSRC 0 */
    for (size_t i = 0; i < n; i++) {
        uint8_t *q = out + 12 + i * 8;
        rtc_wr32(q, e[i].ssrc);
        q[4] = e[i].seq; q[5] = q[6] = q[7] = 0;
    }
    return (int)len;
}

int rtc_rtcp_read_remb(const rtc_rtcp_view *v, rtc_rtcp_remb *out)
{
    if (v->pt != RTC_RTCP_PSFB || v->count != RTC_RTCP_FMT_AFB) return RTC_EINVAL;
    if (v->len < 20) return RTC_ETRUNC;
    const uint8_t *p = v->data;
    if (memcmp(p + 12, "REMB", 4) != 0) return RTC_ENOTFOUND;
    uint8_t num = p[16];
    if (v->len < 20 + (size_t)num * 4) return RTC_ETRUNC;
    uint8_t exp = p[17] >> 2;
    uint64_t mant = (uint64_t)(p[17] & 3) << 16 | rtc_rd16(p + 18);
    if (exp > 46 && mant) return RTC_EPROTO;           /* would not fit 64 bits */
    out->sender_ssrc = rtc_rd32(p + 4);
    out->bitrate = mant << exp;
    out->ssrc_count = num < RTC_RTCP_REMB_MAX_SSRC ? num : RTC_RTCP_REMB_MAX_SSRC;
    for (unsigned i = 0; i < out->ssrc_count; i++) out->ssrc[i] = rtc_rd32(p + 20 + i * 4);
    return 0;
}

int rtc_rtcp_write_remb(uint8_t *out, size_t cap, uint32_t sender, uint64_t bitrate,
                        const uint32_t *ssrcs, size_t n)
{
    if (n > 255) return RTC_EINVAL;
    size_t len = 20 + n * 4;
    if (cap < len) return RTC_EOVERFLOW;
    uint8_t exp = 0;
    while ((bitrate >> exp) > 0x3FFFF) exp++;          /* 18-bit mantissa, rounding down */
    uint32_t mant = (uint32_t)(bitrate >> exp);
    rtcp__fb_header(out, RTC_RTCP_FMT_AFB, RTC_RTCP_PSFB, len, sender, 0);
    memcpy(out + 12, "REMB", 4);
    out[16] = (uint8_t)n;
    out[17] = (uint8_t)(exp << 2 | (mant >> 16));
    rtc_wr16(out + 18, (uint16_t)mant);
    for (size_t i = 0; i < n; i++) rtc_wr32(out + 20 + i * 4, ssrcs[i]);
    return (int)len;
}

#define NTP_UNIX_OFFSET 2208988800ull   /* seconds from 1900 to 1970 */

uint64_t rtc_ntp_from_unix_us(int64_t unix_us)
{
    uint64_t u = unix_us < 0 ? 0 : (uint64_t)unix_us;
    uint64_t sec = u / 1000000u + NTP_UNIX_OFFSET;
    uint64_t frac = ((u % 1000000u) << 32) / 1000000u;
    return sec << 32 | frac;
}

int64_t rtc_ntp_to_unix_us(uint64_t ntp)
{
    int64_t sec = (int64_t)(ntp >> 32) - (int64_t)NTP_UNIX_OFFSET;
    int64_t frac = (int64_t)(((ntp & 0xFFFFFFFFu) * 1000000u + (1u << 31)) >> 32);
    return sec * 1000000 + frac;
}

int64_t rtc_rtcp_rtt_us(uint32_t arrival_compact, uint32_t lsr, uint32_t dlsr)
{
    if (lsr == 0) return RTC_ENOTFOUND;
    int32_t rtt = (int32_t)(arrival_compact - lsr - dlsr);
    if (rtt < 0) return 0;
    return ((int64_t)rtt * 1000000 + 32768) >> 16;
}

uint32_t rtc_rtcp_dlsr_from_us(int64_t us)
{
    if (us <= 0) return 0;
    uint64_t v = ((uint64_t)us << 16) / 1000000u;
    return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)v;
}
