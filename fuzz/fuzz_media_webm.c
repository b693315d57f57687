/* libFuzzer target: the WebM / Matroska (EBML) reader on arbitrary bytes; frames
 * stay in bounds, and a file that reads is re-muxed by the WebM writer and must read
 * back with the same frame count per track. */
#include "media/webm.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_webm_reader r;
    if (rtc_webm_reader_init(&r, data, size) < 0) return 0;
    int audio = -1, video = -1;
    for (int i = 0; i < r.ntracks; i++) {
        if (r.tracks[i].codec == RTC_CODEC_OPUS && audio < 0) audio = i;
        else if (r.tracks[i].type == 1 && video < 0 && (r.tracks[i].codec == RTC_CODEC_VP8 || r.tracks[i].codec == RTC_CODEC_VP9)) video = i;
    }
    rtc_media_out out;
    rtc_media_out_init_mem(&out, 64u << 20);
    rtc_webm_writer *w = NULL;
    if (audio >= 0 || video >= 0)
        rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ .audio = audio >= 0, .video = video >= 0,
            .video_codec = video >= 0 ? r.tracks[video].codec : RTC_CODEC_VP8, .width = 320, .height = 240 });
    rtc_webm_frame f;
    int n, written = 0;
    int64_t last = INT64_MIN;
    while ((n = rtc_webm_reader_next(&r, &f)) == 1) {
        if (f.data < data || f.data + f.len > data + size || f.track < 0 || f.track >= r.ntracks) abort();
        /* Only monotonic frames within 1 s of each other: the writer's documented window. */
        bool near = last == INT64_MIN || (f.pts_ms >= last && f.pts_ms - last < 1000);
        if (w && (f.track == audio || f.track == video) && near && f.len) {
            int e = rtc_webm_writer_write(w, f.track == video, f.data, f.len, f.pts_ms, f.keyframe);
            if (e == 0) written++;
        }
        if (near) last = f.pts_ms;
    }
    if (w) {
        if (rtc_webm_writer_close(w) < 0) abort();
        rtc_webm_writer_free(w);
        size_t len;
        const uint8_t *d = rtc_media_out_data(&out, &len);
        rtc_webm_reader r2;
        if (rtc_webm_reader_init(&r2, d, len) < 0) abort();
        int k = 0;
        while ((n = rtc_webm_reader_next(&r2, &f)) == 1) k++;
        if (n < 0 || k != written) abort();
    }
    rtc_media_out_free(&out);
    return 0;
}
