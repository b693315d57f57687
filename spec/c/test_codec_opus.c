/* codec/opus_codec: a tone through libopus, RTP packetization and back; concealment;
 * corrupt packets; parameter checks; fmtp to encoder settings; the stream decoder
 * that turns packets with RTP timestamps (and losses) into continuous PCM. */
#include "rtc_test.h"
#include "codec/codec.h"
#include "codec/opus_codec.h"
#include "core/rtc_errors.h"
#include <math.h>
#include <string.h>

static bool rtc_opus_pcm_all_zero_for_test(const int16_t *p, int n)
{
    for (int i = 0; i < n; i++) if (p[i]) return false;
    return true;
}

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

static void test_fmtp(void)
{
    rtc_opus_encoder_config c = { .channels = 2 };
    rtc_opus_fmtp_apply("minptime=10;useinbandfec=1", &c);
    ASSERT(c.fec); ASSERT(!c.dtx); ASSERT(c.force_mono); ASSERT(!c.cbr);
    ASSERT_EQ(c.bitrate, 0); ASSERT_EQ(c.max_bandwidth_hz, 0);
    c = (rtc_opus_encoder_config){ .channels = 2, .bitrate = 64000 };
    rtc_opus_fmtp_apply(" usedtx=1; stereo=1 ;MaxAverageBitrate=20000;cbr=1;maxplaybackrate=16000;useinbandfec=0", &c);
    ASSERT(c.dtx); ASSERT(!c.fec); ASSERT(!c.force_mono); ASSERT(c.cbr);
    ASSERT_EQ(c.bitrate, 20000); ASSERT_EQ(c.max_bandwidth_hz, 16000);
    c = (rtc_opus_encoder_config){ .bitrate = 16000 };
    rtc_opus_fmtp_apply("maxaveragebitrate=40000;usedtx=2;stereo", &c);   /* a cap only lowers; odd values */
    ASSERT_EQ(c.bitrate, 16000); ASSERT(!c.dtx); ASSERT(c.force_mono);
    rtc_opus_fmtp_apply("maxaveragebitrate=999999999999;maxplaybackrate=x", &c);
    ASSERT_EQ(c.bitrate, 16000); ASSERT_EQ(c.max_bandwidth_hz, 0);
    rtc_opus_fmtp_apply(NULL, &c);
    ASSERT(!c.fec && !c.dtx);
    rtc_opus_fmtp_apply(";;=;a;=1;", &c);
    rtc_opus_fmtp_apply("x", NULL);

    /* The settings reach libopus: read them back from the encoder itself. */
    rtc_opus_encoder *e;
    rtc_opus_encoder_info info;
    c = (rtc_opus_encoder_config){ .channels = 2 };
    rtc_opus_fmtp_apply("useinbandfec=1;usedtx=1;maxaveragebitrate=24000;maxplaybackrate=24000", &c);
    ASSERT_EQ(rtc_opus_encoder_new(&e, &c), 0);
    rtc_opus_encoder_get_info(e, &info);
    ASSERT(info.fec); ASSERT(info.dtx); ASSERT(info.force_mono); ASSERT(!info.cbr);
    ASSERT_EQ(info.bitrate, 24000); ASSERT_EQ(info.channels, 2); ASSERT_EQ(info.max_bandwidth_hz, 24000);
    ASSERT(info.packet_loss_perc > 0);
    rtc_opus_encoder_free(e);
    ASSERT_EQ(rtc_opus_encoder_new(&e, &(rtc_opus_encoder_config){ .cbr = true }), 0);
    rtc_opus_encoder_get_info(e, &info);
    ASSERT(!info.fec); ASSERT(!info.dtx); ASSERT(info.cbr); ASSERT(!info.force_mono);
    ASSERT_EQ(info.max_bandwidth_hz, 48000);
    rtc_opus_encoder_free(e);
    rtc_opus_encoder_get_info(NULL, &info);
    ASSERT_EQ(info.channels, 0);
}

/* DTX: digital silence stops producing packets worth sending (1-2 bytes). */
static void test_dtx(void)
{
    rtc_opus_encoder *on, *off;
    ASSERT_EQ(rtc_opus_encoder_new(&on, &(rtc_opus_encoder_config){ .dtx = true }), 0);
    ASSERT_EQ(rtc_opus_encoder_new(&off, &(rtc_opus_encoder_config){ 0 }), 0);
    int16_t z[960] = {0};
    uint8_t pkt[1500];
    int sent_on = 0, sent_off = 0;
    for (int f = 0; f < 100; f++) {
        int a = rtc_opus_encode(on, z, 960, pkt, sizeof pkt), b = rtc_opus_encode(off, z, 960, pkt, sizeof pkt);
        ASSERT(a > 0 && b > 0);
        sent_on += a > 2;
        sent_off += b > 2;
    }
    rtc_opus_encoder_info info;
    rtc_opus_encoder_get_info(on, &info);
    ASSERT(info.in_dtx);
    ASSERT_EQ(sent_off, 100);
    ASSERT(sent_on < 20);
    rtc_opus_encoder_free(on);
    rtc_opus_encoder_free(off);
}

/* Encode n frames of a 440 Hz tone (20 ms each). */
static int tone_packets(bool fec, uint8_t pkts[][400], int *lens, int n)
{
    rtc_opus_encoder *e;
    rtc_opus_encoder_config c = { .bitrate = 32000, .voice = true, .fec = fec };
    ASSERT_EQ(rtc_opus_encoder_new(&e, &c), 0);
    int16_t in[960];
    for (int f = 0; f < n; f++) {
        for (int i = 0; i < 960; i++) in[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * (f * 960 + i) / 48000.0));
        lens[f] = rtc_opus_encode(e, in, 960, pkts[f], 400);
        ASSERT(lens[f] > 2);
    }
    rtc_opus_encoder_free(e);
    return 0;
}

static void test_stream(void)
{
    enum { N = 60 };
    static uint8_t pkts[N][400];
    static int lens[N];
    tone_packets(true, pkts, lens, N);
    rtc_opus_stream *s;
    ASSERT_EQ(rtc_opus_stream_new(&s, 3, 0), RTC_EINVAL);
    ASSERT_EQ(rtc_opus_stream_new(&s, 1, 0), 0);
    ASSERT_EQ(rtc_opus_stream_channels(s), 1);
    static int16_t pcm[RTC_OPUS_CHUNK_MAX];
    rtc_opus_chunk ch;
    uint32_t base = 0xFFFFF000u;                     /* the timestamps wrap during the test */
    uint32_t expect = base;
    int kinds[3] = {0}, chunks = 0;
    double rms_fec = 0;
    for (int f = 0; f < N; f++) {
        if (f == 20 || f == 40 || f == 41 || f == 42) continue;   /* lost */
        ASSERT_EQ(rtc_opus_stream_handle_packet(s, pkts[f], (size_t)lens[f], base + (uint32_t)f * 960), 0);
        ASSERT_EQ(rtc_opus_stream_handle_packet(s, pkts[f], (size_t)lens[f], base + (uint32_t)f * 960), RTC_ESTATE);
        while (rtc_opus_stream_poll_pcm(s, pcm, &ch)) {
            ASSERT_EQ(ch.ts, expect);                   /* no hole, no overlap */
            ASSERT(!ch.discontinuity);
            ASSERT(ch.samples > 0 && ch.samples <= 960);
            expect += (uint32_t)ch.samples;
            kinds[ch.kind]++;
            chunks++;
            if (ch.kind == RTC_OPUS_FEC) rms_fec += rtc_pcm_rms(pcm, (size_t)ch.samples);
        }
    }
    ASSERT_EQ(expect, base + N * 960u);
    ASSERT_EQ(kinds[RTC_OPUS_DECODED], N - 4);
    ASSERT_EQ(kinds[RTC_OPUS_FEC], 2);               /* frame 20, and 42 (the last of three) */
    ASSERT_EQ(kinds[RTC_OPUS_CONCEALED], 2);         /* 40 and 41 */
    ASSERT(rms_fec / 2 > 2000);                      /* the redundancy carried the tone */
    rtc_opus_stream_stats st;
    rtc_opus_stream_get_stats(s, &st);
    ASSERT_EQ(st.packets, (uint64_t)N - 4);
    ASSERT_EQ(st.fec_samples, 2 * 960u);
    ASSERT_EQ(st.concealed_samples, 2 * 960u);
    ASSERT_EQ(st.decoded_samples, (uint64_t)(N - 4) * 960);

    /* Late and duplicate packets are dropped; so is garbage, without moving time. */
    ASSERT_EQ(rtc_opus_stream_handle_packet(s, pkts[5], (size_t)lens[5], base + 5 * 960), RTC_EIGNORED);
    ASSERT_EQ(rtc_opus_stream_handle_packet(s, pkts[59], (size_t)lens[59], base + 59 * 960), RTC_EIGNORED);
    static const uint8_t bad[] = { 0xFF, 0xFF, 0xFF };
    ASSERT_EQ(rtc_opus_stream_handle_packet(s, bad, sizeof bad, expect), RTC_EPROTO);
    ASSERT_EQ(rtc_opus_stream_handle_packet(s, NULL, 0, expect), RTC_EPROTO);
    static uint8_t big[5000];
    ASSERT_EQ(rtc_opus_stream_handle_packet(s, big, sizeof big, expect), RTC_ETOOBIG);
    ASSERT(!rtc_opus_stream_poll_pcm(s, pcm, &ch));
    /* A gap of a fraction of a unit (odd timestamps) is filled with silence. */
    ASSERT_EQ(rtc_opus_stream_handle_packet(s, pkts[0], (size_t)lens[0], expect + 50), 0);
    ASSERT(rtc_opus_stream_poll_pcm(s, pcm, &ch));
    ASSERT_EQ(ch.samples, 50); ASSERT_EQ(ch.kind, RTC_OPUS_CONCEALED); ASSERT_EQ(ch.ts, expect);
    ASSERT(rtc_opus_pcm_all_zero_for_test(pcm, 50));
    ASSERT(rtc_opus_stream_poll_pcm(s, pcm, &ch));
    ASSERT_EQ(ch.kind, RTC_OPUS_DECODED); ASSERT_EQ(ch.ts, expect + 50);
    ASSERT(!rtc_opus_stream_poll_pcm(s, pcm, &ch));
    expect += 50 + 960;
    /* A jump beyond max_gap (1 s): restart, no fill. */
    ASSERT_EQ(rtc_opus_stream_handle_packet(s, pkts[1], (size_t)lens[1], expect + 48001), 0);
    ASSERT(rtc_opus_stream_poll_pcm(s, pcm, &ch));
    ASSERT(ch.discontinuity); ASSERT_EQ(ch.ts, expect + 48001); ASSERT_EQ(ch.kind, RTC_OPUS_DECODED);
    ASSERT(!rtc_opus_stream_poll_pcm(s, pcm, &ch));
    /* A packet that parses but does not decode is concealed at its duration. */
    uint8_t broken[400];
    memcpy(broken, pkts[2], (size_t)lens[2]);
    ASSERT_EQ(rtc_opus_stream_handle_packet(s, broken, 2, expect + 48001 + 960), 0);  /* TOC + 1 byte of a long frame */
    ASSERT(rtc_opus_stream_poll_pcm(s, pcm, &ch));
    ASSERT_EQ(ch.samples, 960);
    ASSERT(!rtc_opus_stream_poll_pcm(s, pcm, &ch));
    rtc_opus_stream_get_stats(s, &st);
    ASSERT_EQ(st.late, 2u); ASSERT_EQ(st.restarts, 1u); ASSERT(st.corrupt >= 3);
    rtc_opus_stream_free(s);
    rtc_opus_stream_free(NULL);

    /* Without FEC in the packets the FEC path still yields sound (libopus conceals). */
    tone_packets(false, pkts, lens, 10);
    ASSERT_EQ(rtc_opus_stream_new(&s, 2, 960 * 3), 0);
    expect = 0;
    for (int f = 0; f < 10; f++) {
        if (f == 5) continue;
        ASSERT_EQ(rtc_opus_stream_handle_packet(s, pkts[f], (size_t)lens[f], (uint32_t)f * 960), 0);
        while (rtc_opus_stream_poll_pcm(s, pcm, &ch)) { ASSERT_EQ(ch.ts, expect); expect += (uint32_t)ch.samples; }
    }
    ASSERT_EQ(expect, 9600u);
    rtc_opus_stream_free(s);
}

int main(void)
{
    RUN(test_tone_roundtrip);
    RUN(test_errors);
    RUN(test_fmtp);
    RUN(test_dtx);
    RUN(test_stream);
    return 0;
}
