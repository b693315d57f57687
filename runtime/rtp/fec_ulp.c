/* RFC 5109 FEC packet parse, generation and single-loss recovery (level 0). */
#include "rtp/fec_ulp.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_packet.h"
#include <string.h>

int rtc_ulpfec_parse(const uint8_t *p, size_t len, rtc_ulpfec_view *out)
{
    if (len < 10 + 4) return RTC_ETRUNC;
    if (p[0] & 0x80) return RTC_EPROTO;
    memset(out, 0, sizeof *out);
    out->long_mask = p[0] & 0x40;
    out->b0_recovery = p[0] & 0x3F;
    out->b1_recovery = p[1];
    out->sn_base = (uint16_t)(p[2] << 8 | p[3]);
    out->ts_recovery = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    out->len_recovery = (uint16_t)(p[8] << 8 | p[9]);
    size_t hl = out->long_mask ? 18 : 14;
    if (len < hl) return RTC_ETRUNC;
    out->prot_len = (uint16_t)(p[10] << 8 | p[11]);
    /* The wire mask's first bit is the base: bit i of ours is offset i. */
    unsigned bits = out->long_mask ? 48 : 16;
    uint64_t wire = 0;
    for (size_t i = 12; i < hl; i++) wire = wire << 8 | p[i];
    for (unsigned i = 0; i < bits; i++)
        if (wire & (UINT64_C(1) << (bits - 1 - i))) out->mask |= UINT64_C(1) << i;
    if (!out->mask || !out->prot_len) return RTC_EPROTO;
    if (len - hl < out->prot_len) return RTC_ETRUNC;
    out->parity = p + hl;
    return 0;
}

int rtc_ulpfec_write(uint8_t *out, size_t cap, const rtc_ulpfec_media *pkts, size_t n)
{
    if (!n) return RTC_EINVAL;
    uint8_t b0 = 0, b1 = 0;
    uint32_t ts = 0;
    uint16_t lenr = 0;
    size_t prot = 0;
    uint64_t mask = 0;
    unsigned span = 0;
    uint16_t base = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *d = pkts[i].data;
        if (pkts[i].len < RTC_RTP_HEADER_MIN || pkts[i].len - RTC_RTP_HEADER_MIN > 0xFFFF) return RTC_EINVAL;
        uint16_t seq = (uint16_t)(d[2] << 8 | d[3]);
        if (i == 0) base = seq;
        uint16_t off = (uint16_t)(seq - base);
        if (off >= RTC_ULPFEC_MAX_SPAN || (mask & (UINT64_C(1) << off))) return RTC_EINVAL;
        mask |= UINT64_C(1) << off;
        if (off + 1u > span) span = off + 1u;
        b0 ^= d[0] & 0x3F;
        b1 ^= d[1];
        ts ^= (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
        lenr ^= (uint16_t)(pkts[i].len - RTC_RTP_HEADER_MIN);
        if (pkts[i].len - RTC_RTP_HEADER_MIN > prot) prot = pkts[i].len - RTC_RTP_HEADER_MIN;
    }
    bool lng = span > 16;
    size_t hl = lng ? 18 : 14;
    if (cap < hl + prot) return RTC_EOVERFLOW;
    out[0] = (uint8_t)((lng ? 0x40 : 0) | b0);
    out[1] = b1;
    out[2] = (uint8_t)(base >> 8); out[3] = (uint8_t)base;
    out[4] = (uint8_t)(ts >> 24); out[5] = (uint8_t)(ts >> 16); out[6] = (uint8_t)(ts >> 8); out[7] = (uint8_t)ts;
    out[8] = (uint8_t)(lenr >> 8); out[9] = (uint8_t)lenr;
    out[10] = (uint8_t)(prot >> 8); out[11] = (uint8_t)prot;
    unsigned bits = lng ? 48 : 16;
    uint64_t wire = 0;
    for (unsigned i = 0; i < bits; i++)
        if (mask & (UINT64_C(1) << i)) wire |= UINT64_C(1) << (bits - 1 - i);
    for (size_t i = hl; i > 12; i--) { out[i - 1] = (uint8_t)wire; wire >>= 8; }
    uint8_t *par = out + hl;
    memset(par, 0, prot);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *d = pkts[i].data + RTC_RTP_HEADER_MIN;
        for (size_t k = 0, m = pkts[i].len - RTC_RTP_HEADER_MIN; k < m; k++) par[k] ^= d[k];
    }
    return (int)(hl + prot);
}

int rtc_ulpfec_recover(const rtc_ulpfec_view *f, uint16_t seq, uint32_t ssrc, const rtc_ulpfec_media *have, size_t n,
                       uint8_t *out, size_t cap)
{
    uint16_t miss = (uint16_t)(seq - f->sn_base);
    if (miss >= RTC_ULPFEC_MAX_SPAN || !(f->mask & (UINT64_C(1) << miss))) return RTC_EINVAL;
    uint64_t seen = UINT64_C(1) << miss;
    uint8_t b0 = f->b0_recovery, b1 = f->b1_recovery;
    uint32_t ts = f->ts_recovery;
    uint16_t lenr = f->len_recovery;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *d = have[i].data;
        if (have[i].len < RTC_RTP_HEADER_MIN) return RTC_EINVAL;
        uint16_t off = (uint16_t)((uint16_t)(d[2] << 8 | d[3]) - f->sn_base);
        if (off >= RTC_ULPFEC_MAX_SPAN || !(f->mask & (UINT64_C(1) << off)) || (seen & (UINT64_C(1) << off)))
            return RTC_EINVAL;
        seen |= UINT64_C(1) << off;
        b0 ^= d[0] & 0x3F;
        b1 ^= d[1];
        ts ^= (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
        lenr ^= (uint16_t)(have[i].len - RTC_RTP_HEADER_MIN);
    }
    if (seen != f->mask) return RTC_EINVAL;
    /* Parity beyond prot_len was never sent: a longer packet cannot be rebuilt. */
    if (lenr > f->prot_len) return RTC_EPROTO;
    size_t total = RTC_RTP_HEADER_MIN + (size_t)lenr;
    if (cap < total) return RTC_EOVERFLOW;
    uint8_t *par = out + RTC_RTP_HEADER_MIN;
    memcpy(par, f->parity, lenr);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *d = have[i].data + RTC_RTP_HEADER_MIN;
        size_t m = have[i].len - RTC_RTP_HEADER_MIN;
        if (m > lenr) m = lenr;
        for (size_t k = 0; k < m; k++) par[k] ^= d[k];
    }
    out[0] = (uint8_t)(0x80 | b0);
    out[1] = b1;
    rtc_rtp_set_seq(out, seq);
    rtc_rtp_set_ts(out, ts);
    rtc_rtp_set_ssrc(out, ssrc);
    rtc_rtp_packet p;
    if (rtc_rtp_parse(&p, out, total) < 0) return RTC_EPROTO;
    return (int)total;
}
