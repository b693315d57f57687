/* rtp/rtp_receiver: a sequence number counts once. Chromium probes bandwidth with RTX
 * copies of packets that already arrived, and a NACKed packet's repair can race its
 * late original; neither may count as received again, or packetsLost goes negative.
 * Real holes repaired by RTX still count, the receiver report carries the same loss,
 * and each packet reaches the jitter buffer once, across the 16-bit wrap too. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_receiver.h"
#include "rtp/rtx.h"

enum { PT = 111, RTX_PT = 112, SSRC = 0x1111, RTX_SSRC = 0x2222, LOCAL = 0x3333 };

static uint16_t rtx_seq = 5000;

/* One Opus packet (a frame of its own) whose payload names its seq. */
static size_t opus_packet(uint8_t *out, size_t cap, uint16_t seq)
{
    rtc_rtp_header h = { .pt = PT, .seq = seq, .ts = (uint32_t)seq * 960u, .ssrc = SSRC, .marker = false };
    uint8_t payload[20];
    memset(payload, 0, sizeof payload);
    payload[0] = 0x78;                             /* TOC: one 20 ms CELT frame */
    payload[1] = (uint8_t)(seq >> 8);
    payload[2] = (uint8_t)seq;
    int n = rtc_rtp_write(out, cap, &h, payload, sizeof payload, 0);
    ASSERT(n > 0);
    return (size_t)n;
}

static int feed(rtc_rtp_receiver *r, const uint8_t *p, size_t len, rtc_time now)
{
    rtc_buf *b = rtc_buf_from(p, len);
    int e = rtc_rtp_receiver_handle_rtp(r, b, now);
    rtc_buf_unref(b);
    return e;
}

static int send_media(rtc_rtp_receiver *r, uint16_t seq, rtc_time now)
{
    uint8_t pkt[200];
    return feed(r, pkt, opus_packet(pkt, sizeof pkt, seq), now);
}

static int send_rtx(rtc_rtp_receiver *r, uint16_t seq, rtc_time now)
{
    uint8_t pkt[200], rtx[220];
    size_t n = opus_packet(pkt, sizeof pkt, seq);
    int m = rtc_rtx_wrap(pkt, n, RTX_PT, RTX_SSRC, rtx_seq++, rtx, sizeof rtx);
    ASSERT(m > 0);
    return feed(r, rtx, (size_t)m, now);
}

/* Frames out of the jitter buffer; each seq at most once. */
static int drain_frames(rtc_rtp_receiver *r, uint8_t *seen_frames)
{
    int n = 0;
    rtc_jb_frame f;
    while (rtc_rtp_receiver_poll_frame(r, &f)) {
        ASSERT_EQ(f.data->len, 20);
        uint16_t seq = (uint16_t)(f.data->data[1] << 8 | f.data->data[2]);
        ASSERT_EQ(seen_frames[seq], 0);
        seen_frames[seq] = 1;
        rtc_buf_unref(f.data);
        n++;
    }
    return n;
}

static rtc_rtp_receiver *new_receiver(rtc_time now)
{
    rtc_rtp_receiver_config rc = { .codec = RTC_CODEC_OPUS, .pt = PT, .ssrc = SSRC, .rtx_pt = RTX_PT,
                                   .rtx_ssrc = RTX_SSRC, .local_ssrc = LOCAL, .cname = "dup",
                                   .nack = true, .latency = RTC_SEC(10) };   /* repairs arrive in time */
    rtc_rtp_receiver *r;
    ASSERT_EQ(rtc_rtp_receiver_new(&r, &rc, now), 0);
    /* Audio with NACK waits 2 RTT + 20 ms for a repair (capped by latency): a long
     * round trip keeps this test's late repairs in time. */
    rtc_rtp_receiver_handle_rtt(r, RTC_SEC(5));
    return r;
}

/* The cumulative loss in the next receiver report. */
static int32_t report_lost(rtc_rtp_receiver *r, rtc_time now)
{
    rtc_rtp_receiver_handle_timeout(r, now);
    uint8_t out[1500];
    int n, found = 0;
    int32_t lost = INT32_MIN;
    while ((n = rtc_rtp_receiver_poll_rtcp(r, out, sizeof out)) > 0) {
        rtc_rtcp_view v[4];
        int k = rtc_rtcp_parse_compound(out, (size_t)n, v, 4);
        ASSERT(k > 0);
        for (int i = 0; i < k; i++) {
            rtc_rtcp_rr rr;
            if (v[i].pt != RTC_RTCP_RR || rtc_rtcp_read_rr(&v[i], &rr) < 0 || rr.rb_count != 1) continue;
            lost = rr.rb[0].cumulative_lost;
            found++;
        }
    }
    ASSERT_EQ(found, 1);
    return lost;
}

static void test_probes_and_repairs(void)
{
    static uint8_t frames[65536];
    memset(frames, 0, sizeof frames);
    rtc_time now = 0;
    rtc_rtp_receiver *r = new_receiver(now);
    int delivered = 0;
    /* 100..199 with 150 and 151 lost on the way. */
    for (int s = 100; s < 200; s++) {
        now += RTC_MS(20);
        if (s == 150 || s == 151) continue;
        ASSERT_EQ(send_media(r, (uint16_t)s, now), 0);
        delivered += drain_frames(r, frames);
    }
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.packets, 98);
    ASSERT_EQ(st.lost, 2);
    /* A bandwidth probe: RTX copies of twenty packets we already hold. */
    for (int s = 170; s < 190; s++) ASSERT_EQ(send_rtx(r, (uint16_t)s, now), RTC_EIGNORED);
    /* The repair of 150 arrives, then a second copy of it, then a media duplicate. */
    ASSERT_EQ(send_rtx(r, 150, now), 0);
    ASSERT_EQ(send_rtx(r, 150, now), RTC_EIGNORED);
    ASSERT_EQ(send_media(r, 160, now), RTC_EIGNORED);
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.packets, 99);
    ASSERT_EQ(st.rtx_packets, 22);
    ASSERT_EQ(st.duplicates, 22);
    ASSERT_EQ(st.lost, 1);                         /* 151 still missing */
    ASSERT_EQ(report_lost(r, now + RTC_SEC(1)), 1);
    /* Its repair closes the count at zero, and probes of it keep it there. */
    ASSERT_EQ(send_rtx(r, 151, now), 0);
    for (int i = 0; i < 5; i++) ASSERT_EQ(send_rtx(r, 151, now), RTC_EIGNORED);
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.lost, 0);
    ASSERT_EQ(st.packets, 100);
    ASSERT_EQ(report_lost(r, now + RTC_SEC(2)), 0);
    /* More media with probes between each packet: never below zero. */
    for (int s = 200; s < 400; s++) {
        now += RTC_MS(20);
        ASSERT_EQ(send_media(r, (uint16_t)s, now), 0);
        ASSERT_EQ(send_rtx(r, (uint16_t)(s - 3), now), RTC_EIGNORED);
        rtc_rtp_receiver_get_stats(r, &st);
        ASSERT_EQ(st.lost, 0);
    }
    rtc_rtp_receiver_handle_timeout(r, now + RTC_SEC(1));
    delivered += drain_frames(r, frames);
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.packets, 300);
    ASSERT_EQ(st.duplicates, 227);
    ASSERT_EQ(report_lost(r, now + RTC_SEC(3)), 0);
    /* Every packet came out once, the repaired ones in their place. */
    for (int s = 100; s < 400; s++) ASSERT_EQ(frames[s], 1);
    ASSERT_EQ(delivered, 300);
    rtc_rtp_receiver_free(r);
}

/* Across the 16-bit wrap, and probes of packets from before it. */
static void test_wrap(void)
{
    static uint8_t frames[65536];
    memset(frames, 0, sizeof frames);
    rtc_time now = 0;
    rtc_rtp_receiver *r = new_receiver(now);
    for (int i = 0; i < 40; i++) {
        now += RTC_MS(20);
        uint16_t s = (uint16_t)(65516 + i);
        ASSERT_EQ(send_media(r, s, now), 0);
        if (i >= 10) ASSERT_EQ(send_rtx(r, (uint16_t)(s - 10), now), RTC_EIGNORED);
        if (i >= 1) ASSERT_EQ(send_media(r, (uint16_t)(s - 1), now), RTC_EIGNORED);
        drain_frames(r, frames);
    }
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.duplicates, 30 + 39);
    ASSERT_EQ(st.packets, 40);
    ASSERT_EQ(st.lost, 0);
    for (int i = 0; i < 40; i++) ASSERT(frames[(uint16_t)(65516 + i)] <= 1);
    rtc_rtp_receiver_free(r);
}

/* A window's worth later, an old seq is unknown again: a late packet that old is
 * judged by the RFC 3550 statistics (which drop it), not counted twice here. */
static void test_far_jump(void)
{
    static uint8_t frames[65536];
    memset(frames, 0, sizeof frames);
    rtc_time now = 0;
    rtc_rtp_receiver *r = new_receiver(now);
    for (int s = 0; s < 3000; s++) {
        now += RTC_MS(20);
        ASSERT_EQ(send_media(r, (uint16_t)s, now), 0);
        drain_frames(r, frames);
    }
    for (int s = 2990; s < 3000; s++) ASSERT_EQ(send_rtx(r, (uint16_t)s, now), RTC_EIGNORED);
    send_rtx(r, 5, now);                           /* far behind: not ours to judge */
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.duplicates, 10);
    ASSERT_EQ(st.lost, 0);
    rtc_rtp_receiver_free(r);
}

int main(void)
{
    RUN(test_probes_and_repairs);
    RUN(test_wrap);
    RUN(test_far_jump);
    return 0;
}
