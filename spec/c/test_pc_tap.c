/* The forwarding tap and inject path (pc/pc_tap.h) with the SFU core between real peer
 * connections: publisher A sends VP8 to the SFU's connection S1, whose tapped packets go
 * through an rtc_sfu_router to a consumer injected on the SFU's connection S2, which
 * sends them to subscriber B over a leg with 5% loss. B must get every frame, byte for
 * byte and in order; the repairs come from the SFU's cache (A sees no NACK); S1 raises no
 * frame events (no jitter buffer on the forwarded stream); B's PLI reaches A.
 * Run twice: with RTX on B's leg, and without it, where the SFU answers B's NACKs with
 * plain resends under the first SRTP index; in both, every (SSRC, index) S2 sends more
 * than once is the same ciphertext (srtp_nonce_check.h).
 * Then the video orientation (urn:3gpp:video-orientation): with the connections set to
 * forward it, each leg negotiates its own id, and a publisher's orientation leaves for
 * the subscriber under the subscriber's id, in the clear header of its SRTP packet. */
#include "test_pc_harness.h"
#include "srtp_nonce_check.h"
#include "sdp_strip_rtx.h"
#include "pc/pc_tap.h"
#include "sfu/sfu_router.h"
#include "io/rtc_sfu_host.h"
#include "core/rtc_bytes.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"

static uint8_t expect_buf[16000];

/* Frame i: its index in bytes 1-4 so the receiver can check it whatever the timestamp
 * offset the SFU chose, the rest a pattern from i. */
static size_t make_frame(uint8_t *out, int i, bool key)
{
    size_t len = key ? 7000 : 900 + (size_t)(i * 37 % 2000);
    for (size_t k = 0; k < len; k++) out[k] = (uint8_t)(k * 31 + (size_t)i * 7);
    out[0] = key ? 0x10 : 0x11;      /* VP8 frame tag: bit 0 clear on keyframes */
    if (key) { out[3] = 0x9d; out[4] = 0x01; out[5] = 0x2a; }
    out[6] = (uint8_t)(i >> 8); out[7] = (uint8_t)i;
    return len;
}

static int b_frames, b_bad, b_first = -1, b_last = -1, s1_frames;
static uint32_t b_first_ts;

static void b_on_frame(peer *p, const rtc_pc_event *ev)
{
    (void)p;
    if (ev->buf->len < 8) { b_bad++; return; }
    int i = ev->buf->data[6] << 8 | ev->buf->data[7];
    bool key = (ev->buf->data[0] & 1) == 0;
    size_t len = make_frame(expect_buf, i, key);
    if (ev->buf->len != len || memcmp(ev->buf->data, expect_buf, len) != 0) b_bad++;
    if (b_first < 0) { b_first = i; b_first_ts = ev->ts; ASSERT(key); }
    else if (i != b_last + 1) b_bad++;                              /* missing or out of order */
    if (ev->ts - b_first_ts != (uint32_t)(i - b_first) * 3000) b_bad++;   /* timeline kept */
    b_last = i;
    b_frames++;
}

static void s1_on_frame(peer *p, const rtc_pc_event *ev) { (void)p; (void)ev; s1_frames++; }

typedef struct leg { peer *p; vnet *n; } leg;
static leg legs[4];
static rtc_sfu_router *router;
static rtc_sfu_producer *prod;
static rtc_sfu_consumer *cons;
static peer *s1_peer, *s2_peer;
static int s1_tr, s2_tr;
static nonce_check g_check;

static void watch(peer *p, const uint8_t *data, size_t len)
{
    if (p == s2_peer) nonce_check_packet(&g_check, data, len);
}

/* The SFU's half of the drain: tapped packets into the router, its output injected. */
static void pump_sfu(void)
{
    rtc_pc_tapped tp;
    while (rtc_pc_poll_tapped(s1_peer->pc, &tp)) {
        if (tp.kind == RTC_PC_TAP_RTP) { ASSERT_EQ(tp.tr, s1_tr); rtc_sfu_router_handle_rtp(router, prod, tp.buf, now); }
        else rtc_sfu_router_handle_producer_rtcp(router, prod, tp.buf->data, tp.buf->len, now);
        rtc_buf_unref(tp.buf);
    }
    while (rtc_pc_poll_tapped(s2_peer->pc, &tp)) {
        ASSERT_EQ(tp.kind, RTC_PC_TAP_RTCP);
        rtc_sfu_router_handle_consumer_rtcp(router, cons, tp.buf->data, tp.buf->len, now);
        rtc_buf_unref(tp.buf);
    }
    rtc_sfu_transmit t;
    static uint8_t out[2048];
    while (rtc_sfu_router_poll_transmit(router, &t)) {
        int n = rtc_sfu_transmit_flatten(&t, out, sizeof out);
        ASSERT(n > 0);
        if (t.consumer && t.kind == RTC_SFU_TX_RTP) ASSERT_OK(rtc_pc_inject_rtp(s2_peer->pc, s2_tr, out, (size_t)n, now));
        else if (t.consumer) ASSERT_OK(rtc_pc_inject_rtcp(s2_peer->pc, out, (size_t)n, now));
        else ASSERT_OK(rtc_pc_inject_rtcp(s1_peer->pc, out, (size_t)n, now));
        rtc_sfu_transmit_release(&t);
    }
    rtc_sfu_event ev;
    while (rtc_sfu_router_poll_event(router, &ev)) {}
}

static void run4(rtc_time until)
{
    long spins = 0;
    while (now < until) {
        for (int i = 0; i < 4; i++) drain(legs[i].p, legs[i].n);
        if (router) { pump_sfu(); drain(s1_peer, legs[1].n); drain(s2_peer, legs[2].n); }
        rtc_time t = until;
        for (int i = 0; i < 4; i++) t = rtc_time_min(t, rtc_pc_poll_timeout(legs[i].p->pc));
        t = rtc_time_min(t, rtc_time_min(vnet_next_delivery(legs[0].n), vnet_next_delivery(legs[2].n)));
        if (router) t = rtc_time_min(t, rtc_sfu_router_poll_timeout(router));
        if (t > now) now = t;
        else ASSERT(++spins < 100000);
        for (int k = 0; k < 2; k++) {
            vnet *n = legs[k * 2].n;
            vnet_packet pkt;
            while (vnet_poll(n, now, &pkt)) {
                for (int i = 0; i < 4; i++)
                    if (legs[i].n == n && rtc_addr_eq(&pkt.to, &legs[i].p->addr))
                        rtc_pc_handle_datagram(legs[i].p->pc, &pkt.to, &pkt.from, pkt.data, pkt.len, now);
            }
        }
        for (int i = 0; i < 4; i++)
            if (rtc_pc_poll_timeout(legs[i].p->pc) <= now) rtc_pc_handle_timeout(legs[i].p->pc, now);
        if (router && rtc_sfu_router_poll_timeout(router) <= now) rtc_sfu_router_handle_timeout(router, now);
    }
    for (int i = 0; i < 4; i++) drain(legs[i].p, legs[i].n);
}

static void forward_through_sfu(bool rtx)
{
    memset(&g_check, 0, sizeof g_check);
    b_frames = 0, b_bad = 0, b_first = -1, b_last = -1, s1_frames = 0;
    peer a, s1, s2, b;
    vnet *up = vnet_new(rtx ? 3 : 5), *down = vnet_new(rtx ? 4 : 6);
    vnet_set_link(up, (vnet_link){ .delay = RTC_MS(10) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&s1, "10.0.0.2:2000", cert_b);
    peer_init(&s2, "10.0.1.2:2000", cert_b);
    peer_init(&b, "10.0.1.1:3000", cert_a);
    s1.on_frame = s1_on_frame;
    b.on_frame = b_on_frame;
    legs[0] = (leg){ &a, up }; legs[1] = (leg){ &s1, up };
    legs[2] = (leg){ &s2, down }; legs[3] = (leg){ &b, down };
    s1_peer = &s1; s2_peer = &s2;

    int atr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    s2_tr = rtc_pc_add_transceiver(s2.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    ASSERT(atr >= 0 && s2_tr >= 0);
    connect_peers(&a, &s1, up);
    harness_munge_offer = rtx ? NULL : strip_rtx;
    harness_on_send = watch;
    connect_peers(&s2, &b, down);
    harness_munge_offer = NULL;
    rtc_pc_stats pst;
    rtc_pc_get_stats(s2.pc, &pst);
    ASSERT_STREQ(pst.srtp_cipher, "SRTP_AEAD_AES_128_GCM");
    ASSERT_EQ(s1.tracks, 1);
    s1_tr = s1.track_tr[0];

    /* Not negotiated to send and not marked: nothing can be injected. */
    static const uint8_t junk[12] = { 0x80, 96 };
    ASSERT_EQ(rtc_pc_inject_rtp(s2.pc, s2_tr, junk, sizeof junk, now), RTC_ESTATE);

    rtc_pc_forward_params in, out;
    ASSERT_OK(rtc_pc_forward_params_get(s1.pc, s1_tr, &in));
    ASSERT_OK(rtc_pc_forward_params_get(s2.pc, s2_tr, &out));
    ASSERT(in.recvs && !in.sends && out.sends && in.remote_ssrc && out.fb_nack);
    ASSERT_EQ(out.rtx_pt != 0, rtx);
    ASSERT_OK(rtc_sfu_router_new(&router, &(rtc_sfu_router_config){ .unix_offset_us = 1700000000LL * 1000000 }, now));
    rtc_sfu_producer_config pcfg = { .codec = (rtc_codec_id)in.codec, .pt = in.pt, .rtx_pt = in.rtx_pt,
                                     .ssrc = in.remote_ssrc, .rtx_ssrc = in.remote_rtx_ssrc,
                                     .clock_rate = in.clock_rate, .local_ssrc = in.rtcp_ssrc,
                                     .rr_interval = -1, .mid = in.mid };
    ASSERT_OK(rtc_sfu_router_add_producer(router, &pcfg, &prod, now));
    rtc_sfu_consumer_config ccfg = { .codec = (rtc_codec_id)out.codec, .pt = out.pt, .ssrc = out.ssrc,
                                     .rtx_pt = out.rtx_pt, .rtx_ssrc = out.rtx_ssrc, .initial_seq = 1000,
                                     .initial_rtx_seq = 5000, .mid = out.mid, .cname = out.cname };
    ccfg.ext_id[RTC_SFU_EXT_MID] = out.mid_id;
    ccfg.ext_id[RTC_SFU_EXT_ABS_SEND_TIME] = out.abs_send_time_id;
    ccfg.ext_id[RTC_SFU_EXT_TWCC] = out.twcc_id;
    ASSERT_OK(rtc_sfu_router_add_consumer(router, &ccfg, prod, &cons, now));
    ASSERT_OK(rtc_pc_set_tap(s1.pc, s1_tr, true));
    ASSERT_OK(rtc_pc_set_inject(s2.pc, s2_tr, true));
    /* A forged SSRC is refused: a forwarder sends only as the transceiver's streams. */
    ASSERT_EQ(rtc_pc_inject_rtp(s2.pc, s2_tr, junk, sizeof junk, now), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_inject_rtcp(s2.pc, junk, 3, now), RTC_EINVAL);

    vnet_set_link(down, (vnet_link){ .delay = RTC_MS(15), .jitter = RTC_MS(2), .loss = 0.05 });
    static uint8_t frame[16000];
    int sent = 0, seen_requests = 0;
    int requests_before = -1;
    for (int ms = 0; ms < 8000; ms += 10) {
        if (ms % 30 == 0 && ms < 8000 - 60) {
            bool key = sent % 90 == 0 || a.keyframe_requests > seen_requests;
            seen_requests = a.keyframe_requests;
            size_t len = make_frame(frame, sent, key);
            ASSERT(rtc_pc_send_frame(a.pc, atr, frame, len, (uint32_t)sent * 3000, key, now) > 0);
            sent++;
        }
        if (ms == 5000) {            /* B asks for a keyframe: the request must reach A */
            requests_before = a.keyframe_requests;
            ASSERT_OK(rtc_pc_request_keyframe(b.pc, b.track_tr[0], now));
        }
        run4(now + RTC_MS(10));
    }
    vnet_set_link(down, (vnet_link){ .delay = RTC_MS(15) });
    run4(now + RTC_SEC(1));

    rtc_transceiver_info ia, ib;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, atr, &ia));
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
    rtc_sfu_consumer_stats cs;
    rtc_sfu_consumer_get_stats(cons, &cs);
    rtc_pc_tap_stats ts1, ts2;
    rtc_pc_tap_get_stats(s1.pc, &ts1);
    rtc_pc_tap_get_stats(s2.pc, &ts2);
    fprintf(stderr, "B: %d frames (first %d, last %d) of %d sent, bad %d; B nacks %llu rtx %llu; "
            "SFU answered %llu forwarded %llu; A nacks %llu, keyframe requests %d; tapped %llu injected %llu\n",
            b_frames, b_first, b_last, sent, b_bad, (unsigned long long)ib.nack_count,
            (unsigned long long)ib.rtx_received, (unsigned long long)cs.nack_answered,
            (unsigned long long)cs.nack_forwarded, (unsigned long long)ia.nacks_received, a.keyframe_requests,
            (unsigned long long)ts1.tapped_rtp, (unsigned long long)ts2.injected_rtp);
    fprintf(stderr, "%s: S2 sent %llu RTP datagrams, %llu again identical, %llu different\n", rtx ? "rtx" : "no rtx",
            (unsigned long long)g_check.packets, (unsigned long long)g_check.repeats,
            (unsigned long long)g_check.mismatches);
    ASSERT_EQ(g_check.mismatches, 0);
    ASSERT_EQ(ts2.inject_reuse_refused, 0);         /* every repair the SFU made could go out */
    if (rtx) ASSERT_EQ(ts2.injected_resends, 0);
    else {
        /* plain resends went out under their first index, as the first bytes */
        ASSERT(g_check.repeats > 0);
        ASSERT_EQ(ts2.injected_resends, cs.nack_answered);
    }
    ASSERT_EQ(b_bad, 0);
    ASSERT(b_first >= 0 && b_first < 40);          /* started at the first keyframe after subscribing */
    ASSERT_EQ(b_last, sent - 1);
    ASSERT_EQ(s1_frames, 0);                       /* the tapped stream skipped the jitter buffer */
    ASSERT(ib.nack_count > 0 && ib.rtx_received > 0);
    ASSERT(cs.nack_answered > 0);
    ASSERT_EQ(ia.nacks_received, 0);               /* the publisher's leg lost nothing and saw no NACK */
    ASSERT(a.keyframe_requests > requests_before);
    ASSERT(ts1.tapped_rtp >= ia.packets_sent - 2);
    ASSERT(ts2.injected_rtp > ts1.tapped_rtp);     /* the media and its repairs */
    ASSERT(ts2.inject_refused >= 2);
    ASSERT(cs.srs_sent > 0 && cs.rrs_received > 0);   /* RTCP terminated on B's leg */

    rtc_sfu_router_free(router);
    router = NULL;
    for (int i = 0; i < 4; i++) rtc_pc_close(legs[i].p->pc, now);
    for (int i = 0; i < 4; i++) { drain(legs[i].p, legs[i].n); rtc_pc_free(legs[i].p->pc); }
    vnet_free(up);
    vnet_free(down);
    nonce_check_free(&g_check);
    harness_on_send = NULL;
}

static void test_forward_through_sfu(void) { forward_through_sfu(true); }
static void test_plain_resends_through_sfu_keep_their_bytes(void) { forward_through_sfu(false); }

/* The publisher's offer names the orientation 7 (its answer then too), the
 * subscriber's leg keeps our 13: the two legs differ. */
static void cvo_id_7(char *sdp)
{
    char *e = strstr(sdp, "a=extmap:13 urn:3gpp:video-orientation");
    ASSERT(e != NULL);
    memcpy(e, "a=extmap:7 ", 11);
    memmove(e + 11, e + 12, strlen(e + 12) + 1);
}

static uint8_t s2_cvo_seen = 0xff;
static int s2_rtp_sent;
static void s2_on_send(peer *p, const uint8_t *data, size_t len)
{
    if (p != s2_peer || len < 12 || (data[0] & 0xc0) != 0x80 || ((data[1] & 0x7f) >= 64 && (data[1] & 0x7f) < 96)) return;
    rtc_rtp_packet pk;                   /* SRTP leaves the header (and its extensions) in the clear */
    if (rtc_rtp_parse(&pk, data, len) < 0) return;
    s2_rtp_sent++;
    const rtc_rtp_ext *e = rtc_rtp_find_ext(&pk.h, 13);
    if (e && e->len == 1) s2_cvo_seen = e->data[0];
}

static int b_cvo_frames;
static void b_count_frame(peer *p, const rtc_pc_event *ev) { (void)p; (void)ev; b_cvo_frames++; }

static void test_orientation_through_sfu(void)
{
    peer a, s1, s2, b;
    vnet *up = vnet_new(5), *down = vnet_new(6);
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&s1, "10.0.0.2:2000", cert_b);
    peer_init(&s2, "10.0.1.2:2000", cert_b);
    peer_init(&b, "10.0.1.1:3000", cert_a);
    b.on_frame = b_count_frame;
    s2_peer = &s2;
    /* Without the setting nobody offers or answers it (a receiver that cannot rotate). */
    ASSERT_OK(rtc_pc_set_video_orientation(a.pc, true));
    ASSERT_OK(rtc_pc_set_video_orientation(s1.pc, true));
    ASSERT_OK(rtc_pc_set_video_orientation(s2.pc, true));
    ASSERT_OK(rtc_pc_set_video_orientation(b.pc, true));
    ASSERT(rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now) >= 0);
    int tr2 = rtc_pc_add_transceiver(s2.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    harness_munge_offer = cvo_id_7;
    connect_peers(&a, &s1, up);
    harness_munge_offer = NULL;
    connect_peers(&s2, &b, down);
    ASSERT_EQ(s1.tracks, 1);
    rtc_pc_forward_params in, out;
    ASSERT_OK(rtc_pc_forward_params_get(s1.pc, s1.track_tr[0], &in));
    ASSERT_OK(rtc_pc_forward_params_get(s2.pc, tr2, &out));
    ASSERT_EQ(in.video_orientation_id, 7);
    ASSERT_EQ(out.video_orientation_id, 13);

    /* The configurations the loop's sfu host gives the router for these two legs. */
    rtc_pool *pool = rtc_pool_new(16);
    rtc_sfu_router *r;
    ASSERT_OK(rtc_sfu_router_new(&r, &(rtc_sfu_router_config){ .pool = pool, .unix_offset_us = 1 }, now));
    rtc_sfu_producer_config pcfg;
    rtc_sfu_consumer_config ccfg;
    rtc_sfu_host_producer_config(&in, NULL, &pcfg);
    rtc_sfu_host_consumer_config(&out, &rng, false, &ccfg);
    rtc_sfu_producer *p;
    rtc_sfu_consumer *c;
    ASSERT_OK(rtc_sfu_router_add_producer(r, &pcfg, &p, now));
    ASSERT_OK(rtc_sfu_router_add_consumer(r, &ccfg, p, &c, now));
    ASSERT_OK(rtc_pc_set_inject(s2.pc, tr2, true));

    /* A one-packet VP8 keyframe from the publisher, rotated 270 degrees (R1 R0 = 3). */
    rtc_buf *pk = rtc_buf_alloc(pool, 1500);
    uint8_t *d = pk->data;
    d[0] = 0x90;
    d[1] = 0x80 | in.pt;
    rtc_wr16(d + 2, 100);
    rtc_wr32(d + 4, 90000);
    rtc_wr32(d + 8, in.remote_ssrc);
    rtc_wr16(d + 12, RTC_RTP_EXT_PROFILE_ONE_BYTE);
    rtc_wr16(d + 14, 1);
    d[16] = 7 << 4 | 0; d[17] = 0x03; d[18] = 0; d[19] = 0;
    make_frame(expect_buf, 0, true);
    size_t len = 200;                    /* its first bytes: a frame tag and start code are all it takes */
    d[20] = 0x10;                        /* VP8 descriptor: S=1, partition 0 */
    memcpy(d + 21, expect_buf, len);
    pk->len = 21 + len;
    harness_on_send = s2_on_send;
    ASSERT_OK(rtc_sfu_router_handle_rtp(r, p, pk, now));
    rtc_buf_unref(pk);
    rtc_sfu_transmit t;
    static uint8_t o[2048];
    int forwarded = 0;
    while (rtc_sfu_router_poll_transmit(r, &t)) {
        if (t.kind == RTC_SFU_TX_RTP) {
            int n = rtc_sfu_transmit_flatten(&t, o, sizeof o);
            ASSERT(n > 0);
            rtc_rtp_packet fp;
            ASSERT_OK(rtc_rtp_parse(&fp, o, (size_t)n));
            const rtc_rtp_ext *e = rtc_rtp_find_ext(&fp.h, 13);
            ASSERT(e && e->len == 1 && e->data[0] == 0x03);
            ASSERT(rtc_rtp_find_ext(&fp.h, 7) == NULL || out.mid_id == 7 || out.abs_send_time_id == 7 ||
                   out.twcc_id == 7);
            ASSERT_OK(rtc_pc_inject_rtp(s2.pc, tr2, o, (size_t)n, now));
            forwarded++;
        }
        rtc_sfu_transmit_release(&t);
    }
    ASSERT_EQ(forwarded, 1);
    step(&s2, &b, down, now + RTC_MS(200));
    harness_on_send = NULL;
    ASSERT(s2_rtp_sent >= 1);
    ASSERT_EQ(s2_cvo_seen, 0x03);
    ASSERT_EQ(b_cvo_frames, 1);          /* and the subscriber takes the packet as a frame */

    rtc_sfu_router_free(r);
    rtc_pool_free(pool);
    rtc_pc_close(a.pc, now);
    rtc_pc_close(s1.pc, now);
    drain(&a, up); drain(&s1, up);
    rtc_pc_free(a.pc); rtc_pc_free(s1.pc);
    vnet_free(up);
    close_peers(&s2, &b, down);
}

int main(void)
{
    harness_begin(77);
    RUN(test_forward_through_sfu);
    RUN(test_plain_resends_through_sfu_keep_their_bytes);
    RUN(test_orientation_through_sfu);
    harness_end();
    return 0;
}
