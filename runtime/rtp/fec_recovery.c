/* FEC recovery window: media packets by sequence number, FEC packets until used. */
#include "rtp/fec_recovery.h"
#include "core/rtc_errors.h"
#include "rtp/fec_ulp.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>
#include <string.h>

/* An FEC group older than this behind the newest media packet can no longer be
 * judged: its packets may have left the window. */
#define STALE (RTC_FEC_WINDOW - RTC_ULPFEC_MAX_SPAN)
#define OUTQ 16

typedef struct fec_slot { rtc_buf *buf; uint16_t seq; } fec_slot;
typedef struct fec_entry {
    rtc_buf *copy;                       /* our copy of the FEC payload: the view points into it */
    rtc_ulpfec_view v;
    bool used;                           /* rebuilt a packet */
} fec_entry;

struct rtc_fec_recovery {
    uint32_t ssrc;
    rtc_pool *pool;
    fec_slot win[RTC_FEC_WINDOW];
    bool have_newest;
    uint16_t newest;
    fec_entry fec[RTC_FEC_STORE];
    size_t nfec;
    rtc_buf *outq[OUTQ];
    size_t out_head, out_count;
    rtc_fec_recovery_stats stats;
};

static uint16_t pkt_seq(const rtc_buf *b) { return (uint16_t)(b->data[2] << 8 | b->data[3]); }

int rtc_fec_recovery_new(rtc_fec_recovery **out, uint32_t ssrc, rtc_pool *pool)
{
    rtc_fec_recovery *r = calloc(1, sizeof *r);
    if (!r) return RTC_ENOMEM;
    r->ssrc = ssrc;
    r->pool = pool;
    *out = r;
    return 0;
}

void rtc_fec_recovery_free(rtc_fec_recovery *r)
{
    if (!r) return;
    for (size_t i = 0; i < RTC_FEC_WINDOW; i++) rtc_buf_unref(r->win[i].buf);
    for (size_t i = 0; i < r->nfec; i++) rtc_buf_unref(r->fec[i].copy);
    while (r->out_count) { rtc_buf_unref(r->outq[r->out_head]); r->out_head = (r->out_head + 1) % OUTQ; r->out_count--; }
    free(r);
}

static const rtc_buf *win_get(const rtc_fec_recovery *r, uint16_t seq)
{
    const fec_slot *s = &r->win[seq % RTC_FEC_WINDOW];
    return s->buf && s->seq == seq ? s->buf : NULL;
}

/* Keeps a ref to b in the window; false when its seq is already there. */
static bool win_put(rtc_fec_recovery *r, rtc_buf *b)
{
    uint16_t seq = pkt_seq(b);
    fec_slot *s = &r->win[seq % RTC_FEC_WINDOW];
    if (s->buf && s->seq == seq) return false;
    if (!r->have_newest || (int16_t)(uint16_t)(seq - r->newest) > 0) { r->newest = seq; r->have_newest = true; }
    /* A packet too old for the window would evict a newer one. */
    if ((int16_t)(uint16_t)(r->newest - seq) >= RTC_FEC_WINDOW) return false;
    rtc_buf_unref(s->buf);
    s->buf = rtc_buf_ref(b);
    s->seq = seq;
    return true;
}

static void fec_drop(rtc_fec_recovery *r, size_t i)
{
    if (!r->fec[i].used) r->stats.discarded++;
    rtc_buf_unref(r->fec[i].copy);
    r->fec[i] = r->fec[--r->nfec];
}

/* Rebuild the one packet entry e misses; 0 or an error (the entry is dropped either way). */
static int fec_rebuild(rtc_fec_recovery *r, fec_entry *e, uint16_t seq)
{
    rtc_ulpfec_media have[RTC_ULPFEC_MAX_SPAN];
    size_t n = 0;
    for (unsigned i = 0; i < RTC_ULPFEC_MAX_SPAN; i++) {
        uint16_t s = (uint16_t)(e->v.sn_base + i);
        if (!(e->v.mask & (UINT64_C(1) << i)) || s == seq) continue;
        const rtc_buf *b = win_get(r, s);
        have[n++] = (rtc_ulpfec_media){ b->data, b->len };
    }
    rtc_buf *out = rtc_buf_alloc(r->pool, RTC_RTP_HEADER_MIN + (size_t)e->v.prot_len);
    if (!out) return RTC_ENOMEM;
    int len = rtc_ulpfec_recover(&e->v, seq, r->ssrc, have, n, out->data, out->cap);
    if (len < 0) { rtc_buf_unref(out); r->stats.malformed++; return len; }
    out->len = (size_t)len;
    if (r->out_count == OUTQ) { rtc_buf_unref(out); return RTC_EOVERFLOW; }
    win_put(r, out);
    r->outq[(r->out_head + r->out_count++) % OUTQ] = out;
    r->stats.recovered++;
    e->used = true;
    return 0;
}

/* Go over the store until nothing changes: each rebuilt packet may complete another group. */
static void fec_scan(rtc_fec_recovery *r)
{
    bool again = true;
    while (again) {
        again = false;
        for (size_t i = 0; i < r->nfec;) {
            fec_entry *e = &r->fec[i];
            if (r->have_newest && (int16_t)(uint16_t)(r->newest - e->v.sn_base) >= STALE) { fec_drop(r, i); continue; }
            unsigned missing = 0;
            uint16_t miss_seq = 0;
            for (unsigned k = 0; k < RTC_ULPFEC_MAX_SPAN && missing < 2; k++) {
                uint16_t s = (uint16_t)(e->v.sn_base + k);
                if ((e->v.mask & (UINT64_C(1) << k)) && !win_get(r, s)) { missing++; miss_seq = s; }
            }
            if (missing == 0) { fec_drop(r, i); continue; }
            if (missing == 1) {
                fec_rebuild(r, e, miss_seq);
                fec_drop(r, i);
                again = true;
                continue;
            }
            i++;
        }
    }
}

void rtc_fec_recovery_add_media(rtc_fec_recovery *r, rtc_buf *pkt)
{
    if (pkt->len < RTC_RTP_HEADER_MIN || !win_put(r, pkt)) return;
    if (r->nfec) fec_scan(r);
}

int rtc_fec_recovery_add_ulpfec(rtc_fec_recovery *r, const uint8_t *p, size_t len)
{
    rtc_ulpfec_view v;
    int e = rtc_ulpfec_parse(p, len, &v);
    if (e < 0) { r->stats.malformed++; return e; }
    r->stats.fec_packets++;
    if (r->nfec == RTC_FEC_STORE) {                     /* the oldest group waits longest */
        size_t old = 0;
        for (size_t i = 1; i < r->nfec; i++)
            if ((int16_t)(uint16_t)(r->fec[i].v.sn_base - r->fec[old].v.sn_base) < 0) old = i;
        fec_drop(r, old);
    }
    rtc_buf *c = rtc_buf_alloc(r->pool, len);
    if (!c) return RTC_ENOMEM;
    memcpy(c->data, p, len);
    c->len = len;
    fec_entry *en = &r->fec[r->nfec++];
    en->copy = c;
    en->used = false;
    rtc_ulpfec_parse(c->data, c->len, &en->v);
    fec_scan(r);
    return 0;
}

int rtc_fec_recovery_poll(rtc_fec_recovery *r, rtc_buf **out)
{
    if (!r->out_count) return 0;
    *out = r->outq[r->out_head];
    r->out_head = (r->out_head + 1) % OUTQ;
    r->out_count--;
    return 1;
}

void rtc_fec_recovery_get_stats(const rtc_fec_recovery *r, rtc_fec_recovery_stats *out) { *out = r->stats; }
