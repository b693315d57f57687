/* libFuzzer target: hostile datagrams into the stream machines. Each record is
 * [time step][len][bytes...]; bytes parse as RTCP go to both the sender and the
 * receiver, the rest to the receiver as RTP (media or RTX). Outputs are drained and
 * everything must be freed. */
#include "core/rtc_buf.h"
#include "rtp/rtp_receiver.h"
#include "rtp/rtp_sender.h"
#include "rtp/twcc.h"
#include <stdlib.h>

static void drain(rtc_rtp_sender *s, rtc_rtp_receiver *r)
{
    rtc_rtp_out o;
    while (rtc_rtp_sender_poll_transmit(s, &o)) rtc_buf_unref(o.buf);
    rtc_rtp_sender_event se;
    while (rtc_rtp_sender_poll_event(s, &se)) {}
    uint8_t out[1500];
    while (rtc_rtp_receiver_poll_rtcp(r, out, sizeof out) > 0) {}
    rtc_jb_frame f;
    while (rtc_rtp_receiver_poll_frame(r, &f)) rtc_buf_unref(f.data);
    rtc_rtp_receiver_event re;
    while (rtc_rtp_receiver_poll_event(r, &re)) {}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    rtc_codec_id c = (rtc_codec_id)(data[0] % RTC_CODEC__COUNT);
    rtc_rtp_sender *s;
    rtc_rtp_receiver *r;
    rtc_rtp_sender_config sc = { .codec = c, .pt = 96, .ssrc = 1, .rtx_pt = 97, .rtx_ssrc = 2, .history = 64,
                                 .cname = "s", .mid_id = 1, .mid = "0" };
    rtc_rtp_receiver_config rc = { .codec = c, .pt = 96, .ssrc = 1, .rtx_pt = 97, .rtx_ssrc = 2, .local_ssrc = 3,
                                   .nack = true, .pli = true, .cname = "r", .latency = RTC_MS(50),
                                   .wait_keyframe = data[0] & 0x80 };
    if (rtc_rtp_sender_new(&s, &sc, 0) < 0) return 0;
    if (rtc_rtp_receiver_new(&r, &rc, 0) < 0) { rtc_rtp_sender_free(s); return 0; }
    /* The TWCC receiver on the same bytes as transport seqs: whatever it writes parses. */
    rtc_twcc_receiver *tw;
    if (rtc_twcc_receiver_new(&tw, &(rtc_twcc_receiver_config){ .sender_ssrc = 9 }, 0) == 0) {
        rtc_time t = 0;
        for (size_t i = 1; i + 1 < size && i < 200; i += 2) {   /* bounded: ranges can be long */
            t += data[i] & 0x0F ? 1000 * (data[i] & 0x0F) : RTC_SEC(9);   /* sometimes huge gaps */
            rtc_twcc_receiver_handle_packet(tw, (uint16_t)(data[i] << 8 | data[i + 1]), t);
            if (rtc_twcc_receiver_poll_timeout(tw) <= t) rtc_twcc_receiver_handle_timeout(tw, t);
            uint8_t fbp[1200];
            int k;
            while ((k = rtc_twcc_receiver_poll_transmit(tw, fbp, sizeof fbp)) > 0) {
                rtc_rtcp_view v;
                rtc_twcc_feedback fb;
                static rtc_twcc_status st[2048];
                if (rtc_rtcp_parse_compound(fbp, (size_t)k, &v, 1) != 1) abort();
                if (rtc_twcc_parse(&v, &fb, st, 2048) <= 0) abort();
            }
            if (k < 0) abort();
        }
        rtc_twcc_receiver_free(tw);
    }
    static const uint8_t frame[3000];
    rtc_rtp_sender_send_frame(s, frame, sizeof frame, 0, NULL, 0);
    rtc_time now = 0;
    size_t off = 1;
    while (size - off >= 2) {
        now += data[off] * 1000;
        size_t len = data[off + 1];
        off += 2;
        if (len > size - off) len = size - off;
        rtc_rtcp_view v[8];
        int n = rtc_rtcp_is_rtcp(data + off, len) ? rtc_rtcp_parse_compound(data + off, len, v, 8) : -1;
        if (n > 0) {
            for (int i = 0; i < n; i++) {
                rtc_rtp_sender_handle_rtcp(s, &v[i], now);
                rtc_rtp_receiver_handle_rtcp(r, &v[i], now);
            }
        } else {
            rtc_buf *b = rtc_buf_from(data + off, len);
            if (b) { rtc_rtp_receiver_handle_rtp(r, b, now); rtc_buf_unref(b); }
        }
        off += len;
        rtc_rtp_sender_handle_timeout(s, now);
        rtc_rtp_receiver_handle_timeout(r, now);
        drain(s, r);
    }
    rtc_rtp_sender_free(s);
    rtc_rtp_receiver_free(r);
    return 0;
}
