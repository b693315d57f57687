/* codec/opus_codec: a tone through libopus, RTP packetization and back; concealment;
 * corrupt packets; parameter checks. */
#include "rtc_test.h"
#include "codec/codec.h"
#include "codec/opus_codec.h"
#include "core/rtc_errors.h"
#include <math.h>

static void test_tone_roundtrip(void)
{
    rtc_opus_encoder *e;
    rtc_opus_decoder *d;
    ASSERT_EQ(rtc_opus_encoder_new(&e, &(rtc_opus_encoder_config){ .bitrate = 32000 }), 0);
    ASSERT_EQ(rtc_opus_decoder_new(&d, 48000, 1), 0);
    int16_t in[960], out[5760];
    double rms_in = 0, rms_out = 0;
    int frames = 0, samples_out = 0;
    for (int f = 0; f < 50; f++) {                      /* 1 s of 440 Hz at about -12 dBFS */
        for (int i = 0; i < 960; i++)
            in[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * (f * 960 + i) / 48000.0));
        uint8_t pkt[1500];
        int n = rtc_opus_encode(e, in, 960, pkt, sizeof pkt);
        ASSERT(n > 2 && n < 400);
        ASSERT_EQ(rtc_opus_packet_samples(pkt, (size_t)n, 48000), 960);
        /* Through the RTP payload format and back. */
        rtc_packetizer pk;
        ASSERT_EQ(rtc_packetizer_init(&pk, RTC_CODEC_OPUS, pkt, (size_t)n, 1200, NULL), 0);
        uint8_t pl[1200];
        bool last;
        int pn = rtc_packetizer_next(&pk, pl, sizeof pl, &last);
        ASSERT_EQ(pn, n); ASSERT(last);
        rtc_iov iov = { pl, (size_t)pn };
        uint8_t fr[1500];
        ASSERT_EQ(rtc_depack_assemble(RTC_CODEC_OPUS, &iov, 1, fr, sizeof fr), n);
        int s = rtc_opus_decode(d, fr, (size_t)n, out, 5760);
        ASSERT_EQ(s, 960);
        samples_out += s;
        if (f >= 10) {                                  /* after the codec has settled */
            rms_in += rtc_pcm_rms(in, 960);
            rms_out += rtc_pcm_rms(out, 960);
            frames++;
        }
    }
    rms_in /= frames; rms_out /= frames;
    ASSERT_EQ(samples_out, 48000);
    ASSERT(rms_in > 5600 && rms_in < 5700);             /* 8000 / sqrt(2) */
    ASSERT(rms_out > rms_in * 0.8 && rms_out < rms_in * 1.2);
    /* A lost packet: concealment produces a frame of sound, not silence. */
    int s = rtc_opus_decode(d, NULL, 0, out, 960);
    ASSERT_EQ(s, 960);
    ASSERT(rtc_pcm_rms(out, 960) > 100);
    rtc_opus_encoder_free(e);
    rtc_opus_decoder_free(d);
}

static void test_errors(void)
{
    rtc_opus_encoder *e;
    rtc_opus_decoder *d;
    ASSERT_EQ(rtc_opus_encoder_new(&e, &(rtc_opus_encoder_config){ .sample_rate = 44100 }), RTC_EINVAL);
    ASSERT_EQ(rtc_opus_encoder_new(&e, &(rtc_opus_encoder_config){ .channels = 3 }), RTC_EINVAL);
    ASSERT_EQ(rtc_opus_decoder_new(&d, 22050, 1), RTC_EINVAL);
    ASSERT_EQ(rtc_opus_encoder_new(&e, &(rtc_opus_encoder_config){ .channels = 2, .voice = true, .fec = true, .dtx = true }), 0);
    ASSERT_EQ(rtc_opus_decoder_new(&d, 48000, 2), 0);
    int16_t pcm[2 * 2880] = {0};
    uint8_t pkt[1500];
    ASSERT_EQ(rtc_opus_encode(e, pcm, 961, pkt, sizeof pkt), RTC_EINVAL);   /* not a legal duration */
    ASSERT_EQ(rtc_opus_encode(e, pcm, 0, pkt, sizeof pkt), RTC_EINVAL);
    int n = rtc_opus_encode(e, pcm, 2880, pkt, sizeof pkt);                 /* 60 ms of silence */
    ASSERT(n > 0);
    ASSERT_EQ(rtc_opus_decode(d, pkt, (size_t)n, pcm, 960), RTC_EOVERFLOW);  /* 2880 do not fit */
    ASSERT_EQ(rtc_opus_decode(d, pkt, (size_t)n, pcm, 2880), 2880);
    static const uint8_t bad[] = { 0xFF, 0xFF, 0xFF };  /* code 3 with an impossible frame count */
    ASSERT_EQ(rtc_opus_decode(d, bad, sizeof bad, pcm, 2880), RTC_EPROTO);
    ASSERT_EQ(rtc_opus_packet_samples(bad, 0, 48000), RTC_EPROTO);
    ASSERT_EQ(rtc_opus_decode(d, NULL, 0, pcm, 1), RTC_EINVAL);            /* less than 2.5 ms */
    ASSERT(rtc_pcm_rms(NULL, 0) == 0);
    rtc_opus_encoder_free(e);
    rtc_opus_decoder_free(d);
    rtc_opus_encoder_free(NULL);
    rtc_opus_decoder_free(NULL);
}

int main(void)
{
    RUN(test_tone_roundtrip);
    RUN(test_errors);
    return 0;
}
