/* H264 Annex B elementary stream reader: splits a byte stream (start codes) into
 * access units (one picture each) for a video source. An access unit starts at an
 * access unit delimiter, or at an SPS/PPS/SEI after a picture's slices, or at a slice
 * whose first_mb_in_slice is 0 after a picture's slices (H.264 7.4.1.2.3). Raw
 * streams carry no timing, so frame n gets pts n * 1000 * fps_den / fps_num ms.
 * The file is borrowed in memory. */
#ifndef RTC_MEDIA_H264_ANNEXB_H
#define RTC_MEDIA_H264_ANNEXB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_H264_MAX_AU (8 * 1024 * 1024)

typedef struct rtc_h264_reader {
    const uint8_t *data;
    size_t len, off;
    uint32_t fps_num, fps_den;
    uint64_t index;
    int err;
} rtc_h264_reader;

typedef struct rtc_h264_au {
    const uint8_t *data;     /* Annex B bytes of the unit, start codes included; borrowed */
    size_t len;
    int64_t pts_ms;
    bool keyframe;           /* holds an IDR slice */
    bool has_sps;
} rtc_h264_au;

/* RTC_EPROTO when the data does not start with a start code; RTC_EINVAL for a zero
 * frame rate. */
int rtc_h264_reader_init(rtc_h264_reader *r, const uint8_t *data, size_t len, uint32_t fps_num, uint32_t fps_den);
/* 1 and a unit, 0 at the end, RTC_EPROTO (no slice, forbidden bit set) or
 * RTC_ETOOBIG (a unit over RTC_H264_MAX_AU). Sticky. */
int rtc_h264_reader_next(rtc_h264_reader *r, rtc_h264_au *au);
void rtc_h264_reader_rewind(rtc_h264_reader *r);

#endif
