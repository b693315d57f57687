/* Picture size from VP8 / VP9 / H264 keyframes (video_size.h). */
#include "media/video_size.h"
#include <string.h>

/* MSB-first bit reader; reading past the end sets `bad` and returns 0. */
typedef struct vs__bits { const uint8_t *p; size_t len, pos; bool bad; } vs__bits;

static uint32_t vs__u(vs__bits *b, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        if (b->pos >= b->len * 8) { b->bad = true; return 0; }
        v = v << 1 | ((b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1);
        b->pos++;
    }
    return v;
}

static uint32_t vs__ue(vs__bits *b)
{
    int zeros = 0;
    while (!b->bad && vs__u(b, 1) == 0) if (++zeros > 31) { b->bad = true; return 0; }
    if (b->bad) return 0;
    return (uint32_t)(((uint64_t)1 << zeros) - 1 + vs__u(b, zeros));
}

static int32_t vs__se(vs__bits *b)
{
    uint32_t k = vs__ue(b);
    return k & 1 ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

static bool vs__vp9(const uint8_t *f, size_t len, uint16_t *w, uint16_t *h)
{
    vs__bits b = { f, len, 0, false };
    if (vs__u(&b, 2) != 2) return false;
    int profile = (int)vs__u(&b, 1);
    profile |= (int)vs__u(&b, 1) << 1;
    if (profile == 3) vs__u(&b, 1);
    if (vs__u(&b, 1)) return false;                  /* show_existing_frame */
    if (vs__u(&b, 1)) return false;                  /* not a keyframe */
    vs__u(&b, 2);                                    /* show_frame, error_resilient_mode */
    if (vs__u(&b, 24) != 0x498342) return false;     /* sync code */
    if (profile >= 2) vs__u(&b, 1);
    if (vs__u(&b, 3) != 7) {                         /* not sRGB */
        vs__u(&b, 1);
        if (profile == 1 || profile == 3) vs__u(&b, 3);
    } else if (profile == 1 || profile == 3) {
        vs__u(&b, 1);
    }
    uint32_t fw = vs__u(&b, 16) + 1, fh = vs__u(&b, 16) + 1;
    if (b.bad) return false;
    *w = (uint16_t)fw; *h = (uint16_t)fh;
    return true;
}

/* SPS payload with emulation prevention bytes (00 00 03) removed. */
static bool vs__sps(const uint8_t *nal, size_t len, uint16_t *w, uint16_t *h)
{
    uint8_t rbsp[256];
    size_t n = 0, zeros = 0;
    for (size_t i = 1; i < len && n < sizeof rbsp; i++) {
        if (zeros >= 2 && nal[i] == 3) { zeros = 0; continue; }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        rbsp[n++] = nal[i];
    }
    vs__bits b = { rbsp, n, 0, false };
    uint32_t profile = vs__u(&b, 8);
    vs__u(&b, 16);                                   /* constraints, level */
    vs__ue(&b);                                      /* seq_parameter_set_id */
    uint32_t chroma = 1;
    bool separate = false;
    static const uint8_t high[] = { 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135 };
    if (memchr(high, (int)profile, sizeof high)) {
        chroma = vs__ue(&b);
        if (chroma > 3) return false;
        if (chroma == 3) separate = vs__u(&b, 1);
        vs__ue(&b); vs__ue(&b); vs__u(&b, 1);        /* bit depths, qpprime_y_zero_transform_bypass */
        if (vs__u(&b, 1)) {                          /* scaling matrices */
            for (int i = 0; i < (chroma != 3 ? 8 : 12) && !b.bad; i++) {
                if (!vs__u(&b, 1)) continue;
                int size = i < 6 ? 16 : 64, last = 8, next = 8;
                for (int j = 0; j < size && !b.bad; j++) {
                    if (next) next = (last + vs__se(&b) + 256) % 256;
                    last = next ? next : last;
                }
            }
        }
    }
    vs__ue(&b);                                      /* log2_max_frame_num_minus4 */
    uint32_t poc = vs__ue(&b);
    if (poc == 0) vs__ue(&b);
    else if (poc == 1) {
        vs__u(&b, 1); vs__se(&b); vs__se(&b);
        uint32_t cycle = vs__ue(&b);
        if (cycle > 255) return false;
        for (uint32_t i = 0; i < cycle && !b.bad; i++) vs__se(&b);
    }
    vs__ue(&b); vs__u(&b, 1);                        /* max_num_ref_frames, gaps */
    uint32_t wmbs = vs__ue(&b) + 1, hmaps = vs__ue(&b) + 1;
    uint32_t frame_mbs_only = vs__u(&b, 1);
    if (!frame_mbs_only) vs__u(&b, 1);
    vs__u(&b, 1);                                    /* direct_8x8_inference */
    uint32_t cl = 0, cr = 0, ct = 0, cb = 0;
    if (vs__u(&b, 1)) { cl = vs__ue(&b); cr = vs__ue(&b); ct = vs__ue(&b); cb = vs__ue(&b); }
    if (b.bad || wmbs > 1024 || hmaps > 1024) return false;
    uint32_t cx = 1, cy = 2 - frame_mbs_only;        /* crop units (H.264 7.4.2.1.1) */
    if (chroma != 0 && !separate) {
        cx = chroma == 3 ? 1 : 2;
        cy *= chroma == 1 ? 2 : 1;
    }
    uint64_t fw = (uint64_t)wmbs * 16, fh = (uint64_t)(2 - frame_mbs_only) * hmaps * 16;
    uint64_t dx = (uint64_t)cx * (cl + cr), dy = (uint64_t)cy * (ct + cb);
    if (dx >= fw || dy >= fh || fw - dx > 65535 || fh - dy > 65535) return false;
    *w = (uint16_t)(fw - dx); *h = (uint16_t)(fh - dy);
    return true;
}

bool rtc_media_video_size(rtc_codec_id c, const uint8_t *f, size_t len, uint16_t *w, uint16_t *h)
{
    if (c == RTC_CODEC_VP8) {
        if (len < 10 || (f[0] & 1) || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a) return false;
        *w = (uint16_t)((f[6] | f[7] << 8) & 0x3fff);
        *h = (uint16_t)((f[8] | f[9] << 8) & 0x3fff);
        return *w && *h;
    }
    if (c == RTC_CODEC_VP9) return vs__vp9(f, len, w, h);
    if (c == RTC_CODEC_H264) {
        for (size_t i = 0; i + 3 < len; i++) {
            if (f[i] || f[i + 1] || f[i + 2] != 1 || (f[i + 3] & 31) != 7) continue;
            size_t s = i + 3, e = s;
            while (e + 2 < len && !(f[e] == 0 && f[e + 1] == 0 && f[e + 2] <= 1)) e++;
            if (e + 2 >= len) e = len;
            return vs__sps(f + s, e - s, w, h);
        }
    }
    return false;
}
