/* WebM / Matroska writer: one Opus audio track and/or one video track (VP8, VP9, AV1
 * or H264) muxed from encoded frames.
 *
 * Layout: EBML header; Segment { SeekHead (Info, Tracks, Cues); Info (TimecodeScale
 * 1 ms, Duration patched on close); Tracks; Clusters of SimpleBlocks; Cues }. Cues
 * hold one point per cluster that starts with a video keyframe (or per cluster for
 * audio-only files) and are written on close. On a seekable output close patches the
 * Segment and Cluster sizes, Duration and the Cues seek entry; on a pipe the Segment
 * and Clusters keep the "unknown size" marker and there are no Cues.
 *
 * Timing and A/V sync: every frame carries pts_ms on one clock shared by audio and
 * video (for RTP the recorder maps each stream's RTP time to NTP with its RTCP sender
 * reports, then to ms). The writer subtracts the first pts it sees from every frame,
 * so the file starts at 0 and the audio/video offset of the source is kept. Within a
 * track, times strictly increase: a frame whose time (ms, the TimecodeScale) is not
 * after the previous frame of its track is written 1 ms after it and counted
 * (stats.retimed), since readers take block times as decode times that must
 * increase and dropping the frame would break the ones predicted from it. The two
 * tracks may arrive interleaved out of order by up to 30 s; a frame more than that before its
 * cluster's start is dropped (counted). A new cluster starts at each video keyframe
 * (or every 5 s of audio-only media, or 30 s).
 *
 * H264: the Matroska track needs an avcC (SPS/PPS) in CodecPrivate. The writer keeps
 * the file header in memory until the first keyframe with SPS and PPS arrives, drops
 * video frames before it, and holds audio frames meanwhile (up to 8 MiB).
 * AV1: CodecPrivate is the 4-byte av1C built from the sequence header of the first
 * keyframe, plus that sequence header; the same holding applies, as it does for any
 * video track whose size was not configured (it is read from the first keyframe).
 *
 * Failure: a write error (disk full) is returned by the call that met it and by
 * close; close then still patches what it can, so the file written so far (whole
 * elements only, see media_out.h) plays. */
#ifndef RTC_MEDIA_WEBM_H
#define RTC_MEDIA_WEBM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "codec/codec.h"
#include "media/media_out.h"

typedef struct rtc_webm_writer_config {
    bool audio;                 /* an Opus track */
    int channels;               /* 0 = 2 */
    int pre_skip;               /* Opus pre-skip at 48 kHz (CodecDelay); 0 = 312 */
    bool video;                 /* a video track */
    rtc_codec_id video_codec;   /* VP8, VP9, AV1 or H264 */
    uint16_t width, height;     /* 0 = from the first keyframe (VP8, VP9, H264 SPS), else 640x480 */
} rtc_webm_writer_config;

typedef struct rtc_webm_writer rtc_webm_writer;

/* out: borrowed until free. RTC_EINVAL (no track, bad codec). */
int rtc_webm_writer_new(rtc_webm_writer **w, rtc_media_out *out, const rtc_webm_writer_config *cfg);
/* One encoded frame (borrowed for the call). `video` selects the track; keyframe
 * marks a video frame that decodes on its own (audio frames are always key).
 * RTC_EINVAL for a missing track or an empty frame; RTC_ERANGE for a pts beyond
 * RTC_MEDIA_MAX_PTS_MS; the output's error. A dropped
 * frame (see above) returns RTC_EIGNORED. */
int rtc_webm_writer_write(rtc_webm_writer *w, bool video, const uint8_t *frame, size_t len,
                          int64_t pts_ms, bool keyframe);
/* Cues, sizes, Duration; flush. Idempotent; returns the first error met. */
int rtc_webm_writer_close(rtc_webm_writer *w);
void rtc_webm_writer_free(rtc_webm_writer *w);    /* NULL-safe; does not close */

typedef struct rtc_webm_writer_stats {
    uint64_t audio_frames, video_frames, clusters, cues, dropped, bytes;
    uint64_t retimed;            /* frames written 1 ms after their track's previous one */
    int64_t duration_ms;
} rtc_webm_writer_stats;
void rtc_webm_writer_get_stats(const rtc_webm_writer *w, rtc_webm_writer_stats *out);

/* Build an avcC record from an Annex B access unit holding SPS and PPS. Returns its
 * length, RTC_ENOTFOUND when either is missing, RTC_EOVERFLOW. */
int rtc_h264_avcc_from_annexb(const uint8_t *au, size_t len, uint8_t *out, size_t cap);

/* ---- reader ----
 * A whole WebM / Matroska file in memory (borrowed): the EBML header, Info
 * (TimecodeScale), Tracks (number, codec, CodecPrivate, size, channels), then every
 * SimpleBlock and BlockGroup Block of the Clusters in file order, sized or of unknown
 * size. Laced blocks (several frames in one) are refused with RTC_ENOTSUP: WebRTC
 * recorders, ffmpeg and browsers do not lace video or Opus. Every element size is
 * checked against its parent; nesting is bounded. */
#define RTC_WEBM_MAX_TRACKS 8

typedef struct rtc_webm_track {
    int number;
    int type;                      /* 1 video, 2 audio */
    rtc_codec_id codec;            /* -1 when not one of ours */
    const uint8_t *priv;           /* CodecPrivate, borrowed from the file; NULL if none */
    size_t priv_len;
    uint32_t width, height, channels;
} rtc_webm_track;

typedef struct rtc_webm_frame {
    int track;                     /* index into the reader's tracks[] */
    const uint8_t *data;           /* borrowed from the file */
    size_t len;
    int64_t pts_ms;
    bool keyframe;
} rtc_webm_frame;

typedef struct rtc_webm_reader {
    const uint8_t *data;
    size_t len;
    size_t seg_start, seg_end, first_cluster, off;
    uint64_t timecode_scale;       /* ns per tick */
    int64_t cluster_ts;
    double duration_ms;            /* from Info, 0 if absent */
    rtc_webm_track tracks[RTC_WEBM_MAX_TRACKS];
    int ntracks;
    int err;
} rtc_webm_reader;

/* RTC_EPROTO / RTC_ETRUNC / RTC_ENOTSUP (another DocType). */
int rtc_webm_reader_init(rtc_webm_reader *r, const uint8_t *data, size_t len);
/* 1 and a frame, 0 at the end, or an error (sticky). Frames of unknown tracks are skipped. */
int rtc_webm_reader_next(rtc_webm_reader *r, rtc_webm_frame *f);
void rtc_webm_reader_rewind(rtc_webm_reader *r);

#endif
