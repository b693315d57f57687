/* A sender's NACK history is allocated with its first frame: senders that never
 * packetize (an SFU connection's, which injects ready packets) hold none, and the
 * history still answers NACKs once frames flow. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_sender.h"
#include "test_heap.h"

#define M 64

static void test_idle_senders_hold_no_history(void)
{
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 0x1234 };   /* history 1024 */
    rtc_rtp_sender *s[M];
    size_t before = heap_in_use();
    for (int i = 0; i < M; i++) ASSERT_OK(rtc_rtp_sender_new(&s[i], &sc, 0));
    size_t per = (heap_in_use() - before) / M;
    ASSERT_LE(per, 8192);                                 /* a 1024-slot history alone is 32 KB */
    /* The first frame brings the history. */
    size_t b1 = heap_in_use();
    uint8_t frame[100] = { 0x10 };
    ASSERT_EQ(rtc_rtp_sender_send_frame(s[0], frame, sizeof frame, 0, NULL, RTC_MS(10)), 1);
    ASSERT_GE(heap_in_use() - b1, 1024 * 16);
    for (int i = 0; i < M; i++) rtc_rtp_sender_free(s[i]);
}

static void test_bad_history_refused(void)
{
    rtc_rtp_sender *s;
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 1, .history = 1000 };
    ASSERT_EQ(rtc_rtp_sender_new(&s, &sc, 0), RTC_EINVAL);
    sc.history = 8;
    ASSERT_EQ(rtc_rtp_sender_new(&s, &sc, 0), RTC_EINVAL);
    sc.history = 65536;
    ASSERT_EQ(rtc_rtp_sender_new(&s, &sc, 0), RTC_EINVAL);
}

/* A NACK before any frame is a miss, not a crash; after a frame it is answered. */
static void test_nack_before_and_after_first_frame(void)
{
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 0x1234, .initial_seq = 500 };
    rtc_rtp_sender *s;
    rtc_time now = RTC_SEC(1);
    ASSERT_OK(rtc_rtp_sender_new(&s, &sc, now));
    uint16_t seq = 500;
    uint8_t d[64];
    int n = rtc_rtcp_write_nack(d, sizeof d, 0x99, 0x1234, &seq, 1);
    ASSERT(n > 0);
    rtc_rtcp_view v[2];
    ASSERT_EQ(rtc_rtcp_parse_compound(d, (size_t)n, v, 2), 1);
    ASSERT_OK(rtc_rtp_sender_handle_rtcp(s, &v[0], now));
    rtc_rtp_sender_stats st;
    rtc_rtp_sender_get_stats(s, &st);
    ASSERT_EQ(st.nack_misses, 1);
    uint8_t frame[100] = { 0x10 };
    ASSERT_EQ(rtc_rtp_sender_send_frame(s, frame, sizeof frame, 0, NULL, now), 1);
    rtc_rtp_out o;
    while (rtc_rtp_sender_poll_transmit(s, &o)) rtc_buf_unref(o.buf);
    now += RTC_MS(50);
    ASSERT_OK(rtc_rtp_sender_handle_rtcp(s, &v[0], now));
    rtc_rtp_sender_get_stats(s, &st);
    ASSERT_EQ(st.nack_misses, 1);
    ASSERT_EQ(st.rtx_packets, 1);
    int resent = 0;
    while (rtc_rtp_sender_poll_transmit(s, &o)) { resent += !o.rtcp; rtc_buf_unref(o.buf); }
    ASSERT_EQ(resent, 1);
    rtc_rtp_sender_free(s);
}

int main(void)
{
    RUN(test_idle_senders_hold_no_history);
    RUN(test_bad_history_refused);
    RUN(test_nack_before_and_after_first_frame);
    return 0;
}
