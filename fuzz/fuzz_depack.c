/* libFuzzer target: every depacketizer on arbitrary payloads. The first byte picks
 * the codec; the rest is split into payloads by one length byte each, then each is
 * parsed and the whole set assembled into a buffer of the documented bound. */
#include "codec/codec.h"
#include "codec/red.h"
#include "codec/opus_codec.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    rtc_codec_id c = (rtc_codec_id)(data[0] % RTC_CODEC__COUNT);
    rtc_iov parts[64];
    size_t n = 0, total = 0, off = 1;
    while (off < size && n < 64) {
        size_t len = data[off++];
        if (len > size - off) len = size - off;
        rtc_depack_info info;
        int pr = rtc_depack_parse(c, data + off, len, &info);
        rtc_red_block rb[RTC_RED_MAX_BLOCKS];
        size_t nrb;
        if (rtc_red_parse(data + off, len, rb, RTC_RED_MAX_BLOCKS, &nrb) == 0) {   /* RED: blocks inside the payload */
            for (size_t k = 0; k < nrb; k++)
                if (rb[k].data < data + off || rb[k].data + rb[k].len > data + off + len) abort();
        }
        if (c == RTC_CODEC_VP9) {                           /* the SS reader agrees with the parser */
            rtc_vp9_ss ss;
            int sr = rtc_vp9_scalability(data + off, len, &ss);
            if ((sr < 0) != (pr < 0) || (sr == 1 && (ss.spatial_layers < 1 || ss.spatial_layers > 8))) abort();
        }
        if ((c == RTC_CODEC_VP8 || c == RTC_CODEC_VP9) && len) {   /* rewriting keeps it parseable */
            uint8_t *copy = malloc(len);
            memcpy(copy, data + off, len);
            int w = c == RTC_CODEC_VP8 ? rtc_vp8_rewrite_ids(copy, len, 0x1234, 7) : rtc_vp9_rewrite_ids(copy, len, 0x1234, 7);
            rtc_depack_info after;
            if (w == 0 && (pr < 0 || rtc_depack_parse(c, copy, len, &after) < 0)) abort();
            free(copy);
        }
        parts[n++] = (rtc_iov){ data + off, len };
        total += len;
        off += len;
    }
    if (n == 0) return 0;
    size_t cap = rtc_depack_bound(total, n);
    uint8_t *out = malloc(cap);
    int r = rtc_depack_assemble(c, parts, n, out, cap);
    if (r > (int)cap) abort();
    if (c == RTC_CODEC_OPUS && r > 0) {                 /* and libopus behind our wrapper */
        static rtc_opus_decoder *dec;
        static int16_t pcm[5760 * 2];
        if (!dec && rtc_opus_decoder_new(&dec, 48000, 2) < 0) abort();
        int s = rtc_opus_decode(dec, out, (size_t)r, pcm, 5760);
        if (s > 5760) abort();
        rtc_opus_packet_samples(out, (size_t)r, 16000);
    }
    /* A packetizer over the same bytes as a frame must not fail on memory grounds. */
    rtc_packetizer pk;
    rtc_pack_params pp = { .picture_id = data[0], .keyframe = data[0] & 1, .width = 64, .height = 64 };
    if (rtc_packetizer_init(&pk, c, data + 1, size - 1, 100 + data[0], &pp) == 0) {
        uint8_t pl[400];
        bool last;
        int k, guard = 0;
        while ((k = rtc_packetizer_next(&pk, pl, sizeof pl, &last)) > 0) {
            if (k > 100 + data[0]) abort();
            if (++guard > 100000) abort();
        }
    }
    free(out);
    return 0;
}
