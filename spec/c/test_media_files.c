/* media: writers and readers in memory and on pipes: exact round trips, Ogg granules
 * and gap filling, IVF header patching, WebM without seeking, write errors on
 * /dev/full; and hostile input for every reader: each truncation of small files and
 * random mutations never crash, and give a clean error or a clean end. */
#define _GNU_SOURCE
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "media/h264_annexb.h"
#include "media/ivf.h"
#include "media/ogg.h"
#include "media/webm.h"
#include "core/rtc_bytes.h"
#include <fcntl.h>
#include <unistd.h>

/* A deterministic PRNG for test data. */
static uint32_t rng_state = 12345;
static uint32_t rnd(void) { rng_state ^= rng_state << 13; rng_state ^= rng_state >> 17; rng_state ^= rng_state << 5; return rng_state; }

/* A fake Opus packet: TOC for 20 ms CELT fullband (code 0), stereo, random body. */
static size_t fake_opus(uint8_t *p, size_t len)
{
    p[0] = 0xFC;
    for (size_t i = 1; i < len; i++) p[i] = (uint8_t)rnd();
    return len;
}

/* A fake VP8 frame: a keyframe header with 64x48 when key. */
static size_t fake_vp8(uint8_t *p, size_t len, bool key)
{
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)rnd();
    p[0] = key ? (uint8_t)(p[0] & ~1) : (uint8_t)(p[0] | 1);
    if (key) { p[3] = 0x9d; p[4] = 0x01; p[5] = 0x2a; p[6] = 64; p[7] = 0; p[8] = 48; p[9] = 0; }
    return len;
}

static void test_ogg_memory(void)
{
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_mem(&out, 0), 0);
    rtc_ogg_writer *w;
    ASSERT_EQ(rtc_ogg_writer_new(&w, &out, &(rtc_ogg_writer_config){ .page_ms = 100 }), 0);
    static uint8_t pk[300][400];
    size_t lens[300];
    for (int i = 0; i < 300; i++) {
        lens[i] = fake_opus(pk[i], 1 + rnd() % 399);
        /* Packet 100 arrives 1 s late (50 lost before it); the rest follow on. */
        int64_t t = 7000 + i * 20 + (i >= 100 ? 1000 : 0);
        ASSERT_EQ(rtc_ogg_writer_write(w, pk[i], lens[i], t), 0);
    }
    ASSERT_EQ(rtc_ogg_writer_write(w, (const uint8_t *)"", 0, 0), RTC_EPROTO);
    ASSERT_EQ(rtc_ogg_writer_close(w), 0);
    ASSERT_EQ(rtc_ogg_writer_close(w), 0);
    ASSERT_EQ(rtc_ogg_writer_write(w, pk[0], lens[0], 0), RTC_ECLOSED);
    rtc_ogg_writer_stats st;
    rtc_ogg_writer_get_stats(w, &st);
    ASSERT_EQ(st.packets, 300);
    ASSERT_EQ(st.gap_packets, 50);
    ASSERT_EQ(st.samples, 350 * 960);
    rtc_ogg_writer_free(w);
    size_t len;
    const uint8_t *d = rtc_media_out_data(&out, &len);
    rtc_ogg_reader *r;
    ASSERT_EQ(rtc_ogg_reader_new(&r, d, len), 0);
    ASSERT_EQ(rtc_ogg_reader_channels(r), 2);
    ASSERT_EQ(rtc_ogg_reader_pre_skip(r), 312);
    rtc_ogg_packet p;
    int i = 0, gaps = 0;
    int64_t last_granule = -1;
    for (int pass = 0; pass < 2; pass++) {
        i = 0; gaps = 0;
        while (rtc_ogg_reader_next(r, &p) == 1) {
            if (p.len == 1 && i == 100 && gaps < 50) { gaps++; continue; }   /* the filled gap */
            ASSERT(i < 300);
            ASSERT_EQ(p.len, lens[i]);
            ASSERT_MEMEQ(p.data, pk[i], p.len);
            ASSERT_EQ(p.pts, (i + (i >= 100 ? 50 : 0)) * 960 - 312);
            ASSERT_EQ(p.duration, 960);
            if (p.granule >= 0) last_granule = p.granule;
            i++;
        }
        ASSERT_EQ(i, 300);
        ASSERT_EQ(gaps, 50);
        ASSERT_EQ(last_granule, 350 * 960);
        rtc_ogg_reader_rewind(r);                         /* a looping source reads it again */
    }
    rtc_ogg_reader_free(r);
    rtc_media_out_free(&out);
}

/* Build one Ogg page by hand (for layouts our writer never makes). */
static size_t ogg_page(uint8_t *out, uint8_t flags, int64_t granule, uint32_t seq,
                       const uint8_t *lacing, int nseg, const uint8_t *body, size_t blen)
{
    memcpy(out, "OggS", 4);
    out[4] = 0; out[5] = flags;
    for (int i = 0; i < 8; i++) out[6 + i] = (uint8_t)((uint64_t)granule >> (8 * i));
    for (int i = 0; i < 4; i++) { out[14 + i] = (uint8_t)(0x1234 >> (8 * i)); out[18 + i] = (uint8_t)(seq >> (8 * i)); }
    memset(out + 22, 0, 4);
    out[26] = (uint8_t)nseg;
    memcpy(out + 27, lacing, (size_t)nseg);
    memcpy(out + 27 + nseg, body, blen);
    size_t n = 27 + (size_t)nseg + blen;
    uint32_t c = rtc_ogg_crc(out, n);
    for (int i = 0; i < 4; i++) out[22 + i] = (uint8_t)(c >> (8 * i));
    return n;
}

/* A packet longer than one page continues on the next (the continued flag), and the
 * reader joins it; the stream's first granule may start above zero. */
static void test_ogg_spanning_packet(void)
{
    static uint8_t file[200000], big[70000], lac[255];
    size_t n = 0;
    uint8_t head[19];
    rtc_opus_head_write(head, 1, 312, 48000);
    uint8_t l = 19;
    n += ogg_page(file + n, 0x02, 0, 0, &l, 1, head, 19);
    uint8_t tags[16] = { 'O', 'p', 'u', 's', 'T', 'a', 'g', 's', 0, 0, 0, 0, 0, 0, 0, 0 };
    l = 16;
    n += ogg_page(file + n, 0, 0, 1, &l, 1, tags, 16);
    fake_opus(big, sizeof big);
    memset(lac, 255, sizeof lac);
    /* page 2: 255 segments of 255 bytes, no packet ends: granule -1 */
    n += ogg_page(file + n, 0, -1, 2, lac, 255, big, 255 * 255);
    /* page 3: the rest (4975 = 19 x 255 + 130) then a small packet */
    size_t rest = sizeof big - 255 * 255;
    uint8_t lac3[21];
    memset(lac3, 255, 19);
    lac3[19] = (uint8_t)(rest - 19 * 255);
    lac3[20] = 3;
    static uint8_t body3[5000];
    memcpy(body3, big + 255 * 255, rest);
    body3[rest] = 0xFC; body3[rest + 1] = 1; body3[rest + 2] = 2;
    n += ogg_page(file + n, 0x01 | 0x04, 48000 + 1920, 3, lac3, 21, body3, rest + 3);
    rtc_ogg_reader *r;
    ASSERT_EQ(rtc_ogg_reader_new(&r, file, n), 0);
    rtc_ogg_packet p;
    ASSERT_EQ(rtc_ogg_reader_next(r, &p), 1);
    ASSERT_EQ(p.len, sizeof big);
    ASSERT_MEMEQ(p.data, big, sizeof big);
    ASSERT_EQ(p.pts, -312);                              /* the EOS page's granule does not set a base */
    ASSERT_EQ(rtc_ogg_reader_next(r, &p), 1);
    ASSERT_EQ(p.len, 3);
    ASSERT_EQ(p.granule, 48000 + 1920);
    ASSERT_EQ(rtc_ogg_reader_next(r, &p), 0);
    rtc_ogg_reader_free(r);
    /* Without the continued flag on page 3 the stream is malformed. */
    file[n - (27 + 21 + rest + 3) + 5] = 0x04;
    uint8_t *pg = file + n - (27 + 21 + rest + 3);
    memset(pg + 22, 0, 4);
    uint32_t c = rtc_ogg_crc(pg, 27 + 21 + rest + 3);
    for (int i = 0; i < 4; i++) pg[22 + i] = (uint8_t)(c >> (8 * i));
    ASSERT_EQ(rtc_ogg_reader_new(&r, file, n), 0);
    ASSERT_EQ(rtc_ogg_reader_next(r, &p), RTC_EPROTO);
    ASSERT_EQ(rtc_ogg_reader_next(r, &p), RTC_EPROTO);
    rtc_ogg_reader_free(r);
    /* A flipped bit fails the CRC. */
    pg[40] ^= 1;
    ASSERT_EQ(rtc_ogg_reader_new(&r, file, n), 0);
    ASSERT_EQ(rtc_ogg_reader_next(r, &p), RTC_EPROTO);
    rtc_ogg_reader_free(r);
}

static void test_ivf_memory_and_pipe(void)
{
    for (int pipe_mode = 0; pipe_mode < 2; pipe_mode++) {
        int fds[2] = { -1, -1 };
        rtc_media_out out;
        if (pipe_mode) {
            ASSERT_EQ(pipe(fds), 0);
            fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
            ASSERT_EQ(rtc_media_out_init_fd(&out, fds[1]), 0);
            ASSERT(!out.seekable);
        } else {
            ASSERT_EQ(rtc_media_out_init_mem(&out, 0), 0);
        }
        rtc_ivf_writer *w;
        ASSERT_EQ(rtc_ivf_writer_new(&w, &out, &(rtc_ivf_writer_config){ .codec = RTC_CODEC_H264 }), RTC_EINVAL);
        ASSERT_EQ(rtc_ivf_writer_new(&w, &out, &(rtc_ivf_writer_config){ .codec = RTC_CODEC_VP8 }), 0);
        static uint8_t fr[30][1000];
        size_t lens[30];
        for (int i = 0; i < 30; i++) {
            lens[i] = fake_vp8(fr[i], 20 + rnd() % 980, i % 10 == 0);
            ASSERT_EQ(rtc_ivf_writer_write(w, fr[i], lens[i], 500 + i * 40), 0);
        }
        ASSERT_EQ(rtc_ivf_writer_close(w), 0);
        rtc_ivf_writer_free(w);
        uint8_t *d;
        size_t len;
        static uint8_t pipebuf[1 << 20];
        if (pipe_mode) {
            close(fds[1]);
            ssize_t n = read(fds[0], pipebuf, sizeof pipebuf);
            ASSERT(n > 0);
            close(fds[0]);
            d = pipebuf; len = (size_t)n;
        } else {
            d = (uint8_t *)rtc_media_out_data(&out, &len);
        }
        rtc_ivf_reader r;
        ASSERT_EQ(rtc_ivf_reader_init(&r, d, len), 0);
        ASSERT_EQ(r.info.codec, RTC_CODEC_VP8);
        ASSERT_EQ(r.info.width, 64);                      /* from the first keyframe */
        ASSERT_EQ(r.info.height, 48);
        /* 30 frames x 40 ms; on the pipe too, as the header was still in the buffer */
        ASSERT_EQ(r.info.header_frames, 1200);
        rtc_ivf_frame f;
        for (int i = 0; i < 30; i++) {
            ASSERT_EQ(rtc_ivf_reader_next(&r, &f), 1);
            ASSERT_EQ(f.len, lens[i]);
            ASSERT_MEMEQ(f.data, fr[i], f.len);
            ASSERT_EQ(f.pts_ms, i * 40);
            ASSERT_EQ(f.keyframe, i % 10 == 0);
        }
        ASSERT_EQ(rtc_ivf_reader_next(&r, &f), 0);
        rtc_media_out_free(&out);
    }
}

static void test_webm_pipe(void)
{
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_fd(&out, fds[1]), 0);
    rtc_webm_writer *w;
    ASSERT_EQ(rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ 0 }), RTC_EINVAL);
    ASSERT_EQ(rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ .video = true, .video_codec = RTC_CODEC_OPUS }), RTC_EINVAL);
    ASSERT_EQ(rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ .audio = true, .video = true, .video_codec = RTC_CODEC_VP8 }), 0);
    uint8_t a[200], v[3000];
    int na = 0, nv = 0;
    for (int t = 0; t < 3000; t += 20) {
        ASSERT_EQ(rtc_webm_writer_write(w, false, a, fake_opus(a, 100), 100000 + t, true), 0);
        na++;
        if (t % 40 == 0) {
            ASSERT_EQ(rtc_webm_writer_write(w, true, v, fake_vp8(v, 2000, t % 1000 == 0), 100000 + t, t % 1000 == 0), 0);
            nv++;
        }
    }
    ASSERT_EQ(rtc_webm_writer_write(w, true, v, 0, 0, false), RTC_EINVAL);
    ASSERT_EQ(rtc_webm_writer_close(w), 0);
    rtc_webm_writer_stats st;
    rtc_webm_writer_get_stats(w, &st);
    ASSERT_EQ(st.clusters, 3);
    ASSERT_EQ(st.cues, 0);                               /* no Cues without seeking */
    rtc_webm_writer_free(w);
    rtc_media_out_free(&out);
    close(fds[1]);
    static uint8_t buf[1 << 20];
    ssize_t n = read(fds[0], buf, sizeof buf);
    close(fds[0]);
    ASSERT(n > 0);
    rtc_webm_reader r;
    ASSERT_EQ(rtc_webm_reader_init(&r, buf, (size_t)n), 0);
    ASSERT_EQ(r.tracks[1].width, 64);
    rtc_webm_frame f;
    int ga = 0, gv = 0, keys = 0;
    while (rtc_webm_reader_next(&r, &f) == 1) {
        if (f.track == 0) { ASSERT_EQ(f.pts_ms, ga * 20); ga++; }
        else { ASSERT_EQ(f.pts_ms, gv * 40); gv++; keys += f.keyframe; }
    }
    ASSERT_EQ(r.err, 0);
    ASSERT_EQ(ga, na); ASSERT_EQ(gv, nv); ASSERT_EQ(keys, 3);
}

static const uint8_t *find(const uint8_t *d, size_t len, const void *pat, size_t n)
{
    for (size_t i = 0; i + n <= len; i++) if (!memcmp(d + i, pat, n)) return d + i;
    return NULL;
}

/* Seekable output: Segment size, SeekHead -> Cues, and every cue -> a Cluster that
 * begins with (or holds) a video keyframe at the cue's time. */
static void test_webm_cues(void)
{
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_mem(&out, 0), 0);
    rtc_webm_writer *w;
    ASSERT_EQ(rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ .audio = true, .video = true,
        .video_codec = RTC_CODEC_VP9, .width = 320, .height = 240 }), 0);
    uint8_t a[200], v[3000];
    for (int t = 0; t < 5000; t += 20) {
        ASSERT_EQ(rtc_webm_writer_write(w, false, a, fake_opus(a, 100), t, true), 0);
        if (t % 40 == 0) ASSERT_EQ(rtc_webm_writer_write(w, true, v, 1000, t, t % 2000 == 0), 0);
    }
    ASSERT_EQ(rtc_webm_writer_close(w), 0);
    rtc_webm_writer_stats st;
    rtc_webm_writer_get_stats(w, &st);
    ASSERT_EQ(st.cues, 3);
    ASSERT_EQ(st.duration_ms, 5000);
    rtc_webm_writer_free(w);
    size_t len;
    const uint8_t *d = rtc_media_out_data(&out, &len);
    const uint8_t *seg = find(d, len, "\x18\x53\x80\x67", 4);
    ASSERT(seg);
    ASSERT_EQ(seg[4], 0x01);                             /* 8-byte size, patched */
    uint64_t seg_size = rtc_rd64(seg + 4) & 0x00FFFFFFFFFFFFFFull;
    const uint8_t *seg_data = seg + 12;
    ASSERT_EQ(seg_size, (uint64_t)(d + len - seg_data));
    const uint8_t *cues = NULL;                          /* the last match: the first is SeekHead's SeekID */
    for (const uint8_t *p = d; (p = find(p, (size_t)(d + len - p), "\x1C\x53\xBB\x6B", 4)); p++) cues = p;
    ASSERT(cues);
    /* SeekHead's third entry names Cues with its position */
    const uint8_t *sid = find(d, len, "\x53\xAB\x84\x1C\x53\xBB\x6B\x53\xAC\x88", 10);
    ASSERT(sid);
    ASSERT_EQ(rtc_rd64(sid + 10), (uint64_t)(cues - seg_data));
    int found = 0;
    for (const uint8_t *p = cues; (p = find(p, (size_t)(d + len - p), "\xB3", 1)); p++) {
        /* CueTime (0xB3, size) ... CueClusterPosition (0xF1, size, value) */
        if (p[1] < 0x81 || p[1] > 0x88) continue;
        const uint8_t *cp = find(p, (size_t)(d + len - p), "\xF1", 1);
        if (!cp || cp[1] < 0x81 || cp[1] > 0x88) continue;
        uint64_t pos = 0;
        for (int i = 0; i < (cp[1] & 0x0F); i++) pos = pos << 8 | cp[2 + i];
        ASSERT(pos < seg_size);
        ASSERT_MEMEQ(seg_data + pos, "\x1F\x43\xB6\x75", 4);
        found++;
        p = cp + 2;
    }
    ASSERT_EQ(found, 3);
    rtc_webm_reader r;
    ASSERT_EQ(rtc_webm_reader_init(&r, d, len), 0);
    ASSERT(r.duration_ms == 5000.0);
    rtc_media_out_free(&out);
}

static void test_dev_full(void)
{
    int fd = open("/dev/full", O_WRONLY);
    if (fd < 0) { fprintf(stderr, "no /dev/full here\n"); return; }
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_fd(&out, fd), 0);
    rtc_webm_writer *w;
    ASSERT_EQ(rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ .audio = true }), 0);
    uint8_t a[1000];
    int err = 0, i = 0;
    for (; i < 1000 && !err; i++) err = rtc_webm_writer_write(w, false, a, fake_opus(a, 1000), i * 20, true);
    ASSERT_EQ(err, RTC_EIO);                              /* when the first 64 KiB go out */
    ASSERT(i < 100);
    ASSERT_EQ(rtc_webm_writer_write(w, false, a, 100, i * 20, true), RTC_EIO);
    ASSERT_EQ(rtc_webm_writer_close(w), RTC_EIO);
    rtc_webm_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
}

/* ---- hostile input ---- */
typedef int (*read_all_fn)(const uint8_t *d, size_t len);

static int read_all_ogg(const uint8_t *d, size_t len)
{
    rtc_ogg_reader *r;
    int e = rtc_ogg_reader_new(&r, d, len);
    if (e) return e;
    rtc_ogg_packet p;
    int n, count = 0;
    while ((n = rtc_ogg_reader_next(r, &p)) == 1) { ASSERT(p.len <= len); count++; }
    ASSERT_EQ(rtc_ogg_reader_next(r, &p), n);            /* errors are sticky */
    rtc_ogg_reader_free(r);
    return n < 0 ? n : count;
}

static int read_all_ivf(const uint8_t *d, size_t len)
{
    rtc_ivf_reader r;
    int e = rtc_ivf_reader_init(&r, d, len);
    if (e) return e;
    rtc_ivf_frame f;
    int n, count = 0;
    while ((n = rtc_ivf_reader_next(&r, &f)) == 1) { ASSERT(f.data >= d && f.data + f.len <= d + len); count++; }
    return n < 0 ? n : count;
}

static int read_all_webm(const uint8_t *d, size_t len)
{
    rtc_webm_reader r;
    int e = rtc_webm_reader_init(&r, d, len);
    if (e) return e;
    rtc_webm_frame f;
    int n, count = 0;
    while ((n = rtc_webm_reader_next(&r, &f)) == 1) { ASSERT(f.data >= d && f.data + f.len <= d + len); count++; }
    return n < 0 ? n : count;
}

static int read_all_h264(const uint8_t *d, size_t len)
{
    rtc_h264_reader r;
    int e = rtc_h264_reader_init(&r, d, len, 30, 1);
    if (e) return e;
    rtc_h264_au au;
    int n, count = 0;
    while ((n = rtc_h264_reader_next(&r, &au)) == 1) { ASSERT(au.data >= d && au.data + au.len <= d + len); count++; }
    return n < 0 ? n : count;
}

/* Every prefix of a valid file reads without a crash, and gives an error or fewer
 * items; then random byte mutations. Each case runs on an exact-size heap copy so
 * the sanitizers see any over-read. */
static void hostile(const uint8_t *file, size_t len, read_all_fn fn, int whole)
{
    ASSERT_EQ(fn(file, len), whole);
    int errors = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *c = malloc(cut ? cut : 1);
        memcpy(c, file, cut);
        int n = fn(c, cut);
        ASSERT(n <= whole);
        errors += n < 0;
        free(c);
    }
    ASSERT(errors > 0);
    uint8_t *c = malloc(len);
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(c, file, len);
        int k = 1 + (int)(rnd() % 8);
        for (int j = 0; j < k; j++) c[rnd() % len] = (uint8_t)rnd();
        (void)fn(c, len);
    }
    free(c);
}

static void test_hostile_readers(void)
{
    rtc_media_out out;
    /* Ogg: 40 packets across several pages. */
    ASSERT_EQ(rtc_media_out_init_mem(&out, 0), 0);
    rtc_ogg_writer *ow;
    ASSERT_EQ(rtc_ogg_writer_new(&ow, &out, &(rtc_ogg_writer_config){ .page_ms = 200 }), 0);
    uint8_t b[600];
    for (int i = 0; i < 40; i++) ASSERT_EQ(rtc_ogg_writer_write(ow, b, fake_opus(b, 1 + rnd() % 300), i * 20), 0);
    ASSERT_EQ(rtc_ogg_writer_close(ow), 0);
    rtc_ogg_writer_free(ow);
    size_t len;
    const uint8_t *d = rtc_media_out_data(&out, &len);
    hostile(d, len, read_all_ogg, 40);
    rtc_media_out_free(&out);
    /* IVF */
    ASSERT_EQ(rtc_media_out_init_mem(&out, 0), 0);
    rtc_ivf_writer *iw;
    ASSERT_EQ(rtc_ivf_writer_new(&iw, &out, &(rtc_ivf_writer_config){ .codec = RTC_CODEC_VP9 }), 0);
    for (int i = 0; i < 20; i++) ASSERT_EQ(rtc_ivf_writer_write(iw, b, 1 + rnd() % 200, i * 33), 0);
    ASSERT_EQ(rtc_ivf_writer_close(iw), 0);
    rtc_ivf_writer_free(iw);
    d = rtc_media_out_data(&out, &len);
    hostile(d, len, read_all_ivf, 20);
    rtc_media_out_free(&out);
    /* WebM: audio + video */
    ASSERT_EQ(rtc_media_out_init_mem(&out, 0), 0);
    rtc_webm_writer *ww;
    ASSERT_EQ(rtc_webm_writer_new(&ww, &out, &(rtc_webm_writer_config){ .audio = true, .video = true, .video_codec = RTC_CODEC_VP8 }), 0);
    for (int i = 0; i < 30; i++) {
        ASSERT_EQ(rtc_webm_writer_write(ww, i % 2, b, i % 2 ? fake_vp8(b, 10 + rnd() % 200, i % 10 == 1) : fake_opus(b, 1 + rnd() % 100), i * 20, i % 10 == 1), 0);
    }
    ASSERT_EQ(rtc_webm_writer_close(ww), 0);
    rtc_webm_writer_free(ww);
    d = rtc_media_out_data(&out, &len);
    hostile(d, len, read_all_webm, 30);
    rtc_media_out_free(&out);
    /* H264 Annex B: SPS PPS IDR, then P slices, with an AUD before each unit. */
    uint8_t h[2000];
    size_t n = 0;
    for (int i = 0; i < 10; i++) {
        static const uint8_t aud[] = { 0, 0, 0, 1, 9, 0xF0 };
        memcpy(h + n, aud, sizeof aud); n += sizeof aud;
        if (i == 0) {
            static const uint8_t ps[] = { 0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1E, 0xDA, 0, 0, 0, 1, 0x68, 0xCE, 0x3C, 0x80 };
            memcpy(h + n, ps, sizeof ps); n += sizeof ps;
        }
        h[n++] = 0; h[n++] = 0; h[n++] = 1; h[n++] = i == 0 ? 0x65 : 0x41; h[n++] = 0x88;
        for (int j = 0; j < 50; j++) h[n++] = (uint8_t)(0x10 | (rnd() & 0x0F));   /* no start codes inside */
    }
    hostile(h, n, read_all_h264, 10);
    rtc_h264_reader r;
    ASSERT_EQ(rtc_h264_reader_init(&r, h, n, 25, 1), 0);
    rtc_h264_au au;
    ASSERT_EQ(rtc_h264_reader_next(&r, &au), 1);
    ASSERT(au.keyframe && au.has_sps && au.pts_ms == 0);
    ASSERT_EQ(rtc_h264_reader_next(&r, &au), 1);
    ASSERT(!au.keyframe && au.pts_ms == 40);
    ASSERT_EQ(rtc_h264_reader_init(&r, h, n, 0, 1), RTC_EINVAL);
    ASSERT_EQ(rtc_h264_reader_init(&r, h + 5, n - 5, 30, 1), RTC_EPROTO);
}

int main(void)
{
    RUN(test_ogg_memory);
    RUN(test_ogg_spanning_packet);
    RUN(test_ivf_memory_and_pipe);
    RUN(test_webm_pipe);
    RUN(test_webm_cues);
    RUN(test_dev_full);
    RUN(test_hostile_readers);
    return 0;
}
