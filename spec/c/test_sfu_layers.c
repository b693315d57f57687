/* SFU layers on a virtual clock with synthetic VP8: a consumer of three simulcast
 * layers switches only at a keyframe of the target (asked for with a PLI, the old
 * layer forwarded until it comes) and its output stays one continuous stream (SSRC,
 * seq, timestamps, picture id, TL0PICIDX); a NACK after the switch is answered from
 * the old layer; temporal layers above the chosen one are dropped without gaps and
 * NACKs map back to the right packets; the bandwidth estimate moves the choice down
 * at once and up only after the hysteresis; a layer that stops is left; per-layer
 * stats; bad arguments. */
#include "rtc_test.h"
#include "codec/codec.h"
#include "core/rtc_errors.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"
#include "sfu/sfu_router.h"

#define MAXREC 4000
typedef struct rec {                    /* what the subscriber leg received, in order */
    int n;
    uint32_t ssrc[MAXREC], ts[MAXREC];
    uint16_t seq[MAXREC];
    int32_t pic[MAXREC]; int16_t tl0[MAXREC]; int8_t tid[MAXREC];
    bool kf[MAXREC], begin[MAXREC], rtx[MAXREC];
    uint8_t fill[MAXREC];                /* the publisher's payload byte: which packet it was */
    uint16_t plen[MAXREC];               /* payload length: which layer it came from */
    int plis[8];                         /* PLIs sent upstream, by producer user id */
    int nev; rtc_sfu_event ev[64];       /* LAYER_* events */
} rec;

static rtc_pool *pool;
static rtc_sfu_router *R;
static rec *out;
static rtc_codec_id codec = RTC_CODEC_VP8;   /* what the packets, producers and consumers use */

/* A VP8 packet with I (15-bit), L and T fields; `fill` marks the payload. */
static rtc_buf *vp8_packet(uint32_t ssrc, uint16_t seq, uint32_t ts, int pic, int tl0, int tid, bool sync,
                           bool begin, bool kf, bool marker, uint8_t fill, size_t plen, int width)
{
    rtc_rtp_header h = { .pt = 96, .seq = seq, .ts = ts, .ssrc = ssrc, .marker = marker };
    uint8_t pay[1200];
    size_t o = 0;
    if (codec == RTC_CODEC_H264) {
        /* One NAL unit a packet: IDR (type 5) to start a keyframe, else a non-IDR slice. */
        pay[o++] = begin ? (kf ? 0x65 : 0x41) : 0x41;
        pay[o++] = begin ? 0x88 : 0x08;                 /* first_mb_in_slice 0 only at a frame's start */
        (void)pic; (void)tl0; (void)tid; (void)sync; (void)width;
        while (o < plen) pay[o++] = fill;
        rtc_buf *b = rtc_buf_alloc(pool, 1500);
        int n = rtc_rtp_write(b->data, b->cap, &h, pay, o, 0);
        ASSERT(n > 0);
        b->len = (size_t)n;
        return b;
    }
    if (codec == RTC_CODEC_VP9) {
        /* Non-flexible mode: I (15-bit), L (TID U SID D, TL0PICIDX), B and E; then the
         * first byte of the uncompressed header (frame_type 0 = key). */
        pay[o++] = (uint8_t)(0xA0 | (kf ? 0 : 0x40) | (begin ? 0x08 : 0) | (marker ? 0x04 : 0));
        pay[o++] = (uint8_t)(0x80 | (pic >> 8)); pay[o++] = (uint8_t)pic;
        pay[o++] = (uint8_t)(tid << 5 | (sync ? 0x10 : 0));
        pay[o++] = (uint8_t)tl0;
        pay[o++] = begin ? (kf ? 0x80 : 0x84) : fill;
        (void)width;
        while (o < plen) pay[o++] = fill;
        rtc_buf *b = rtc_buf_alloc(pool, 1500);
        int n = rtc_rtp_write(b->data, b->cap, &h, pay, o, 0);
        ASSERT(n > 0);
        b->len = (size_t)n;
        return b;
    }
    pay[o++] = (uint8_t)(0x80 | (begin ? 0x10 : 0));
    pay[o++] = 0xE0;
    pay[o++] = (uint8_t)(0x80 | (pic >> 8)); pay[o++] = (uint8_t)pic;
    pay[o++] = (uint8_t)tl0;
    pay[o++] = (uint8_t)(tid << 6 | (sync ? 0x20 : 0));
    if (begin && kf) {                  /* key frame tag, start code, size */
        uint8_t k[10] = { 0x10, 0, 0, 0x9d, 0x01, 0x2a, (uint8_t)width, (uint8_t)(width >> 8),
                          (uint8_t)(width * 3 / 4), (uint8_t)((width * 3 / 4) >> 8) };
        memcpy(pay + o, k, 10); o += 10;
    } else {
        pay[o++] = begin ? 0x11 : fill;
    }
    while (o < plen) pay[o++] = fill;
    rtc_buf *b = rtc_buf_alloc(pool, 1500);
    int n = rtc_rtp_write(b->data, b->cap, &h, pay, o, 0);
    ASSERT(n > 0);
    b->len = (size_t)n;
    return b;
}

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
            if (t->producer && v[i].pt == RTC_RTCP_PSFB && v[i].count == RTC_RTCP_FMT_PLI) out->plis[(intptr_t)t->user]++;
        return;
    }
    ASSERT(t->consumer);
    rtc_rtp_packet p;
    ASSERT_OK(rtc_rtp_parse(&p, d, (size_t)n));
    ASSERT(out->n < MAXREC);
    int i = out->n++;
    const uint8_t *pl = p.payload; size_t plen = p.payload_len;
    out->rtx[i] = t->rtx;
    if (t->rtx) { out->seq[i] = rtc_rd16(pl); pl += 2; plen -= 2; } else out->seq[i] = p.h.seq;
    out->ssrc[i] = p.h.ssrc;
    out->ts[i] = p.h.ts;
    rtc_depack_info info;
    size_t hl;
    if (codec == RTC_CODEC_H264) ASSERT_OK(rtc_h264_depack_parse(pl, plen, &info));
    else if (codec == RTC_CODEC_VP9) ASSERT_OK(rtc_vp9_depack_parse(pl, plen, &info, &hl));
    else ASSERT_OK(rtc_vp8_depack_parse(pl, plen, &info, &hl));
    out->pic[i] = info.picture_id; out->tl0[i] = info.tl0picidx; out->tid[i] = info.temporal_id;
    out->kf[i] = info.keyframe; out->begin[i] = info.begin;
    out->fill[i] = pl[plen - 1];
    out->plen[i] = (uint16_t)plen;
}

static void drain(void)
{
    rtc_sfu_transmit t;
    while (rtc_sfu_router_poll_transmit(R, &t)) { record(&t); rtc_sfu_transmit_release(&t); }
    rtc_sfu_event ev;
    while (rtc_sfu_router_poll_event(R, &ev))
        if (ev.type >= RTC_SFU_EV_LAYER_CHANGE && out->nev < 64) out->ev[out->nev++] = ev;
}

static void tick(rtc_time now)
{
    if (rtc_sfu_router_poll_timeout(R) <= now) rtc_sfu_router_handle_timeout(R, now);
    drain();
}

/* One layer's sender: frames of `npk` packets of `plen` bytes; a keyframe every `gop`
 * frames; temporal pattern L1T3 (0,2,1,2) when `t3`, the first TID 1 and 2 frames
 * after a TID 0 frame marked layer-sync. */
typedef struct layer {
    rtc_sfu_producer *p;
    uint32_t ssrc; uint16_t seq; uint32_t ts; int pic, tl0, frame, gop, npk, width; size_t plen;
    bool t3, sent;
    uint8_t fill;
} layer;

static int tid_of(const layer *l) { static const int pat[4] = { 0, 2, 1, 2 }; return l->t3 ? pat[l->frame % 4] : 0; }

static void send_frame(layer *l, rtc_time now, bool force_kf)
{
    bool kf = force_kf || l->frame % l->gop == 0;
    if (kf && l->t3) l->frame -= l->frame % 4;          /* a keyframe restarts the pattern */
    int tid = tid_of(l);
    if (tid == 0 && l->sent) l->tl0 = (l->tl0 + 1) & 0xff;
    l->sent = true;
    bool sync = l->t3 && (l->frame % 4 == 1 || l->frame % 4 == 2);
    for (int k = 0; k < l->npk; k++) {
        rtc_buf *b = vp8_packet(l->ssrc, l->seq, l->ts, l->pic, l->tl0, tid, sync, k == 0, kf, k == l->npk - 1,
                                l->fill++, l->plen, l->width);
        ASSERT_OK(rtc_sfu_router_handle_rtp(R, l->p, b, now));
        rtc_buf_unref(b);
        l->seq++;
    }
    drain();
    l->frame++;
    l->pic = (l->pic + 1) & 0x7fff;
    l->ts += 3000;
}

static rtc_sfu_producer *add_producer(uint32_t ssrc, int user, rtc_time now)
{
    rtc_sfu_producer_config pc = { .codec = codec, .pt = 96, .ssrc = ssrc, .local_ssrc = 1,
                                   .user = (void *)(intptr_t)user, .rr_interval = -1,
                                   .keyframe_interval = RTC_MS(100) };
    rtc_sfu_producer *p;
    ASSERT_OK(rtc_sfu_router_add_producer(R, &pc, &p, now));
    return p;
}

static rtc_sfu_consumer *add_consumer(rtc_sfu_producer *src, rtc_time now)
{
    rtc_sfu_consumer_config cc = { .codec = codec, .pt = 100, .ssrc = 0xC0, .initial_seq = 65500,
                                   .rtx_pt = 101, .rtx_ssrc = 0xC1, .user = (void *)(intptr_t)7,
                                   .layer_up_delay = RTC_SEC(2) };
    rtc_sfu_consumer *c;
    ASSERT_OK(rtc_sfu_router_add_consumer(R, &cc, src, &c, now));
    return c;
}

static void setup(void)
{
    pool = rtc_pool_new(256);
    ASSERT_OK(rtc_sfu_router_new(&R, &(rtc_sfu_router_config){ .pool = pool }, 0));
    out = calloc(1, sizeof *out);
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

/* The subscriber's stream from index `from` on: one SSRC, seq +1 each, timestamps
 * never back, picture id +1 and TL0PICIDX +1 (on TID 0 frames) per new frame. */
static void check_continuous(int from)
{
    int j = from;                                  /* the previous packet, not a retransmission */
    for (int i = from + 1; i < out->n; i++) {
        if (out->rtx[i]) continue;
        ASSERT_EQ(out->ssrc[i], 0xC0);
        ASSERT_EQ((uint16_t)(out->seq[j] + 1), out->seq[i]);
        ASSERT((int32_t)(out->ts[i] - out->ts[j]) >= 0);
        if (out->begin[i]) {
            ASSERT((int32_t)(out->ts[i] - out->ts[j]) > 0);
            ASSERT_EQ((out->pic[j] + 1) & 0x7fff, out->pic[i]);
            ASSERT_EQ((uint8_t)(out->tl0[j] + (out->tid[i] == 0 ? 1 : 0)), out->tl0[i]);
        } else {
            ASSERT_EQ(out->pic[j], out->pic[i]);
            ASSERT_EQ(out->tl0[j], out->tl0[i]);
        }
        j = i;
    }
}

static void make_layers(layer *l, rtc_time now)
{
    for (int i = 0; i < 3; i++) {
        l[i] = (layer){ .ssrc = 0x100u + (uint32_t)i, .seq = (uint16_t)(1000 * (i + 1) + 60000), .ts = 777777u * (uint32_t)(i + 1),
                        .pic = 32000 + 100 * i, .tl0 = 250 - 7 * i, .gop = 30, .npk = i + 1,
                        .plen = 300 + 400 * (size_t)i, .width = 320 << i, .fill = (uint8_t)(0x40 * i) };
        l[i].p = add_producer(l[i].ssrc, i, now);
    }
}

static void send_all(layer *l, rtc_time now) { for (int i = 0; i < 3; i++) send_frame(&l[i], now, false); }

static const rtc_sfu_event *last_change(void)
{
    for (int i = out->nev; i-- > 0; )
        if (out->ev[i].type == RTC_SFU_EV_LAYER_CHANGE) return &out->ev[i];
    return NULL;
}

static void test_simulcast_switch_at_keyframe(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    layer l[3];
    make_layers(l, now);
    /* Layers arrive mid-GOP: a consumer must wait for a keyframe of its target. */
    for (int i = 0; i < 3; i++) { l[i].frame = 5; }
    rtc_sfu_consumer *c = add_consumer(l[0].p, now);
    rtc_sfu_producer *set[3] = { l[0].p, l[1].p, l[2].p };
    ASSERT_OK(rtc_sfu_consumer_set_layers(c, set, 3, now));
    drain();
    for (int f = 0; f < 5; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    ASSERT_GE(out->plis[2], 1);                                   /* asked the top layer for a keyframe */
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.target_spatial, 2);
    ASSERT_EQ(out->n, 0);                                         /* no keyframe of layer 2 yet */
    send_frame(&l[0], now, false); send_frame(&l[1], now, true);  /* another layer's keyframe: still nothing */
    ASSERT_EQ(out->n, 0);
    send_frame(&l[2], now, true);
    ASSERT_EQ(out->n, 3);
    ASSERT(out->kf[0]);
    const rtc_sfu_event *ev = last_change();
    ASSERT(ev && ev->spatial == 2 && ev->why == RTC_SFU_LAYER_WHY_START);
    send_frame(&l[0], now, true);                                 /* serves the first consumer's request */
    for (int f = 0; f < 6; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    int before = out->n;
    int plis0 = out->plis[0];
    /* Down to layer 0: the keyframe is requested there, layer 2 goes on meanwhile. */
    rtc_sfu_consumer_set_preferred_layers(c, 0, -1, now);
    drain();
    ASSERT_EQ(out->plis[0], plis0 + 1);
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 2);
    ASSERT_EQ(ly.target_spatial, 0);
    for (int f = 0; f < 4; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    ASSERT_EQ(out->n, before + 4 * 3);                            /* still three packets a frame: layer 2 */
    int sw = out->n;
    now += RTC_MS(33);
    send_frame(&l[2], now, false);
    send_frame(&l[0], now, true);                                 /* layer 0's keyframe: the switch */
    send_frame(&l[1], now, false);
    ASSERT_EQ(out->n, sw + 3 + 1);
    ASSERT(out->kf[sw + 3]);
    ev = last_change();
    ASSERT(ev && ev->spatial == 0 && ev->why == RTC_SFU_LAYER_WHY_PREFERRED);
    for (int f = 0; f < 5; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    ASSERT_EQ(out->n, sw + 4 + 5);                                /* one packet a frame: layer 0 */
    check_continuous(0);
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 0);
    rtc_sfu_consumer_stats st;
    rtc_sfu_consumer_get_stats(c, &st);
    ASSERT_EQ(st.layer_switches, 1);
    /* A NACK for the last packet sent from layer 2 is answered from layer 2's cache. */
    int last2 = sw + 2;
    uint8_t fill2 = out->fill[last2];
    uint16_t seqs[1] = { out->seq[last2] };
    uint8_t b[64];
    int n = rtc_rtcp_write_nack(b, sizeof b, 0x5, 0xC0, seqs, 1);
    ASSERT_OK(rtc_sfu_router_handle_consumer_rtcp(R, c, b, (size_t)n, now));
    int k = out->n;
    drain();
    ASSERT_EQ(out->n, k + 1);
    ASSERT(out->rtx[k]);
    ASSERT_EQ(out->seq[k], seqs[0]);
    ASSERT_EQ(out->fill[k], fill2);
    /* Up again to 2: immediate choice (a preference), switch at layer 2's keyframe. */
    rtc_sfu_consumer_set_preferred_layers(c, -1, -1, now);
    drain();
    now += RTC_MS(33);
    send_frame(&l[0], now, false); send_frame(&l[1], now, false); send_frame(&l[2], now, true);
    send_all(l, now);
    check_continuous(0);
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 2);
    teardown();
}

static void test_temporal_drop_gapless_and_nack(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    layer l = { .ssrc = 0x200, .seq = 65530, .ts = 1, .pic = 32760, .tl0 = 254, .gop = 1000, .npk = 2, .plen = 200,
                .width = 640, .t3 = true };
    l.p = add_producer(l.ssrc, 0, now);
    rtc_sfu_consumer *c = add_consumer(l.p, now);
    for (int f = 0; f < 8; f++) { now += RTC_MS(33); send_frame(&l, now, false); tick(now); }
    ASSERT_EQ(out->n, 16);                                        /* every temporal layer */
    const rtc_sfu_event *ev = last_change();
    ASSERT(ev && ev->spatial == 0 && ev->temporal == 2);
    rtc_sfu_consumer_set_preferred_layers(c, -1, 0, now);
    for (int f = 0; f < 12; f++) { now += RTC_MS(33); send_frame(&l, now, false); tick(now); }
    /* Only TID 0 (one frame in four) went out, with no gap in seq or picture id. */
    ASSERT_EQ(out->n, 16 + 3 * 2);
    for (int i = 16; i < out->n; i++) ASSERT_EQ(out->tid[i], 0);
    check_continuous(0);
    ev = last_change();
    ASSERT(ev && ev->temporal == 0 && ev->why == RTC_SFU_LAYER_WHY_PREFERRED);
    rtc_sfu_consumer_stats st;
    rtc_sfu_consumer_get_stats(c, &st);
    ASSERT_EQ(st.dropped_temporal, 9 * 2);
    /* NACK every packet sent after the drop began: each maps to the packet sent there. */
    uint16_t seqs[6];
    uint8_t fills[6];
    for (int i = 0; i < 6; i++) { seqs[i] = out->seq[16 + i]; fills[i] = out->fill[16 + i]; }
    uint8_t b[64];
    int n = rtc_rtcp_write_nack(b, sizeof b, 0x5, 0xC0, seqs, 6);
    int k = out->n;
    ASSERT_OK(rtc_sfu_router_handle_consumer_rtcp(R, c, b, (size_t)n, now));
    drain();
    ASSERT_EQ(out->n, k + 6);
    for (int i = 0; i < 6; i++) { ASSERT(out->rtx[k + i]); ASSERT_EQ(out->seq[k + i], seqs[i]); ASSERT_EQ(out->fill[k + i], fills[i]); }
    /* Up to TID 2: not before a layer-sync frame, then all of them. */
    rtc_sfu_consumer_set_preferred_layers(c, -1, 2, now);
    int base = out->n;
    while (l.frame % 4 != 0) { now += RTC_MS(33); send_frame(&l, now, false); tick(now); }
    for (int f = 0; f < 8; f++) { now += RTC_MS(33); send_frame(&l, now, false); tick(now); }
    ASSERT_GE(out->n, base + 16);
    check_continuous(0);
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.temporal, 2);
    teardown();
}

/* Layer bitrates here: ~ 300, 1600, 5400 bytes a frame at 30 fps (+ headers). */
static void test_bandwidth_down_at_once_up_after_hysteresis(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    layer l[3];
    make_layers(l, now);
    rtc_sfu_consumer *c = add_consumer(l[0].p, now);
    rtc_sfu_producer *set[3] = { l[0].p, l[1].p, l[2].p };
    ASSERT_OK(rtc_sfu_consumer_set_layers(c, set, 3, now));
    /* Keyframes every 10 frames; a second of traffic to measure the layers. */
    for (int i = 0; i < 3; i++) l[i].gop = 10;
    for (int f = 0; f < 40; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_layer_stats ls[3];
    for (int i = 0; i < 3; i++) rtc_sfu_producer_get_layer_stats(l[i].p, now, &ls[i]);
    ASSERT(ls[0].active && ls[1].active && ls[2].active);
    ASSERT(ls[0].bitrate < ls[1].bitrate && ls[1].bitrate < ls[2].bitrate);
    ASSERT(ls[1].frame_rate > 20 && ls[1].frame_rate < 40);
    ASSERT_EQ(ls[2].width, 1280);
    ASSERT_EQ(ls[0].width, 320);
    ASSERT_EQ(ls[0].height, 240);
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 2);
    /* An estimate between layer 1 and 2: down at once (at layer 1's next keyframe). */
    uint64_t mid_bw = (ls[1].bitrate + ls[2].bitrate) / 2;
    rtc_sfu_consumer_set_bandwidth(c, mid_bw, now);
    drain();
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.target_spatial, 1);
    for (int f = 0; f < 12; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 1);
    const rtc_sfu_event *ev = last_change();
    ASSERT(ev && ev->spatial == 1 && ev->why == RTC_SFU_LAYER_WHY_BANDWIDTH);
    /* The estimate recovers: the top layer fits, but only after it held for 2 s. */
    rtc_sfu_consumer_set_bandwidth(c, ls[2].bitrate * 4, now);
    rtc_time up_at = now;
    drain();
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.target_spatial, 1);
    while (now < up_at + RTC_MS(1900)) {
        now += RTC_MS(33); send_all(l, now); tick(now);
        rtc_sfu_consumer_get_layers(c, &ly);
        ASSERT_EQ(ly.target_spatial, 1);
    }
    /* A dip inside the hold restarts it. */
    rtc_sfu_consumer_set_bandwidth(c, mid_bw, now);
    rtc_sfu_consumer_set_bandwidth(c, ls[2].bitrate * 4, now);
    up_at = now;
    while (now < up_at + RTC_MS(1900)) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.target_spatial, 1);
    for (int f = 0; f < 30; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.target_spatial, 2);
    ASSERT_EQ(ly.spatial, 2);
    ev = last_change();
    ASSERT(ev && ev->spatial == 2);
    /* Nothing fits: the lowest layer. */
    rtc_sfu_consumer_set_bandwidth(c, 1000, now);
    for (int f = 0; f < 12; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 0);
    check_continuous(0);
    teardown();
}

static void test_layer_stops_and_starts(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    layer l[3];
    make_layers(l, now);
    for (int i = 0; i < 3; i++) l[i].gop = 10;
    rtc_sfu_consumer *c = add_consumer(l[0].p, now);
    rtc_sfu_producer *set[3] = { l[0].p, l[1].p, l[2].p };
    ASSERT_OK(rtc_sfu_consumer_set_layers(c, set, 3, now));
    for (int f = 0; f < 20; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    int started = 0;
    for (int i = 0; i < out->nev; i++) started += out->ev[i].type == RTC_SFU_EV_LAYER_STARTED;
    ASSERT_EQ(started, 3);
    out->nev = 0;
    /* The publisher stops its top layer (as a browser does when its uplink is short). */
    for (int f = 0; f < 60; f++) {
        now += RTC_MS(33);
        send_frame(&l[0], now, false); send_frame(&l[1], now, false);
        tick(now);
    }
    bool stopped = false;
    for (int i = 0; i < out->nev; i++)
        stopped |= out->ev[i].type == RTC_SFU_EV_LAYER_STOPPED && out->ev[i].producer == l[2].p;
    ASSERT(stopped);
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 1);
    const rtc_sfu_event *ev = last_change();
    ASSERT(ev && ev->spatial == 1 && ev->why == RTC_SFU_LAYER_WHY_INACTIVE);
    rtc_sfu_layer_stats ls;
    rtc_sfu_producer_get_layer_stats(l[2].p, now, &ls);
    ASSERT(!ls.active);
    ASSERT_EQ(ls.bitrate, 0);
    /* Back: taken again (no estimate holds it down) at its keyframe. */
    for (int f = 0; f < 12; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 2);
    check_continuous(0);
    /* The producer of the current layer goes away: the consumer moves to another. */
    rtc_sfu_router_remove_producer(R, l[2].p);
    for (int f = 0; f < 12; f++) { now += RTC_MS(33); send_frame(&l[0], now, false); send_frame(&l[1], now, false); tick(now); }
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 1);
    teardown();
}

static void test_bad_arguments(void)
{
    setup();
    layer l[3];
    make_layers(l, 0);
    rtc_sfu_consumer *c = add_consumer(l[0].p, 0);
    rtc_sfu_producer *dup[2] = { l[0].p, l[0].p }, *null[2] = { l[0].p, NULL };
    rtc_sfu_producer *four[4] = { l[0].p, l[1].p, l[2].p, l[0].p };
    ASSERT_EQ(rtc_sfu_consumer_set_layers(c, dup, 2, 0), RTC_EINVAL);
    ASSERT_EQ(rtc_sfu_consumer_set_layers(c, null, 2, 0), RTC_EINVAL);
    ASSERT_EQ(rtc_sfu_consumer_set_layers(c, four, 4, 0), RTC_EINVAL);
    rtc_sfu_producer_config pc = { .codec = RTC_CODEC_H264, .pt = 102, .ssrc = 9 };
    rtc_sfu_producer *h;
    ASSERT_OK(rtc_sfu_router_add_producer(R, &pc, &h, 0));
    rtc_sfu_producer *mixed[2] = { l[0].p, h };
    ASSERT_EQ(rtc_sfu_consumer_set_layers(c, mixed, 2, 0), RTC_ENOTSUP);
    /* Still a plain consumer of its source; then layered; then plain again on set_source. */
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.nlayers, 0);
    rtc_sfu_producer *set[3] = { l[0].p, l[1].p, l[2].p };
    ASSERT_OK(rtc_sfu_consumer_set_layers(c, set, 3, 0));
    ASSERT_OK(rtc_sfu_consumer_set_source(c, l[1].p, 0));
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.nlayers, 0);
    rtc_sfu_consumer_set_preferred_layers(c, 99, -7, 0);          /* out of range: the highest */
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.preferred_spatial, -1);
    ASSERT_EQ(ly.preferred_temporal, -1);
    /* Removing layered consumers and their producers in either order leaks nothing. */
    ASSERT_OK(rtc_sfu_consumer_set_layers(c, set, 3, 0));
    rtc_sfu_router_remove_producer(R, l[1].p);
    rtc_sfu_router_remove_consumer(R, c);
    teardown();
}

/* VP9 simulcast (each layer its own stream, non-flexible mode with three temporal
 * layers): the same switch at the target's keyframe with picture id and TL0PICIDX
 * continuous, and temporal layers dropped with the U (switching-up) bit to go back up. */
static void test_vp9_switch_and_temporal_drop(void)
{
    codec = RTC_CODEC_VP9;
    setup();
    rtc_time now = RTC_SEC(1);
    layer l[3];
    make_layers(l, now);
    for (int i = 0; i < 3; i++) { l[i].gop = 12; l[i].t3 = true; }
    rtc_sfu_consumer *c = add_consumer(l[0].p, now);
    rtc_sfu_producer *set[3] = { l[0].p, l[1].p, l[2].p };
    ASSERT_OK(rtc_sfu_consumer_set_layers(c, set, 3, now));
    for (int f = 0; f < 30; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 2);
    ASSERT_EQ(ly.temporal, 2);
    rtc_sfu_consumer_stats st;
    rtc_sfu_consumer_get_stats(c, &st);
    uint64_t switches = st.layer_switches;             /* the layers came up one by one at the start */
    rtc_sfu_consumer_set_preferred_layers(c, 0, 0, now);
    for (int f = 0; f < 30; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 0);
    ASSERT_EQ(ly.temporal, 0);
    int n0 = out->n;
    for (int f = 0; f < 8; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    ASSERT_EQ(out->n, n0 + 2);                                    /* layer 0, TID 0: one frame in four */
    rtc_sfu_consumer_set_preferred_layers(c, 2, 2, now);
    for (int f = 0; f < 30; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 2);
    ASSERT_EQ(ly.temporal, 2);
    check_continuous(0);
    rtc_sfu_consumer_get_stats(c, &st);
    ASSERT(st.dropped_temporal > 0);
    ASSERT_EQ(st.layer_switches, switches + 2);
    teardown();
    codec = RTC_CODEC_VP8;
}

/* H264 simulcast: no descriptor, so only seq, timestamp and SSRC to keep; the switch
 * waits for an IDR of the target and the bytes pass unchanged. */
static void test_h264_switch(void)
{
    codec = RTC_CODEC_H264;
    setup();
    rtc_time now = RTC_SEC(1);
    layer l[3];
    make_layers(l, now);
    for (int i = 0; i < 3; i++) { l[i].gop = 15; l[i].frame = 3; }
    rtc_sfu_consumer *c = add_consumer(l[0].p, now);
    rtc_sfu_producer *set[3] = { l[0].p, l[1].p, l[2].p };
    ASSERT_OK(rtc_sfu_consumer_set_layers(c, set, 3, now));
    for (int f = 0; f < 20; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 2);
    ASSERT(out->begin[0]);                                        /* started at an IDR */
    int before = out->n;
    rtc_sfu_consumer_set_preferred_layers(c, 0, -1, now);
    for (int f = 0; f < 20; f++) { now += RTC_MS(33); send_all(l, now); tick(now); }
    rtc_sfu_consumer_get_layers(c, &ly);
    ASSERT_EQ(ly.spatial, 0);
    int sw = -1;
    for (int i = before; i < out->n && sw < 0; i++)
        if (out->plen[i] == 300) sw = i;                          /* layer 0's first packet */
    ASSERT(sw > before);
    ASSERT(out->kf[sw]);                                          /* an IDR */
    for (int i = before; i < sw; i++) ASSERT_EQ(out->plen[i], 1100);   /* layer 2 until then */
    for (int i = sw; i < out->n; i++) ASSERT_EQ(out->plen[i], 300);
    for (int i = 1; i < out->n; i++) {
        ASSERT_EQ(out->ssrc[i], 0xC0);
        ASSERT_EQ((uint16_t)(out->seq[i - 1] + 1), out->seq[i]);
        ASSERT((int32_t)(out->ts[i] - out->ts[i - 1]) >= 0);
    }
    teardown();
    codec = RTC_CODEC_VP8;
}

int main(void)
{
    RUN(test_simulcast_switch_at_keyframe);
    RUN(test_temporal_drop_gapless_and_nack);
    RUN(test_bandwidth_down_at_once_up_after_hysteresis);
    RUN(test_layer_stops_and_starts);
    RUN(test_bad_arguments);
    RUN(test_vp9_switch_and_temporal_drop);
    RUN(test_h264_switch);
    return 0;
}
