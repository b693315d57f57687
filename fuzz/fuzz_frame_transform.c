/* libFuzzer target for the receive side of the built-in frame transforms: a frame from
 * the network (first input byte picks the kind, codec and transform) goes through XOR
 * or AES-GCM decryption into an exactly sized buffer. It must decrypt or fail cleanly;
 * XOR must keep the length and invert itself; a frame that AES-GCM accepts must
 * re-encrypt (with its own IV) to the same bytes. */
#include "core/rtc_errors.h"
#include "pc/pc_transform.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rtc_frame_crypto *x, *g;
    static const uint8_t key[16] = { 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 }, salt[4] = { 1, 2, 3, 4 };
    if (!x && (rtc_frame_crypto_new_xor(&x, key, 5) < 0 || rtc_frame_crypto_new_aes_gcm(&g, key, 16, salt) < 0)) abort();
    if (size < 1) return 0;
    uint8_t sel = data[0];
    data++, size--;
    rtc_frame_info info = { .direction = RTC_PC_RECV, .kind = (sel & 1) ? RTC_MEDIA_VIDEO : RTC_MEDIA_AUDIO,
                            .codec = (sel & 1) ? ((sel & 4) ? RTC_CODEC_H264 : RTC_CODEC_VP8) : RTC_CODEC_OPUS, .rid = "" };
    rtc_frame_crypto *c = (sel & 2) ? g : x;
    size_t cap = size + RTC_FRAME_TRANSFORM_GROWTH;
    uint8_t *out = malloc(cap ? cap : 1), *back = malloc(cap ? cap : 1);
    if (!out || !back) abort();
    int n = rtc_frame_crypto_transform(c, &info, data, size, out, cap);
    if (n > (int)cap) abort();
    if (c == x) {
        if (size > 0 && n != (int)size) abort();
        if (n > 0) {
            info.direction = RTC_PC_SEND;
            if (rtc_frame_crypto_transform(c, &info, out, (size_t)n, back, cap) != (int)size) abort();
            if (memcmp(back, data, size)) abort();
        }
    } else if (n > 0) {
        if ((size_t)n + 28 != size) abort();
    } else if (n != 0 && n != RTC_EAUTH && n != RTC_EPROTO) {
        abort();
    }
    free(out);
    free(back);
    return 0;
}
