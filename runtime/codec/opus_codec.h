/* libopus behind a small C API: encode PCM frames to Opus packets and decode them
 * (with packet loss concealment), plus helpers to check a packet's duration and
 * measure PCM level. Pure computation on caller buffers; each encoder/decoder owns
 * only its libopus state. */
#ifndef RTC_OPUS_CODEC_H
#define RTC_OPUS_CODEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_opus_encoder rtc_opus_encoder;
typedef struct rtc_opus_decoder rtc_opus_decoder;

typedef struct rtc_opus_encoder_config {
    int sample_rate;             /* 8000, 12000, 16000, 24000 or 48000; 0 = 48000 */
    int channels;                /* 1 or 2; 0 = 1 */
    int bitrate;                 /* bits/s; 0 = libopus default */
    bool voice;                  /* tune for speech (VOIP) rather than general audio */
    bool fec;                    /* in-band FEC (useful with packet loss) */
    bool dtx;                    /* discontinuous transmission in silence */
} rtc_opus_encoder_config;

/* RTC_EINVAL for unsupported parameters, RTC_ENOMEM. */
int rtc_opus_encoder_new(rtc_opus_encoder **out, const rtc_opus_encoder_config *cfg);
void rtc_opus_encoder_free(rtc_opus_encoder *e);     /* NULL-safe */
/* Encode one frame of `samples` per channel (2.5, 5, 10, 20, 40 or 60 ms), interleaved
 * PCM borrowed for the call, into out[0..cap). Returns the packet length (1-2 bytes
 * means DTX silence), RTC_EINVAL for a bad frame size, RTC_EOVERFLOW. */
int rtc_opus_encode(rtc_opus_encoder *e, const int16_t *pcm, int samples, uint8_t *out, size_t cap);

int rtc_opus_decoder_new(rtc_opus_decoder **out, int sample_rate, int channels);
void rtc_opus_decoder_free(rtc_opus_decoder *d);     /* NULL-safe */
/* Decode one packet (borrowed) into interleaved pcm with room for max_samples per
 * channel. pkt NULL (or len 0) asks for concealment of one lost packet of
 * max_samples. Returns samples per channel, or RTC_EPROTO for a corrupt packet,
 * RTC_EOVERFLOW when it would not fit. */
int rtc_opus_decode(rtc_opus_decoder *d, const uint8_t *pkt, size_t len, int16_t *pcm, int max_samples);

/* Samples per channel that a packet decodes to at sample_rate, or RTC_EPROTO. */
int rtc_opus_packet_samples(const uint8_t *pkt, size_t len, int sample_rate);
/* Root mean square of n samples, 0..32768 (a loudness measure for tests and stats). */
double rtc_pcm_rms(const int16_t *pcm, size_t n);

#endif
