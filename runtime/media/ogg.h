/* Ogg Opus files (RFC 3533 pages, RFC 7845 mapping): a writer that takes Opus packets
 * with presentation times and a reader that returns packets with their timing.
 *
 * Writer. Packets are appended in presentation order; each packet's duration comes
 * from its TOC (rtc_opus_packet_samples), so the granule position of every page is
 * the samples of all packets completed on it (pre-skip included, as RFC 7845 counts). Timing across packet loss:
 * when a packet's pts is later than where the previous one ended (by at least 2.5
 * ms), the writer fills the gap with TOC-only Opus packets (a frame of no data, which
 * decoders conceal as loss), so later audio stays at its time and A/V sync holds. A
 * pts earlier than expected is ignored for timing (packets are never dropped).
 * Pages are closed every `page_ms` of audio, so a recording that stops abruptly loses
 * at most that much. rtc_ogg_writer_close() writes the last page with the EOS flag.
 *
 * Reader. Parses a whole file held in memory (borrowed for the reader's life): checks
 * capture patterns, versions, CRCs and lacing, joins packets across pages, and gives
 * each audio packet its start time (in 48 kHz samples, pre-skip removed) and duration.
 * Malformed input gives RTC_EPROTO / RTC_ETRUNC and the count of bad pages grows. */
#ifndef RTC_MEDIA_OGG_H
#define RTC_MEDIA_OGG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "media/media_out.h"

/* Shared by the writers of Opus (Ogg and WebM CodecPrivate): OpusHead is 19 bytes for
 * mapping family 0. Returns the length written to out (>= 19 bytes of room). */
size_t rtc_opus_head_write(uint8_t *out, int channels, int pre_skip, uint32_t input_rate);

typedef struct rtc_ogg_writer_config {
    int channels;          /* 1 or 2; 0 = 2 (WebRTC's opus/48000/2) */
    int pre_skip;          /* samples at 48 kHz; 0 = 312 (libopus' lookahead at 48 kHz) */
    uint32_t serial;       /* stream serial number; 0 picks 0x6c727463 */
    uint32_t input_rate;   /* informational OpusHead field; 0 = 48000 */
    int page_ms;           /* close a page after this much audio; 0 = 1000 */
    const char *vendor;    /* OpusTags vendor string, copied; NULL = "luartc" */
} rtc_ogg_writer_config;

typedef struct rtc_ogg_writer rtc_ogg_writer;

/* out: borrowed until rtc_ogg_writer_free (the caller frees it after). Writes the
 * OpusHead and OpusTags pages. 0, RTC_EINVAL, RTC_ENOMEM or a write error. */
int rtc_ogg_writer_new(rtc_ogg_writer **w, rtc_media_out *out, const rtc_ogg_writer_config *cfg);
/* One Opus packet (borrowed for the call) at pts_ms on the caller's clock (only
 * differences matter; the first packet is time 0). RTC_EPROTO for a packet whose TOC
 * is invalid (nothing written), RTC_ERANGE for a pts beyond RTC_MEDIA_MAX_PTS_MS,
 * RTC_ECLOSED after close, or the output's error. */
int rtc_ogg_writer_write(rtc_ogg_writer *w, const uint8_t *pkt, size_t len, int64_t pts_ms);
/* Finish: last page with EOS, flush. Idempotent; returns the first error seen. */
int rtc_ogg_writer_close(rtc_ogg_writer *w);
void rtc_ogg_writer_free(rtc_ogg_writer *w);     /* NULL-safe; does not close */

typedef struct rtc_ogg_writer_stats {
    uint64_t packets, gap_packets, pages, samples;   /* samples incl. gaps, excl. pre-skip */
} rtc_ogg_writer_stats;
void rtc_ogg_writer_get_stats(const rtc_ogg_writer *w, rtc_ogg_writer_stats *out);

/* ---- reader ---- */
#define RTC_OGG_MAX_PACKET (256 * 1024)   /* longer packets are refused (RTC_ETOOBIG) */

typedef struct rtc_ogg_packet {
    const uint8_t *data;   /* borrowed until the next call to rtc_ogg_reader_next */
    size_t len;
    int64_t pts;           /* start in 48 kHz samples from the first audio sample (pre-skip removed; may be < 0) */
    int duration;          /* samples at 48 kHz (from the TOC) */
    int64_t granule;       /* granule of the page the packet ended on (-1 if none) */
} rtc_ogg_packet;

typedef struct rtc_ogg_reader rtc_ogg_reader;

/* data: borrowed while the reader lives. Reads OpusHead/OpusTags. RTC_EPROTO /
 * RTC_ETRUNC / RTC_ENOTSUP (not Opus, or a mapping family > 1) / RTC_ENOMEM. */
int rtc_ogg_reader_new(rtc_ogg_reader **r, const uint8_t *data, size_t len);
void rtc_ogg_reader_free(rtc_ogg_reader *r);     /* NULL-safe */
/* Next audio packet: 1 with *pkt filled, 0 at the end of the stream, or RTC_EPROTO /
 * RTC_ETRUNC (a corrupt or cut page) / RTC_ETOOBIG. Errors are sticky. */
int rtc_ogg_reader_next(rtc_ogg_reader *r, rtc_ogg_packet *pkt);
int rtc_ogg_reader_channels(const rtc_ogg_reader *r);
int rtc_ogg_reader_pre_skip(const rtc_ogg_reader *r);
/* Rewind to the first audio packet (for looping sources). */
void rtc_ogg_reader_rewind(rtc_ogg_reader *r);

/* The Ogg CRC-32 (polynomial 0x04c11db7, no reflection), for tests and tools. */
uint32_t rtc_ogg_crc(const uint8_t *p, size_t len);

#endif
