/* Transport-wide CC feedback: chunk/delta codec and the receiver that batches it. */
#include "rtp/twcc.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>

#define TWCC_REF_UNIT 64000      /* µs per reference time unit */
#define TWCC_DELTA_UNIT 250      /* µs per receive delta unit */

enum { SYM_NONE = 0, SYM_SMALL = 1, SYM_LARGE = 2 };

/* Walks packet status chunks one symbol at a time. */
typedef struct twcc__chunks {
    const uint8_t *p;
    size_t len, off;
    uint16_t chunk;
    unsigned left, pos;
} twcc__chunks;

static int twcc__next_symbol(twcc__chunks *it)
{
    if (it->left == 0) {
        if (it->len - it->off < 2) return RTC_ETRUNC;
        it->chunk = rtc_rd16(it->p + it->off);
        it->off += 2;
        it->pos = 0;
        if (!(it->chunk & 0x8000)) it->left = it->chunk & 0x1FFF;
        else it->left = (it->chunk & 0x4000) ? 7 : 14;
        if (it->left == 0) return RTC_EPROTO;         /* an empty run describes nothing */
    }
    int sym;
    if (!(it->chunk & 0x8000)) sym = (it->chunk >> 13) & 3;
    else if (!(it->chunk & 0x4000)) sym = (it->chunk >> (13 - it->pos)) & 1;
    else sym = (it->chunk >> (12 - 2 * it->pos)) & 3;
    it->pos++;
    it->left--;
    return sym == 3 ? RTC_EPROTO : sym;
}

int rtc_twcc_parse(const rtc_rtcp_view *v, rtc_twcc_feedback *fb, rtc_twcc_status *out, size_t max)
{
    if (v->pt != RTC_RTCP_RTPFB || v->count != RTC_RTCP_FMT_TWCC) return RTC_EINVAL;
    if (v->len < 20) return RTC_ETRUNC;
    const uint8_t *p = v->data;
    fb->sender_ssrc = rtc_rd32(p + 4);
    fb->media_ssrc = rtc_rd32(p + 8);
    fb->base_seq = rtc_rd16(p + 12);
    fb->status_count = rtc_rd16(p + 14);
    fb->ref_time = (int32_t)(rtc_rd24(p + 16) << 8) >> 8;
    fb->fb_count = p[19];

    /* Pass 1: where the chunks end (the deltas start right after). */
    twcc__chunks it = { p, v->len, 20, 0, 0, 0 };
    for (unsigned i = 0; i < fb->status_count; i++) {
        int s = twcc__next_symbol(&it);
        if (s < 0) return s;
    }
    size_t doff = it.off;
    /* Pass 2: symbols again, now reading deltas. */
    it = (twcc__chunks){ p, v->len, 20, 0, 0, 0 };
    int64_t t = (int64_t)fb->ref_time * TWCC_REF_UNIT;
    size_t n = 0;
    for (unsigned i = 0; i < fb->status_count; i++) {
        int s = twcc__next_symbol(&it);
        int64_t d = 0;
        if (s == SYM_SMALL) {
            if (v->len - doff < 1) return RTC_ETRUNC;
            d = p[doff++];
        } else if (s == SYM_LARGE) {
            if (v->len - doff < 2) return RTC_ETRUNC;
            d = (int16_t)rtc_rd16(p + doff);
            doff += 2;
        }
        if (s != SYM_NONE) t += d * TWCC_DELTA_UNIT;
        if (n < max)
            out[n++] = (rtc_twcc_status){ (uint16_t)(fb->base_seq + i), s != SYM_NONE,
                                          d * TWCC_DELTA_UNIT, s != SYM_NONE ? t : 0 };
    }
    return (int)n;
}

static int64_t twcc__floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Round to the nearest delta unit. */
static int64_t twcc__units(int64_t us)
{
    return us >= 0 ? (us + TWCC_DELTA_UNIT / 2) / TWCC_DELTA_UNIT
                   : -((-us + TWCC_DELTA_UNIT / 2) / TWCC_DELTA_UNIT);
}

int rtc_twcc_write_feedback(uint8_t *out, size_t cap, rtc_twcc_feedback *fb,
                            const rtc_twcc_status *st, size_t n, size_t *consumed)
{
    *consumed = 0;
    if (n == 0) return RTC_EINVAL;
    if (cap < 24) return RTC_EOVERFLOW;
    if (n > 0xFFFF) n = 0xFFFF;
    int64_t ref = 0;
    for (size_t i = 0; i < n; i++)
        if (st[i].received) { ref = twcc__floor_div(st[i].arrival_us, TWCC_REF_UNIT); break; }
    ref &= 0xFFFFFF;                                  /* 24-bit wrap; deltas are relative anyway */
    if (ref & 0x800000) ref -= 0x1000000;
    int64_t base_t = 0;
    for (size_t i = 0; i < n; i++)
        if (st[i].received) { base_t = twcc__floor_div(st[i].arrival_us, TWCC_REF_UNIT) * TWCC_REF_UNIT; break; }

    /* How many entries fit: the worst case is one 2-byte chunk per 7 symbols. */
    size_t k = 0, dbytes = 0;
    int64_t prev = base_t;
    for (; k < n; k++) {
        size_t add = 0;
        if (st[k].received) {
            int64_t d = twcc__units(st[k].arrival_us - prev);
            if (d < INT16_MIN || d > INT16_MAX) break;
            add = (d >= 0 && d <= 255) ? 1 : 2;
            prev += d * TWCC_DELTA_UNIT;
        }
        size_t size = 20 + 2 * ((k + 1 + 6) / 7) + dbytes + add;
        if (((size + 3) & ~(size_t)3) > cap) break;
        dbytes += add;
    }
    if (k == 0) return RTC_EOVERFLOW;

    uint8_t *sym = malloc(k);
    if (!sym) return RTC_ENOMEM;
    size_t off = 20;
    prev = base_t;
    for (size_t i = 0; i < k; i++) {
        sym[i] = SYM_NONE;
        if (st[i].received) {
            int64_t d = twcc__units(st[i].arrival_us - prev);
            sym[i] = (d >= 0 && d <= 255) ? SYM_SMALL : SYM_LARGE;
            prev += d * TWCC_DELTA_UNIT;
        }
    }
    for (size_t i = 0; i < k; ) {                     /* packet status chunks */
        size_t run = 1;
        while (i + run < k && sym[i + run] == sym[i] && run < 0x1FFF) run++;
        size_t span = k - i < 14 ? k - i : 14;
        bool one_bit = true;
        for (size_t j = 0; j < span; j++) if (sym[i + j] > 1) one_bit = false;
        uint16_t c;
        if (run >= 14 || (run >= 7 && !one_bit)) {
            c = (uint16_t)(sym[i] << 13 | run);
            i += run;
        } else if (one_bit) {
            c = 0x8000;
            for (size_t j = 0; j < span; j++) c |= (uint16_t)(sym[i + j] << (13 - j));
            i += span;
        } else {
            size_t s7 = k - i < 7 ? k - i : 7;
            c = 0xC000;
            for (size_t j = 0; j < s7; j++) c |= (uint16_t)(sym[i + j] << (12 - 2 * j));
            i += s7;
        }
        rtc_wr16(out + off, c);
        off += 2;
    }
    prev = base_t;
    for (size_t i = 0; i < k; i++) {                  /* receive deltas */
        if (!st[i].received) continue;
        int64_t d = twcc__units(st[i].arrival_us - prev);
        prev += d * TWCC_DELTA_UNIT;
        if (sym[i] == SYM_SMALL) out[off++] = (uint8_t)d;
        else { rtc_wr16(out + off, (uint16_t)(int16_t)d); off += 2; }
    }
    free(sym);
    while (off & 3) out[off++] = 0;
    fb->status_count = (uint16_t)k;
    fb->ref_time = (int32_t)ref;
    out[0] = 0x80 | RTC_RTCP_FMT_TWCC;
    out[1] = RTC_RTCP_RTPFB;
    rtc_wr16(out + 2, (uint16_t)(off / 4 - 1));
    rtc_wr32(out + 4, fb->sender_ssrc);
    rtc_wr32(out + 8, fb->media_ssrc);
    rtc_wr16(out + 12, fb->base_seq);
    rtc_wr16(out + 14, fb->status_count);
    rtc_wr24(out + 16, (uint32_t)ref & 0xFFFFFF);
    out[19] = fb->fb_count;
    *consumed = k;
    return (int)off;
}

struct rtc_twcc_receiver {
    rtc_twcc_receiver_config cfg;
    char cname[256];
    rtc_seq_unwrapper unwrap;
    bool have, pending, due;
    int64_t next_seq, highest;        /* first unreported, highest seen (extended) */
    rtc_time next_fb;
    uint8_t fb_count;
    rtc_twcc_receiver_stats stats;
    int64_t slot_seq[RTC_TWCC_WINDOW];
    rtc_time arrival[RTC_TWCC_WINDOW];
    rtc_twcc_status scratch[RTC_TWCC_MAX_PER_FB];
};

int rtc_twcc_receiver_new(rtc_twcc_receiver **out, const rtc_twcc_receiver_config *cfg, rtc_time now)
{
    if (!out || !cfg || (cfg->cname && strlen(cfg->cname) > 255)) return RTC_EINVAL;
    rtc_twcc_receiver *r = calloc(1, sizeof *r);
    if (!r) return RTC_ENOMEM;
    r->cfg = *cfg;
    if (cfg->cname) strcpy(r->cname, cfg->cname);
    r->cfg.cname = NULL;
    if (r->cfg.interval <= 0) r->cfg.interval = RTC_MS(50);
    if (r->cfg.max_packet_size < 24) r->cfg.max_packet_size = 1200;
    for (size_t i = 0; i < RTC_TWCC_WINDOW; i++) r->slot_seq[i] = INT64_MIN;
    r->next_fb = now + r->cfg.interval;
    *out = r;
    return 0;
}

void rtc_twcc_receiver_free(rtc_twcc_receiver *r) { free(r); }

void rtc_twcc_receiver_handle_packet(rtc_twcc_receiver *r, uint16_t seq, rtc_time now)
{
    int64_t ext = rtc_seq_unwrap(&r->unwrap, seq);
    if (!r->have) { r->have = true; r->next_seq = r->highest = ext; }
    if (ext < r->next_seq) {
        /* Reported lost already. If it is still recent, report again from it so the
         * sender learns it arrived; otherwise it only counts. */
        size_t slot = (size_t)ext & (RTC_TWCC_WINDOW - 1);
        if (r->next_seq - ext > RTC_TWCC_WINDOW / 4 || r->highest - ext >= RTC_TWCC_WINDOW ||
            r->slot_seq[slot] == ext) {
            if (r->slot_seq[slot] == ext) r->stats.duplicates++; else r->stats.late++;
            return;
        }
        r->slot_seq[slot] = ext;
        r->arrival[slot] = now;
        r->next_seq = ext;
        r->stats.received++;
        r->stats.rereported++;
        r->pending = true;
        return;
    }
    if (ext - r->next_seq >= RTC_TWCC_WINDOW) {
        /* The feedback fell far behind (no timer ran): forget the oldest, report the rest. */
        r->next_seq = ext - RTC_TWCC_WINDOW + 1;
        r->stats.window_overrun++;
    }
    size_t slot = (size_t)ext & (RTC_TWCC_WINDOW - 1);
    if (r->slot_seq[slot] == ext) { r->stats.duplicates++; return; }
    r->slot_seq[slot] = ext;
    r->arrival[slot] = now;
    if (ext > r->highest) r->highest = ext;
    r->stats.received++;
    if (!r->pending && r->next_fb < now) r->next_fb = now;
    r->pending = true;
}

void rtc_twcc_receiver_handle_timeout(rtc_twcc_receiver *r, rtc_time now)
{
    if (now < r->next_fb) return;
    if (r->pending) r->due = true;
    r->next_fb = now + r->cfg.interval;
}

int rtc_twcc_receiver_poll_transmit(rtc_twcc_receiver *r, uint8_t *out, size_t cap)
{
    if (!r->due) return 0;
    if (!r->have || r->next_seq > r->highest) { r->due = r->pending = false; return 0; }
    size_t cnt = (size_t)(r->highest - r->next_seq + 1);
    if (cnt > RTC_TWCC_MAX_PER_FB) cnt = RTC_TWCC_MAX_PER_FB;
    for (size_t i = 0; i < cnt; i++) {
        int64_t ext = r->next_seq + (int64_t)i;
        size_t slot = (size_t)ext & (RTC_TWCC_WINDOW - 1);
        bool got = r->slot_seq[slot] == ext;
        r->scratch[i] = (rtc_twcc_status){ (uint16_t)ext, got, 0, got ? r->arrival[slot] : 0 };
    }
    int pre = 0;
    if (r->cfg.compound) {                              /* RFC 4585: an RR leads the compound */
        rtc_rtcp_rr rr = { .ssrc = r->cfg.sender_ssrc };
        pre = rtc_rtcp_write_rr(out, cap, &rr);
        size_t clen = strlen(r->cname);
        if (pre >= 0 && clen) {
            rtc_rtcp_sdes_chunk c = { r->cfg.sender_ssrc, { r->cname, clen } };
            int k = rtc_rtcp_write_sdes(out + pre, cap - (size_t)pre, &c, 1);
            pre = k < 0 ? k : pre + k;
        }
        if (pre < 0) return pre;
    }
    size_t room = cap - (size_t)pre;
    size_t lim = room < r->cfg.max_packet_size ? room : r->cfg.max_packet_size;
    rtc_twcc_feedback fb = { r->cfg.sender_ssrc, r->cfg.media_ssrc, (uint16_t)r->next_seq, 0, 0, r->fb_count };
    size_t used = 0;
    int n = rtc_twcc_write_feedback(out + pre, lim, &fb, r->scratch, cnt, &used);
    if (n < 0) return n;
    n += pre;
    r->next_seq += (int64_t)used;
    r->fb_count++;
    r->stats.feedback_sent++;
    if (r->next_seq > r->highest) r->due = r->pending = false;
    return n;
}

rtc_time rtc_twcc_receiver_poll_timeout(const rtc_twcc_receiver *r)
{
    if (r->due) return r->next_fb - r->cfg.interval;   /* already due: now */
    return r->pending ? r->next_fb : RTC_TIME_NEVER;
}

void rtc_twcc_receiver_get_stats(const rtc_twcc_receiver *r, rtc_twcc_receiver_stats *out) { *out = r->stats; }
