/* IVF files (the container of libvpx/libaom test streams): a 32-byte file header then
 * frames, each a 12-byte header (size, 64-bit pts in the file's time base) and the
 * frame. VP8, VP9 and AV1.
 *
 * Writer: frames in decode order with a presentation time in ms on the caller's clock
 * (the first frame is time 0). The time base is 1/1000 s unless configured; frame
 * times are written in it (rounded) and strictly increase. On close
 * the header field at offset 24 is patched when the output is seekable: it holds the
 * frame count times the mean frame interval, which is the frame count for a stream
 * with a time base of one frame, and the duration that ffmpeg reads from it.
 *
 * Reader: a whole file in memory (borrowed), frames with pts converted to ms. */
#ifndef RTC_MEDIA_IVF_H
#define RTC_MEDIA_IVF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "codec/codec.h"
#include "media/media_out.h"

typedef struct rtc_ivf_writer_config {
    rtc_codec_id codec;        /* RTC_CODEC_VP8, VP9 or AV1 */
    uint16_t width, height;    /* 0 = from the first frame if it states it (VP8, VP9 keyframes), else 0 */
    uint32_t timebase_den;     /* ticks per second; 0 = 1000 */
} rtc_ivf_writer_config;

typedef struct rtc_ivf_writer rtc_ivf_writer;

/* out: borrowed until free. RTC_EINVAL for another codec. */
int rtc_ivf_writer_new(rtc_ivf_writer **w, rtc_media_out *out, const rtc_ivf_writer_config *cfg);
/* One frame (borrowed for the call). A frame whose pts, in the time base, is not
 * after the previous frame's is written one tick after it and counted
 * (rtc_ivf_writer_retimed): IVF has no reordering, and readers such as ffmpeg take
 * each pts as a decode time that must increase. RTC_EINVAL for an empty frame,
 * RTC_ERANGE for a pts beyond RTC_MEDIA_MAX_PTS_MS. */
int rtc_ivf_writer_write(rtc_ivf_writer *w, const uint8_t *frame, size_t len, int64_t pts_ms);
/* Patch the header (seekable outputs) and flush. Idempotent; first error seen. */
int rtc_ivf_writer_close(rtc_ivf_writer *w);
void rtc_ivf_writer_free(rtc_ivf_writer *w);    /* NULL-safe; does not close */
uint32_t rtc_ivf_writer_frames(const rtc_ivf_writer *w);
uint32_t rtc_ivf_writer_retimed(const rtc_ivf_writer *w);   /* frames moved to one tick after the previous */

/* ---- reader ---- */
#define RTC_IVF_MAX_FRAME (16 * 1024 * 1024)

typedef struct rtc_ivf_info {
    rtc_codec_id codec;
    uint16_t width, height;
    uint32_t timebase_num, timebase_den;
    uint32_t header_frames;        /* the header's frame-count field as written */
} rtc_ivf_info;

typedef struct rtc_ivf_frame {
    const uint8_t *data;           /* borrowed from the file buffer */
    size_t len;
    int64_t pts;                   /* in the file's time base */
    int64_t pts_ms;                /* the same in ms */
    bool keyframe;                 /* from the codec's frame header (VP8/VP9/AV1) */
} rtc_ivf_frame;

typedef struct rtc_ivf_reader {
    const uint8_t *data;
    size_t len, off;
    rtc_ivf_info info;
    int err;
} rtc_ivf_reader;

/* data borrowed while the reader is used. RTC_ETRUNC / RTC_EPROTO / RTC_ENOTSUP
 * (a fourcc other than VP80, VP90, AV01). */
int rtc_ivf_reader_init(rtc_ivf_reader *r, const uint8_t *data, size_t len);
/* 1 and a frame, 0 at the end, or RTC_ETRUNC / RTC_EPROTO (sticky). */
int rtc_ivf_reader_next(rtc_ivf_reader *r, rtc_ivf_frame *f);
void rtc_ivf_reader_rewind(rtc_ivf_reader *r);

/* Whether a frame decodes on its own, from its codec's frame header. */
bool rtc_media_frame_is_key(rtc_codec_id c, const uint8_t *frame, size_t len);

#endif
