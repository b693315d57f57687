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
    bool force_mono;             /* code stereo input as mono (the peer did not ask for stereo) */
    bool cbr;                    /* constant bitrate */
    int max_bandwidth_hz;        /* audio bandwidth cap from maxplaybackrate; 0 = full band */
} rtc_opus_encoder_config;

/* Apply a peer's Opus fmtp (RFC 7587 receive preferences, e.g. "minptime=10;
 * useinbandfec=1;usedtx=1;stereo=1;maxaveragebitrate=32000") to cfg: usedtx -> dtx,
 * useinbandfec -> fec, stereo=0 or absent -> force_mono, maxaveragebitrate caps
 * bitrate, cbr, maxplaybackrate -> max_bandwidth_hz. Unknown keys are ignored;
 * fmtp (borrowed, may be NULL) is only read. */
void rtc_opus_fmtp_apply(const char *fmtp, rtc_opus_encoder_config *cfg);

/* What the libopus encoder is actually set to (read back with its GET ctls). */
typedef struct rtc_opus_encoder_info {
    int channels, sample_rate;
    int bitrate;                 /* bits/s as libopus resolves it */
    bool fec, dtx, cbr, force_mono;
    int packet_loss_perc;        /* expected loss the FEC is sized for */
    int max_bandwidth_hz;
    bool in_dtx;                 /* the last frame was a DTX (not to be sent) frame */
} rtc_opus_encoder_info;
void rtc_opus_encoder_get_info(rtc_opus_encoder *e, rtc_opus_encoder_info *out);

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

/* Recover the lost frame just before pkt from the in-band FEC data pkt carries
 * (borrowed): samples per channel must be the lost duration (a multiple of 2.5 ms, at
 * most 120 ms); without FEC data in pkt libopus conceals instead. Feed pkt itself to
 * rtc_opus_decode() afterwards. Returns samples, RTC_EINVAL, RTC_EPROTO. */
int rtc_opus_decode_fec(rtc_opus_decoder *d, const uint8_t *pkt, size_t len, int16_t *pcm, int samples);

/* ====== one received RTP stream to continuous PCM ======
 * Packets go in with their RTP timestamps; PCM comes out in chunks of at most 20 ms
 * whose sample count follows the timestamps: a gap (loss, or DTX silence that was not
 * sent) is filled with concealment, and its last frame from the next packet's in-band
 * FEC. Drive it like a machine: rtc_opus_stream_handle_packet() once per packet, then
 * rtc_opus_stream_poll_pcm() until it returns false. Out-of-order packets (older than
 * what was produced) are dropped and counted; a jump of more than max_gap samples
 * restarts the timeline without filling. */
typedef enum { RTC_OPUS_DECODED = 0, RTC_OPUS_CONCEALED = 1, RTC_OPUS_FEC = 2 } rtc_opus_chunk_kind;

typedef struct rtc_opus_chunk {
    uint32_t ts;                 /* RTP timestamp (48 kHz) of the chunk's first sample */
    int samples;                 /* per channel */
    rtc_opus_chunk_kind kind;
    bool discontinuity;          /* the timeline restarted before this chunk */
} rtc_opus_chunk;

typedef struct rtc_opus_stream_stats {
    uint64_t packets, decoded_samples, concealed_samples, fec_samples;
    uint64_t late, corrupt, restarts;
} rtc_opus_stream_stats;

typedef struct rtc_opus_stream rtc_opus_stream;
/* channels: 1 or 2 (output layout); max_gap: samples a gap may span and still be
 * filled (0 = 1 s). RTC_EINVAL, RTC_ENOMEM. */
int rtc_opus_stream_new(rtc_opus_stream **out, int channels, int max_gap);
void rtc_opus_stream_free(rtc_opus_stream *s);     /* NULL-safe */
/* pkt borrowed for the call (copied). Returns 0, RTC_EIGNORED for a late or duplicate
 * packet, RTC_EPROTO for one whose duration cannot be read (counted as corrupt),
 * RTC_ETOOBIG, RTC_ESTATE when the previous packet's PCM was not polled out yet. A
 * packet that parses but fails to decode is concealed (counted as corrupt). */
int rtc_opus_stream_handle_packet(rtc_opus_stream *s, const uint8_t *pkt, size_t len, uint32_t ts);
/* Next chunk into pcm (caller's, room for RTC_OPUS_CHUNK_MAX samples per channel);
 * false when nothing is pending. Concealment comes in chunks of at most 20 ms; a
 * packet decodes in one chunk. */
#define RTC_OPUS_CHUNK_MAX 5760  /* 120 ms, the longest Opus packet */
bool rtc_opus_stream_poll_pcm(rtc_opus_stream *s, int16_t *pcm, rtc_opus_chunk *out);
void rtc_opus_stream_get_stats(const rtc_opus_stream *s, rtc_opus_stream_stats *out);
int rtc_opus_stream_channels(const rtc_opus_stream *s);

/* Samples per channel that a packet decodes to at sample_rate, or RTC_EPROTO. */
int rtc_opus_packet_samples(const uint8_t *pkt, size_t len, int sample_rate);
/* Root mean square of n samples, 0..32768 (a loudness measure for tests and stats). */
double rtc_pcm_rms(const int16_t *pcm, size_t n);

#endif
