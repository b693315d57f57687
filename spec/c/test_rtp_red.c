/* RED (RFC 2198) for Opus: the payload codec (vectors, round trip, hostile input, the
 * fmtp), and the sender and receiver machines with it: a lost packet is filled from
 * the next packet's earlier copy before the jitter buffer, so the frames that come
 * out (what the recorder and the pcm event consume) are whole. */
#include "rtc_test.h"
#include "codec/red.h"
#include "core/rtc_errors.h"
#include "core/rtc_rng.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_receiver.h"
#include "rtp/rtp_sender.h"

enum { PT = 111, RED_PT = 63, SSRC = 0x1111, LOCAL = 0x3333 };

static void test_codec(void)
{
    /* RFC 2198 section 3 layout: one redundant block (pt 111, offset 960, 3 bytes), primary 111. */
    static const uint8_t v[] = { 0xEF, 0x0F, 0x00, 0x03, 0x6F, 1, 2, 3, 9, 8 };
    rtc_red_block b[4];
    size_t n;
    ASSERT_OK(rtc_red_parse(v, sizeof v, b, 4, &n));
    ASSERT_EQ(n, 2);
    ASSERT_EQ(b[0].pt, 111); ASSERT_EQ(b[0].ts_offset, 960); ASSERT_EQ(b[0].len, 3); ASSERT_EQ(b[0].data[0], 1);
    ASSERT_EQ(b[1].pt, 111); ASSERT_EQ(b[1].ts_offset, 0); ASSERT_EQ(b[1].len, 2); ASSERT_EQ(b[1].data[0], 9);
    uint8_t out[64];
    ASSERT_EQ(rtc_red_write(out, sizeof out, b, 1, 111, b[1].data, 2), (int)sizeof v);
    ASSERT_MEMEQ(out, v, sizeof v);
    ASSERT_EQ(rtc_red_write(out, 5, b, 1, 111, b[1].data, 2), RTC_EOVERFLOW);
    rtc_red_block big = { 111, 1u << 14, v, 1 };
    ASSERT_EQ(rtc_red_write(out, sizeof out, &big, 1, 111, v, 1), RTC_EINVAL);
    /* Primary only: a one-byte header. */
    ASSERT_EQ(rtc_red_write(out, sizeof out, NULL, 0, 111, v, 3), 4);
    ASSERT_EQ(out[0], 111);
    ASSERT_OK(rtc_red_parse(out, 4, b, 4, &n));
    ASSERT_EQ(n, 1); ASSERT_EQ(b[0].len, 3);
    /* Every truncation fails cleanly; a block length past the end too. */
    for (size_t l = 0; l < 5; l++) ASSERT(rtc_red_parse(v, l, b, 4, &n) < 0);
    ASSERT_EQ(rtc_red_parse(v, 7, b, 4, &n), RTC_ETRUNC);   /* the redundant block is cut */
    ASSERT_EQ(rtc_red_parse(v, sizeof v, b, 1, &n), RTC_EPROTO);   /* more blocks than room */
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 5);
    for (int i = 0; i < 20000; i++) {
        uint8_t h[40];
        size_t l = rtc_rng_below(&rng, sizeof h);
        rtc_rng_bytes(&rng, h, l);
        if (rtc_red_parse(h, l, b, 4, &n) == 0) {
            ASSERT(n >= 1 && n <= 4);
            for (size_t k = 0; k < n; k++) ASSERT(b[k].data >= h && b[k].data + b[k].len <= h + l);
        }
    }
    ASSERT_EQ(rtc_red_fmtp_pt("111/111"), 111);
    ASSERT_EQ(rtc_red_fmtp_pt("111"), 111);
    ASSERT_EQ(rtc_red_fmtp_pt("111/0"), -1);
    ASSERT_EQ(rtc_red_fmtp_pt("111/"), -1);
    ASSERT_EQ(rtc_red_fmtp_pt("200/200"), -1);
    ASSERT_EQ(rtc_red_fmtp_pt(""), -1);
    ASSERT_EQ(rtc_red_fmtp_pt(NULL), -1);
}

/* Opus frames of varying size through a RED sender, 20% of packets lost (never two in
 * a row, which one copy cannot cover), into a RED receiver without NACK. */
static void test_streams(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 11);
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_OPUS, .pt = PT, .red_pt = RED_PT, .ssrc = SSRC, .initial_seq = 65000 };
    rtc_rtp_receiver_config rc = { .codec = RTC_CODEC_OPUS, .pt = PT, .red_pt = RED_PT, .ssrc = SSRC, .local_ssrc = LOCAL };
    rtc_rtp_sender *s;
    rtc_rtp_receiver *r;
    rtc_time now = RTC_SEC(1);
    ASSERT_OK(rtc_rtp_sender_new(&s, &sc, now));
    ASSERT_OK(rtc_rtp_receiver_new(&r, &rc, now));
    enum { N = 1000 };
    static uint8_t frames[N][200];
    static size_t flen[N];
    int got = 0, lost = 0;
    bool dropped_last = false;
    for (int i = 0; i < N; i++) {
        flen[i] = 20 + rtc_rng_below(&rng, 180);
        rtc_rng_bytes(&rng, frames[i], flen[i]);
        ASSERT_EQ(rtc_rtp_sender_send_frame(s, frames[i], flen[i], (uint32_t)i * 960u, NULL, now), 1);
        rtc_rtp_out o;
        while (rtc_rtp_sender_poll_transmit(s, &o)) {
            rtc_rtp_packet p;
            ASSERT_OK(rtc_rtp_parse(&p, o.buf->data, o.buf->len));
            ASSERT_EQ(p.h.pt, RED_PT);
            bool drop = !dropped_last && i > 5 && i < N - 1 && rtc_rng_below(&rng, 5) == 0;
            dropped_last = drop;
            if (drop) lost++;
            else ASSERT_OK(rtc_rtp_receiver_handle_rtp(r, o.buf, now));
            rtc_buf_unref(o.buf);
        }
        now += RTC_MS(20);
        rtc_rtp_receiver_handle_timeout(r, now);
        rtc_jb_frame f;
        while (rtc_rtp_receiver_poll_frame(r, &f)) {
            int k = (int)(f.ts / 960);
            ASSERT_EQ(k, got);                           /* every frame, in order */
            ASSERT_EQ(f.data->len, flen[k]);
            ASSERT_MEMEQ(f.data->data, frames[k], flen[k]);
            got++;
            rtc_buf_unref(f.data);
        }
        uint8_t out[1500];
        while (rtc_rtp_receiver_poll_rtcp(r, out, sizeof out) > 0) {}
    }
    ASSERT(lost > 100);
    ASSERT_EQ(got, N);
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.red_recovered, (uint64_t)lost);
    ASSERT_EQ(st.red_packets, (uint64_t)(N - lost));
    ASSERT_EQ(st.lost, lost);                            /* what arrived; copies do not hide loss */
    rtc_rtp_sender_free(s);
    rtc_rtp_receiver_free(r);
}

/* A hostile RED payload is counted and dropped; a RED copy of a packet that arrived
 * is not taken twice. */
static void test_receiver_edges(void)
{
    rtc_rtp_receiver_config rc = { .codec = RTC_CODEC_OPUS, .pt = PT, .red_pt = RED_PT, .ssrc = SSRC, .local_ssrc = LOCAL };
    rtc_rtp_receiver *r;
    ASSERT_OK(rtc_rtp_receiver_new(&r, &rc, 0));
    uint8_t pkt[100];
    static const uint8_t bad[] = { 0xEF, 0x0F, 0x00, 0x30, 0x6F, 1 };   /* block length past the end */
    rtc_rtp_header h = { .pt = RED_PT, .seq = 1, .ts = 960, .ssrc = SSRC };
    int n = rtc_rtp_write(pkt, sizeof pkt, &h, bad, sizeof bad, 0);
    rtc_buf *b = rtc_buf_from(pkt, (size_t)n);
    ASSERT_EQ(rtc_rtp_receiver_handle_rtp(r, b, 0), RTC_ETRUNC);
    rtc_buf_unref(b);
    static const uint8_t other[] = { 0x60, 1, 2 };        /* primary of another payload type */
    n = rtc_rtp_write(pkt, sizeof pkt, &h, other, sizeof other, 0);
    b = rtc_buf_from(pkt, (size_t)n);
    ASSERT_EQ(rtc_rtp_receiver_handle_rtp(r, b, 0), RTC_EIGNORED);
    rtc_buf_unref(b);
    for (uint16_t s = 10; s < 13; s++) {                 /* each carries a copy of the one before */
        uint8_t pay[16];
        rtc_red_block prev = { PT, 960, (const uint8_t *)"\x01\x02", 2 };
        int pl = rtc_red_write(pay, sizeof pay, &prev, 1, PT, (const uint8_t *)"\x03\x04\x05", 3);
        rtc_rtp_header hh = { .pt = RED_PT, .seq = s, .ts = s * 960u, .ssrc = SSRC };
        n = rtc_rtp_write(pkt, sizeof pkt, &hh, pay, (size_t)pl, 0);
        b = rtc_buf_from(pkt, (size_t)n);
        ASSERT_OK(rtc_rtp_receiver_handle_rtp(r, b, RTC_MS(s)));
        rtc_buf_unref(b);
    }
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.red_recovered, 0);                      /* 10 is the first; 11 and 12 had arrived */
    ASSERT_EQ(st.packets, 3);
    ASSERT_EQ(st.malformed, 1);
    rtc_rtp_receiver_free(r);
}

int main(void)
{
    RUN(test_codec);
    RUN(test_streams);
    RUN(test_receiver_edges);
    return 0;
}
