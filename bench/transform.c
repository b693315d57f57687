/* Cost of the built-in frame transforms (pc/pc_transform.h): XOR and AES-128-GCM, one
 * frame out (send) and back (receive), for an Opus packet and VP8 delta, typical and
 * key frames. What a receiver of many end-to-end encrypted streams pays per frame on top
 * of SRTP. Prints a table. */
#include "core/rtc_time.h"
#include "pc/pc_transform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run(const char *name, rtc_frame_crypto *c, rtc_media_kind kind, size_t len, int n)
{
    uint8_t *f = malloc(len), *enc = malloc(len + 64), *dec = malloc(len + 64);
    if (!f || !enc || !dec) exit(1);
    for (size_t i = 0; i < len; i++) f[i] = (uint8_t)(i * 7);
    f[0] = kind == RTC_MEDIA_VIDEO ? 0x11 : 0x78;
    rtc_frame_info snd = { .direction = RTC_PC_SEND, .kind = kind, .codec = kind == RTC_MEDIA_VIDEO ? RTC_CODEC_VP8 : RTC_CODEC_OPUS, .rid = "" };
    rtc_frame_info rcv = snd;
    rcv.direction = RTC_PC_RECV;
    rtc_time t0 = rtc_clock_now();
    for (int i = 0; i < n; i++) {
        int e = rtc_frame_crypto_transform(c, &snd, f, len, enc, len + 64);
        if (e <= 0 || rtc_frame_crypto_transform(c, &rcv, enc, (size_t)e, dec, len + 64) != (int)len) exit(2);
    }
    double s = (double)(rtc_clock_now() - t0) / 1e6;
    if (memcmp(dec, f, len)) exit(3);
    printf("| %-8s | %6zu | %10.0f | %9.2f | %8.0f |\n", name, len, s * 1e9 / n, s * 1e6 / n / 2,
           (double)len * n * 2 / s / 1e6);
    free(f); free(enc); free(dec);
}

int main(void)
{
    static const uint8_t key[16] = "0123456789abcdef", salt[4] = { 1, 2, 3, 4 };
    rtc_frame_crypto *x, *g;
    if (rtc_frame_crypto_new_xor(&x, key, 16) < 0 || rtc_frame_crypto_new_aes_gcm(&g, key, 16, salt) < 0) return 1;
    printf("frame transforms: one send + one receive per frame\n\n");
    printf("| %-8s | %6s | %10s | %9s | %8s |\n", "", "bytes", "ns/frame", "us/side", "MB/s");
    printf("| -------- | ------ | ---------- | --------- | -------- |\n");
    static const size_t sizes[] = { 120, 1200, 8000, 60000 };
    for (int i = 0; i < 4; i++) {
        rtc_media_kind k = i == 0 ? RTC_MEDIA_AUDIO : RTC_MEDIA_VIDEO;
        int n = (int)(40000000 / (sizes[i] + 200));
        run("xor", x, k, sizes[i], n);
        run("aes-gcm", g, k, sizes[i], n);
    }
    rtc_frame_crypto_unref(x);
    rtc_frame_crypto_unref(g);
    return 0;
}
