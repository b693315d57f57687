/* The SFU forwarding core on a virtual clock: fan-out, rewrite continuity across
 * pause/resume and a source change, NACK from the cache and upstream, keyframe
 * request aggregation, sender reports, the cache's bounds, hostile subscriber input. */
#include "rtc_test.h"
#include "codec/codec.h"
#include "core/rtc_errors.h"
#include "core/rtc_rng.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "sfu/sfu_router.h"

#define MAXREC 20000
typedef struct rec {                    /* what one leg received, in order */
    int n;
    uint16_t seq[MAXREC]; uint32_t ts[MAXREC]; int32_t pic[MAXREC]; int16_t tl0[MAXREC];
    bool kf[MAXREC], begin[MAXREC], rtx[MAXREC];
    uint64_t hash;
    int rtcp, plis, firs, nacks, srs, rrs;
    uint16_t nacked[256]; int nnacked;
    rtc_rtcp_sr sr[64]; int nsr;
    uint8_t last_level; int level_id_seen;
} rec;

static rtc_pool *pool;
static rtc_sfu_router *R;
static rec *recs[64];                  /* by user id */

static rtc_buf *vp8_packet(uint32_t ssrc, uint16_t seq, uint32_t ts, int pic, int tl0, bool begin, bool kf,
                           bool marker, uint8_t fill, int level_id, int level, size_t plen)
{
    rtc_rtp_header h = { .pt = 96, .seq = seq, .ts = ts, .ssrc = ssrc, .marker = marker };
    uint8_t lv[1], mid[1] = { '0' };
    if (level_id) { rtc_ext_put_audio_level(lv, true, (uint8_t)level); rtc_rtp_add_ext(&h, (uint8_t)level_id, lv, 1); }
    rtc_rtp_add_ext(&h, 9, mid, 1);                 /* the publisher's mid: must not leak through */
    uint8_t pay[1200];
    size_t o = 0;
    if (plen) {
        pay[o++] = (uint8_t)(0x80 | (begin ? 0x10 : 0));
        pay[o++] = 0xC0;
        pay[o++] = (uint8_t)(0x80 | (pic >> 8)); pay[o++] = (uint8_t)pic;
        pay[o++] = (uint8_t)tl0;
        pay[o++] = kf ? 0x10 : 0x11;
        while (o < plen) pay[o++] = fill;
    }
    rtc_buf *b = rtc_buf_alloc(pool, 1500);
    int n = rtc_rtp_write(b->data, b->cap, &h, pay, o, 0);
    ASSERT(n > 0);
    b->len = (size_t)n;
    return b;
}

static void record(const rtc_sfu_transmit *t)
{
    rec *r = recs[(intptr_t)t->user];
    uint8_t d[1600];
    int n = rtc_sfu_transmit_flatten(t, d, sizeof d);
    ASSERT(n > 0);
    for (int i = 0; i < n; i++) r->hash = (r->hash ^ d[i]) * 1099511628211ull;
    if (t->kind == RTC_SFU_TX_RTCP) {
        rtc_rtcp_view v[8];
        int k = rtc_rtcp_parse_compound(d, (size_t)n, v, 8);
        ASSERT(k > 0);
        r->rtcp++;
        for (int i = 0; i < k; i++) {
            if (v[i].pt == RTC_RTCP_PSFB && v[i].count == RTC_RTCP_FMT_PLI) r->plis++;
            if (v[i].pt == RTC_RTCP_PSFB && v[i].count == RTC_RTCP_FMT_FIR) r->firs++;
            if (v[i].pt == RTC_RTCP_RR) r->rrs++;
            if (v[i].pt == RTC_RTCP_RTPFB && v[i].count == RTC_RTCP_FMT_NACK) {
                r->nacks++;
                r->nnacked += rtc_rtcp_read_nack(&v[i], r->nacked + r->nnacked, (size_t)(256 - r->nnacked));
            }
            if (v[i].pt == RTC_RTCP_SR && r->nsr < 64) { ASSERT_OK(rtc_rtcp_read_sr(&v[i], &r->sr[r->nsr])); r->nsr++; r->srs++; }
        }
        return;
    }
    rtc_rtp_packet p;
    ASSERT_OK(rtc_rtp_parse(&p, d, (size_t)n));
    ASSERT(r->n < MAXREC);
    int i = r->n++;
    r->rtx[i] = t->rtx;
    const uint8_t *pl = p.payload; size_t plen = p.payload_len;
    if (t->rtx) { ASSERT(plen >= 2); r->seq[i] = rtc_rd16(pl); pl += 2; plen -= 2; }
    else r->seq[i] = p.h.seq;
    r->ts[i] = p.h.ts;
    ASSERT(rtc_rtp_find_ext(&p.h, 9) == NULL || r->level_id_seen == 9);
    const rtc_rtp_ext *lv = rtc_rtp_find_ext(&p.h, 4);
    if (lv) { bool v; ASSERT_OK(rtc_ext_read_audio_level(lv, &v, &r->last_level)); r->level_id_seen = 4; }
    rtc_depack_info info;
    size_t hl;
    ASSERT_OK(rtc_vp8_depack_parse(pl, plen, &info, &hl));
    r->pic[i] = info.picture_id; r->tl0[i] = info.tl0picidx; r->kf[i] = info.keyframe; r->begin[i] = info.begin;
}

static void drain(void)
{
    rtc_sfu_transmit t;
    while (rtc_sfu_router_poll_transmit(R, &t)) { record(&t); rtc_sfu_transmit_release(&t); }
    rtc_sfu_event ev;
    while (rtc_sfu_router_poll_event(R, &ev)) {}
}

static void tick(rtc_time now)
{
    if (rtc_sfu_router_poll_timeout(R) <= now) rtc_sfu_router_handle_timeout(R, now);
    drain();
}

/* A publisher sending VP8 frames of 3 packets; a keyframe every `gop` frames. */
typedef struct pub { rtc_sfu_producer *p; uint32_t ssrc; uint16_t seq; uint32_t ts; int pic, tl0, frame, gop; } pub;

static void send_frame(pub *pb, rtc_time now, uint64_t drop_mask)
{
    bool kf = pb->frame % pb->gop == 0;
    for (int k = 0; k < 3; k++) {
        rtc_buf *b = vp8_packet(pb->ssrc, pb->seq, pb->ts, pb->pic, pb->tl0, k == 0, kf && k == 0, k == 2,
                                (uint8_t)(pb->seq), 2, 30, 200);
        if (!(drop_mask & (1u << k))) ASSERT_OK(rtc_sfu_router_handle_rtp(R, pb->p, b, now));
        rtc_buf_unref(b);
        pb->seq++;
    }
    drain();
    pb->frame++; pb->pic = (pb->pic + 1) & 0x7fff; pb->tl0 = (pb->tl0 + 1) & 0xff; pb->ts += 3000;
}

static rtc_sfu_producer *add_producer(uint32_t ssrc, int user, rtc_time now)
{
    rtc_sfu_producer_config pc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = ssrc, .local_ssrc = 1,
                                   .user = (void *)(intptr_t)user, .rr_interval = -1 };
    pc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 2;
    rtc_sfu_producer *p;
    ASSERT_OK(rtc_sfu_router_add_producer(R, &pc, &p, now));
    return p;
}

static rtc_sfu_consumer *add_consumer(rtc_sfu_producer *src, int user, uint16_t seq0, bool rtx, rtc_time now)
{
    rtc_sfu_consumer_config cc = { .codec = RTC_CODEC_VP8, .pt = (uint8_t)(100 + user % 20), .ssrc = 1000u + (uint32_t)user,
                                   .initial_seq = seq0, .user = (void *)(intptr_t)user, .mid = "v", .cname = "sfu" };
    if (rtx) { cc.rtx_pt = 120; cc.rtx_ssrc = 2000u + (uint32_t)user; cc.initial_rtx_seq = 7; }
    cc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 4;
    cc.ext_id[RTC_SFU_EXT_MID] = 3;
    rtc_sfu_consumer *c;
    ASSERT_OK(rtc_sfu_router_add_consumer(R, &cc, src, &c, now));
    return c;
}

static void setup(void)
{
    pool = rtc_pool_new(256);
    ASSERT_OK(rtc_sfu_router_new(&R, &(rtc_sfu_router_config){ .pool = pool, .unix_offset_us = 1700000000000000LL }, 0));
    for (int i = 0; i < 64; i++) { recs[i] = calloc(1, sizeof(rec)); }
}

static void teardown(void)
{
    rtc_sfu_router_free(R);
    R = NULL;
    rtc_pool_stats ps;
    rtc_pool_get_stats(pool, &ps);
    ASSERT_EQ(ps.in_use, 0);                    /* every ref the core took came back */
    rtc_pool_free(pool);
    for (int i = 0; i < 64; i++) free(recs[i]);
}

/* Output seqs +1 each, timestamps never go back, picture ids +1 per new frame. */
static void check_continuity(const rec *r)
{
    for (int i = 1; i < r->n; i++) {
        if (r->rtx[i]) continue;
        ASSERT_EQ((uint16_t)(r->seq[i - 1] + 1), r->seq[i]);
        ASSERT((int32_t)(r->ts[i] - r->ts[i - 1]) >= 0);
        if (r->ts[i] != r->ts[i - 1]) {
            ASSERT_EQ((r->pic[i - 1] + 1) & 0x7fff, r->pic[i]);
            ASSERT_EQ((uint8_t)(r->tl0[i - 1] + 1), r->tl0[i]);
        } else {
            ASSERT_EQ(r->pic[i - 1], r->pic[i]);
        }
    }
}

static void test_one_publisher_three_subscribers(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    pub pb = { .p = add_producer(0xAAAA, 0, now), .ssrc = 0xAAAA, .seq = 65500, .ts = 4294900000u, .pic = 32760, .gop = 30 };
    for (int i = 1; i <= 3; i++) add_consumer(pb.p, i, (uint16_t)(i * 1000), false, now);
    drain();
    ASSERT_EQ(recs[0]->plis, 1);                /* three starting consumers, one PLI upstream */
    for (int f = 0; f < 60; f++) { now += RTC_MS(33); send_frame(&pb, now, 0); tick(now); }
    for (int i = 1; i <= 3; i++) {
        rec *r = recs[i];
        ASSERT_EQ(r->n, 180);
        ASSERT_EQ(r->seq[0], i * 1000);
        ASSERT(r->kf[0]);
        ASSERT_EQ(r->last_level, 30);           /* audio level under the subscriber's id 4 */
        check_continuity(r);
        ASSERT_GE(r->srs, 1);
    }
    ASSERT_EQ(recs[1]->hash == recs[2]->hash, 0);   /* each leg its own SSRC and PT */
    teardown();
}

static void test_pause_resume_and_source_change(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    pub a = { .p = add_producer(0xA, 0, now), .ssrc = 0xA, .seq = 100, .ts = 1000, .pic = 5, .tl0 = 9, .gop = 10 };
    pub b = { .p = add_producer(0xB, 5, now), .ssrc = 0xB, .seq = 60000, .ts = 4000000000u, .pic = 30000, .tl0 = 200, .gop = 10 };
    rtc_sfu_consumer *c = add_consumer(a.p, 1, 65530, false, now);
    drain();
    for (int f = 0; f < 25; f++) { now += RTC_MS(33); send_frame(&a, now, 0); send_frame(&b, now, 0); }
    rtc_sfu_consumer_pause(c, now);
    for (int f = 0; f < 7; f++) { now += RTC_MS(33); send_frame(&a, now, 0); send_frame(&b, now, 0); }
    int before = recs[1]->n;
    rtc_sfu_consumer_resume(c, now);
    drain();
    ASSERT_GE(recs[0]->plis, 2);                 /* resume asked for a keyframe */
    for (int f = 0; f < 15; f++) { now += RTC_MS(33); send_frame(&a, now, 0); send_frame(&b, now, 0); }
    ASSERT(recs[1]->n > before);
    ASSERT(recs[1]->kf[before]);                 /* resumed at a keyframe */
    ASSERT_OK(rtc_sfu_consumer_set_source(c, b.p, now));
    int at_switch = recs[1]->n;
    for (int f = 0; f < 25; f++) { now += RTC_MS(33); send_frame(&a, now, 0); send_frame(&b, now, 0); }
    ASSERT(recs[1]->n > at_switch);
    ASSERT(recs[1]->kf[at_switch]);
    check_continuity(recs[1]);
    rtc_sfu_consumer_stats st;
    rtc_sfu_consumer_get_stats(c, &st);
    ASSERT(st.dropped_paused > 0 && st.dropped_waiting_keyframe > 0);
    teardown();
}

static void nack(rtc_sfu_consumer *c, uint32_t media, uint16_t seq, rtc_time now)
{
    uint8_t b[64];
    int n = rtc_rtcp_write_nack(b, sizeof b, 77, media, &seq, 1);
    ASSERT_OK(rtc_sfu_router_handle_consumer_rtcp(R, c, b, (size_t)n, now));
    drain();
}

static void test_nack_from_cache_and_upstream(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    pub pb = { .p = add_producer(0xA, 0, now), .ssrc = 0xA, .seq = 65530, .ts = 0, .gop = 100 };
    rtc_sfu_consumer *c = add_consumer(pb.p, 1, 10, true, now);
    rtc_sfu_consumer *plain = add_consumer(pb.p, 2, 500, false, now);
    drain();
    for (int f = 0; f < 5; f++) { now += RTC_MS(33); send_frame(&pb, now, f == 3 ? 2u : 0u); }
    int n = recs[1]->n;
    ASSERT_EQ(n, 14);
    int nacks0 = recs[0]->nacks;
    now += RTC_MS(5);
    nack(c, 1001, 12, now);                      /* sent, still cached: answered as RTX */
    ASSERT_EQ(recs[1]->n, n + 1);
    ASSERT(recs[1]->rtx[n]);
    ASSERT_EQ(recs[1]->seq[n], 12);              /* OSN */
    ASSERT_EQ(recs[0]->nacks, nacks0);           /* the publisher saw nothing */
    nack(plain, 1002, 501, now);                 /* without RTX: resent as it was */
    ASSERT(!recs[2]->rtx[recs[2]->n - 1]);
    ASSERT_EQ(recs[2]->seq[recs[2]->n - 1], 501);
    /* Frame 3 lost its middle packet upstream (publisher seq 65530 + 10 = 4). The
     * subscriber sees a gap at out seq 10 + 10 and NACKs it: it goes upstream. */
    nack(c, 1001, 20, now);
    tick(now);
    ASSERT_EQ(recs[0]->nacks, nacks0 + 1);
    ASSERT_EQ(recs[0]->nacked[recs[0]->nnacked - 1], 4);
    nack(c, 1001, 20, now + RTC_MS(10));         /* the same loss again within the interval: once */
    tick(now + RTC_MS(10));
    ASSERT_EQ(recs[0]->nacks, nacks0 + 1);
    /* The repair arrives and the late packet reaches both subscribers at its place. */
    rtc_buf *b = vp8_packet(0xA, 4, 9000, 3, 3, false, false, false, 4, 2, 30, 200);
    now += RTC_MS(20);
    ASSERT_OK(rtc_sfu_router_handle_rtp(R, pb.p, b, now));
    rtc_buf_unref(b);
    drain();
    ASSERT_EQ(recs[1]->seq[recs[1]->n - 1], 20);
    ASSERT_EQ(recs[2]->seq[recs[2]->n - 1], 510);
    rtc_sfu_consumer_stats st;
    rtc_sfu_consumer_get_stats(c, &st);
    ASSERT_EQ(st.nack_answered, 1);
    ASSERT_EQ(st.nack_forwarded, 2);
    teardown();
}

static void test_pli_aggregation(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    rtc_sfu_producer_config pc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 0xA, .local_ssrc = 1, .rr_interval = -1,
                                   .keyframe_interval = RTC_MS(300) };
    rtc_sfu_producer *p;
    ASSERT_OK(rtc_sfu_router_add_producer(R, &pc, &p, now));
    rtc_sfu_consumer *c[50];
    for (int i = 0; i < 50; i++) c[i] = add_consumer(p, 1 + (i % 60), (uint16_t)i, false, now);
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 3);
    rtc_time last_pli = -RTC_SEC(10);
    drain();
    int plis = recs[0]->plis;
    ASSERT_EQ(plis, 1);                          /* 50 starting consumers, one PLI */
    last_pli = now;
    for (int step = 0; step < 5000; step++) {                /* 5 s in 1 ms steps */
        now += RTC_MS(1);
        if (rtc_rng_u32(&rng) % 4 == 0) {
            int i = (int)(rtc_rng_u32(&rng) % 50);
            uint8_t b[32];
            int n = rtc_rtcp_write_pli(b, sizeof b, 5, 1000u + 1 + (uint32_t)(i % 60));
            ASSERT_OK(rtc_sfu_router_handle_consumer_rtcp(R, c[i], b, (size_t)n, now));
        }
        drain();
        tick(now);
        if (recs[0]->plis != plis) {
            ASSERT_EQ(recs[0]->plis, plis + 1);
            ASSERT_GE(now - last_pli, RTC_MS(300));
            last_pli = now;
            plis = recs[0]->plis;
        }
    }
    ASSERT_GE(plis, 10);                         /* still asking: no keyframe ever came */
    ASSERT_LE(plis, 1 + 5000 / 300);
    teardown();
}

static void test_sender_report_mapping(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    pub a = { .p = add_producer(0xA, 0, now), .ssrc = 0xA, .seq = 1, .ts = 90000, .gop = 10 };
    pub b = { .p = add_producer(0xB, 5, now), .ssrc = 0xB, .seq = 1, .ts = 777, .gop = 10 };
    rtc_sfu_consumer *c = add_consumer(a.p, 1, 1, false, now);
    drain();
    uint64_t ntp0 = rtc_ntp_from_unix_us(1600000000000000LL);
    for (int f = 0; f < 200; f++) {
        now += RTC_MS(33);
        if (f % 30 == 0) {                        /* publisher SRs: wall clock ntp0 at ts 90000 */
            uint8_t d[64];
            rtc_rtcp_sr sr = { .ssrc = 0xA, .ntp = ntp0 + ((uint64_t)(a.ts - 90000) << 32) / 90000, .rtp_ts = a.ts };
            int n = rtc_rtcp_write_sr(d, sizeof d, &sr);
            ASSERT_OK(rtc_sfu_router_handle_producer_rtcp(R, a.p, d, (size_t)n, now));
            sr.ssrc = 0xB; sr.rtp_ts = b.ts; sr.ntp = ntp0 + ((uint64_t)(b.ts - 777) << 32) / 90000;
            n = rtc_rtcp_write_sr(d, sizeof d, &sr);
            ASSERT_OK(rtc_sfu_router_handle_producer_rtcp(R, b.p, d, (size_t)n, now));
        }
        if (f == 100) ASSERT_OK(rtc_sfu_consumer_set_source(c, b.p, now));
        send_frame(&a, now, 0); send_frame(&b, now, 0);
        tick(now);
    }
    rec *r = recs[1];
    ASSERT_GE(r->nsr, 5);
    /* Find the ts offset of each epoch from a packet: out ts - in ts is constant per source. */
    for (int i = 0; i < r->nsr; i++) {
        ASSERT_EQ(r->sr[i].ssrc, 1001);
        if (i == 0) continue;
        /* Any two SRs: the RTP clock advances as the NTP clock does (90 kHz), within 1 tick. */
        double dn = (double)(int64_t)(r->sr[i].ntp - r->sr[i - 1].ntp) / 4294967296.0;
        double dr = (double)(int32_t)(r->sr[i].rtp_ts - r->sr[i - 1].rtp_ts) / 90000.0;
        bool across_switch = r->sr[i - 1].rtp_ts - r->sr[i].rtp_ts < 0x80000000u && r->sr[i].rtp_ts != r->sr[i - 1].rtp_ts && dr < 0;
        if (!across_switch && dn < 5) ASSERT(dr - dn < 0.001 && dn - dr < 0.001);
    }
    /* The last SR maps to the publisher's timeline: the newest out packet's ts, taken
     * back through its epoch offset, is where the publisher's mapping puts that NTP. */
    const rtc_rtcp_sr *sr = &r->sr[r->nsr - 1];
    uint32_t off = r->ts[r->n - 1] - (b.ts - 3000);  /* last packet sent from b */
    double pub_secs = (double)(sr->rtp_ts - off - 777) / 90000.0;
    double ntp_secs = (double)(sr->ntp - ntp0) / 4294967296.0;
    ASSERT(pub_secs - ntp_secs < 0.0001 && ntp_secs - pub_secs < 0.0001);
    teardown();
}

/* Sender reports come from the router's deadline heap: 40 subscribers joining at
 * different times, each with its own SR interval, get exactly one SR per interval;
 * the ones removed halfway get none after. A deadline lost or fired late changes a count. */
static void test_sender_report_deadlines(void)
{
    enum { M = 40 };
    setup();
    rtc_time t0 = RTC_SEC(1), now = t0, stop = t0 + RTC_SEC(5), end = t0 + RTC_SEC(10);
    pub a = { .p = add_producer(0xA, 0, now), .ssrc = 0xA, .seq = 1, .ts = 90000, .gop = 1 };
    rtc_sfu_consumer *c[M + 1] = { 0 };
    rtc_time join[M + 1], ival[M + 1];
    for (; now <= end; now += RTC_MS(1)) {
        for (int u = 1; u <= M; u++) {
            if (!c[u] && now == t0 + RTC_MS(37) * u) {
                rtc_sfu_consumer_config cc = { .codec = RTC_CODEC_VP8, .pt = 100, .ssrc = 1000u + (uint32_t)u,
                                               .user = (void *)(intptr_t)u, .mid = "v", .cname = "sfu",
                                               .sr_interval = RTC_MS(200) + RTC_MS(13) * u };
                ASSERT_OK(rtc_sfu_router_add_consumer(R, &cc, a.p, &c[u], now));
                join[u] = now; ival[u] = cc.sr_interval;
            }
            if (c[u] && u % 3 == 0 && now == stop) { rtc_sfu_router_remove_consumer(R, c[u]); c[u] = NULL; }
        }
        if ((now - t0) % RTC_MS(33) == 0) send_frame(&a, now, 0);
        tick(now);
    }
    for (int u = 1; u <= M; u++) {
        rtc_time until = u % 3 == 0 ? stop - 1 : end;  /* removed before the tick at `stop` */
        ASSERT_EQ(recs[u]->srs, (until - join[u]) / ival[u]);
        for (int i = 0; i < recs[u]->nsr; i++) ASSERT_EQ(recs[u]->sr[i].ssrc, 1000u + (uint32_t)u);
    }
    teardown();
}

static void test_cache_bounded_under_loss_and_reordering(void)
{
    pool = rtc_pool_new(64);
    rtc_sfu_cache *k;
    rtc_sfu_cache_config cfg = { .slots = 256, .max_bytes = 100 * 2200, .max_age = RTC_MS(500) };
    ASSERT_OK(rtc_sfu_cache_new(&k, &cfg));
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 9);
    rtc_time now = 0;
    uint16_t next = 65000;
    uint16_t held[8]; int nheld = 0;
    for (int i = 0; i < 30000; i++) {
        now += RTC_MS(2);
        uint16_t s = next++;
        if (rtc_rng_u32(&rng) % 10 == 0) continue;                 /* 10% loss */
        if (rtc_rng_u32(&rng) % 5 == 0 && nheld < 8) { held[nheld++] = s; continue; }  /* reorder */
        for (int pass = 0; pass < 2; pass++) {
            rtc_sfu_packet pk = { .buf = rtc_buf_alloc(pool, 1200), .seq = s };
            pk.buf->len = 1000;
            int e = rtc_sfu_cache_put(k, &pk, now);
            ASSERT(e == 0 || e == RTC_EIGNORED);
            rtc_buf_unref(pk.buf);
            const rtc_sfu_packet *g = rtc_sfu_cache_get(k, s, now);
            if (e == 0) { ASSERT(g && g->seq == s); }
            if (nheld && rtc_rng_u32(&rng) % 3 == 0) s = held[--nheld]; else break;
        }
        rtc_sfu_cache_stats st;
        rtc_sfu_cache_get_stats(k, &st);
        ASSERT_LE(st.bytes, cfg.max_bytes);
        ASSERT_LE(st.packets, 256);
    }
    rtc_sfu_cache_stats st;
    rtc_sfu_cache_get_stats(k, &st);
    ASSERT(st.evicted_bytes > 0 && st.stored > 20000);
    ASSERT_EQ(rtc_sfu_cache_get(k, (uint16_t)(next - 1000), now), NULL);
    rtc_sfu_cache_expire(k, now + RTC_SEC(1));
    rtc_sfu_cache_get_stats(k, &st);
    ASSERT_EQ(st.packets, 0);
    ASSERT_EQ(st.bytes, 0);
    /* A duplicate is refused; a renumbered sender restarts the cache after 16 packets. */
    rtc_sfu_packet pk = { .buf = rtc_buf_alloc(pool, 100), .seq = next };
    ASSERT_OK(rtc_sfu_cache_put(k, &pk, now));
    ASSERT_EQ(rtc_sfu_cache_put(k, &pk, now), RTC_EIGNORED);
    int64_t hi = rtc_sfu_cache_highest(k);
    for (int i = 0; i < 16; i++) { pk.seq = (uint16_t)(next + 30000 + i); rtc_sfu_cache_put(k, &pk, now); }
    ASSERT(rtc_sfu_cache_highest(k) > hi);
    ASSERT(rtc_sfu_cache_get(k, (uint16_t)(next + 30015), now) != NULL);
    rtc_buf_unref(pk.buf);
    rtc_sfu_cache_free(k);
    rtc_pool_stats ps;
    rtc_pool_get_stats(pool, &ps);
    ASSERT_EQ(ps.in_use, 0);
    rtc_pool_free(pool);
}

/* Two runs of the same stream; in the second, subscriber 2 sends garbage. Subscriber
 * 1 receives exactly the same bytes in both. */
static uint64_t run_with_hostile(bool hostile)
{
    setup();
    rtc_time now = RTC_SEC(1);
    pub pb = { .p = add_producer(0xA, 0, now), .ssrc = 0xA, .seq = 40, .ts = 0, .gop = 20 };
    add_consumer(pb.p, 1, 100, true, now);
    rtc_sfu_consumer *bad = add_consumer(pb.p, 2, 100, true, now);
    drain();
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 11);
    for (int f = 0; f < 100; f++) {
        now += RTC_MS(33);
        send_frame(&pb, now, 0);
        if (hostile) {
            uint8_t g[300];
            for (int j = 0; j < 20; j++) {
                size_t n = rtc_rng_u32(&rng) % sizeof g;
                rtc_rng_bytes(&rng, g, n);
                if (j % 4 == 0 && n >= 12) { g[0] = 0x81; g[1] = 205; rtc_wr16(g + 2, (uint16_t)((n / 4) - 1)); rtc_wr32(g + 8, 1002); }
                if (j % 4 == 1 && n >= 12) { g[0] = 0x81; g[1] = 206; rtc_wr16(g + 2, 2); rtc_wr32(g + 8, 1001); n = 12; }   /* PLI naming the other consumer */
                if (j % 4 == 2) { rtc_buf *b = vp8_packet(0xA, pb.seq, 0, 0, 0, true, true, true, 0, 2, 0, 100);
                                  memcpy(g, b->data, b->len < sizeof g ? b->len : sizeof g); n = b->len; rtc_buf_unref(b); }
                rtc_sfu_router_handle_consumer_rtcp(R, bad, g, n, now);
            }
            uint16_t seqs[100];
            for (int j = 0; j < 100; j++) seqs[j] = (uint16_t)rtc_rng_u32(&rng);
            uint8_t d[600];
            for (int j = 0; j < 100; j += 17) {
                int n = rtc_rtcp_write_nack(d, sizeof d, 5, 1002, &seqs[j], 1);
                rtc_sfu_router_handle_consumer_rtcp(R, bad, d, (size_t)n, now);
            }
            rtc_rtcp_rr rr = { .ssrc = 5, .rb_count = 1, .rb = { { .ssrc = 0xA, .fraction_lost = 255, .lsr = 1 } } };
            int n = rtc_rtcp_write_rr(d, sizeof d, &rr);
            rtc_sfu_router_handle_consumer_rtcp(R, bad, d, (size_t)n, now);
        }
        drain();
        tick(now);
    }
    uint64_t h = recs[1]->hash;
    ASSERT_EQ(recs[1]->n, 300);
    ASSERT_EQ(recs[0]->rrs, 0);                  /* no subscriber RR ever goes upstream */
    teardown();
    return h;
}

static void test_hostile_subscriber_changes_nothing_for_others(void)
{
    ASSERT_EQ(run_with_hostile(false), run_with_hostile(true));
}

/* Opus: the audio level is read and exposed; a muted consumer gets silence at the
 * same sequence numbers and timestamps while an unmuted one gets the real payload. */
static void test_audio_level_and_mute(void)
{
    setup();
    rtc_sfu_producer_config pc = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 0xA0, .local_ssrc = 1, .rr_interval = -1 };
    pc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 2;
    rtc_sfu_producer *p;
    ASSERT_OK(rtc_sfu_router_add_producer(R, &pc, &p, 0));
    rtc_sfu_consumer *c[2];
    for (int i = 0; i < 2; i++) {
        rtc_sfu_consumer_config cc = { .codec = RTC_CODEC_OPUS, .pt = 109, .ssrc = 1000u + (uint32_t)i, .initial_seq = 7,
                                       .user = (void *)(intptr_t)(i + 1) };
        cc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 5;
        ASSERT_OK(rtc_sfu_router_add_consumer(R, &cc, p, &c[i], 0));
    }
    bool voice; uint8_t level;
    ASSERT_EQ(rtc_sfu_producer_audio_level(p, &voice, &level, NULL), RTC_ENOTFOUND);
    rtc_time now = 0;
    uint8_t got[2][40][8]; uint16_t seqs[2][40]; uint32_t tss[2][40]; uint8_t lv[2][40]; int n[2] = { 0, 0 };
    for (int k = 0; k < 30; k++) {
        now += RTC_MS(20);
        if (k == 10) rtc_sfu_consumer_set_muted(c[1], true, now);
        if (k == 20) rtc_sfu_consumer_set_muted(c[1], false, now);
        rtc_rtp_header h = { .pt = 111, .seq = (uint16_t)(65530 + k), .ts = (uint32_t)k * 960, .ssrc = 0xA0 };
        uint8_t l[1], pay[5] = { 0x78, 1, 2, 3, (uint8_t)k };
        rtc_ext_put_audio_level(l, true, 20);
        rtc_rtp_add_ext(&h, 2, l, 1);
        rtc_buf *b = rtc_buf_alloc(pool, 200);
        b->len = (size_t)rtc_rtp_write(b->data, b->cap, &h, pay, sizeof pay, 0);
        ASSERT_OK(rtc_sfu_router_handle_rtp(R, p, b, now));
        rtc_buf_unref(b);
        rtc_sfu_transmit t;
        while (rtc_sfu_router_poll_transmit(R, &t)) {
            if (t.kind == RTC_SFU_TX_RTP) {
                int i = (int)(intptr_t)t.user - 1;
                uint8_t d[200];
                int len = rtc_sfu_transmit_flatten(&t, d, sizeof d);
                rtc_rtp_packet rp;
                ASSERT_OK(rtc_rtp_parse(&rp, d, (size_t)len));
                ASSERT(rp.payload_len <= 8);
                memset(got[i][n[i]], 0, 8);
                memcpy(got[i][n[i]], rp.payload, rp.payload_len);
                seqs[i][n[i]] = rp.h.seq; tss[i][n[i]] = rp.h.ts;
                bool v; ASSERT_OK(rtc_ext_read_audio_level(rtc_rtp_find_ext(&rp.h, 5), &v, &lv[i][n[i]]));
                n[i]++;
            }
            rtc_sfu_transmit_release(&t);
        }
    }
    ASSERT_OK(rtc_sfu_producer_audio_level(p, &voice, &level, NULL));
    ASSERT(voice); ASSERT_EQ(level, 20);
    ASSERT_EQ(n[0], 30); ASSERT_EQ(n[1], 30);
    for (int k = 0; k < 30; k++) {
        ASSERT_EQ(seqs[1][k], (uint16_t)(7 + k));
        ASSERT_EQ(seqs[0][k], seqs[1][k]);
        ASSERT_EQ(tss[0][k], tss[1][k]);
        ASSERT_EQ(got[0][k][4], k);
        bool muted = k >= 10 && k < 20;
        if (muted) { ASSERT_EQ(got[1][k][0], 0xf8); ASSERT_EQ(lv[1][k], 127); }
        else { ASSERT_MEMEQ(got[1][k], got[0][k], 8); ASSERT_EQ(lv[1][k], 20); }
    }
    teardown();
}

/* A padding-only packet in order is dropped without a hole; one reordered around it
 * still lands at its place. A switch while a fan-out is pending skips nobody. */
static void test_padding_drop_gapless(void)
{
    setup();
    rtc_time now = RTC_SEC(1);
    pub pb = { .p = add_producer(0xA, 0, now), .ssrc = 0xA, .seq = 10, .ts = 0, .gop = 100 };
    pub other = { .p = add_producer(0xB, 5, now), .ssrc = 0xB, .seq = 10, .ts = 0, .gop = 100 };
    rtc_sfu_consumer *c1 = add_consumer(pb.p, 1, 0, false, now);
    add_consumer(pb.p, 2, 0, false, now);
    drain();
    send_frame(&pb, now, 0);                                      /* seqs 10-12 */
    rtc_buf *pad = vp8_packet(0xA, 13, 0, 0, 0, false, false, false, 0, 0, 0, 0);
    rtc_buf *late = vp8_packet(0xA, 15, 3000, 1, 1, false, false, true, 0, 2, 30, 200);
    rtc_buf *next = vp8_packet(0xA, 14, 3000, 1, 1, true, false, false, 0, 2, 30, 200);
    ASSERT_OK(rtc_sfu_router_handle_rtp(R, pb.p, pad, now));
    ASSERT_OK(rtc_sfu_router_handle_rtp(R, pb.p, late, now));
    ASSERT_OK(rtc_sfu_router_handle_rtp(R, pb.p, next, now));
    rtc_buf_unref(pad); rtc_buf_unref(late); rtc_buf_unref(next);
    drain();
    ASSERT_EQ(recs[1]->n, 5);
    ASSERT_EQ(recs[1]->seq[2], 2);                                /* publisher 12 */
    ASSERT_EQ(recs[1]->seq[3], 4);                                /* publisher 15: 13 left no hole */
    ASSERT_EQ(recs[1]->seq[4], 3);                                /* publisher 14, reordered */
    /* Consumer 1 gets its copy of a packet, then leaves for another source while the
     * fan-out is still pending for consumer 2. */
    pb.seq = 16; pb.ts = 6000; pb.pic = 2; pb.tl0 = 2;
    rtc_buf *b = vp8_packet(0xA, 16, 6000, 2, 2, true, false, true, 0, 2, 30, 200);
    ASSERT_OK(rtc_sfu_router_handle_rtp(R, pb.p, b, now));
    rtc_buf_unref(b);
    rtc_sfu_transmit t;
    ASSERT(rtc_sfu_router_poll_transmit(R, &t));
    ASSERT(t.consumer == c1);
    record(&t);
    rtc_sfu_transmit_release(&t);
    ASSERT_OK(rtc_sfu_consumer_set_source(c1, other.p, now));
    drain();
    ASSERT_EQ(recs[1]->n, 6);
    ASSERT_EQ(recs[2]->n, 6);
    teardown();
}

static void test_codec_mismatch(void)
{
    setup();
    rtc_sfu_producer *p = add_producer(0xA, 0, 0);
    rtc_sfu_consumer_config cc = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 5 };
    rtc_sfu_consumer *c;
    ASSERT_EQ(rtc_sfu_router_add_consumer(R, &cc, p, &c, 0), RTC_ENOTSUP);
    teardown();
}

int main(void)
{
    RUN(test_one_publisher_three_subscribers);
    RUN(test_pause_resume_and_source_change);
    RUN(test_nack_from_cache_and_upstream);
    RUN(test_pli_aggregation);
    RUN(test_sender_report_deadlines);
    RUN(test_sender_report_mapping);
    RUN(test_cache_bounded_under_loss_and_reordering);
    RUN(test_hostile_subscriber_changes_nothing_for_others);
    RUN(test_audio_level_and_mute);
    RUN(test_padding_drop_gapless);
    RUN(test_codec_mismatch);
    return 0;
}
