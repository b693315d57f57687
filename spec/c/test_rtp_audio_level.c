/* Sending the RFC 6464 audio level: the level measured from s16 samples, and the RTP
 * sender writing the ssrc-audio-level extension on the packets of a frame whose
 * level was given (once: the next frame goes without), with the negotiated id only. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_sender.h"
#include <string.h>

static void test_level_of_samples(void)
{
    int16_t s[960];
    for (int i = 0; i < 960; i++) s[i] = (i & 1) ? 32767 : -32767;   /* full-scale square */
    ASSERT_EQ(rtc_audio_level_of_s16(s, 960), 0);
    for (int i = 0; i < 960; i++) s[i] = (i & 1) ? 3277 : -3277;     /* a tenth: -20 dBov */
    ASSERT_EQ(rtc_audio_level_of_s16(s, 960), 20);
    memset(s, 0, sizeof s);
    ASSERT_EQ(rtc_audio_level_of_s16(s, 960), 127);
    ASSERT_EQ(rtc_audio_level_of_s16(s, 0), 127);
    for (int i = 0; i < 960; i++) s[i] = 1;                           /* the quietest: -90 dBov */
    ASSERT_EQ(rtc_audio_level_of_s16(s, 960), 90);
    uint8_t odd[3] = { 0, 0x10, 0 };                                  /* any alignment */
    ASSERT(rtc_audio_level_of_s16(odd + 1, 1) < 127);
}

/* The raw level byte of the one packet queued, or -1 without the extension. */
static int sent_level(rtc_rtp_sender *s, uint8_t id)
{
    rtc_rtp_out o;
    int level = -2, n = 0;
    while (rtc_rtp_sender_poll_transmit(s, &o)) {
        if (!o.rtcp) {
            rtc_rtp_packet p;
            ASSERT_OK(rtc_rtp_parse(&p, o.buf->data, o.buf->len));
            const rtc_rtp_ext *e = rtc_rtp_find_ext(&p.h, id);
            bool voice; uint8_t lv;
            level = e && rtc_ext_read_audio_level(e, &voice, &lv) == 0 ? (voice ? 0x80 : 0) | lv : -1;
            n++;
        }
        rtc_buf_unref(o.buf);
    }
    ASSERT_EQ(n, 1);
    return level;
}

static void test_sender_writes_the_extension(void)
{
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 0x1234, .mid_id = 4, .mid = "0",
                                 .audio_level_id = 1 };
    rtc_rtp_sender *s;
    ASSERT_OK(rtc_rtp_sender_new(&s, &sc, 0));
    static const uint8_t frame[40] = { 0xf8 };
    rtc_rtp_sender_set_audio_level(s, 33, true);
    ASSERT_EQ(rtc_rtp_sender_send_frame(s, frame, sizeof frame, 0, NULL, 0), 1);
    ASSERT_EQ(sent_level(s, 1), 0x80 | 33);
    ASSERT_EQ(rtc_rtp_sender_send_frame(s, frame, sizeof frame, 960, NULL, RTC_MS(20)), 1);
    ASSERT_EQ(sent_level(s, 1), -1);                       /* once only */
    rtc_rtp_sender_set_audio_level(s, 200, false);         /* clamped to silence */
    ASSERT_EQ(rtc_rtp_sender_send_frame(s, frame, sizeof frame, 1920, NULL, RTC_MS(40)), 1);
    ASSERT_EQ(sent_level(s, 1), 127);
    rtc_rtp_sender_free(s);

    sc.audio_level_id = 0;                                 /* not negotiated: never written */
    ASSERT_OK(rtc_rtp_sender_new(&s, &sc, 0));
    rtc_rtp_sender_set_audio_level(s, 10, true);
    ASSERT_EQ(rtc_rtp_sender_send_frame(s, frame, sizeof frame, 0, NULL, 0), 1);
    ASSERT_EQ(sent_level(s, 1), -1);
    rtc_rtp_sender_free(s);
}

int main(void)
{
    RUN(test_level_of_samples);
    RUN(test_sender_writes_the_extension);
    return 0;
}
