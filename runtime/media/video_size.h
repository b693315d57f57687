/* The picture size a video keyframe declares, for container headers (IVF, WebM
 * PixelWidth/PixelHeight) when the caller did not give one: VP8 frame header, VP9
 * uncompressed header, H264 SPS (with cropping). Pure, bounds-checked parsing. */
#ifndef RTC_MEDIA_VIDEO_SIZE_H
#define RTC_MEDIA_VIDEO_SIZE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "codec/codec.h"

/* true and *w, *h when the frame (H264: an Annex B access unit holding an SPS) states
 * its size; false otherwise (not a keyframe, AV1, malformed). */
bool rtc_media_video_size(rtc_codec_id c, const uint8_t *frame, size_t len, uint16_t *w, uint16_t *h);

#endif
