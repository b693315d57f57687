/* rtp/rtp_receiver receive-path regressions, driven packet by packet on a virtual
 * clock: how long an audio hole holds back later packets (with and without NACK),
 * what feeds the interarrival jitter, a sender restart on the same SSRC, and how
 * repaired packets are counted. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_sender.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_receiver.h"
#include "rtp/rtx.h"

enum { PT = 111, RTX_PT = 112, SSRC = 0x1111, RTX_SSRC = 0x2222, LOCAL = 0x3333, VPT = 96 };

/* An Opus packet (20 ms at 48 kHz) or a one-packet VP8 frame for seq. */
static rtc_buf *packet(uint8_t pt, uint32_t ssrc, uint16_t seq, uint32_t ts, bool key)
{
    uint8_t pay[40];
    size_t plen = sizeof pay;
    for (size_t i = 0; i < plen; i++) pay[i] = (uint8_t)(seq + i);
    if (pt == VPT) { pay[0] = 0x10; pay[1] = (uint8_t)(key ? 0x00 : 0x01); }   /* VP8: S=1, frame tag P bit */
    rtc_rtp_header h = { .pt = pt, .seq = seq, .ts = ts, .ssrc = ssrc, .marker = pt == VPT };
    rtc_buf *b = rtc_buf_alloc(NULL, 1500);
    int n = rtc_rtp_write(b->data, b->cap, &h, pay, plen, 0);
    ASSERT(n > 0);
    b->len = (size_t)n;
    return b;
}

static int feed(rtc_rtp_receiver *r, rtc_buf *b, rtc_time now)
{
    int e = rtc_rtp_receiver_handle_rtp(r, b, now);
    rtc_buf_unref(b);
    return e;
}

/* Frames out now (after draining RTCP); their first seqs appended to seqs. */
static int drain(rtc_rtp_receiver *r, uint16_t *seqs, int *nseq)
{
    uint8_t out[1500];
    while (rtc_rtp_receiver_poll_rtcp(r, out, sizeof out) > 0) {}
    rtc_jb_frame f;
    int n = 0;
    while (rtc_rtp_receiver_poll_frame(r, &f)) {
        if (seqs) seqs[(*nseq)++] = f.first_seq;
        rtc_buf_unref(f.data);
        n++;
    }
    rtc_rtp_receiver_event ev;
    while (rtc_rtp_receiver_poll_event(r, &ev)) {}
    return n;
}

/* Runs timeouts up to `until`, returning the frames that came out. */
static int run_until(rtc_rtp_receiver *r, rtc_time *now, rtc_time until, uint16_t *seqs, int *nseq)
{
    int n = drain(r, seqs, nseq);
    for (int guard = 0;; guard++) {
        ASSERT(guard < 100000);                         /* a deadline that never clears */
        rtc_time t = rtc_rtp_receiver_poll_timeout(r);
        if (t > until) break;
        if (t > *now) *now = t;
        rtc_rtp_receiver_handle_timeout(r, *now);
        n += drain(r, seqs, nseq);
    }
    if (*now < until) *now = until;
    return n;
}

static rtc_rtp_receiver *audio_receiver(bool nack, rtc_time now)
{
    rtc_rtp_receiver_config c = { .codec = RTC_CODEC_OPUS, .pt = PT, .ssrc = SSRC, .local_ssrc = LOCAL,
                                  .nack = nack, .latency = RTC_MS(300) };
    if (nack) { c.rtx_pt = RTX_PT; c.rtx_ssrc = RTX_SSRC; c.nack_cfg.default_rtt = RTC_MS(50); }
    rtc_rtp_receiver *r;
    ASSERT_OK(rtc_rtp_receiver_new(&r, &c, now));
    return r;
}

/* Defect 1: without NACK a lost audio packet holds nothing back: every later packet
 * leaves as it arrives (the decoder conceals the hole). It used to wait 300 ms and
 * then release 15 frames in one burst. */
static void test_audio_hole_without_nack(void)
{
    rtc_time now = RTC_SEC(1);
    rtc_rtp_receiver *r = audio_receiver(false, now);
    int out = 0;
    for (uint16_t s = 0; s < 40; s++, now += RTC_MS(20)) {
        if (s == 20) continue;                          /* lost */
        ASSERT_OK(feed(r, packet(PT, SSRC, s, s * 960u, false), now));
        int n = run_until(r, &now, now, NULL, NULL);
        if (s > 10) ASSERT_EQ(n, 1);                    /* past the start delay: out at once */
        out += n;
    }
    run_until(r, &now, now + RTC_SEC(1), NULL, NULL);
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.jb.frames_out, 39);
    ASSERT_EQ(st.lost, 1);
    rtc_rtp_receiver_free(r);
}

/* Defect 1: with NACK the wait for a repair is bounded by the round trip (2 RTT +
 * 20 ms), not a fixed 300 ms; a repair inside the bound still lands in order. */
static void test_audio_hole_with_nack(void)
{
    rtc_time now = RTC_SEC(1);
    rtc_rtp_receiver *r = audio_receiver(true, now);
    rtc_rtp_receiver_handle_rtt(r, RTC_MS(30));
    uint16_t seqs[64];
    int ns = 0;
    /* seq 20 lost for good: frames after it leave within 2 * 30 + 20 ms of seq 21. */
    rtc_time t21 = 0, released = 0;
    for (uint16_t s = 0; s < 30; s++) {
        if (s != 20) {
            ASSERT_OK(feed(r, packet(PT, SSRC, s, s * 960u, false), now));
            if (s == 21) t21 = now;
        }
        int before = ns;
        run_until(r, &now, now + RTC_MS(20), seqs, &ns);
        for (int k = before; k < ns; k++) if (seqs[k] == 21 && !released) released = now;
    }
    ASSERT(released);
    ASSERT_LE(released - t21, RTC_MS(80) + RTC_MS(20));   /* one 20 ms step of slack */
    ASSERT_GE(released - t21, RTC_MS(60));               /* it did wait for a repair */
    /* seq 40 is repaired 40 ms later over RTX: it comes out, in order. */
    for (uint16_t s = 30; s < 50; s++) {
        if (s != 40) ASSERT_OK(feed(r, packet(PT, SSRC, s, s * 960u, false), now));
        if (s == 42) {
            rtc_buf *m = packet(PT, SSRC, 40, 40 * 960u, false), *x = rtc_buf_alloc(NULL, 1500);
            int n = rtc_rtx_wrap(m->data, m->len, RTX_PT, RTX_SSRC, 7, x->data, x->cap);
            ASSERT(n > 0);
            x->len = (size_t)n;
            rtc_buf_unref(m);
            ASSERT_OK(feed(r, x, now));
        }
        run_until(r, &now, now + RTC_MS(20), seqs, &ns);
    }
    run_until(r, &now, now + RTC_SEC(1), seqs, &ns);
    ASSERT_EQ(ns, 49);
    for (int k = 1; k < ns; k++) ASSERT(rtc_seq_newer(seqs[k], seqs[k - 1]));
    rtc_rtp_receiver_free(r);
}

static rtc_buf *rtx_of(uint16_t seq, uint16_t rtx_seq)
{
    rtc_buf *m = packet(PT, SSRC, seq, seq * 960u, false), *x = rtc_buf_alloc(NULL, 1500);
    int n = rtc_rtx_wrap(m->data, m->len, RTX_PT, RTX_SSRC, rtx_seq, x->data, x->cap);
    ASSERT(n > 0);
    x->len = (size_t)n;
    rtc_buf_unref(m);
    return x;
}

/* Defect 2: repairs do not feed the interarrival jitter. A sender on a perfect clock
 * over a constant-delay path, 25% of packets lost and repaired 40 ms later, half by
 * RTX and half by plain retransmission: the jitter stays 0 (it read about 53 ms). */
static void test_jitter_ignores_repairs(void)
{
    rtc_time now = RTC_SEC(1);
    rtc_rtp_receiver *r = audio_receiver(true, now);
    rtc_rtp_receiver_handle_rtt(r, RTC_MS(40));
    uint16_t rtx_seq = 100;
    for (uint16_t s = 0; s < 400; s++) {
        if (s % 4 != 1) ASSERT_OK(feed(r, packet(PT, SSRC, s, s * 960u, false), now));
        if (s >= 3 && s % 4 == 3) {                     /* the repair of s - 2, 40 ms after it was due */
            uint16_t lost = (uint16_t)(s - 2);
            if (s % 8 == 3) ASSERT_OK(feed(r, rtx_of(lost, rtx_seq++), now));
            else ASSERT_OK(feed(r, packet(PT, SSRC, lost, lost * 960u, false), now));
        }
        run_until(r, &now, now + RTC_MS(20), NULL, NULL);
    }
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.packets, 400);
    ASSERT_EQ(st.rtx_packets, 50);
    ASSERT_EQ(st.lost, 0);
    ASSERT_EQ(st.jitter, 0);
    /* Real network jitter still shows: +-5 ms alternating on in-order packets. */
    for (uint16_t s = 400; s < 500; s++) {
        rtc_time at = now + (s % 2 ? RTC_MS(5) : 0);
        ASSERT_OK(feed(r, packet(PT, SSRC, s, s * 960u, false), at));
        run_until(r, &now, now + RTC_MS(20), NULL, NULL);
    }
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_GE(st.jitter, 200);                          /* 240 units (5 ms) at steady state */
    ASSERT_LE(st.jitter, 240);
    rtc_rtp_receiver_free(r);
}

static rtc_rtp_receiver *video_receiver(rtc_time now)
{
    rtc_rtp_receiver_config c = { .codec = RTC_CODEC_VP8, .pt = VPT, .ssrc = SSRC, .local_ssrc = LOCAL,
                                  .nack = true, .pli = true, .wait_keyframe = true, .latency = RTC_MS(400) };
    rtc_rtp_receiver *r;
    ASSERT_OK(rtc_rtp_receiver_new(&r, &c, now));
    return r;
}

/* PLIs among the RTCP the receiver sends now; frames out counted in *frames. */
static int drain_count_pli(rtc_rtp_receiver *r, int *frames)
{
    uint8_t out[1500];
    int n, plis = 0;
    while ((n = rtc_rtp_receiver_poll_rtcp(r, out, sizeof out)) > 0) {
        rtc_rtcp_view v[8];
        int k = rtc_rtcp_parse_compound(out, (size_t)n, v, 8);
        for (int i = 0; i < k; i++) if (v[i].pt == RTC_RTCP_PSFB && v[i].count == RTC_RTCP_FMT_PLI) plis++;
    }
    rtc_jb_frame f;
    while (rtc_rtp_receiver_poll_frame(r, &f)) { (*frames)++; rtc_buf_unref(f.data); }
    rtc_rtp_receiver_event ev;
    while (rtc_rtp_receiver_poll_event(r, &ev)) {}
    return plis;
}

/* Defect 3: a sender that restarts its sequence (backward, inside and beyond the
 * duplicate window) on the same SSRC. Every packet after the jump used to be late:
 * 0 of 300 frames came out and no keyframe was asked for. */
static void restart_video(uint16_t before, uint16_t after)
{
    rtc_time now = RTC_SEC(1);
    rtc_rtp_receiver *r = video_receiver(now);
    int frames = 0, plis = 0;
    for (int i = 0; i < 100; i++, now += RTC_MS(33)) {
        ASSERT_OK(feed(r, packet(VPT, SSRC, (uint16_t)(before + i), (uint32_t)i * 3000u, i == 0), now));
        plis += drain_count_pli(r, &frames);
        rtc_rtp_receiver_handle_timeout(r, now);
        plis += drain_count_pli(r, &frames);
    }
    ASSERT_GE(frames, 99);
    ASSERT_EQ(plis, 0);
    /* The restarted sender: new sequence, timestamps from zero, first frames not key
     * (its keyframe was lost), then a keyframe in answer to the PLI. */
    int frames_before = frames, kf_at = -1;
    for (int i = 0; i < 300; i++, now += RTC_MS(33)) {
        bool key = kf_at < 0 && plis > 0;
        if (key) kf_at = i;
        ASSERT_OK(feed(r, packet(VPT, SSRC, (uint16_t)(after + i), (uint32_t)i * 3000u, key), now));
        plis += drain_count_pli(r, &frames);
        rtc_rtp_receiver_handle_timeout(r, now);
        plis += drain_count_pli(r, &frames);
    }
    ASSERT_GE(plis, 1);
    ASSERT(kf_at >= 0 && kf_at < 5);
    ASSERT_GE(frames - frames_before, 300 - kf_at - 1);
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.restarts, 1);
    ASSERT_LE(st.lost, 1);
    rtc_rtp_receiver_free(r);
}

static void test_restart_video(void)
{
    restart_video(30000, 29000);                        /* back 1000: inside the duplicate window */
    restart_video(30000, 5);                            /* far back */
    restart_video(65000, 40000);                        /* far back across the wrap */
}

/* Defect 3, audio: every frame after the restart comes out, including the first. */
static void test_restart_audio(void)
{
    rtc_time now = RTC_SEC(1);
    rtc_rtp_receiver *r = audio_receiver(false, now);
    uint16_t seqs[512];
    int ns = 0;
    for (uint16_t i = 0; i < 100; i++) {
        ASSERT_OK(feed(r, packet(PT, SSRC, (uint16_t)(20000 + i), i * 960u, false), now));
        run_until(r, &now, now + RTC_MS(20), seqs, &ns);
    }
    ASSERT_EQ(ns, 100);
    for (uint16_t i = 0; i < 300; i++) {
        ASSERT_OK(feed(r, packet(PT, SSRC, (uint16_t)(100 + i), 555u + i * 960u, false), now));
        run_until(r, &now, now + RTC_MS(20), seqs, &ns);
    }
    run_until(r, &now, now + RTC_SEC(1), seqs, &ns);
    ASSERT_EQ(ns, 400);
    ASSERT_EQ(seqs[100], 100);
    /* A single stray far away is not a restart: it is dropped, the stream goes on. */
    ASSERT_OK(feed(r, packet(PT, SSRC, 50000, 7u, false), now));
    for (uint16_t i = 300; i < 310; i++) {
        ASSERT_OK(feed(r, packet(PT, SSRC, (uint16_t)(100 + i), 555u + i * 960u, false), now));
        run_until(r, &now, now + RTC_MS(20), seqs, &ns);
    }
    ASSERT_EQ(ns, 410);
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.restarts, 1);
    ASSERT_EQ(st.lost, 0);
    rtc_rtp_receiver_free(r);
}

/* Retransmissions that come very late (more than RFC 3550's MAX_MISORDER behind, as on
 * a loaded host), two consecutive seqs in a row, are repairs and never a sender restart:
 * RTX names old seqs by design. Taken as a restart they started the stream over and
 * the two frames came out again behind newer ones (a recorder then saw timestamps go
 * backwards). */
static void test_late_rtx_is_no_restart(void)
{
    rtc_time now = RTC_SEC(1);
    rtc_rtp_receiver *r = audio_receiver(true, now);
    uint16_t seqs[512];
    int ns = 0;
    for (uint16_t i = 0; i < 300; i++) {
        if (i != 150 && i != 151) ASSERT_OK(feed(r, packet(PT, SSRC, i, i * 960u, false), now));
        run_until(r, &now, now + RTC_MS(20), seqs, &ns);
    }
    int before = ns;
    feed(r, rtx_of(150, 1), now);                  /* too late to play: ignored, or taken */
    feed(r, rtx_of(151, 2), now);
    for (uint16_t i = 300; i < 310; i++) {
        ASSERT_OK(feed(r, packet(PT, SSRC, i, i * 960u, false), now));
        run_until(r, &now, now + RTC_MS(20), seqs, &ns);
    }
    run_until(r, &now, now + RTC_SEC(1), seqs, &ns);
    ASSERT_EQ(ns, before + 10);
    for (int k = 1; k < ns; k++) ASSERT(rtc_seq_newer(seqs[k], seqs[k - 1]));
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.restarts, 0);
    rtc_rtp_receiver_free(r);
}

/* Defect 7: repairs and retransmissions agree. Without RTX the sender resends the
 * original packet on the media SSRC; each one that fills a NACKed hole is a
 * retransmission received (it used to read 0 beside 58 repaired). With RTX, probes
 * of packets already here count as retransmissions but repair nothing. */
static void test_repaired_vs_retransmitted(void)
{
    rtc_time now = RTC_SEC(1);
    rtc_rtp_receiver_config c = { .codec = RTC_CODEC_OPUS, .pt = PT, .ssrc = SSRC, .local_ssrc = LOCAL,
                                  .nack = true, .latency = RTC_MS(300) };
    rtc_rtp_receiver *r;
    ASSERT_OK(rtc_rtp_receiver_new(&r, &c, now));
    rtc_rtp_receiver_handle_rtt(r, RTC_MS(40));
    int nacked = 0;
    for (uint16_t s = 0; s < 200; s++) {
        if (s % 10 != 5) ASSERT_OK(feed(r, packet(PT, SSRC, s, s * 960u, false), now));
        uint8_t out[1500];
        int n;
        while ((n = rtc_rtp_receiver_poll_rtcp(r, out, sizeof out)) > 0) {
            rtc_rtcp_view v[4];
            int k = rtc_rtcp_parse_compound(out, (size_t)n, v, 4);
            for (int i = 0; i < k; i++) {
                uint16_t seqs[64];
                if (v[i].pt != RTC_RTCP_RTPFB) continue;
                int m = rtc_rtcp_read_nack(&v[i], seqs, 64);
                for (int j = 0; j < m; j++, nacked++)          /* the sender answers with the original */
                    ASSERT_EQ(feed(r, packet(PT, SSRC, seqs[j], seqs[j] * 960u, false), now), 0);
            }
        }
        run_until(r, &now, now + RTC_MS(20), NULL, NULL);
    }
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(nacked, 20);
    ASSERT_EQ(st.nack.recovered, 20);
    ASSERT_EQ(st.repaired, 20);
    ASSERT_EQ(st.retransmitted, 20);
    ASSERT_EQ(st.rtx_packets, 0);
    ASSERT_EQ(st.lost, 0);
    rtc_rtp_receiver_free(r);

    /* RTX learned after creation (an unsignaled stream): unwrapped from then on. */
    rtc_rtp_receiver_config none = { .codec = RTC_CODEC_OPUS, .pt = PT, .ssrc = SSRC, .local_ssrc = LOCAL,
                                     .nack = true, .rtx_pt = RTX_PT };
    ASSERT_OK(rtc_rtp_receiver_new(&r, &none, now));
    for (uint16_t s = 0; s < 20; s++) if (s != 10) ASSERT_OK(feed(r, packet(PT, SSRC, s, s * 960u, false), now));
    ASSERT_EQ(feed(r, rtx_of(10, 1), now), RTC_EIGNORED);           /* an unknown SSRC */
    rtc_rtp_receiver_set_rtx_ssrc(r, RTX_SSRC);
    ASSERT_OK(feed(r, rtx_of(10, 2), now));
    ASSERT_EQ(feed(r, rtx_of(12, 3), now), RTC_EIGNORED);           /* a probe: already here */
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.rtx_packets, 2);
    ASSERT_EQ(st.retransmitted, 2);
    ASSERT_EQ(st.duplicates, 1);
    ASSERT_EQ(st.lost, 0);
    rtc_rtp_receiver_free(r);
}

/* Defect 6: an RTX packet carries the abs-send-time of its own departure (it kept
 * the original's); a plain resend stays byte for byte the original (SRTP). */
static void test_rtx_abs_send_time(void)
{
    for (int with_rtx = 0; with_rtx < 2; with_rtx++) {
        rtc_pool *pool = rtc_pool_new(64);
        uint16_t twseq = 0;
        rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = VPT, .ssrc = SSRC, .abs_send_time_id = 2,
                                     .twcc_id = 3, .twcc_seq = &twseq, .initial_seq = 100, .pool = pool,
                                     .unix_offset_us = RTC_SEC(1000) };
        if (with_rtx) { sc.rtx_pt = RTX_PT; sc.rtx_ssrc = RTX_SSRC; }
        rtc_rtp_sender *s;
        rtc_time now = RTC_SEC(1);
        ASSERT_OK(rtc_rtp_sender_new(&s, &sc, now));
        uint8_t frame[300] = { 0x10 };
        ASSERT_EQ(rtc_rtp_sender_send_frame(s, frame, sizeof frame, 0, NULL, now), 1);
        rtc_rtp_out o;
        uint8_t first[1500];
        size_t first_len = 0;
        while (rtc_rtp_sender_poll_transmit(s, &o)) { memcpy(first, o.buf->data, o.buf->len); first_len = o.buf->len; rtc_buf_unref(o.buf); }
        now += RTC_MS(700);
        uint8_t nack[64];
        uint16_t seq = 100;
        int n = rtc_rtcp_write_nack(nack, sizeof nack, LOCAL, SSRC, &seq, 1);
        rtc_rtcp_view v[2];
        ASSERT_EQ(rtc_rtcp_parse_compound(nack, (size_t)n, v, 2), 1);
        ASSERT_OK(rtc_rtp_sender_handle_rtcp(s, &v[0], now));
        ASSERT_EQ(rtc_rtp_sender_poll_transmit(s, &o), 1);
        rtc_rtp_packet p, q;
        ASSERT_OK(rtc_rtp_parse(&p, o.buf->data, o.buf->len));
        ASSERT_OK(rtc_rtp_parse(&q, first, first_len));
        uint32_t ast, ast0;
        ASSERT_OK(rtc_ext_read_abs_send_time(rtc_rtp_find_ext(&p.h, 2), &ast));
        ASSERT_OK(rtc_ext_read_abs_send_time(rtc_rtp_find_ext(&q.h, 2), &ast0));
        ASSERT_EQ(ast0, rtc_abs_send_time_from_us(RTC_SEC(1001)));
        if (with_rtx) {
            ASSERT_EQ(p.h.ssrc, RTX_SSRC);
            ASSERT_EQ(ast, rtc_abs_send_time_from_us(RTC_SEC(1001) + RTC_MS(700)));
        } else {
            ASSERT_EQ(o.buf->len, first_len);
            ASSERT_MEMEQ(o.buf->data, first, first_len);
        }
        rtc_buf_unref(o.buf);
        rtc_rtp_sender_free(s);
        rtc_pool_free(pool);
    }
}

/* Defect 6: received RTX is unwrapped into pool buffers and frames come out at their
 * own size (from the pool when they fit): after warm-up, a thousand RTX repairs and
 * audio frames take no new buffer, and a 3 KB video frame is not a 6 KB allocation. */
static void test_pooled_receive(void)
{
    rtc_pool *pool = rtc_pool_new(256);
    rtc_time now = RTC_SEC(1);
    rtc_rtp_receiver_config c = { .codec = RTC_CODEC_OPUS, .pt = PT, .ssrc = SSRC, .local_ssrc = LOCAL,
                                  .nack = true, .rtx_pt = RTX_PT, .rtx_ssrc = RTX_SSRC, .pool = pool };
    rtc_rtp_receiver *r;
    ASSERT_OK(rtc_rtp_receiver_new(&r, &c, now));
    rtc_pool_stats ps0 = {0}, ps;
    int frames = 0;
    for (uint16_t s = 0; s < 2000; s++) {
        /* Every other packet comes as its RTX repair, right away. */
        ASSERT_OK(feed(r, s % 2 ? rtx_of(s, s) : packet(PT, SSRC, s, s * 960u, false), now));
        rtc_jb_frame f;
        uint8_t out[1500];
        while (rtc_rtp_receiver_poll_rtcp(r, out, sizeof out) > 0) {}
        while (rtc_rtp_receiver_poll_frame(r, &f)) {
            ASSERT(f.data->pool == pool);
            frames++;
            rtc_buf_unref(f.data);
        }
        now += RTC_MS(20);
        rtc_rtp_receiver_handle_timeout(r, now);
        if (s == 100) rtc_pool_get_stats(pool, &ps0);
    }
    rtc_pool_get_stats(pool, &ps);
    ASSERT_GE(frames, 1990);
    ASSERT_EQ(ps.allocated, ps0.allocated);             /* reused, nothing new */
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.rtx_packets, 1000);
    rtc_rtp_receiver_free(r);

    rtc_rtp_receiver_config vc = { .codec = RTC_CODEC_VP8, .pt = VPT, .ssrc = SSRC, .local_ssrc = LOCAL, .pool = pool,
                                   .rtx_pt = RTX_PT, .rtx_ssrc = RTX_SSRC };
    ASSERT_OK(rtc_rtp_receiver_new(&r, &vc, now));
    for (uint16_t s = 0; s < 3; s++) {
        uint8_t pay[1001];
        memset(pay, 0x55, sizeof pay);
        pay[0] = s == 0 ? 0x10 : 0x00;                  /* S on the first; a key frame tag */
        if (s == 0) pay[1] = 0x00;
        rtc_rtp_header h = { .pt = VPT, .seq = s, .ts = 9000, .ssrc = SSRC, .marker = s == 2 };
        rtc_buf *b = rtc_buf_alloc(NULL, 1500);
        b->len = (size_t)rtc_rtp_write(b->data, b->cap, &h, pay, sizeof pay, 0);
        if (s == 1) {                                   /* this one arrives as RTX */
            rtc_buf *x = rtc_buf_alloc(NULL, 1500);
            x->len = (size_t)rtc_rtx_wrap(b->data, b->len, RTX_PT, RTX_SSRC, 9, x->data, x->cap);
            rtc_buf_unref(b);
            b = x;
        }
        rtc_pool_get_stats(pool, &ps0);
        ASSERT_OK(feed(r, b, now));
        rtc_pool_get_stats(pool, &ps);
        ASSERT_EQ(ps.in_use, ps0.in_use + (s == 1));    /* the unwrapped packet waits in a pool buffer */
    }
    now += RTC_SEC(1);
    rtc_rtp_receiver_handle_timeout(r, now);
    rtc_jb_frame f;
    ASSERT_EQ(rtc_rtp_receiver_poll_frame(r, &f), 1);
    ASSERT_EQ(f.data->len, 3000);
    ASSERT(f.data->pool == NULL);                       /* larger than a pool buffer */
    ASSERT_EQ(f.data->cap, 3000);
    rtc_buf_unref(f.data);
    rtc_rtp_receiver_free(r);
    rtc_pool_free(pool);
}

int main(void)
{
    RUN(test_audio_hole_without_nack);
    RUN(test_audio_hole_with_nack);
    RUN(test_jitter_ignores_repairs);
    RUN(test_restart_video);
    RUN(test_restart_audio);
    RUN(test_late_rtx_is_no_restart);
    RUN(test_repaired_vs_retransmitted);
    RUN(test_rtx_abs_send_time);
    RUN(test_pooled_receive);
    return 0;
}
