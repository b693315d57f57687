/* rtp/rtp_receiver receive-path regressions, driven packet by packet on a virtual
 * clock: how long an audio hole holds back later packets (with and without NACK),
 * what feeds the interarrival jitter, a sender restart on the same SSRC, and how
 * repaired packets are counted. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
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

int main(void)
{
    RUN(test_audio_hole_without_nack);
    RUN(test_audio_hole_with_nack);
    RUN(test_jitter_ignores_repairs);
    return 0;
}
