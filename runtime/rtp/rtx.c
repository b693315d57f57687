/* Packet history for retransmission and RFC 4588 RTX payload handling. */
#include "rtp/rtx.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>

typedef struct history__slot {
    rtc_buf *pkt;
    rtc_time sent, resent;
    uint16_t seq;
} history__slot;

struct rtc_rtp_history {
    size_t mask;
    rtc_rtp_history_stats stats;
    history__slot slot[];
};

int rtc_rtp_history_new(rtc_rtp_history **out, size_t capacity)
{
    if (!out || capacity < 16 || capacity > 32768 || (capacity & (capacity - 1))) return RTC_EINVAL;
    rtc_rtp_history *h = calloc(1, sizeof *h + capacity * sizeof h->slot[0]);
    if (!h) return RTC_ENOMEM;
    h->mask = capacity - 1;
    *out = h;
    return 0;
}

void rtc_rtp_history_free(rtc_rtp_history *h)
{
    if (!h) return;
    for (size_t i = 0; i <= h->mask; i++) rtc_buf_unref(h->slot[i].pkt);
    free(h);
}

void rtc_rtp_history_put(rtc_rtp_history *h, uint16_t seq, rtc_buf *pkt, rtc_time now)
{
    history__slot *s = &h->slot[seq & h->mask];
    rtc_buf_unref(s->pkt);
    s->pkt = pkt ? rtc_buf_ref(pkt) : NULL;
    s->seq = seq;
    s->sent = now;
    s->resent = INT64_MIN;
    h->stats.stored++;
}

rtc_buf *rtc_rtp_history_get(rtc_rtp_history *h, uint16_t seq, rtc_time now, rtc_time min_interval)
{
    history__slot *s = &h->slot[seq & h->mask];
    if (!s->pkt || s->seq != seq) { h->stats.misses++; return NULL; }
    if (s->resent != INT64_MIN && now - s->resent < min_interval) { h->stats.too_soon++; return NULL; }
    s->resent = now;
    h->stats.hits++;
    return s->pkt;
}

void rtc_rtp_history_get_stats(const rtc_rtp_history *h, rtc_rtp_history_stats *out) { *out = h->stats; }

int rtc_rtx_wrap(const uint8_t *pkt, size_t len, uint8_t rtx_pt, uint32_t rtx_ssrc,
                 uint16_t rtx_seq, uint8_t *out, size_t cap)
{
    rtc_rtp_packet p;
    int r = rtc_rtp_parse(&p, pkt, len);
    if (r < 0) return r;
    if (rtx_pt > 127) return RTC_EINVAL;
    size_t n = p.header_len + 2 + p.payload_len;
    if (cap < n) return RTC_EOVERFLOW;
    memcpy(out, pkt, p.header_len);
    out[0] &= (uint8_t)~0x20;                           /* padding is not carried over */
    rtc_rtp_set_pt(out, rtx_pt);
    rtc_rtp_set_seq(out, rtx_seq);
    rtc_rtp_set_ssrc(out, rtx_ssrc);
    rtc_wr16(out + p.header_len, p.h.seq);
    memcpy(out + p.header_len + 2, p.payload, p.payload_len);
    return (int)n;
}

int rtc_rtx_unwrap(const uint8_t *pkt, size_t len, uint8_t orig_pt, uint32_t orig_ssrc,
                   uint8_t *out, size_t cap)
{
    rtc_rtp_packet p;
    int r = rtc_rtp_parse(&p, pkt, len);
    if (r < 0) return r;
    if (orig_pt > 127) return RTC_EINVAL;
    if (p.payload_len == 0) return RTC_EIGNORED;
    if (p.payload_len < 2) return RTC_ETRUNC;
    size_t n = p.header_len + p.payload_len - 2;
    if (cap < n) return RTC_EOVERFLOW;
    memcpy(out, pkt, p.header_len);
    out[0] &= (uint8_t)~0x20;
    rtc_rtp_set_pt(out, orig_pt);
    rtc_rtp_set_seq(out, rtc_rd16(p.payload));
    rtc_rtp_set_ssrc(out, orig_ssrc);
    memcpy(out + p.header_len, p.payload + 2, p.payload_len - 2);
    return (int)n;
}
