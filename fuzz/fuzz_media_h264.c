/* libFuzzer target: the H264 Annex B access unit reader on arbitrary bytes (units
 * stay in bounds, are contiguous, and their times increase), and the keyframe size
 * parsers (H264 SPS, VP8, VP9) on the same bytes. */
#include "media/h264_annexb.h"
#include "media/video_size.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint16_t w, h;
    if (rtc_media_video_size(RTC_CODEC_VP8, data, size, &w, &h) && (!w || !h)) abort();
    if (rtc_media_video_size(RTC_CODEC_VP9, data, size, &w, &h) && (!w || !h)) abort();
    if (rtc_media_video_size(RTC_CODEC_H264, data, size, &w, &h) && (!w || !h)) abort();
    rtc_h264_reader r;
    if (rtc_h264_reader_init(&r, data, size, 30000, 1001) < 0) return 0;
    rtc_h264_au au;
    const uint8_t *next = data;
    int64_t last = -1;
    int n;
    while ((n = rtc_h264_reader_next(&r, &au)) == 1) {
        if (au.data != next || au.data + au.len > data + size || au.len == 0) abort();
        if (au.pts_ms <= last) abort();
        if (au.has_sps) rtc_media_video_size(RTC_CODEC_H264, au.data, au.len, &w, &h);
        last = au.pts_ms;
        next = au.data + au.len;
    }
    return 0;
}
