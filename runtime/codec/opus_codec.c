/* libopus encoder/decoder wrappers. */
#include "codec/opus_codec.h"
#include "core/rtc_errors.h"
#include <math.h>
#include <opus/opus.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    if (c.cbr) opus_encoder_ctl(e->enc, OPUS_SET_VBR(0));
    if (c.force_mono && c.channels == 2) opus_encoder_ctl(e->enc, OPUS_SET_FORCE_CHANNELS(1));
    if (c.max_bandwidth_hz > 0) {
        int bw = c.max_bandwidth_hz <= 8000 ? OPUS_BANDWIDTH_NARROWBAND
               : c.max_bandwidth_hz <= 12000 ? OPUS_BANDWIDTH_MEDIUMBAND
               : c.max_bandwidth_hz <= 16000 ? OPUS_BANDWIDTH_WIDEBAND
               : c.max_bandwidth_hz <= 24000 ? OPUS_BANDWIDTH_SUPERWIDEBAND : OPUS_BANDWIDTH_FULLBAND;
        opus_encoder_ctl(e->enc, OPUS_SET_MAX_BANDWIDTH(bw));
    }
    e->channels = c.channels;
    e->rate = c.sample_rate;
    *out = e;
    return 0;
}

/* fmtp values are small integers; anything unparsable reads as 0. */
static long opus__fmtp_int(const char *v, size_t n)
{
    long x = 0;
    for (size_t i = 0; i < n && v[i] >= '0' && v[i] <= '9' && x < 100000000; i++) x = x * 10 + (v[i] - '0');
    return x;
}

static bool opus__key(const char *k, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

void rtc_opus_fmtp_apply(const char *fmtp, rtc_opus_encoder_config *c)
{
    if (!c) return;
    bool dtx = false, fec = false, stereo = false, cbr = false;
    long maxbr = 0, maxrate = 0;
    for (const char *p = fmtp; p && *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *k = p, *eq = memchr(p, '=', len);
        while (k < p + len && (*k == ' ' || *k == '\t')) k++;
        if (eq) {
            size_t kn = (size_t)(eq - k);
            while (kn && (k[kn - 1] == ' ' || k[kn - 1] == '\t')) kn--;
            const char *v = eq + 1;
            while (v < p + len && *v == ' ') v++;
            size_t vn = (size_t)(p + len - v);
            long x = opus__fmtp_int(v, vn);
            if (opus__key(k, kn, "usedtx")) dtx = x == 1;
            else if (opus__key(k, kn, "useinbandfec")) fec = x == 1;
            else if (opus__key(k, kn, "stereo")) stereo = x == 1;
            else if (opus__key(k, kn, "cbr")) cbr = x == 1;
            else if (opus__key(k, kn, "maxaveragebitrate")) maxbr = x;
            else if (opus__key(k, kn, "maxplaybackrate")) maxrate = x;
        }
        p = end ? end + 1 : p + len;
    }
    c->dtx = dtx;
    c->fec = fec;
    c->force_mono = !stereo;     /* RFC 7587: no stereo parameter means the receiver prefers mono */
    c->cbr = cbr;
    /* RFC 7587 range for maxaveragebitrate: 6000..510000. */
    if (maxbr >= 6000 && maxbr <= 510000 && (c->bitrate == 0 || c->bitrate > maxbr)) c->bitrate = (int)maxbr;
    if (maxrate >= 8000 && maxrate < 48000) c->max_bandwidth_hz = (int)maxrate;
}

void rtc_opus_encoder_get_info(rtc_opus_encoder *e, rtc_opus_encoder_info *out)
{
    memset(out, 0, sizeof *out);
    if (!e) return;
    opus_int32 v = 0;
    out->channels = e->channels;
    out->sample_rate = e->rate;
    opus_encoder_ctl(e->enc, OPUS_GET_BITRATE(&v)); out->bitrate = v;
    opus_encoder_ctl(e->enc, OPUS_GET_INBAND_FEC(&v)); out->fec = v != 0;
    opus_encoder_ctl(e->enc, OPUS_GET_DTX(&v)); out->dtx = v != 0;
    opus_encoder_ctl(e->enc, OPUS_GET_VBR(&v)); out->cbr = v == 0;
    opus_encoder_ctl(e->enc, OPUS_GET_FORCE_CHANNELS(&v)); out->force_mono = v == 1;
    opus_encoder_ctl(e->enc, OPUS_GET_PACKET_LOSS_PERC(&v)); out->packet_loss_perc = v;
    opus_encoder_ctl(e->enc, OPUS_GET_MAX_BANDWIDTH(&v));
    out->max_bandwidth_hz = v == OPUS_BANDWIDTH_NARROWBAND ? 8000 : v == OPUS_BANDWIDTH_MEDIUMBAND ? 12000
                          : v == OPUS_BANDWIDTH_WIDEBAND ? 16000 : v == OPUS_BANDWIDTH_SUPERWIDEBAND ? 24000 : 48000;
    v = 0;
    if (opus_encoder_ctl(e->enc, OPUS_GET_IN_DTX(&v)) == OPUS_OK) out->in_dtx = v != 0;
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

int rtc_opus_decode_fec(rtc_opus_decoder *d, const uint8_t *pkt, size_t len, int16_t *pcm, int samples)
{
    if (!d || !pkt || !len || !pcm || samples <= 0 || samples % (d->rate / 400) || samples > d->rate * 120 / 1000)
        return RTC_EINVAL;
    if (len > 0x7FFFFFFF) return RTC_ETOOBIG;
    int n = opus_decode(d->dec, pkt, (opus_int32)len, pcm, samples, 1);
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

/* ====== one received stream to continuous PCM ====== */
#define OPUS__MAX_PKT 4000       /* above the largest packet libopus writes (3828 bytes) */
#define OPUS__UNIT 120           /* 2.5 ms at 48 kHz: the concealment granularity */
#define OPUS__CHUNK 960          /* concealment comes out in 20 ms pieces */

struct rtc_opus_stream {
    rtc_opus_decoder *dec;
    int channels, max_gap;
    bool started, have_pkt, disc;
    uint32_t next_ts;            /* RTP time of the next sample to produce */
    int gap;                     /* samples still to fill before the packet */
    int fec;                     /* of gap: the tail to recover from the packet's FEC */
    int pkt_samples;
    size_t len;
    rtc_opus_stream_stats st;
    uint8_t pkt[OPUS__MAX_PKT];
};

int rtc_opus_stream_new(rtc_opus_stream **out, int channels, int max_gap)
{
    if (!out || channels < 1 || channels > 2 || max_gap < 0) return RTC_EINVAL;
    rtc_opus_stream *s = calloc(1, sizeof *s);
    if (!s) return RTC_ENOMEM;
    int r = rtc_opus_decoder_new(&s->dec, 48000, channels);
    if (r) { free(s); return r; }
    s->channels = channels;
    s->max_gap = max_gap ? max_gap : 48000;
    *out = s;
    return 0;
}

void rtc_opus_stream_free(rtc_opus_stream *s)
{
    if (!s) return;
    rtc_opus_decoder_free(s->dec);
    free(s);
}

int rtc_opus_stream_channels(const rtc_opus_stream *s) { return s ? s->channels : 0; }

void rtc_opus_stream_get_stats(const rtc_opus_stream *s, rtc_opus_stream_stats *out)
{
    if (s) *out = s->st;
    else memset(out, 0, sizeof *out);
}

int rtc_opus_stream_handle_packet(rtc_opus_stream *s, const uint8_t *pkt, size_t len, uint32_t ts)
{
    if (!s || (!pkt && len)) return RTC_EINVAL;
    if (s->have_pkt || s->gap) return RTC_ESTATE;
    if (len > OPUS__MAX_PKT) { s->st.corrupt++; return RTC_ETOOBIG; }
    int n = rtc_opus_packet_samples(pkt, len, 48000);
    if (n <= 0) { s->st.corrupt++; return RTC_EPROTO; }
    int gap = 0;
    if (s->started) {
        int32_t d = (int32_t)(ts - s->next_ts);       /* serial arithmetic: wraps are fine */
        if (d < 0) { s->st.late++; return RTC_EIGNORED; }
        if (d > s->max_gap) {
            s->disc = true;
            s->st.restarts++;
            s->next_ts = ts;
        } else {
            gap = d;
        }
    } else {
        s->started = true;
        s->next_ts = ts;
    }
    s->st.packets++;
    memcpy(s->pkt, pkt, len);
    s->len = len;
    s->pkt_samples = n;
    s->have_pkt = true;
    s->gap = gap;
    /* FEC in packet k carries frame k-1 at the packet's own duration, so only a gap
     * of at least that much ends in a frame it can restore. */
    s->fec = gap >= n ? n : 0;
    return 0;
}

/* Fill `want` samples (multiple of the unit) by concealment; zeros if libopus fails. */
static int opus__conceal(rtc_opus_stream *s, int16_t *pcm, int want)
{
    int r = want >= OPUS__UNIT ? rtc_opus_decode(s->dec, NULL, 0, pcm, want) : RTC_EINVAL;
    if (r != want) {
        /* Sub-unit slivers (odd timestamps) or a failure: silence keeps the timing. */
        memset(pcm, 0, (size_t)want * (size_t)s->channels * sizeof *pcm);
        r = want;
    }
    return r;
}

bool rtc_opus_stream_poll_pcm(rtc_opus_stream *s, int16_t *pcm, rtc_opus_chunk *out)
{
    if (!s || !pcm || !out) return false;
    memset(out, 0, sizeof *out);
    out->ts = s->next_ts;
    out->discontinuity = s->disc;
    int n;
    if (s->gap > 0) {
        if (s->gap == s->fec) {
            n = rtc_opus_decode_fec(s->dec, s->pkt, s->len, pcm, s->gap);
            if (n == s->gap) {
                out->kind = RTC_OPUS_FEC;
                s->st.fec_samples += (uint64_t)n;
            } else {
                n = opus__conceal(s, pcm, s->gap);
                out->kind = RTC_OPUS_CONCEALED;
                s->st.concealed_samples += (uint64_t)n;
            }
        } else {
            int want = s->gap - s->fec;
            if (want > OPUS__CHUNK) want = OPUS__CHUNK;
            if (want >= OPUS__UNIT) want -= want % OPUS__UNIT;
            n = opus__conceal(s, pcm, want);
            out->kind = RTC_OPUS_CONCEALED;
            s->st.concealed_samples += (uint64_t)n;
        }
        s->gap -= n;
        if (s->gap < s->fec) s->fec = 0;
    } else if (s->have_pkt) {
        s->have_pkt = false;
        n = rtc_opus_decode(s->dec, s->pkt, s->len, pcm, RTC_OPUS_CHUNK_MAX);
        if (n > 0) {
            out->kind = RTC_OPUS_DECODED;
            s->st.decoded_samples += (uint64_t)n;
        } else {
            s->st.corrupt++;
            n = opus__conceal(s, pcm, s->pkt_samples);
            out->kind = RTC_OPUS_CONCEALED;
            s->st.concealed_samples += (uint64_t)n;
        }
    } else {
        return false;
    }
    s->disc = false;
    out->samples = n;
    s->next_ts += (uint32_t)n;
    return true;
}
