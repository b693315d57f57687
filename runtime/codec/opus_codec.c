/* libopus encoder/decoder wrappers. */
#include "codec/opus_codec.h"
#include "core/rtc_errors.h"
#include <math.h>
#include <opus/opus.h>
#include <stdlib.h>

struct rtc_opus_encoder { OpusEncoder *enc; int channels, rate; };
struct rtc_opus_decoder { OpusDecoder *dec; int channels, rate; };

static bool opus__rate_ok(int r) { return r == 8000 || r == 12000 || r == 16000 || r == 24000 || r == 48000; }

int rtc_opus_encoder_new(rtc_opus_encoder **out, const rtc_opus_encoder_config *cfg)
{
    rtc_opus_encoder_config c = cfg ? *cfg : (rtc_opus_encoder_config){0};
    if (!out) return RTC_EINVAL;
    if (!c.sample_rate) c.sample_rate = 48000;
    if (!c.channels) c.channels = 1;
    if (!opus__rate_ok(c.sample_rate) || c.channels < 1 || c.channels > 2 || c.bitrate < 0) return RTC_EINVAL;
    rtc_opus_encoder *e = calloc(1, sizeof *e);
    if (!e) return RTC_ENOMEM;
    int err;
    e->enc = opus_encoder_create(c.sample_rate, c.channels,
                                 c.voice ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO, &err);
    if (!e->enc) { free(e); return err == OPUS_ALLOC_FAIL ? RTC_ENOMEM : RTC_EINVAL; }
    if (c.bitrate) opus_encoder_ctl(e->enc, OPUS_SET_BITRATE(c.bitrate));
    opus_encoder_ctl(e->enc, OPUS_SET_INBAND_FEC(c.fec ? 1 : 0));
    opus_encoder_ctl(e->enc, OPUS_SET_DTX(c.dtx ? 1 : 0));
    if (c.fec) opus_encoder_ctl(e->enc, OPUS_SET_PACKET_LOSS_PERC(10));
    e->channels = c.channels;
    e->rate = c.sample_rate;
    *out = e;
    return 0;
}

void rtc_opus_encoder_free(rtc_opus_encoder *e)
{
    if (!e) return;
    opus_encoder_destroy(e->enc);
    free(e);
}

int rtc_opus_encode(rtc_opus_encoder *e, const int16_t *pcm, int samples, uint8_t *out, size_t cap)
{
    if (!e || !pcm || !out) return RTC_EINVAL;
    /* Legal durations: 2.5 ms times 1, 2, 4, 8, 16, 24. */
    int unit = e->rate / 400;
    int k = unit ? samples / unit : 0;
    if (samples <= 0 || samples % unit || (k != 1 && k != 2 && k != 4 && k != 8 && k != 16 && k != 24))
        return RTC_EINVAL;
    opus_int32 room = cap > 4000 ? 4000 : (opus_int32)cap;
    int n = opus_encode(e->enc, pcm, samples, out, room);
    if (n == OPUS_BUFFER_TOO_SMALL) return RTC_EOVERFLOW;
    return n < 0 ? RTC_EINVAL : n;
}

int rtc_opus_decoder_new(rtc_opus_decoder **out, int sample_rate, int channels)
{
    if (!out) return RTC_EINVAL;
    if (!sample_rate) sample_rate = 48000;
    if (!channels) channels = 1;
    if (!opus__rate_ok(sample_rate) || channels < 1 || channels > 2) return RTC_EINVAL;
    rtc_opus_decoder *d = calloc(1, sizeof *d);
    if (!d) return RTC_ENOMEM;
    int err;
    d->dec = opus_decoder_create(sample_rate, channels, &err);
    if (!d->dec) { free(d); return err == OPUS_ALLOC_FAIL ? RTC_ENOMEM : RTC_EINVAL; }
    d->channels = channels;
    d->rate = sample_rate;
    *out = d;
    return 0;
}

void rtc_opus_decoder_free(rtc_opus_decoder *d)
{
    if (!d) return;
    opus_decoder_destroy(d->dec);
    free(d);
}

int rtc_opus_decode(rtc_opus_decoder *d, const uint8_t *pkt, size_t len, int16_t *pcm, int max_samples)
{
    if (!d || !pcm || max_samples <= 0) return RTC_EINVAL;
    if (pkt && len) {
        if (len > 0x7FFFFFFF) return RTC_ETOOBIG;
        int need = opus_decoder_get_nb_samples(d->dec, pkt, (opus_int32)len);
        if (need < 0) return RTC_EPROTO;
        if (need > max_samples) return RTC_EOVERFLOW;
    } else {
        pkt = NULL;
        len = 0;
        /* Concealment must cover a whole number of 2.5 ms units. */
        max_samples -= max_samples % (d->rate / 400);
        if (max_samples <= 0) return RTC_EINVAL;
    }
    int n = opus_decode(d->dec, pkt, (opus_int32)len, pcm, max_samples, 0);
    if (n == OPUS_BUFFER_TOO_SMALL) return RTC_EOVERFLOW;
    return n < 0 ? RTC_EPROTO : n;
}

int rtc_opus_packet_samples(const uint8_t *pkt, size_t len, int sample_rate)
{
    if (!pkt || len == 0 || len > 0x7FFFFFFF || !opus__rate_ok(sample_rate)) return RTC_EPROTO;
    int n = opus_packet_get_nb_samples(pkt, (opus_int32)len, sample_rate);
    return n < 0 ? RTC_EPROTO : n;
}

double rtc_pcm_rms(const int16_t *pcm, size_t n)
{
    if (!pcm || n == 0) return 0;
    double acc = 0;
    for (size_t i = 0; i < n; i++) acc += (double)pcm[i] * pcm[i];
    return sqrt(acc / (double)n);
}
