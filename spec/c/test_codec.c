/* codec/: hand-checked payload descriptors for Opus, VP8, VP9, H264 and AV1, and
 * frame -> packets -> frame round trips from 1 byte to 100 KB for each. */
#include "rtc_test.h"
#include "codec/codec.h"
#include "core/rtc_errors.h"
#include "core/rtc_rng.h"
#include "media/ivf.h"

#define MTU 1200

typedef struct pkts { uint8_t *buf[4096]; size_t len[4096]; size_t n; } pkts;

static void pkts_free(pkts *p) { for (size_t i = 0; i < p->n; i++) free(p->buf[i]); p->n = 0; }

/* Packetize, checking sizes and the last flag; parse each payload back. *first is
 * the first payload's description, its keyframe flag set when any payload of the
 * frame says keyframe (a jitter buffer judges the frame the same way). */
static void packetize(rtc_codec_id c, const uint8_t *f, size_t len, size_t mtu,
                      const rtc_pack_params *pp, pkts *out, rtc_depack_info *first)
{
    rtc_packetizer pk;
    ASSERT_EQ(rtc_packetizer_init(&pk, c, f, len, mtu, pp), 0);
    out->n = 0;
    bool last = false;
    for (;;) {
        uint8_t tmp[65536];
        bool l;
        int n = rtc_packetizer_next(&pk, tmp, mtu, &l);
        ASSERT(n >= 0);
        if (n == 0) { ASSERT(!l); break; }
        ASSERT(!last);                                  /* nothing after the last one */
        ASSERT_LE(n, mtu);
        ASSERT(out->n < 4096);
        out->buf[out->n] = malloc((size_t)n);
        memcpy(out->buf[out->n], tmp, (size_t)n);
        out->len[out->n++] = (size_t)n;
        last = l;
        rtc_depack_info info;
        ASSERT_EQ(rtc_depack_parse(c, tmp, (size_t)n, &info), 0);
        if (out->n == 1) *first = info;
        else ASSERT(!info.begin || c == RTC_CODEC_H264);
        if (info.keyframe) first->keyframe = true;
    }
    ASSERT(last);
    ASSERT(out->n >= 1);
}

static int assemble(rtc_codec_id c, const pkts *p, uint8_t **frame)
{
    rtc_iov iov[4096];
    size_t total = 0;
    for (size_t i = 0; i < p->n; i++) { iov[i] = (rtc_iov){ p->buf[i], p->len[i] }; total += p->len[i]; }
    size_t cap = rtc_depack_bound(total, p->n);
    *frame = malloc(cap);
    return rtc_depack_assemble(c, iov, p->n, *frame, cap);
}

static void roundtrip(rtc_codec_id c, const uint8_t *f, size_t len, const rtc_pack_params *pp,
                      bool key, const uint8_t *expect, size_t elen)
{
    pkts p;
    rtc_depack_info first;
    size_t mtus[2] = { MTU, 100 };
    for (int m = 0; m < 2; m++) {
        packetize(c, f, len, mtus[m], pp, &p, &first);
        ASSERT(first.begin);
        ASSERT_EQ(first.keyframe, key);
        uint8_t *out;
        int n = assemble(c, &p, &out);
        ASSERT_EQ(n, elen);
        ASSERT_MEMEQ(out, expect, elen);
        if (p.n > 1 && c != RTC_CODEC_OPUS) {           /* a frame missing a packet must not pass as is */
            rtc_iov iov[4096];
            size_t k = 0;
            for (size_t i = 0; i < p.n; i++) if (i != p.n / 2) iov[k++] = (rtc_iov){ p.buf[i], p.len[i] };
            uint8_t *o2 = malloc(rtc_depack_bound(len * 2 + 100, p.n));
            int r = rtc_depack_assemble(c, iov, k, o2, rtc_depack_bound(len * 2 + 100, p.n));
            ASSERT(r < 0 || (size_t)r != elen || memcmp(o2, expect, elen) != 0);
            free(o2);
        }
        free(out);
        pkts_free(&p);
    }
}

static const size_t sizes[] = { 1, 2, 7, 99, 1187, 1188, 1195, 1196, 1200, 1201, 2400, 5000, 100000 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void test_opus(void)
{
    uint8_t f[1000];
    for (int i = 0; i < 1000; i++) f[i] = (uint8_t)i;
    roundtrip(RTC_CODEC_OPUS, f, 1, NULL, true, f, 1);
    roundtrip(RTC_CODEC_OPUS, f, 99, NULL, true, f, 99);
    rtc_packetizer pk;
    ASSERT_EQ(rtc_packetizer_init(&pk, RTC_CODEC_OPUS, f, 1000, 500, NULL), RTC_ETOOBIG);
    ASSERT_EQ(rtc_packetizer_init(&pk, RTC_CODEC_OPUS, f, 0, 500, NULL), RTC_EINVAL);
    rtc_depack_info info;
    ASSERT_EQ(rtc_depack_parse(RTC_CODEC_OPUS, f, 0, &info), RTC_ETRUNC);
    ASSERT_EQ(rtc_codec_from_name("OPUS"), RTC_CODEC_OPUS);
    ASSERT_EQ(rtc_codec_from_name("h264"), RTC_CODEC_H264);
    ASSERT_EQ(rtc_codec_from_name("theora"), -1);
    ASSERT_STREQ(rtc_codec_name(RTC_CODEC_AV1), "AV1");
    ASSERT(!rtc_codec_is_video(RTC_CODEC_OPUS)); ASSERT(rtc_codec_is_video(RTC_CODEC_VP9));
}

static void test_vp8_vectors(void)
{
    rtc_depack_info i;
    size_t hl;
    /* X S PID0 | I | M pid 0x123 | frame tag with P=0 */
    static const uint8_t a[] = { 0x90, 0x80, 0x81, 0x23, 0x10, 0x02 };
    ASSERT_EQ(rtc_vp8_depack_parse(a, sizeof a, &i, &hl), 0);
    ASSERT_EQ(hl, 4); ASSERT(i.begin && i.keyframe); ASSERT_EQ(i.picture_id, 0x123);
    /* 7-bit PictureID, L and T: TL0PICIDX, TID=2 */
    static const uint8_t b[] = { 0x90, 0xE0, 0x05, 0x11, 0x80, 0x11 };
    ASSERT_EQ(rtc_vp8_depack_parse(b, sizeof b, &i, &hl), 0);
    ASSERT_EQ(hl, 5); ASSERT_EQ(i.picture_id, 5); ASSERT_EQ(i.temporal_id, 2);
    ASSERT_EQ(i.tl0picidx, 0x11);
    ASSERT(i.begin && !i.keyframe);                     /* P bit 1: inter frame */
    /* In-place rewrite for an SFU: 7-bit id keeps 7 bits; TL0PICIDX replaced. */
    uint8_t rb[sizeof b], ra[sizeof a];
    memcpy(rb, b, sizeof b); memcpy(ra, a, sizeof a);
    ASSERT_EQ(rtc_vp8_rewrite_ids(rb, sizeof rb, 0x1FF, 0x42), 0);
    ASSERT_EQ(rtc_vp8_depack_parse(rb, sizeof rb, &i, &hl), 0);
    ASSERT_EQ(i.picture_id, 0x7F); ASSERT_EQ(i.tl0picidx, 0x42); ASSERT_EQ(i.temporal_id, 2);
    ASSERT_EQ(rtc_vp8_rewrite_ids(ra, sizeof ra, 0x7ABC, -1), 0);
    ASSERT_EQ(rtc_vp8_depack_parse(ra, sizeof ra, &i, &hl), 0);
    ASSERT_EQ(i.picture_id, 0x7ABC); ASSERT_EQ(i.tl0picidx, -1);
    ASSERT_EQ(rtc_vp8_rewrite_ids(ra, sizeof ra, -1, 3), RTC_ENOTFOUND);   /* no L: unchanged */
    ASSERT_EQ(rtc_vp8_depack_parse(ra, sizeof ra, &i, &hl), 0); ASSERT_EQ(i.picture_id, 0x7ABC);
    static const uint8_t noext[] = { 0x10, 0x00 };
    uint8_t ne[2] = { noext[0], noext[1] };
    ASSERT_EQ(rtc_vp8_rewrite_ids(ne, 2, 1, -1), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_vp8_rewrite_ids(ne, 1, 1, -1), RTC_ETRUNC);
    /* Not a start: S=0, or PID 1 */
    static const uint8_t c[] = { 0x00, 0x10 }, d[] = { 0x11, 0x10 };
    ASSERT_EQ(rtc_vp8_depack_parse(c, 2, &i, &hl), 0); ASSERT(!i.begin && !i.keyframe); ASSERT_EQ(hl, 1);
    ASSERT_EQ(rtc_vp8_depack_parse(d, 2, &i, &hl), 0); ASSERT(!i.begin);
    /* Truncations of a and b all fail cleanly. */
    for (size_t l = 0; l < 5; l++) ASSERT_EQ(rtc_vp8_depack_parse(a, l, &i, &hl), RTC_ETRUNC);
    for (size_t l = 0; l < 6; l++) ASSERT_EQ(rtc_vp8_depack_parse(b, l, &i, &hl), RTC_ETRUNC);
    /* The packetizer writes X, I, 15-bit PictureID, S on the first packet only. */
    uint8_t f[3000];
    memset(f, 0xAA, sizeof f);
    rtc_pack_params pp = { .picture_id = 0x8123 };      /* masked to 15 bits */
    pkts p; rtc_depack_info first;
    packetize(RTC_CODEC_VP8, f, sizeof f, MTU, &pp, &p, &first);
    ASSERT_EQ(p.n, 3);
    ASSERT_EQ(p.buf[0][0], 0x90); ASSERT_EQ(p.buf[1][0], 0x80);
    ASSERT_EQ(p.buf[0][1], 0x80); ASSERT_EQ(p.buf[0][2], 0x81); ASSERT_EQ(p.buf[0][3], 0x23);
    ASSERT_EQ(p.len[0], 1004); ASSERT_EQ(p.len[1], 1004); ASSERT_EQ(p.len[2], 1004);  /* even split */
    ASSERT_EQ(first.picture_id, 0x123);
    pkts_free(&p);
}

static void test_vp9_vectors(void)
{
    rtc_depack_info i;
    size_t hl;
    /* Non-flexible keyframe: I B E V, 15-bit pid 0x0102, L: TID 0 SID 0 + TL0PICIDX,
     * SS with Y: one layer 640x480, G with one group of 1 P_DIFF; then an uncompressed
     * header byte for a key frame. */
    static const uint8_t k[] = { 0xAE, 0x81, 0x02, 0x00, 0x07, 0x18, 0x02, 0x80, 0x01, 0xE0,
                                 0x01, 0x04, 0x01, 0x80, 0x49 };
    ASSERT_EQ(rtc_vp9_depack_parse(k, sizeof k, &i, &hl), 0);
    ASSERT_EQ(hl, 13); ASSERT_EQ(i.picture_id, 0x102); ASSERT_EQ(i.tl0picidx, 7);
    ASSERT(i.begin && i.end && i.keyframe);
    ASSERT_EQ(i.temporal_id, 0); ASSERT_EQ(i.spatial_id, 0);
    for (size_t l = 0; l < 14; l++) ASSERT_EQ(rtc_vp9_depack_parse(k, l, &i, &hl), RTC_ETRUNC);
    uint8_t rk[sizeof k];
    memcpy(rk, k, sizeof k);
    ASSERT_EQ(rtc_vp9_rewrite_ids(rk, sizeof rk, 0x2345, 9), 0);
    ASSERT_EQ(rtc_vp9_depack_parse(rk, sizeof rk, &i, &hl), 0);
    ASSERT_EQ(i.picture_id, 0x2345); ASSERT_EQ(i.tl0picidx, 9); ASSERT_EQ(hl, 13); ASSERT(i.keyframe);
    ASSERT_MEMEQ(rk + 5, k + 5, sizeof k - 5);          /* the rest untouched */
    /* The same descriptor over a non-key uncompressed header (frame_type 1). */
    uint8_t nk[sizeof k];
    memcpy(nk, k, sizeof k); nk[13] = 0x84;
    ASSERT_EQ(rtc_vp9_depack_parse(nk, sizeof nk, &i, &hl), 0); ASSERT(!i.keyframe);
    /* Every profile: profile 3 has a reserved bit before show_existing_frame. The
     * payload format and the IVF reader use the same detector. */
    static const struct { uint8_t b; int key; } hdr[] = {
        { 0x80, 1 }, { 0x84, 0 }, { 0x88, 0 },          /* profile 0: key, inter, show existing */
        { 0xA0, 1 }, { 0xA4, 0 }, { 0x90, 1 }, { 0x94, 0 },   /* profiles 1 and 2 */
        { 0xB0, 1 }, { 0xB2, 0 }, { 0xB4, 0 },          /* profile 3: key, inter, show existing */
        { 0x40, -1 },                                   /* no frame marker */
    };
    for (size_t h = 0; h < sizeof hdr / sizeof hdr[0]; h++) {
        ASSERT_EQ(rtc_vp9_frame_is_key(&hdr[h].b, 1), hdr[h].key);
        ASSERT_EQ(rtc_media_frame_is_key(RTC_CODEC_VP9, &hdr[h].b, 1), hdr[h].key == 1);
        nk[13] = hdr[h].b;
        ASSERT_EQ(rtc_vp9_depack_parse(nk, sizeof nk, &i, &hl), 0);
        ASSERT_EQ(i.keyframe, hdr[h].key != 0);         /* no header to read: the descriptor decides */
    }
    ASSERT_EQ(rtc_vp9_frame_is_key(NULL, 0), -1);
    /* Flexible mode inter frame: I P L F B, 7-bit pid, L (TID 1, SID 1), P_DIFFs 2 then 1 (N chain) */
    static const uint8_t fl[] = { 0xF8, 0x09, 0x22, 0x05, 0x02, 0x84 };
    ASSERT_EQ(rtc_vp9_depack_parse(fl, sizeof fl, &i, &hl), 0);
    ASSERT_EQ(hl, 5); ASSERT_EQ(i.picture_id, 9); ASSERT_EQ(i.temporal_id, 1); ASSERT_EQ(i.spatial_id, 1);
    ASSERT_EQ(i.tl0picidx, -1);                         /* flexible mode has none */
    uint8_t rf[sizeof fl];
    memcpy(rf, fl, sizeof fl);
    ASSERT_EQ(rtc_vp9_rewrite_ids(rf, sizeof rf, -1, 1), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_vp9_rewrite_ids(rf, sizeof rf, 0x85, -1), 0);    /* 7-bit: low 7 bits */
    ASSERT_EQ(rtc_vp9_depack_parse(rf, sizeof rf, &i, &hl), 0); ASSERT_EQ(i.picture_id, 5);
    ASSERT(i.begin && !i.end && !i.keyframe);
    static const uint8_t fl4[] = { 0xD8, 0x09, 0x03, 0x03, 0x03, 0x02, 0x84 };   /* 4 P_DIFFs */
    ASSERT_EQ(rtc_vp9_depack_parse(fl4, sizeof fl4, &i, &hl), RTC_EPROTO);
    /* Two spatial layers in one picture become a superframe with its index. */
    static const uint8_t l0a[] = { 0xA8, 0x05, 0x00, 0x01, 0x80, 0x11 },   /* B, SID 0, TL0PICIDX 1 */
                         l0b[] = { 0xA4, 0x05, 0x00, 0x01, 0x22 },         /* E */
                         l1[]  = { 0xAC, 0x05, 0x03, 0x01, 0x86, 0x33, 0x44 }; /* B E, SID 1, D */
    rtc_iov sv[3] = { { l0a, sizeof l0a }, { l0b, sizeof l0b }, { l1, sizeof l1 } };
    uint8_t sf[64];
    int sn = rtc_depack_assemble(RTC_CODEC_VP9, sv, 3, sf, sizeof sf);
    static const uint8_t sfx[] = { 0x80, 0x11, 0x22, 0x86, 0x33, 0x44, 0xC1, 0x03, 0x03, 0xC1 };
    ASSERT_EQ(sn, sizeof sfx); ASSERT_MEMEQ(sf, sfx, sizeof sfx);
    ASSERT_EQ(rtc_depack_assemble(RTC_CODEC_VP9, sv, 3, sf, 7), RTC_EOVERFLOW);   /* no room for the index */
    ASSERT_EQ(rtc_depack_assemble(RTC_CODEC_VP9, sv, 2, sf, sizeof sf), 3);      /* one layer: plain */
    /* Packetizer: keyframe gets P=0 and SS with the resolution on the first packet. */
    uint8_t f[2500];
    memset(f, 0x55, sizeof f); f[0] = 0x80;
    rtc_pack_params pp = { .picture_id = 77, .keyframe = true, .width = 1280, .height = 720 };
    pkts p; rtc_depack_info first;
    packetize(RTC_CODEC_VP9, f, sizeof f, MTU, &pp, &p, &first);
    ASSERT_EQ(p.n, 3);
    ASSERT_EQ(p.buf[0][0], 0x8A); ASSERT_EQ(p.buf[1][0], 0x80); ASSERT_EQ(p.buf[2][0], 0x84);
    ASSERT_EQ(p.buf[0][3], 0x10);
    ASSERT_EQ(p.buf[0][4], 0x05); ASSERT_EQ(p.buf[0][5], 0x00); ASSERT_EQ(p.buf[0][6], 0x02); ASSERT_EQ(p.buf[0][7], 0xD0);
    ASSERT(first.keyframe); ASSERT_EQ(first.picture_id, 77);
    rtc_depack_info li;
    ASSERT_EQ(rtc_vp9_depack_parse(p.buf[2], p.len[2], &li, &hl), 0); ASSERT(li.end);
    pkts_free(&p);
    pp.keyframe = false;
    f[0] = 0x84;
    packetize(RTC_CODEC_VP9, f, 10, MTU, &pp, &p, &first);
    ASSERT_EQ(p.n, 1); ASSERT_EQ(p.buf[0][0], 0xCC);    /* I P B E */
    ASSERT(!first.keyframe && first.end);
    pkts_free(&p);
}

static void test_h264_vectors(void)
{
    rtc_depack_info i;
    /* STAP-A with SPS and PPS */
    static const uint8_t stap[] = { 0x78, 0x00, 0x03, 0x67, 0x42, 0x1F, 0x00, 0x02, 0x68, 0xCE };
    ASSERT_EQ(rtc_h264_depack_parse(stap, sizeof stap, &i), 0);
    ASSERT(i.begin && !i.keyframe);                     /* parameter sets alone decode nothing */
    /* STAP-A with SPS, PPS and a non-IDR slice: not a keyframe; with an IDR slice: one. */
    static const uint8_t stap_p[] = { 0x78, 0x00, 0x03, 0x67, 0x42, 0x1F, 0x00, 0x02, 0x68, 0xCE, 0x00, 0x02, 0x41, 0x9A };
    ASSERT_EQ(rtc_h264_depack_parse(stap_p, sizeof stap_p, &i), 0);
    ASSERT(i.begin && !i.keyframe);
    static const uint8_t stap_i[] = { 0x78, 0x00, 0x03, 0x67, 0x42, 0x1F, 0x00, 0x02, 0x68, 0xCE, 0x00, 0x02, 0x65, 0x88 };
    ASSERT_EQ(rtc_h264_depack_parse(stap_i, sizeof stap_i, &i), 0);
    ASSERT(i.begin && i.keyframe);
    /* The file-side detector agrees: Annex B SPS + PPS + P slice is not a keyframe. */
    static const uint8_t ab_p[] = { 0, 0, 0, 1, 0x67, 0x42, 0x1F, 0, 0, 0, 1, 0x68, 0xCE, 0, 0, 0, 1, 0x41, 0x9A };
    ASSERT(!rtc_media_frame_is_key(RTC_CODEC_H264, ab_p, sizeof ab_p));
    static const uint8_t ab_i[] = { 0, 0, 0, 1, 0x67, 0x42, 0x1F, 0, 0, 0, 1, 0x68, 0xCE, 0, 0, 0, 1, 0x65, 0x88 };
    ASSERT(rtc_media_frame_is_key(RTC_CODEC_H264, ab_i, sizeof ab_i));
    for (size_t l = 0; l < sizeof stap; l++)
        if (l != 6) ASSERT(rtc_h264_depack_parse(stap, l, &i) < 0);   /* 6 ends on a NAL boundary */
    uint8_t out[64];
    rtc_iov iov[3] = { { stap, sizeof stap } };
    int n = rtc_depack_assemble(RTC_CODEC_H264, iov, 1, out, sizeof out);
    static const uint8_t ab[] = { 0, 0, 0, 1, 0x67, 0x42, 0x1F, 0, 0, 0, 1, 0x68, 0xCE };
    ASSERT_EQ(n, sizeof ab); ASSERT_MEMEQ(out, ab, sizeof ab);
    /* FU-A: start (IDR, first_mb 0), middle, end */
    static const uint8_t s[] = { 0x7C, 0x85, 0x88, 0x01 }, m[] = { 0x7C, 0x05, 0x02 }, e[] = { 0x7C, 0x45, 0x03 };
    ASSERT_EQ(rtc_h264_depack_parse(s, sizeof s, &i), 0); ASSERT(i.begin && i.keyframe);
    ASSERT_EQ(rtc_h264_depack_parse(m, sizeof m, &i), 0); ASSERT(!i.begin && !i.keyframe);
    iov[0] = (rtc_iov){ s, sizeof s }; iov[1] = (rtc_iov){ m, sizeof m }; iov[2] = (rtc_iov){ e, sizeof e };
    n = rtc_depack_assemble(RTC_CODEC_H264, iov, 3, out, sizeof out);
    static const uint8_t fu[] = { 0, 0, 0, 1, 0x65, 0x88, 0x01, 0x02, 0x03 };
    ASSERT_EQ(n, sizeof fu); ASSERT_MEMEQ(out, fu, sizeof fu);
    ASSERT_EQ(rtc_depack_assemble(RTC_CODEC_H264, iov + 1, 2, out, sizeof out), RTC_EPROTO);
    ASSERT_EQ(rtc_depack_assemble(RTC_CODEC_H264, iov, 2, out, sizeof out), RTC_EPROTO);
    ASSERT_EQ(rtc_depack_assemble(RTC_CODEC_H264, iov, 3, out, 8), RTC_EOVERFLOW);
    static const uint8_t se[] = { 0x7C, 0xC5, 0x01 };   /* S and E together */
    ASSERT_EQ(rtc_h264_depack_parse(se, sizeof se, &i), RTC_EPROTO);
    /* A P slice continuing a picture (first_mb_in_slice != 0) does not begin a frame. */
    static const uint8_t ps[] = { 0x41, 0x7F, 0x00 };
    ASSERT_EQ(rtc_h264_depack_parse(ps, sizeof ps, &i), 0); ASSERT(!i.begin && !i.keyframe);
    static const uint8_t stapb[] = { 0x79, 0, 0 }, zero[] = { 0x00, 1 }, forb[] = { 0xE5, 1 };
    ASSERT_EQ(rtc_h264_depack_parse(stapb, 3, &i), RTC_ENOTSUP);
    ASSERT_EQ(rtc_h264_depack_parse(zero, 2, &i), RTC_EPROTO);
    ASSERT_EQ(rtc_h264_depack_parse(forb, 2, &i), RTC_EPROTO);
    static const uint8_t stap0[] = { 0x78, 0x00, 0x00 };
    ASSERT_EQ(rtc_h264_depack_parse(stap0, 3, &i), RTC_EPROTO);

    /* Packetizer: SPS + PPS + big IDR -> STAP-A(SPS, PPS), FU-A... ; 3-byte start codes too. */
    uint8_t f[4000];
    size_t o = 0;
    static const uint8_t sps[] = { 0, 0, 0, 1, 0x67, 0x42, 0x1F, 0x11 }, pps[] = { 0, 0, 1, 0x68, 0xCE, 0x3C };
    memcpy(f, sps, sizeof sps); o += sizeof sps;
    memcpy(f + o, pps, sizeof pps); o += sizeof pps;
    f[o++] = 0; f[o++] = 0; f[o++] = 1; f[o++] = 0x65; f[o++] = 0x88;
    for (int k = 0; k < 3000; k++) f[o++] = (uint8_t)(k % 250 + 1);
    pkts p; rtc_depack_info first;
    packetize(RTC_CODEC_H264, f, o, MTU, NULL, &p, &first);
    ASSERT(first.begin && first.keyframe);
    ASSERT_EQ(p.n, 4);
    ASSERT_EQ(p.buf[0][0], 0x78);                       /* STAP-A: SPS + PPS (+ nothing else fits) */
    ASSERT_EQ(p.len[0], 1 + 2 + 4 + 2 + 3);
    ASSERT_EQ(p.buf[1][0], 0x7C); ASSERT_EQ(p.buf[1][1], 0x85);
    ASSERT_EQ(p.buf[3][1], 0x45);
    uint8_t *fr;
    n = assemble(RTC_CODEC_H264, &p, &fr);
    ASSERT_EQ(n, (int)o + 2);                           /* two 3-byte start codes became 4-byte */
    ASSERT_MEMEQ(fr + 14 + 5, f + 14 + 3, o - 14 - 3);
    free(fr);
    pkts_free(&p);
    /* A raw NAL without a start code is one NAL. */
    static const uint8_t raw[] = { 0x41, 0x9A, 0x01 };
    packetize(RTC_CODEC_H264, raw, 3, MTU, NULL, &p, &first);
    ASSERT_EQ(p.n, 1); ASSERT_EQ(p.len[0], 3); ASSERT_MEMEQ(p.buf[0], raw, 3);
    pkts_free(&p);
    /* Only start codes and zeros: nothing to send. */
    static const uint8_t empty[] = { 0, 0, 0, 1, 0, 0, 1, 0 };
    rtc_packetizer pk;
    bool last;
    ASSERT_EQ(rtc_packetizer_init(&pk, RTC_CODEC_H264, empty, sizeof empty, MTU, NULL), 0);
    uint8_t big[MTU];
    ASSERT_EQ(rtc_packetizer_next(&pk, out, sizeof out, &last), RTC_EOVERFLOW);  /* cap < max_payload */
    ASSERT_EQ(rtc_packetizer_next(&pk, big, sizeof big, &last), 0);
    ASSERT(!last);
}

static void test_av1_vectors(void)
{
    rtc_depack_info i;
    /* W=1, N=1: one element, a sequence header OBU without size field. */
    static const uint8_t a[] = { 0x18, 0x08, 0x00, 0x00 };
    ASSERT_EQ(rtc_av1_depack_parse(a, sizeof a, &i), 0);
    ASSERT(i.begin && i.keyframe);
    /* W=2: first element with length 2 (OBU with extension: tid 2, sid 1), then the rest */
    static const uint8_t b[] = { 0x20, 0x02, 0x34, 0x48, 0x30, 0x01, 0x02 };
    ASSERT_EQ(rtc_av1_depack_parse(b, sizeof b, &i), 0);
    ASSERT(i.begin && !i.keyframe); ASSERT_EQ(i.temporal_id, 2); ASSERT_EQ(i.spatial_id, 1);
    uint8_t out[64];
    rtc_iov iov[2] = { { b, sizeof b } };
    int n = rtc_depack_assemble(RTC_CODEC_AV1, iov, 1, out, sizeof out);
    static const uint8_t ab[] = { 0x12, 0x00, 0x36, 0x48, 0x00, 0x32, 0x02, 0x01, 0x02 };
    ASSERT_EQ(n, sizeof ab); ASSERT_MEMEQ(out, ab, sizeof ab);
    /* Fragmented: Y on the first, Z on the second (W=0: every element has a length). */
    static const uint8_t f1[] = { 0x40, 0x03, 0x30, 0xAA, 0xBB }, f2[] = { 0x80, 0x02, 0xCC, 0xDD };
    iov[0] = (rtc_iov){ f1, sizeof f1 }; iov[1] = (rtc_iov){ f2, sizeof f2 };
    ASSERT_EQ(rtc_av1_depack_parse(f2, sizeof f2, &i), 0); ASSERT(!i.begin);
    n = rtc_depack_assemble(RTC_CODEC_AV1, iov, 2, out, sizeof out);
    static const uint8_t fb[] = { 0x12, 0x00, 0x32, 0x04, 0xAA, 0xBB, 0xCC, 0xDD };
    ASSERT_EQ(n, sizeof fb); ASSERT_MEMEQ(out, fb, sizeof fb);
    ASSERT_EQ(rtc_depack_assemble(RTC_CODEC_AV1, iov, 1, out, sizeof out), RTC_EPROTO);     /* Y at the end */
    ASSERT_EQ(rtc_depack_assemble(RTC_CODEC_AV1, iov + 1, 1, out, sizeof out), RTC_EPROTO); /* Z first */
    /* Malformed: length past the end, zero-length element, W=3 with 2 elements, only a header. */
    static const uint8_t m1[] = { 0x00, 0x05, 0x30 }, m2[] = { 0x00, 0x00, 0x30 },
                         m3[] = { 0x30, 0x01, 0x30, 0x01, 0x30 }, m4[] = { 0x18 }, m5[] = { 0x00, 0xFF, 0xFF };
    ASSERT_EQ(rtc_av1_depack_parse(m1, sizeof m1, &i), RTC_ETRUNC);
    ASSERT_EQ(rtc_av1_depack_parse(m2, sizeof m2, &i), RTC_EPROTO);
    ASSERT_EQ(rtc_av1_depack_parse(m3, sizeof m3, &i), RTC_EPROTO);
    ASSERT_EQ(rtc_av1_depack_parse(m4, sizeof m4, &i), RTC_ETRUNC);
    ASSERT_EQ(rtc_av1_depack_parse(m5, sizeof m5, &i), RTC_ETRUNC);
    uint8_t leb[8];
    uint64_t v;
    ASSERT_EQ(rtc_leb128_write(leb, 300), 2); ASSERT_EQ(leb[0], 0xAC); ASSERT_EQ(leb[1], 0x02);
    ASSERT_EQ(rtc_leb128_read(leb, 2, &v), 2); ASSERT_EQ(v, 300);
    ASSERT_EQ(rtc_leb128_read(leb, 1, &v), RTC_ETRUNC);
    static const uint8_t nine[9] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
    ASSERT_EQ(rtc_leb128_read(nine, 9, &v), RTC_EPROTO);
    /* Packetizer drops temporal delimiters and sets N when a sequence header is present. */
    static const uint8_t tu[] = { 0x12, 0x00, 0x0A, 0x02, 0x01, 0x02, 0x32, 0x03, 0x07, 0x08, 0x09 };
    pkts p; rtc_depack_info first;
    packetize(RTC_CODEC_AV1, tu, sizeof tu, MTU, NULL, &p, &first);
    ASSERT_EQ(p.n, 1);
    static const uint8_t exp[] = { 0x08, 0x03, 0x08, 0x01, 0x02, 0x04, 0x30, 0x07, 0x08, 0x09 };
    ASSERT_EQ(p.len[0], sizeof exp); ASSERT_MEMEQ(p.buf[0], exp, sizeof exp);
    ASSERT(first.keyframe);
    pkts_free(&p);
    /* Malformed input frame: size field past the end. */
    static const uint8_t bad[] = { 0x32, 0x09, 0x00 };
    rtc_packetizer pk; bool last;
    ASSERT_EQ(rtc_packetizer_init(&pk, RTC_CODEC_AV1, bad, sizeof bad, MTU, NULL), 0);
    uint8_t big[MTU];
    ASSERT_EQ(rtc_packetizer_next(&pk, big, sizeof big, &last), RTC_ETRUNC);
}

/* Random frames of every size for each codec, through packetize -> assemble. */
static void test_roundtrips(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 99);
    uint8_t *f = malloc(200000), *e = malloc(200000);
    for (size_t s = 0; s < NSIZES; s++) {
        size_t len = sizes[s];
        for (int key = 0; key < 2; key++) {
            rtc_rng_bytes(&rng, f, len);
            rtc_pack_params pp = { .picture_id = (int32_t)s * 7, .keyframe = key, .width = 640, .height = 480 };
            /* VP8: the frame tag's P bit decides the keyframe. */
            f[0] = (uint8_t)(key ? f[0] & ~1 : f[0] | 1);
            roundtrip(RTC_CODEC_VP8, f, len, &pp, key, f, len);
            /* VP9: uncompressed header byte 0x80 key / 0x84 inter. */
            f[0] = key ? 0x80 : 0x84;
            roundtrip(RTC_CODEC_VP9, f, len, &pp, key, f, len);
            /* H264: [SPS PPS] + slice NAL of `len` bytes with 4-byte start codes, no zero bytes. */
            size_t o = 0;
            if (key) {
                static const uint8_t sp[] = { 0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1F, 0, 0, 0, 1, 0x68, 0xCE, 0x3C, 0x80 };
                memcpy(e, sp, sizeof sp); o = sizeof sp;
            }
            e[o++] = 0; e[o++] = 0; e[o++] = 0; e[o++] = 1;
            e[o++] = key ? 0x65 : 0x41;
            size_t nl = len < 2 ? 2 : len;              /* a slice has at least its first_mb */
            for (size_t k = 1; k < nl; k++) e[o++] = (uint8_t)(rtc_rng_below(&rng, 255) + 1);
            e[o - nl + 1] |= 0x80;                      /* first_mb_in_slice = 0 */
            roundtrip(RTC_CODEC_H264, e, o, NULL, key, e, o);
            /* AV1: TD, [sequence header], frame OBU of `len` bytes, all with size fields. */
            o = 0;
            e[o++] = 0x12; e[o++] = 0x00;
            if (key) { e[o++] = 0x0A; e[o++] = 0x03; e[o++] = 0x00; e[o++] = 0x00; e[o++] = 0x0F; }
            e[o++] = 0x32;
            o += (size_t)rtc_leb128_write(e + o, len);
            memcpy(e + o, f, len); o += len;
            if (len % 3 == 0) {                         /* sometimes an OBU with an extension header */
                e[o++] = 0x36; e[o++] = 0x28; e[o++] = 0x01; e[o++] = 0x42;
            }
            roundtrip(RTC_CODEC_AV1, e, o, NULL, key, e, o);
        }
    }
    /* Many tiny NALs / OBUs aggregate, and output stays within the bound. */
    size_t o = 0;
    for (int k = 0; k < 600; k++) { e[o++] = 0; e[o++] = 0; e[o++] = 0; e[o++] = 1; e[o++] = k ? 0x06 : 0x09; }
    roundtrip(RTC_CODEC_H264, e, o, NULL, false, e, o);
    o = 0; e[o++] = 0x12; e[o++] = 0;
    for (int k = 0; k < 600; k++) { e[o++] = k ? 0x22 : 0x1A; e[o++] = 0x00; }  /* frame header, tile groups */
    roundtrip(RTC_CODEC_AV1, e, o, NULL, false, e, o);
    free(f); free(e);
}

/* Hostile input: mutated real payloads and random bytes through every depacketizer;
 * results are errors or frames within the documented bound, never a crash. */
static void test_hostile_payloads(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 5);
    uint8_t f[3000], buf[8][1300];
    for (int c = 0; c < RTC_CODEC__COUNT; c++) {
        for (int iter = 0; iter < 4000; iter++) {
            size_t n = 1 + rtc_rng_below(&rng, 4), lens[8];
            if (iter % 2 == 0) {                       /* mutate packets of a real frame */
                size_t fl = 1 + rtc_rng_below(&rng, sizeof f - 20);
                rtc_rng_bytes(&rng, f, fl);
                if (c == RTC_CODEC_AV1) { f[0] = 0x32; f[1] = (uint8_t)(fl > 2 ? (fl - 2) & 0x7F : 0); }
                rtc_packetizer pk;
                if (rtc_packetizer_init(&pk, (rtc_codec_id)c, f, fl, 400, NULL) < 0) continue;
                bool last;
                int k;
                n = 0;
                while (n < 8 && (k = rtc_packetizer_next(&pk, buf[n], sizeof buf[n], &last)) > 0) lens[n++] = (size_t)k;
                if (n == 0) continue;
                for (int m = 0; m < 3; m++) {
                    size_t which = rtc_rng_below(&rng, (uint32_t)n);
                    buf[which][rtc_rng_below(&rng, (uint32_t)lens[which])] ^= (uint8_t)(1u << rtc_rng_below(&rng, 8));
                }
                if (rtc_rng_below(&rng, 4) == 0) lens[0] = rtc_rng_below(&rng, (uint32_t)lens[0] + 1);
            } else {
                for (size_t i = 0; i < n; i++) {
                    lens[i] = rtc_rng_below(&rng, 40);
                    rtc_rng_bytes(&rng, buf[i], lens[i]);
                }
            }
            rtc_iov iov[8];
            size_t total = 0;
            for (size_t i = 0; i < n; i++) {
                rtc_depack_info info;
                int r = rtc_depack_parse((rtc_codec_id)c, buf[i], lens[i], &info);
                ASSERT(r == 0 || r == RTC_ETRUNC || r == RTC_EPROTO || r == RTC_ENOTSUP);
                iov[i] = (rtc_iov){ buf[i], lens[i] };
                total += lens[i];
            }
            size_t cap = rtc_depack_bound(total, n);
            uint8_t *out = malloc(cap);
            int r = rtc_depack_assemble((rtc_codec_id)c, iov, n, out, cap);
            ASSERT(r != RTC_EOVERFLOW);                 /* the bound always suffices */
            ASSERT(r < 0 || (size_t)r <= cap);
            free(out);
        }
    }
}

int main(void)
{
    RUN(test_opus);
    RUN(test_vp8_vectors);
    RUN(test_vp9_vectors);
    RUN(test_h264_vectors);
    RUN(test_av1_vectors);
    RUN(test_roundtrips);
    RUN(test_hostile_payloads);
    return 0;
}
