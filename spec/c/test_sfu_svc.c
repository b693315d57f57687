/* VP9 SVC through the SFU on a virtual clock: one publisher stream with three spatial
 * and three temporal layers (non-flexible L3T3 with TL0PICIDX, and flexible L3T3_KEY
 * whose upper layers refer to the one below only in keyframes), built packet by packet
 * as RFC 9628 describes. A consumer forwards the spatial layers up to its target and
 * drops the rest without a gap in sequence numbers; the last packet of the highest
 * forwarded layer of each picture carries the marker (and a retransmission the same);
 * it goes down at the next picture and up only at a keyframe, which it asks for;
 * temporal layers drop per picture; per-spatial-layer stats come from the scalability
 * structure. The parser's SS, P, D and F on hand-built descriptors, bad input too. */
#include "rtc_test.h"
#include "codec/codec.h"
#include "core/rtc_errors.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"
#include "sfu/sfu_router.h"

#define MAXREC 6000
typedef struct rec {                    /* what the subscriber leg received, in order */
    int n;
    uint32_t ts[MAXREC];
    uint16_t seq[MAXREC];
    int32_t pic[MAXREC]; int16_t tl0[MAXREC]; int8_t tid[MAXREC], sid[MAXREC];
    bool marker[MAXREC], begin[MAXREC], end[MAXREC], kf[MAXREC], rtx[MAXREC];
    uint16_t fill[MAXREC];               /* which publisher packet it was */
    int plis;                            /* keyframe requests sent upstream */
    int nev; rtc_sfu_event ev[64];       /* LAYER_CHANGE events */
} rec;

static rtc_pool *pool;
static rtc_sfu_router *R;
static rec *out;

/* {====== the publisher ====== */

typedef struct svc_src {
    rtc_sfu_producer *p;
    uint16_t seq; uint32_t ts; int pic, tl0, frame;
    bool flexible;                       /* F = 1, P_DIFF references, no TL0PICIDX */
    bool key_mode;                       /* L3T3_KEY: D = 1 only in keyframes */
    int layers;                          /* spatial layers sent, 1..3 */
    uint16_t fill;
    int sent[3];                         /* packets sent per spatial layer */
} svc_src;

static const uint16_t widths[3] = { 320, 640, 1280 }, heights[3] = { 180, 360, 720 };

/* One packet's payload: descriptor, then a frame header byte at a layer frame's start
 * (frame_type 0 = key), then the packet's number as fill. */
static size_t svc_payload(uint8_t *pay, const svc_src *s, int sid, int tid, bool u, bool p, bool d,
                          bool begin, bool end, bool ss, uint16_t fill, size_t plen)
{
    size_t o = 0;
    pay[o++] = (uint8_t)(0xA0 | (p ? 0x40 : 0) | (s->flexible ? 0x10 : 0) | (begin ? 0x08 : 0) |
                         (end ? 0x04 : 0) | (ss ? 0x02 : 0));
    pay[o++] = (uint8_t)(0x80 | s->pic >> 8); pay[o++] = (uint8_t)s->pic;
    pay[o++] = (uint8_t)(tid << 5 | (u ? 0x10 : 0) | sid << 1 | (d ? 1 : 0));
    if (!s->flexible) pay[o++] = (uint8_t)s->tl0;
    if (s->flexible && p) pay[o++] = (uint8_t)((tid == 0 ? 4 : 1) << 1);   /* one P_DIFF, N = 0 */
    if (ss) {
        pay[o++] = (uint8_t)(2 << 5 | 0x10 | (s->flexible ? 0 : 0x08));   /* N_S = 2, Y, G */
        for (int k = 0; k < 3; k++) {
            pay[o++] = (uint8_t)(widths[k] >> 8); pay[o++] = (uint8_t)widths[k];
            pay[o++] = (uint8_t)(heights[k] >> 8); pay[o++] = (uint8_t)heights[k];
        }
        if (!s->flexible) {
            pay[o++] = 4;                                    /* N_G: the L1T3 pattern 0 2 1 2 */
            static const uint8_t g[4] = { 0x04, 0x54, 0x34, 0x54 };  /* TID U R=1 */
            for (int k = 0; k < 4; k++) { pay[o++] = g[k]; pay[o++] = k == 0 ? 4 : 1; }
        }
    }
    pay[o++] = begin ? (sid == 0 && !p ? 0x80 : 0x84) : 0x11;
    while (o < plen) pay[o++] = 0x22;
    pay[o - 2] = (uint8_t)(fill >> 8);
    pay[o - 1] = (uint8_t)fill;
    return o;
}

static int tid_of(int frame) { static const int pat[4] = { 0, 2, 1, 2 }; return pat[frame % 4]; }

static void drain(void);

/* Layer frames s0..s1-1 of the current picture, layer s in s + 1 packets of 200 + 300 s
 * bytes; the marker on the last packet of the top layer (layers - 1). A keyframe
 * restarts the temporal pattern. */
static void svc_part(svc_src *s, rtc_time now, bool kf, int s0, int s1)
{
    if (s0 == 0) {
        if (kf) s->frame -= s->frame % 4;
        if (tid_of(s->frame) == 0 && s->frame > 0) s->tl0 = (s->tl0 + 1) & 0xff;
    }
    int tid = tid_of(s->frame);
    bool u = s->frame % 4 == 1 || s->frame % 4 == 2;    /* after TID 0: switching-up points */
    for (int sid = s0; sid < s1; sid++) {
        int npk = sid + 1;
        bool p = !kf;
        bool d = sid > 0 && (kf || !s->key_mode);
        for (int k = 0; k < npk; k++) {
            bool top = sid == s->layers - 1;
            uint8_t pay[1200];
            size_t n = svc_payload(pay, s, sid, tid, u, p, d, k == 0, k == npk - 1, kf && sid == 0 && k == 0,
                                   s->fill++, 200 + 300 * (size_t)sid);
            rtc_rtp_header h = { .pt = 96, .seq = s->seq++, .ts = s->ts, .ssrc = 0x900, .marker = top && k == npk - 1 };
            rtc_buf *b = rtc_buf_alloc(pool, 1500);
            int w = rtc_rtp_write(b->data, b->cap, &h, pay, n, 0);
            ASSERT(w > 0);
            b->len = (size_t)w;
            ASSERT_OK(rtc_sfu_router_handle_rtp(R, s->p, b, now));
            rtc_buf_unref(b);
            s->sent[sid]++;
            drain();
        }
    }
}

static void svc_next(svc_src *s)
{
    s->frame++;
    s->pic = (s->pic + 1) & 0x7fff;
    s->ts += 3000;
}

static void svc_picture(svc_src *s, rtc_time now, bool kf)
{
    svc_part(s, now, kf, 0, s->layers);
    svc_next(s);
}

/* }====== */

static void record(const rtc_sfu_transmit *t)
{
    uint8_t d[1600];
    int n = rtc_sfu_transmit_flatten(t, d, sizeof d);
    ASSERT(n > 0);
    if (t->kind == RTC_SFU_TX_RTCP) {
        rtc_rtcp_view v[8];
        int k = rtc_rtcp_parse_compound(d, (size_t)n, v, 8);
        ASSERT(k > 0);
        for (int i = 0; i < k; i++)
            if (t->producer && v[i].pt == RTC_RTCP_PSFB && v[i].count == RTC_RTCP_FMT_PLI) out->plis++;
        return;
    }
    rtc_rtp_packet p;
    ASSERT_OK(rtc_rtp_parse(&p, d, (size_t)n));
    ASSERT(out->n < MAXREC);
    int i = out->n++;
    const uint8_t *pl = p.payload;
    size_t plen = p.payload_len;
    out->rtx[i] = t->rtx;
    if (t->rtx) { out->seq[i] = rtc_rd16(pl); pl += 2; plen -= 2; } else out->seq[i] = p.h.seq;
    ASSERT_EQ(p.h.ssrc, t->rtx ? 0xC1 : 0xC0);
    out->ts[i] = p.h.ts;
    out->marker[i] = p.h.marker;
    rtc_depack_info info;
    size_t hl;
    ASSERT_OK(rtc_vp9_depack_parse(pl, plen, &info, &hl));
    out->pic[i] = info.picture_id; out->tl0[i] = info.tl0picidx;
    out->tid[i] = info.temporal_id; out->sid[i] = info.spatial_id;
    out->begin[i] = info.begin; out->end[i] = info.end; out->kf[i] = info.keyframe;
    out->fill[i] = (uint16_t)(pl[plen - 2] << 8 | pl[plen - 1]);
}

static void drain(void)
{
    rtc_sfu_transmit t;
    while (rtc_sfu_router_poll_transmit(R, &t)) { record(&t); rtc_sfu_transmit_release(&t); }
    rtc_sfu_event ev;
    while (rtc_sfu_router_poll_event(R, &ev))
        if (ev.type == RTC_SFU_EV_LAYER_CHANGE && out->nev < 64) out->ev[out->nev++] = ev;
}

static void tick(rtc_time now)
{
    if (rtc_sfu_router_poll_timeout(R) <= now) rtc_sfu_router_handle_timeout(R, now);
    drain();
}

static rtc_sfu_consumer *C;

static void setup(svc_src *s, bool flexible, bool key_mode, rtc_time now)
{
    pool = rtc_pool_new(256);
    ASSERT_OK(rtc_sfu_router_new(&R, &(rtc_sfu_router_config){ .pool = pool }, 0));
    out = calloc(1, sizeof *out);
    *s = (svc_src){ .seq = 65000, .ts = 123456, .pic = 32700, .tl0 = 250, .flexible = flexible,
                    .key_mode = key_mode, .layers = 3 };
    rtc_sfu_producer_config pc = { .codec = RTC_CODEC_VP9, .pt = 96, .ssrc = 0x900, .local_ssrc = 1,
                                   .rr_interval = -1, .keyframe_interval = RTC_MS(100) };
    ASSERT_OK(rtc_sfu_router_add_producer(R, &pc, &s->p, now));
    rtc_sfu_consumer_config cc = { .codec = RTC_CODEC_VP9, .pt = 100, .ssrc = 0xC0, .initial_seq = 65530,
                                   .rtx_pt = 101, .rtx_ssrc = 0xC1, .layer_up_delay = RTC_SEC(2) };
    ASSERT_OK(rtc_sfu_router_add_consumer(R, &cc, s->p, &C, now));
}

static void teardown(void)
{
    rtc_sfu_router_free(R);
    R = NULL;
    rtc_pool_stats ps;
    rtc_pool_get_stats(pool, &ps);
    ASSERT_EQ(ps.in_use, 0);
    rtc_pool_free(pool);
    free(out);
}

/* The subscriber's stream from `from` on, retransmissions aside: seq +1 each; each
 * picture (one timestamp) is layer frames 0, 1, .. in order, each from B to E; the
 * marker on the picture's last packet only. With `compact`, picture ids +1 a picture.
 * Returns the number of pictures; tops[] gets each picture's top spatial layer. */
static int check_stream(int from, bool compact, int *tops, int max)
{
    int pics = 0, j = -1;
    for (int i = from; i < out->n; i++) {
        if (out->rtx[i]) continue;
        bool last = true;                                /* the next non-rtx packet is another picture */
        for (int k = i + 1; k < out->n; k++) if (!out->rtx[k]) { last = out->ts[k] != out->ts[i]; break; }
        if (i == out->n - 1) last = out->end[i];
        ASSERT_EQ(out->marker[i], last);
        if (last) ASSERT(out->end[i]);
        if (j >= 0) {
            ASSERT_EQ((uint16_t)(out->seq[j] + 1), out->seq[i]);
            if (out->ts[i] != out->ts[j]) {
                ASSERT((int32_t)(out->ts[i] - out->ts[j]) > 0);
                ASSERT(out->begin[i] && out->sid[i] == 0);
                ASSERT(out->end[j]);
                if (compact) ASSERT_EQ((out->pic[j] + 1) & 0x7fff, out->pic[i]);
            } else {
                ASSERT_EQ(out->pic[j], out->pic[i]);
                if (out->begin[i]) { ASSERT(out->end[j]); ASSERT_EQ(out->sid[i], out->sid[j] + 1); }
                else ASSERT_EQ(out->sid[i], out->sid[j]);
            }
        }
        if (j < 0 || out->ts[i] != out->ts[j]) pics++;
        if (tops && pics <= max) tops[pics - 1] = out->sid[i];
        j = i;
    }
    return pics;
}

static const rtc_sfu_event *last_change(void) { return out->nev ? &out->ev[out->nev - 1] : NULL; }

/* Preferred spatial layer 0: only layer 0 goes out, gapless, each picture marked at its
 * end; the others are counted as spatial drops; the consumer reports three layers. */
static void test_drop_above_target(void)
{
    svc_src s;
    rtc_time now = RTC_SEC(1);
    setup(&s, false, false, now);
    rtc_sfu_consumer_set_preferred_layers(C, 0, -1, now);
    svc_picture(&s, now, true);
    for (int f = 0; f < 20; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    ASSERT_EQ(out->n, 21);                               /* one packet a picture in layer 0 */
    for (int i = 0; i < out->n; i++) ASSERT_EQ(out->sid[i], 0);
    ASSERT(out->kf[0]);
    ASSERT_EQ(check_stream(0, true, NULL, 0), 21);
    rtc_sfu_consumer_stats st;
    rtc_sfu_consumer_get_stats(C, &st);
    ASSERT_EQ(st.dropped_spatial, s.sent[1] + s.sent[2]);
    ASSERT_EQ(st.dropped_temporal, 0);
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(C, &ly);
    ASSERT_EQ(ly.spatial, 0);
    ASSERT_EQ(ly.target_spatial, 0);
    ASSERT_EQ(ly.temporal, 2);
    ASSERT_EQ(ly.nlayers, 3);
    const rtc_sfu_event *ev = last_change();
    ASSERT(ev && ev->spatial == 0 && ev->temporal == 2);
    teardown();
}

/* Up: the target is decided at once and a keyframe asked for; until it comes layer 0
 * alone goes on; at the keyframe all three layers, the marker moving to layer 2's end.
 * Down in the middle of a picture: that picture stays whole, the next ends at layer 1. */
static void test_up_at_keyframe_down_at_picture_end(void)
{
    svc_src s;
    rtc_time now = RTC_SEC(1);
    setup(&s, false, false, now);
    rtc_sfu_consumer_set_preferred_layers(C, 0, -1, now);
    svc_picture(&s, now, true);
    for (int f = 0; f < 5; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    int plis = out->plis;
    rtc_sfu_consumer_set_preferred_layers(C, 2, -1, now);
    drain();
    ASSERT_EQ(out->plis, plis + 1);                      /* the keyframe for the switch */
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(C, &ly);
    ASSERT_EQ(ly.target_spatial, 2);
    ASSERT_EQ(ly.spatial, 0);
    int n0 = out->n;
    for (int f = 0; f < 3; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    ASSERT_EQ(out->n, n0 + 3);                           /* still layer 0 alone */
    int k0 = out->n;
    now += RTC_MS(33);
    svc_picture(&s, now, true);
    tick(now);
    ASSERT_EQ(out->n, k0 + 1 + 2 + 3);                   /* the keyframe's three layers */
    for (int i = k0; i < out->n; i++) ASSERT_EQ(out->marker[i], i == out->n - 1);
    ASSERT(out->kf[k0]);
    rtc_sfu_consumer_get_layers(C, &ly);
    ASSERT_EQ(ly.spatial, 2);
    const rtc_sfu_event *ev = last_change();
    ASSERT(ev && ev->spatial == 2 && ev->why == RTC_SFU_LAYER_WHY_PREFERRED);
    for (int f = 0; f < 3; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    /* Down to 1 while a picture's layer 0 is out: its layers 1 and 2 still follow. */
    int k1 = out->n;
    svc_part(&s, now, false, 0, 1);                     /* layer 0 of picture P */
    rtc_sfu_consumer_set_preferred_layers(C, 1, -1, now);
    svc_part(&s, now, false, 1, 3);
    svc_next(&s);
    ASSERT_EQ(out->n, k1 + 6);                           /* picture P whole */
    ASSERT_EQ(out->sid[k1 + 5], 2);
    ASSERT(out->marker[k1 + 5]);
    int k2 = out->n;
    now += RTC_MS(33);
    svc_picture(&s, now, false);
    tick(now);
    ASSERT_EQ(out->n, k2 + 1 + 2);                       /* layers 0 and 1 */
    ASSERT_EQ(out->sid[out->n - 1], 1);
    ASSERT(out->marker[out->n - 1]);
    ASSERT(!out->marker[k2]);
    for (int f = 0; f < 4; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    int tops[64];
    int pics = check_stream(0, true, tops, 64);
    ASSERT_EQ(pics, 6 + 3 + 1 + 3 + 1 + 1 + 4);
    rtc_sfu_consumer_stats st;
    rtc_sfu_consumer_get_stats(C, &st);
    ASSERT_EQ(st.layer_switches, 2);
    rtc_sfu_consumer_get_layers(C, &ly);
    ASSERT_EQ(ly.spatial, 1);
    teardown();
}

/* L3T3_KEY in flexible mode, temporal layer 0 and spatial layer 1: one picture in four,
 * layers 0 and 1; picture ids keep their gaps (references are differences). Then all
 * temporal layers again, from the next switching-up point. */
static void test_flexible_key_mode_temporal(void)
{
    svc_src s;
    rtc_time now = RTC_SEC(1);
    setup(&s, true, true, now);
    rtc_sfu_consumer_set_preferred_layers(C, 1, 0, now);
    svc_picture(&s, now, true);
    for (int f = 0; f < 15; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    ASSERT_EQ(out->n, 4 * 3);                            /* pictures 0, 4, 8, 12: 1 + 2 packets */
    for (int i = 0; i < out->n; i++) { ASSERT_EQ(out->tid[i], 0); ASSERT_LE(out->sid[i], 1); }
    ASSERT_EQ(check_stream(0, false, NULL, 0), 4);
    for (int i = 3; i < out->n; i += 3) ASSERT_EQ((out->pic[i] - out->pic[i - 3]) & 0x7fff, 4);
    ASSERT_EQ(out->tl0[0], -1);
    rtc_sfu_consumer_stats st;
    rtc_sfu_consumer_get_stats(C, &st);
    ASSERT_EQ(st.dropped_temporal, 12 * 6);
    ASSERT_EQ(st.dropped_spatial, 4 * 3);
    rtc_sfu_consumer_set_preferred_layers(C, 1, 2, now);
    int k = out->n;
    for (int f = 0; f < 8; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    ASSERT_EQ(out->n, k + 8 * 3);                        /* frame 16 is TID 0; then every picture */
    ASSERT_EQ(check_stream(0, false, NULL, 0), 4 + 8);
    teardown();
}

/* A NACK after the top layer moved: the retransmission of a layer-0 end carries the
 * marker it was first sent with (none while layer 2 was forwarded, set after). */
static void test_nack_keeps_marker(void)
{
    svc_src s;
    rtc_time now = RTC_SEC(1);
    setup(&s, false, false, now);
    svc_picture(&s, now, true);
    for (int f = 0; f < 3; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(C, &ly);
    ASSERT_EQ(ly.spatial, 2);
    int a = 6;                                           /* picture 1's layer 0 packet, unmarked */
    ASSERT(out->sid[a] == 0 && !out->marker[a]);
    rtc_sfu_consumer_set_preferred_layers(C, 0, -1, now);
    for (int f = 0; f < 3; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    int b = out->n - 1;
    ASSERT(out->sid[b] == 0 && out->marker[b]);
    uint16_t seqs[2] = { out->seq[a], out->seq[b] };
    uint8_t buf[64];
    int n = rtc_rtcp_write_nack(buf, sizeof buf, 0x5, 0xC0, seqs, 2);
    int k = out->n;
    ASSERT_OK(rtc_sfu_router_handle_consumer_rtcp(R, C, buf, (size_t)n, now));
    drain();
    ASSERT_EQ(out->n, k + 2);
    ASSERT(out->rtx[k] && out->seq[k] == seqs[0] && out->fill[k] == out->fill[a] && !out->marker[k]);
    ASSERT(out->rtx[k + 1] && out->seq[k + 1] == seqs[1] && out->fill[k + 1] == out->fill[b] && out->marker[k + 1]);
    check_stream(0, true, NULL, 0);
    teardown();
}

/* Per-layer stats from the scalability structure and the meters; the bandwidth
 * estimate picks the highest spatial layer whose layers together fit; a spatial layer
 * the publisher stops is left. */
static void test_stats_bandwidth_and_stopped_layer(void)
{
    svc_src s;
    rtc_time now = RTC_SEC(1);
    setup(&s, false, true, now);
    svc_picture(&s, now, true);
    for (int f = 0; f < 30; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    rtc_sfu_layer_stats all, l[3];
    rtc_sfu_producer_get_layer_stats(s.p, now, &all);
    ASSERT_EQ(all.spatial_layers, 3);
    ASSERT_EQ(all.temporal_layers, 3);
    ASSERT_EQ(all.width, 1280);
    ASSERT_EQ(all.height, 720);
    for (int k = 0; k < 3; k++) {
        ASSERT_OK(rtc_sfu_producer_get_spatial_stats(s.p, k, now, &l[k]));
        ASSERT(l[k].active);
        ASSERT_EQ(l[k].width, widths[k]);
        ASSERT_EQ(l[k].height, heights[k]);
        ASSERT(l[k].frame_rate > 20 && l[k].frame_rate < 40);
        if (k) ASSERT(l[k].bitrate > l[k - 1].bitrate);
    }
    ASSERT(all.bitrate >= l[0].bitrate + l[1].bitrate + l[2].bitrate - 8 * 200);
    ASSERT_EQ(rtc_sfu_producer_get_spatial_stats(s.p, 3, now, &l[0]), RTC_EINVAL);
    ASSERT_EQ(rtc_sfu_producer_get_spatial_stats(s.p, -1, now, &l[0]), RTC_EINVAL);
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(C, &ly);
    ASSERT_EQ(ly.spatial, 2);
    /* Less than layers 0..2 need at temporal layer 0 (spatial before temporal: that
     * would be chosen first), more than layers 0..1 at temporal layers 0..1: (1, 1), at once. */
    uint64_t s2t0 = l[0].temporal_bitrate[0] + l[1].temporal_bitrate[0] + l[2].temporal_bitrate[0];
    uint64_t s1t1 = l[0].temporal_bitrate[1] + l[1].temporal_bitrate[1];
    uint64_t s1t2 = l[0].temporal_bitrate[2] + l[1].temporal_bitrate[2];
    ASSERT(s1t1 + 20000 < s2t0 && s2t0 - 10000 < s1t2);
    rtc_sfu_consumer_set_bandwidth(C, s2t0 - 10000, now);
    while (s.frame % 4 != 0) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    for (int f = 0; f < 4; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    rtc_sfu_consumer_get_layers(C, &ly);
    ASSERT_EQ(ly.spatial, 1);
    ASSERT_EQ(ly.temporal, 1);
    ASSERT_EQ(last_change()->why, RTC_SFU_LAYER_WHY_BANDWIDTH);
    rtc_sfu_consumer_set_bandwidth(C, 0, now);
    /* The publisher drops its top layer (its marker now ends layer 1): layer 2 goes
     * idle and the consumer stays at 1 though nothing limits it. */
    s.layers = 2;
    for (int f = 0; f < 75; f++) { now += RTC_MS(33); svc_picture(&s, now, false); tick(now); }
    rtc_sfu_producer_get_spatial_stats(s.p, 2, now, &l[2]);
    ASSERT(!l[2].active);
    rtc_sfu_consumer_get_layers(C, &ly);
    ASSERT_EQ(ly.target_spatial, 1);
    ASSERT_EQ(ly.spatial, 1);
    check_stream(0, false, NULL, 0);
    teardown();
}

/* The parser: SS with sizes and a group description, P/D/F/U, and truncations. */
static void test_parse(void)
{
    svc_src s = { .pic = 5, .tl0 = 9, .layers = 3 };
    uint8_t pay[1200];
    size_t n = svc_payload(pay, &s, 0, 0, false, false, false, true, false, true, 1, 60);
    rtc_depack_info info;
    size_t hl;
    ASSERT_OK(rtc_vp9_depack_parse(pay, n, &info, &hl));
    ASSERT(info.keyframe && info.begin && !info.end && !info.inter_picture && !info.flexible);
    ASSERT_EQ(info.spatial_layers, 3);
    ASSERT_EQ(hl, 5 + 1 + 12 + 1 + 8);
    rtc_vp9_ss ss;
    ASSERT_EQ(rtc_vp9_scalability(pay, n, &ss), 1);
    ASSERT_EQ(ss.spatial_layers, 3);
    ASSERT(ss.has_sizes);
    ASSERT_EQ(ss.pictures, 4);
    for (int k = 0; k < 3; k++) { ASSERT_EQ(ss.width[k], widths[k]); ASSERT_EQ(ss.height[k], heights[k]); }
    for (size_t cut = 0; cut <= hl; cut++) ASSERT(rtc_vp9_scalability(pay, cut, &ss) < 0);
    s.flexible = true;
    n = svc_payload(pay, &s, 2, 1, true, true, true, false, true, false, 1, 40);
    ASSERT_OK(rtc_vp9_depack_parse(pay, n, &info, &hl));
    ASSERT(info.inter_picture && info.inter_layer && info.flexible && info.layer_sync && info.end && !info.begin);
    ASSERT_EQ(info.spatial_id, 2);
    ASSERT_EQ(info.temporal_id, 1);
    ASSERT_EQ(info.tl0picidx, -1);
    ASSERT_EQ(info.spatial_layers, 0);
    ASSERT_EQ(rtc_vp9_scalability(pay, n, &ss), 0);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_drop_above_target);
    RUN(test_up_at_keyframe_down_at_picture_end);
    RUN(test_flexible_key_mode_temporal);
    RUN(test_nack_keeps_marker);
    RUN(test_stats_bandwidth_and_stopped_layer);
    return 0;
}
