/* RTCP feedback as negotiated: FIR when the peer takes only "ccm fir" (repeats keep
 * the sequence number, a new request takes the next; a repeated FIR received is not
 * a new request); NACK, PLI, FIR and TWCC feedback alone only with rtcp-rsize, else
 * after an RR + SDES; BYE when a sender ends. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_receiver.h"
#include "rtp/rtp_sender.h"
#include "rtp/twcc.h"

enum { VPT = 96, SSRC = 0x1111, RTX_SSRC = 0x2222, LOCAL = 0x3333 };

static rtc_buf *vp8(uint16_t seq, uint32_t ts, bool key)
{
    uint8_t pay[20] = { 0x10, key ? 0x00 : 0x01 };
    rtc_rtp_header h = { .pt = VPT, .seq = seq, .ts = ts, .ssrc = SSRC, .marker = true };
    rtc_buf *b = rtc_buf_alloc(NULL, 200);
    b->len = (size_t)rtc_rtp_write(b->data, b->cap, &h, pay, sizeof pay, 0);
    return b;
}

static void feed(rtc_rtp_receiver *r, rtc_buf *b, rtc_time now)
{
    rtc_rtp_receiver_handle_rtp(r, b, now);
    rtc_buf_unref(b);
}

/* The RTCP types of one compound from poll_rtcp, in order (PSFB/RTPFB as 1000 + FMT);
 * returns how many, 0 when nothing was due. */
static int poll_types(rtc_rtp_receiver *r, int *types, rtc_rtcp_fir_entry *fir)
{
    uint8_t out[1500];
    int n = rtc_rtp_receiver_poll_rtcp(r, out, sizeof out);
    ASSERT(n >= 0);
    if (n == 0) return 0;
    rtc_rtcp_view v[8];
    int k = rtc_rtcp_parse_compound(out, (size_t)n, v, 8);
    ASSERT(k > 0);
    for (int i = 0; i < k; i++) {
        types[i] = v[i].pt == RTC_RTCP_PSFB || v[i].pt == RTC_RTCP_RTPFB ? 1000 * (v[i].pt - 204) + v[i].count : v[i].pt;
        if (v[i].pt == RTC_RTCP_PSFB && v[i].count == RTC_RTCP_FMT_FIR && fir) ASSERT_EQ(rtc_rtcp_read_fir(&v[i], fir, 1), 1);
    }
    return k;
}

#define T_PLI (1000 * (RTC_RTCP_PSFB - 204) + RTC_RTCP_FMT_PLI)
#define T_FIR (1000 * (RTC_RTCP_PSFB - 204) + RTC_RTCP_FMT_FIR)
#define T_NACK (1000 * (RTC_RTCP_RTPFB - 204) + RTC_RTCP_FMT_NACK)

static void fir_only(bool rsize)
{
    rtc_time now = RTC_SEC(1);
    rtc_rtp_receiver_config c = { .codec = RTC_CODEC_VP8, .pt = VPT, .ssrc = SSRC, .local_ssrc = LOCAL, .cname = "cn",
                                  .fir = true, .rsize = rsize, .wait_keyframe = true };
    rtc_rtp_receiver *r;
    ASSERT_OK(rtc_rtp_receiver_new(&r, &c, now));
    int ty[8];
    rtc_rtcp_fir_entry fe;
    rtc_rtp_receiver_request_keyframe(r);
    int k = poll_types(r, ty, &fe);
    if (rsize) { ASSERT_EQ(k, 1); ASSERT_EQ(ty[0], T_FIR); }
    else { ASSERT_EQ(k, 3); ASSERT_EQ(ty[0], RTC_RTCP_RR); ASSERT_EQ(ty[1], RTC_RTCP_SDES); ASSERT_EQ(ty[2], T_FIR); }
    ASSERT_EQ(fe.ssrc, SSRC);
    uint8_t first = fe.seq;
    ASSERT_EQ(poll_types(r, ty, NULL), 0);              /* nothing more until pli_interval */
    /* No keyframe yet: the repeat keeps the sequence number. */
    now += RTC_MS(600);
    rtc_rtp_receiver_handle_timeout(r, now);
    k = poll_types(r, ty, &fe);
    ASSERT_EQ(ty[k - 1], T_FIR);
    ASSERT_EQ(fe.seq, first);
    /* A keyframe arrives; the next request is a new one. */
    feed(r, vp8(1, 3000, true), now);
    now += RTC_SEC(1);
    rtc_rtp_receiver_handle_timeout(r, now);
    rtc_jb_frame f;
    ASSERT_EQ(rtc_rtp_receiver_poll_frame(r, &f), 1);
    ASSERT(f.keyframe);
    rtc_buf_unref(f.data);
    while (poll_types(r, ty, NULL) > 0) {}
    rtc_rtp_receiver_request_keyframe(r);
    k = poll_types(r, ty, &fe);
    ASSERT_EQ(ty[k - 1], T_FIR);
    ASSERT_EQ(fe.seq, (uint8_t)(first + 1));
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.firs_sent, 3);
    ASSERT_EQ(st.plis_sent, 0);
    rtc_rtp_receiver_free(r);
}

static void test_fir_only(void) { fir_only(true); fir_only(false); }

/* With PLI negotiated it is PLI (FIR too: PLI wins); NACK alone or in a compound. */
static void test_rsize(void)
{
    for (int rsize = 0; rsize < 2; rsize++) {
        rtc_time now = RTC_SEC(1);
        rtc_rtp_receiver_config c = { .codec = RTC_CODEC_VP8, .pt = VPT, .ssrc = SSRC, .local_ssrc = LOCAL,
                                      .cname = "cn", .nack = true, .pli = true, .fir = true, .rsize = rsize };
        rtc_rtp_receiver *r;
        ASSERT_OK(rtc_rtp_receiver_new(&r, &c, now));
        int ty[8];
        feed(r, vp8(1, 3000, true), now);
        feed(r, vp8(3, 9000, false), now);              /* 2 is missing */
        int k = poll_types(r, ty, NULL);
        if (rsize) { ASSERT_EQ(k, 1); ASSERT_EQ(ty[0], T_NACK); }
        else { ASSERT_EQ(k, 3); ASSERT_EQ(ty[0], RTC_RTCP_RR); ASSERT_EQ(ty[2], T_NACK); }
        rtc_rtp_receiver_request_keyframe(r);
        k = poll_types(r, ty, NULL);
        ASSERT_EQ(k, rsize ? 1 : 3);
        ASSERT_EQ(ty[k - 1], T_PLI);
        rtc_rtp_receiver_free(r);
    }
}

/* A FIR repeated with the same sequence number is one request (RFC 5104 4.3.1.2). */
static void test_fir_repeats_ignored(void)
{
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = VPT, .ssrc = SSRC };
    rtc_rtp_sender *s;
    ASSERT_OK(rtc_rtp_sender_new(&s, &sc, 0));
    int requests = 0;
    uint8_t seqs[] = { 7, 7, 7, 8, 8, 9 };
    for (size_t i = 0; i < sizeof seqs; i++) {
        uint8_t pkt[64];
        rtc_rtcp_fir_entry fe = { SSRC, seqs[i] };
        int n = rtc_rtcp_write_fir(pkt, sizeof pkt, LOCAL, &fe, 1);
        rtc_rtcp_view v[2];
        ASSERT_EQ(rtc_rtcp_parse_compound(pkt, (size_t)n, v, 2), 1);
        ASSERT_OK(rtc_rtp_sender_handle_rtcp(s, &v[0], (rtc_time)i));
        rtc_rtp_sender_event ev;
        while (rtc_rtp_sender_poll_event(s, &ev)) if (ev.type == RTC_RTP_SEND_EV_KEYFRAME_REQUESTED) requests++;
    }
    rtc_rtp_sender_stats st;
    rtc_rtp_sender_get_stats(s, &st);
    ASSERT_EQ(requests, 3);
    ASSERT_EQ(st.firs_received, 3);
    ASSERT_EQ(st.firs_repeated, 3);
    rtc_rtp_sender_free(s);
}

/* BYE: SR + SDES + BYE naming the media and RTX SSRCs, once; no SR after it. */
static void test_bye(void)
{
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = VPT, .ssrc = SSRC, .rtx_pt = 97, .rtx_ssrc = RTX_SSRC,
                                 .cname = "cn" };
    rtc_rtp_sender *s;
    rtc_time now = RTC_SEC(1);
    ASSERT_OK(rtc_rtp_sender_new(&s, &sc, now));
    uint8_t frame[100] = { 0x10 };
    ASSERT_EQ(rtc_rtp_sender_send_frame(s, frame, sizeof frame, 0, NULL, now), 1);
    rtc_rtp_out o;
    while (rtc_rtp_sender_poll_transmit(s, &o)) rtc_buf_unref(o.buf);
    rtc_rtp_sender_bye(s, now);
    rtc_rtp_sender_bye(s, now);
    ASSERT_EQ(rtc_rtp_sender_poll_transmit(s, &o), 1);
    ASSERT(o.rtcp);
    rtc_rtcp_view v[4];
    ASSERT_EQ(rtc_rtcp_parse_compound(o.buf->data, o.buf->len, v, 4), 3);
    ASSERT_EQ(v[0].pt, RTC_RTCP_SR);
    ASSERT_EQ(v[1].pt, RTC_RTCP_SDES);
    ASSERT_EQ(v[2].pt, RTC_RTCP_BYE);
    rtc_rtcp_bye b;
    ASSERT_OK(rtc_rtcp_read_bye(&v[2], &b));
    ASSERT_EQ(b.count, 2);
    ASSERT_EQ(b.ssrc[0], SSRC);
    ASSERT_EQ(b.ssrc[1], RTX_SSRC);
    rtc_buf *bye = o.buf;                               /* v[] points into it */
    ASSERT_EQ(rtc_rtp_sender_poll_transmit(s, &o), 0);
    ASSERT_EQ(rtc_rtp_sender_poll_timeout(s), RTC_TIME_NEVER);
    rtc_rtp_sender_handle_timeout(s, now + RTC_SEC(5));
    ASSERT_EQ(rtc_rtp_sender_poll_transmit(s, &o), 0);
    rtc_rtp_sender_stats st;
    rtc_rtp_sender_get_stats(s, &st);
    ASSERT_EQ(st.byes_sent, 1);
    rtc_rtp_sender_free(s);

    /* The receiving side takes it as the sender leaving. */
    rtc_rtp_receiver_config rc = { .codec = RTC_CODEC_VP8, .pt = VPT, .ssrc = SSRC, .local_ssrc = LOCAL };
    rtc_rtp_receiver *r;
    ASSERT_OK(rtc_rtp_receiver_new(&r, &rc, now));
    ASSERT_OK(rtc_rtp_receiver_handle_rtcp(r, &v[2], now));
    rtc_rtp_receiver_event ev;
    ASSERT_EQ(rtc_rtp_receiver_poll_event(r, &ev), 1);
    ASSERT_EQ(ev.type, RTC_RTP_RECV_EV_BYE);
    rtc_rtp_receiver_free(r);
    rtc_buf_unref(bye);
}

/* TWCC feedback after an RR + SDES without rtcp-rsize, alone with it. */
static void test_twcc_compound(void)
{
    for (int compound = 0; compound < 2; compound++) {
        rtc_twcc_receiver_config tc = { .sender_ssrc = LOCAL, .media_ssrc = SSRC, .compound = compound, .cname = "cn" };
        rtc_twcc_receiver *t;
        ASSERT_OK(rtc_twcc_receiver_new(&t, &tc, 0));
        for (uint16_t i = 0; i < 20; i++) rtc_twcc_receiver_handle_packet(t, i, RTC_MS(i));
        rtc_twcc_receiver_handle_timeout(t, RTC_MS(60));
        uint8_t out[1500];
        int n = rtc_twcc_receiver_poll_transmit(t, out, sizeof out);
        ASSERT(n > 0);
        rtc_rtcp_view v[4];
        int k = rtc_rtcp_parse_compound(out, (size_t)n, v, 4);
        ASSERT_EQ(k, compound ? 3 : 1);
        if (compound) { ASSERT_EQ(v[0].pt, RTC_RTCP_RR); ASSERT_EQ(v[1].pt, RTC_RTCP_SDES); }
        ASSERT_EQ(v[k - 1].pt, RTC_RTCP_RTPFB);
        rtc_twcc_receiver_free(t);
    }
}

/* REMB for a goog-remb-only peer: about 500 kbit/s arriving without loss gives a
 * REMB each second that grows above the incoming rate but stays within 1.5x of it;
 * 20% loss brings it below the incoming rate; alone with rsize, else after an RR. */
static void test_remb(void)
{
    for (int rsize = 0; rsize < 2; rsize++) {
        rtc_time now = RTC_SEC(1);
        rtc_rtp_receiver_config c = { .codec = RTC_CODEC_VP8, .pt = VPT, .ssrc = SSRC, .local_ssrc = LOCAL,
                                      .cname = "cn", .remb = true, .rsize = rsize };
        rtc_rtp_receiver *r;
        ASSERT_OK(rtc_rtp_receiver_new(&r, &c, now));
        uint64_t last = 0, peak = 0;
        int rembs = 0;
        uint16_t seq = 0;
        for (int ms = 0; ms < 12000; ms += 10) {
            bool lossy = ms >= 8000;
            /* 10 ms of 500 kbit/s: 625 bytes, as one packet of 200 + payload. */
            uint8_t pay[605] = { 0x10, 0x01 };
            rtc_rtp_header h = { .pt = VPT, .seq = seq, .ts = (uint32_t)ms * 90u, .ssrc = SSRC, .marker = true };
            rtc_buf *b = rtc_buf_alloc(NULL, 1500);
            b->len = (size_t)rtc_rtp_write(b->data, b->cap, &h, pay, sizeof pay, 0);
            if (!(lossy && seq % 5 == 0)) feed(r, b, now); else rtc_buf_unref(b);
            seq++;
            now += RTC_MS(10);
            if (rtc_rtp_receiver_poll_timeout(r) <= now) rtc_rtp_receiver_handle_timeout(r, now);
            uint8_t out[1500];
            int n;
            while ((n = rtc_rtp_receiver_poll_rtcp(r, out, sizeof out)) > 0) {
                rtc_rtcp_view v[8];
                int k = rtc_rtcp_parse_compound(out, (size_t)n, v, 8);
                for (int i = 0; i < k; i++) {
                    rtc_rtcp_remb rb;
                    if (v[i].pt != RTC_RTCP_PSFB || rtc_rtcp_read_remb(&v[i], &rb) < 0) continue;
                    ASSERT_EQ(k, rsize ? 1 : 3);
                    ASSERT_EQ(rb.ssrc_count, 1);
                    ASSERT_EQ(rb.ssrc[0], SSRC);
                    rembs++;
                    last = rb.bitrate;
                    if (!lossy) {
                        ASSERT_LE(rb.bitrate, 500000 * 3 / 2 + 10000 + 5000);
                        if (rb.bitrate > peak) peak = rb.bitrate;
                    }
                }
            }
            rtc_jb_frame f;
            while (rtc_rtp_receiver_poll_frame(r, &f)) rtc_buf_unref(f.data);
        }
        ASSERT_GE(rembs, 10);
        ASSERT_GE(peak, 600000);                         /* grew past the 500 kbit/s arriving */
        ASSERT_LE(last, 400000);                         /* backed off under 20% loss (400 kbit/s arrive) */
        rtc_rtp_receiver_stats st;
        rtc_rtp_receiver_get_stats(r, &st);
        ASSERT_EQ(st.rembs_sent, (uint64_t)rembs);
        ASSERT_EQ(st.remb_bitrate, last);
        rtc_rtp_receiver_free(r);
    }
}

int main(void)
{
    RUN(test_fir_only);
    RUN(test_rsize);
    RUN(test_fir_repeats_ignored);
    RUN(test_bye);
    RUN(test_twcc_compound);
    RUN(test_remb);
    return 0;
}
