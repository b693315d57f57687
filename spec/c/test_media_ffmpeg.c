/* media: real files made by ffmpeg (Opus in Ogg, VP8/VP9/AV1 in IVF, H264 Annex B)
 * read by our readers, written back by our writers (Ogg, IVF, WebM with audio and
 * video muxed), re-read frame by frame, and checked with ffprobe (codecs, durations,
 * start times) and ffmpeg (decodes without a complaint). Plus an Opus tone through
 * libopus -> Ogg writer -> ffmpeg decode -> frequency recovered. */
#include "test_media_util.h"
#include "codec/opus_codec.h"
#include "core/rtc_errors.h"
#include "media/h264_annexb.h"
#include "media/ivf.h"
#include "media/ogg.h"
#include "media/webm.h"
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

typedef struct tm_frame { uint8_t *data; size_t len; int64_t pts_ms; bool key; } tm_frame;
typedef struct tm_track { tm_frame f[1024]; int n; } tm_track;

static void track_add(tm_track *t, const uint8_t *p, size_t len, int64_t pts, bool key)
{
    ASSERT(t->n < 1024);
    t->f[t->n].data = malloc(len);
    memcpy(t->f[t->n].data, p, len);
    t->f[t->n].len = len; t->f[t->n].pts_ms = pts; t->f[t->n].key = key;
    t->n++;
}

static void track_free(tm_track *t) { for (int i = 0; i < t->n; i++) free(t->f[i].data); t->n = 0; }

static void tracks_same(const tm_track *a, const tm_track *b)
{
    ASSERT_EQ(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        ASSERT_EQ(a->f[i].len, b->f[i].len);
        ASSERT_MEMEQ(a->f[i].data, b->f[i].data, a->f[i].len);
        ASSERT_EQ(a->f[i].pts_ms, b->f[i].pts_ms);
    }
}

static void read_ogg(const char *path, tm_track *t)
{
    size_t len;
    uint8_t *d = tm_read(path, &len);
    rtc_ogg_reader *r;
    ASSERT_EQ(rtc_ogg_reader_new(&r, d, len), 0);
    rtc_ogg_packet p;
    int n;
    int64_t expect = 0;
    while ((n = rtc_ogg_reader_next(r, &p)) == 1) {
        ASSERT_EQ(p.pts, expect - rtc_ogg_reader_pre_skip(r));   /* packets are contiguous */
        expect += p.duration;
        track_add(t, p.data, p.len, (p.pts + rtc_ogg_reader_pre_skip(r)) / 48, true);
    }
    ASSERT_EQ(n, 0);
    rtc_ogg_reader_free(r);
    free(d);
}

static void read_ivf(const char *path, tm_track *t, rtc_codec_id codec)
{
    size_t len;
    uint8_t *d = tm_read(path, &len);
    rtc_ivf_reader r;
    ASSERT_EQ(rtc_ivf_reader_init(&r, d, len), 0);
    ASSERT_EQ(r.info.codec, codec);
    rtc_ivf_frame f;
    int n;
    while ((n = rtc_ivf_reader_next(&r, &f)) == 1) track_add(t, f.data, f.len, f.pts_ms, f.keyframe);
    ASSERT_EQ(n, 0);
    ASSERT(t->n > 0 && t->f[0].key);
    free(d);
}

static int open_out(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT(fd >= 0);
    return fd;
}

static void write_ogg(const char *path, const tm_track *t)
{
    int fd = open_out(path);
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_fd(&out, fd), 0);
    rtc_ogg_writer *w;
    ASSERT_EQ(rtc_ogg_writer_new(&w, &out, &(rtc_ogg_writer_config){ .channels = 1 }), 0);
    for (int i = 0; i < t->n; i++) ASSERT_EQ(rtc_ogg_writer_write(w, t->f[i].data, t->f[i].len, t->f[i].pts_ms), 0);
    ASSERT_EQ(rtc_ogg_writer_close(w), 0);
    rtc_ogg_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
}

static void write_ivf(const char *path, const tm_track *t, rtc_codec_id c)
{
    int fd = open_out(path);
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_fd(&out, fd), 0);
    rtc_ivf_writer *w;
    ASSERT_EQ(rtc_ivf_writer_new(&w, &out, &(rtc_ivf_writer_config){ .codec = c,
        .width = (uint16_t)(c == RTC_CODEC_AV1 ? 160 : 0), .height = (uint16_t)(c == RTC_CODEC_AV1 ? 120 : 0) }), 0);
    for (int i = 0; i < t->n; i++) ASSERT_EQ(rtc_ivf_writer_write(w, t->f[i].data, t->f[i].len, t->f[i].pts_ms), 0);
    ASSERT_EQ(rtc_ivf_writer_close(w), 0);
    ASSERT_EQ(rtc_ivf_writer_frames(w), t->n);
    rtc_ivf_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
}

/* Interleave audio and video by time, as a recorder receives them; the video track
 * starts `voff` ms after the audio on the common clock. */
static void write_webm(const char *path, const tm_track *a, const tm_track *v, rtc_codec_id vc, int64_t voff)
{
    int fd = open_out(path);
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_fd(&out, fd), 0);
    rtc_webm_writer *w;
    ASSERT_EQ(rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ .audio = a != NULL, .channels = 1,
        .video = v != NULL, .video_codec = vc }), 0);       /* size from the first keyframe */
    int ia = 0, iv = 0;
    const int64_t base = 1000000;            /* an arbitrary origin on the shared clock */
    while ((a && ia < a->n) || (v && iv < v->n)) {
        bool take_v = v && iv < v->n && (!a || ia >= a->n || v->f[iv].pts_ms + voff <= a->f[ia].pts_ms);
        if (take_v) {
            ASSERT_EQ(rtc_webm_writer_write(w, true, v->f[iv].data, v->f[iv].len, base + voff + v->f[iv].pts_ms, v->f[iv].key), 0);
            iv++;
        } else {
            ASSERT_EQ(rtc_webm_writer_write(w, false, a->f[ia].data, a->f[ia].len, base + a->f[ia].pts_ms, true), 0);
            ia++;
        }
    }
    ASSERT_EQ(rtc_webm_writer_close(w), 0);
    rtc_webm_writer_stats st;
    rtc_webm_writer_get_stats(w, &st);
    if (v) ASSERT(st.cues > 0);
    rtc_webm_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
}

static void test_ogg_roundtrip(void)
{
    tm_run("ffmpeg -nostdin -v error -y -f lavfi -i sine=frequency=440:duration=2 -c:a libopus -b:a 32k '%s'", tm_path("in.ogg"));
    tm_track a = { .n = 0 }, b = { .n = 0 };
    read_ogg(tm_path("in.ogg"), &a);
    ASSERT_GE(a.n, 99);                      /* 2 s of 20 ms packets */
    write_ogg(tm_path("out.ogg"), &a);
    read_ogg(tm_path("out.ogg"), &b);
    tracks_same(&a, &b);
    const char *p = tm_probe(tm_path("out.ogg"));
    ASSERT_STREQ(tm_kv(p, "codec_name", 0), "opus");
    ASSERT_NEAR(tm_kv_num(p, "duration", 1), 2.0, 0.1);
    tm_decodes_clean(tm_path("out.ogg"));
    track_free(&a); track_free(&b);
}

static void test_ivf_roundtrip(const char *enc, rtc_codec_id c, const char *name, double secs)
{
    char in[64];
    snprintf(in, sizeof in, "in-%s.ivf", name);
    tm_run("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=30 -t %g -c:v %s -g 15 '%s'",
           secs, enc, tm_path(in));
    tm_track a = { .n = 0 }, b = { .n = 0 };
    read_ivf(tm_path(in), &a, c);
    ASSERT_EQ(a.n, (int)(secs * 30));
    write_ivf(tm_path("out.ivf"), &a, c);
    read_ivf(tm_path("out.ivf"), &b, c);
    {
        size_t len;
        uint8_t *d = tm_read(tm_path("out.ivf"), &len);
        rtc_ivf_reader r;
        ASSERT_EQ(rtc_ivf_reader_init(&r, d, len), 0);
        ASSERT_EQ(r.info.width, 160);                    /* VP8/VP9: from the first keyframe */
        ASSERT_EQ(r.info.height, 120);
        free(d);
    }
    tracks_same(&a, &b);
    const char *p = tm_probe(tm_path("out.ivf"));
    ASSERT_STREQ(tm_kv(p, "codec_name", 0), name);
    ASSERT_NEAR(tm_kv_num(p, "duration", 1), secs, secs * 0.05);
    tm_decodes_clean(tm_path("out.ivf"));
    track_free(&a); track_free(&b);
}

static void test_ivf_vp8(void) { test_ivf_roundtrip("libvpx", RTC_CODEC_VP8, "vp8", 2); }
static void test_ivf_vp9(void) { test_ivf_roundtrip("libvpx-vp9 -deadline realtime -cpu-used 8", RTC_CODEC_VP9, "vp9", 2); }
static void test_ivf_av1(void) { test_ivf_roundtrip("libaom-av1 -cpu-used 8", RTC_CODEC_AV1, "av1", 1); }

/* Check a muxed file: both streams there, durations right, starts within 100 ms of
 * their offset on the shared clock, decodes cleanly. */
static void check_av(const char *path, const char *vname, double secs, double voff)
{
    const char *p = tm_probe(path);
    int ai = strcmp(tm_kv(p, "codec_type", 0), "audio") == 0 ? 0 : 1;
    ASSERT_STREQ(tm_kv(p, "codec_name", ai), "opus");
    ASSERT_STREQ(tm_kv(p, "codec_name", 1 - ai), vname);
    double as = tm_kv_num(p, "start_time", ai), vs = tm_kv_num(p, "start_time", 1 - ai);
    ASSERT_NEAR(vs - as, voff, 0.1);
    /* the format duration is the last entry */
    const char *d; int k = 0;
    while ((d = tm_kv(p, "duration", k))) k++;
    ASSERT_NEAR(tm_kv_num(p, "duration", k - 1), secs + voff, (secs + voff) * 0.05);
    tm_decodes_clean(path);
    /* Seeking (through the Cues) lands on a keyframe and decodes cleanly from there. */
    const char *o = tm_run("ffmpeg -nostdin -v error -ss 1.2 -i '%s' -f null - 2>&1", path);
    if (o[0]) RTC_TEST_FAIL("seeking in %s:\n%s", path, o);
}

static void test_webm_av(const char *enc, rtc_codec_id c, const char *name, const char *file)
{
    tm_track a = { .n = 0 }, v = { .n = 0 };
    read_ogg(tm_path("in.ogg"), &a);
    if (c == RTC_CODEC_H264) {
        tm_run("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=30 -t 2 -c:v libx264 -profile:v baseline -pix_fmt yuv420p -g 30 "
               "-bsf:v h264_mp4toannexb -f h264 '%s'", tm_path("in.h264"));
        size_t len;
        uint8_t *d = tm_read(tm_path("in.h264"), &len);
        rtc_h264_reader r;
        ASSERT_EQ(rtc_h264_reader_init(&r, d, len, 30, 1), 0);
        rtc_h264_au au;
        int n;
        while ((n = rtc_h264_reader_next(&r, &au)) == 1) track_add(&v, au.data, au.len, au.pts_ms, au.keyframe);
        ASSERT_EQ(n, 0);
        ASSERT_EQ(v.n, 60);
        ASSERT(v.f[0].key && v.f[30].key && !v.f[1].key);
        free(d);
    } else {
        char in[64];
        snprintf(in, sizeof in, "in-%s.ivf", name);
        tm_run("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=30 -t 2 -c:v %s -g 30 '%s'", enc, tm_path(in));
        read_ivf(tm_path(in), &v, c);
    }
    write_webm(tm_path(file), &a, &v, c, 0);
    check_av(tm_path(file), name, 2.0, 0.0);
    /* Our reader gets back every frame, identical, at its time (H264 blocks hold
     * length-prefixed NAL units, so only their count and times are compared). */
    {
        size_t len;
        uint8_t *d = tm_read(tm_path(file), &len);
        rtc_webm_reader r;
        ASSERT_EQ(rtc_webm_reader_init(&r, d, len), 0);
        ASSERT_EQ(r.ntracks, 2);
        ASSERT_EQ(r.tracks[0].codec, RTC_CODEC_OPUS);
        ASSERT_EQ(r.tracks[1].codec, c);
        if (c != RTC_CODEC_AV1) { ASSERT_EQ(r.tracks[1].width, 160); ASSERT_EQ(r.tracks[1].height, 120); }
        ASSERT_NEAR(r.duration_ms, 2000, 100);
        tm_track ra = { .n = 0 }, rv = { .n = 0 };
        rtc_webm_frame f;
        int n;
        while ((n = rtc_webm_reader_next(&r, &f)) == 1)
            track_add(f.track == 0 ? &ra : &rv, f.data, f.len, f.pts_ms, f.keyframe);
        ASSERT_EQ(n, 0);
        tracks_same(&a, &ra);
        ASSERT_EQ(rv.n, v.n);
        for (int i = 0; i < v.n; i++) {
            ASSERT_EQ(rv.f[i].pts_ms, v.f[i].pts_ms);
            ASSERT_EQ(rv.f[i].key, v.f[i].key);
            if (c != RTC_CODEC_H264) { ASSERT_EQ(rv.f[i].len, v.f[i].len); ASSERT_MEMEQ(rv.f[i].data, v.f[i].data, v.f[i].len); }
        }
        track_free(&ra); track_free(&rv);
        free(d);
    }
    /* Video starting 500 ms after audio on the shared clock stays 500 ms later. */
    write_webm(tm_path(file), &a, &v, c, 500);
    check_av(tm_path(file), name, 2.0, 0.5);
    track_free(&a); track_free(&v);
}

/* A WebM file muxed by ffmpeg reads with our reader: both tracks, every frame, in time. */
static void test_webm_read_ffmpeg(void)
{
    tm_run("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=30 -f lavfi -i sine=frequency=440 -t 2 "
           "-c:v libvpx -g 30 -c:a libopus '%s'", tm_path("ff.webm"));
    size_t len;
    uint8_t *d = tm_read(tm_path("ff.webm"), &len);
    rtc_webm_reader r;
    ASSERT_EQ(rtc_webm_reader_init(&r, d, len), 0);
    ASSERT_EQ(r.ntracks, 2);
    int video = r.tracks[0].codec == RTC_CODEC_VP8 ? 0 : 1;
    ASSERT_EQ(r.tracks[video].codec, RTC_CODEC_VP8);
    ASSERT_EQ(r.tracks[1 - video].codec, RTC_CODEC_OPUS);
    ASSERT_EQ(r.tracks[video].width, 160);
    ASSERT(r.tracks[1 - video].priv_len >= 19 && !memcmp(r.tracks[1 - video].priv, "OpusHead", 8));
    rtc_webm_frame f;
    int n, nv = 0, na = 0, keys = 0;
    int64_t last_v = -1;
    while ((n = rtc_webm_reader_next(&r, &f)) == 1) {
        if (f.track == video) { ASSERT(f.pts_ms > last_v); last_v = f.pts_ms; nv++; keys += f.keyframe; }
        else na++;
    }
    ASSERT_EQ(n, 0);
    ASSERT_EQ(nv, 60);
    ASSERT_EQ(keys, 2);
    ASSERT_GE(na, 99);
    free(d);
}

static void test_webm_vp8(void) { test_webm_av("libvpx", RTC_CODEC_VP8, "vp8", "av.webm"); }
static void test_webm_vp9(void) { test_webm_av("libvpx-vp9 -deadline realtime -cpu-used 8", RTC_CODEC_VP9, "vp9", "av9.webm"); }
static void test_webm_h264(void) { test_webm_av(NULL, RTC_CODEC_H264, "h264", "av.mkv"); }
static void test_webm_av1(void) { test_webm_av("libaom-av1 -cpu-used 8", RTC_CODEC_AV1, "av1", "av1.webm"); }

/* Zero crossings per second / 2 of a decoded tone. */
static double tone_freq(const int16_t *s, size_t n)
{
    size_t z = 0;
    for (size_t i = 1; i < n; i++) if ((s[i - 1] < 0) != (s[i] < 0)) z++;
    return (double)z / 2.0 / ((double)n / 48000.0);
}

static void test_opus_tone(void)
{
    rtc_opus_encoder *e;
    ASSERT_EQ(rtc_opus_encoder_new(&e, &(rtc_opus_encoder_config){ .bitrate = 48000 }), 0);
    int fd = open_out(tm_path("tone.ogg"));
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_fd(&out, fd), 0);
    rtc_ogg_writer *w;
    ASSERT_EQ(rtc_ogg_writer_new(&w, &out, &(rtc_ogg_writer_config){ .channels = 1 }), 0);
    int16_t pcm[960];
    for (int f = 0; f < 100; f++) {                       /* 2 s of 660 Hz */
        for (int i = 0; i < 960; i++) pcm[i] = (int16_t)(10000 * sin(2 * M_PI * 660 * (f * 960 + i) / 48000.0));
        uint8_t pkt[1500];
        int n = rtc_opus_encode(e, pcm, 960, pkt, sizeof pkt);
        ASSERT(n > 0);
        /* Packets 50..74 are lost: the writer fills 500 ms so later audio keeps its time. */
        if (f >= 50 && f < 75) continue;
        ASSERT_EQ(rtc_ogg_writer_write(w, pkt, (size_t)n, 5000 + f * 20), 0);
    }
    ASSERT_EQ(rtc_ogg_writer_close(w), 0);
    rtc_ogg_writer_stats st;
    rtc_ogg_writer_get_stats(w, &st);
    ASSERT_EQ(st.packets, 75);
    ASSERT_EQ(st.gap_packets, 25);
    ASSERT_EQ(st.samples, 96000);
    rtc_ogg_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
    rtc_opus_encoder_free(e);
    const char *p = tm_probe(tm_path("tone.ogg"));
    ASSERT_NEAR(tm_kv_num(p, "duration", 1), 2.0, 0.05);
    tm_decodes_clean(tm_path("tone.ogg"));
    tm_run("ffmpeg -nostdin -v error -y -i '%s' -f s16le -ac 1 -ar 48000 '%s'", tm_path("tone.ogg"), tm_path("tone.raw"));
    size_t len;
    int16_t *s = (int16_t *)tm_read(tm_path("tone.raw"), &len);
    size_t n = len / 2;
    ASSERT_NEAR((double)n, 96000, 960);                   /* pre-skip removed, gap kept */
    ASSERT_NEAR(tone_freq(s + 4800, 14400), 660, 10);     /* 0.1 .. 0.4 s */
    ASSERT_NEAR(tone_freq(s + 81600, 9600), 660, 10);     /* 1.7 .. 1.9 s: after the gap */
    ASSERT(rtc_pcm_rms(s + 81600, 9600) > 5000);
    free(s);
}

/* Disk full while recording: a file size limit (RLIMIT_FSIZE, what a full disk looks
 * like to write()) cuts a long WebM and a long Ogg. The write that meets it and close
 * report RTC_EIO, and the file, cut at an element boundary with its sizes patched,
 * still probes and decodes cleanly. */
static void test_disk_full(void)
{
    tm_track a = { .n = 0 }, v = { .n = 0 };
    read_ogg(tm_path("in.ogg"), &a);
    read_ivf(tm_path("in-vp8.ivf"), &v, RTC_CODEC_VP8);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 150 * 1024;
    int fd = open_out(tm_path("full.webm"));
    int ofd = open_out(tm_path("full.ogg"));
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rtc_media_out out, oout;
    ASSERT_EQ(rtc_media_out_init_fd(&out, fd), 0);
    ASSERT_EQ(rtc_media_out_init_fd(&oout, ofd), 0);
    rtc_webm_writer *w;
    rtc_ogg_writer *ow;
    ASSERT_EQ(rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ .audio = true, .channels = 1,
        .video = true, .video_codec = RTC_CODEC_VP8 }), 0);
    ASSERT_EQ(rtc_ogg_writer_new(&ow, &oout, &(rtc_ogg_writer_config){ .channels = 1 }), 0);
    int err = 0, oerr = 0, loops = 0;
    for (; loops < 200 && (!err || !oerr); loops++) {          /* 2 s per loop, until both fail */
        int64_t base = loops * 2100;
        for (int i = 0, j = 0; (i < a.n || j < v.n) && !err;) {
            if (j < v.n && (i >= a.n || v.f[j].pts_ms <= a.f[i].pts_ms)) {
                err = rtc_webm_writer_write(w, true, v.f[j].data, v.f[j].len, base + v.f[j].pts_ms, v.f[j].key); j++;
            } else {
                err = rtc_webm_writer_write(w, false, a.f[i].data, a.f[i].len, base + a.f[i].pts_ms, true); i++;
            }
        }
        for (int i = 0; i < a.n && !oerr; i++) oerr = rtc_ogg_writer_write(ow, a.f[i].data, a.f[i].len, base + a.f[i].pts_ms);
    }
    /* The write error shows now or, for what was still buffered, at close. */
    int cerr = rtc_webm_writer_close(w), ocerr = rtc_ogg_writer_close(ow);
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
    ASSERT_EQ(err, RTC_EIO);
    ASSERT_EQ(cerr, RTC_EIO);
    ASSERT_EQ(oerr ? oerr : ocerr, RTC_EIO);
    rtc_webm_writer_free(w); rtc_ogg_writer_free(ow);
    rtc_media_out_free(&out); rtc_media_out_free(&oout);
    close(fd); close(ofd);
    struct stat st;
    ASSERT_EQ(stat(tm_path("full.webm"), &st), 0);
    ASSERT(st.st_size > 50 * 1024 && st.st_size <= 150 * 1024);
    const char *p = tm_probe(tm_path("full.webm"));
    ASSERT(tm_kv(p, "codec_name", 1));
    tm_decodes_clean(tm_path("full.webm"));
    p = tm_probe(tm_path("full.ogg"));
    ASSERT_STREQ(tm_kv(p, "codec_name", 0), "opus");
    ASSERT(tm_kv_num(p, "duration", 1) > 10);
    tm_decodes_clean(tm_path("full.ogg"));
    track_free(&a); track_free(&v);
}

/* Frame times that do not advance (a hostile or broken sender: times standing still
 * or stepping back; or two frames within one tick of a coarse IVF time base) are
 * written one tick after the previous frame of their track and counted, so the file
 * keeps strictly increasing times in its own units: our reader, ffprobe's packet
 * times and ffmpeg's decode all see them increase, and every frame is kept. */
static int64_t odd_ms(int i)
{
    if (i >= 10 && i < 15) return 330;          /* standing still */
    if (i == 20) return 500;                    /* a step back from 627 */
    return i * 33;
}

static void ivf_retimed(rtc_codec_id c, const tm_track *v, uint32_t den, int64_t (*ms)(int), uint32_t want_retimed)
{
    const char *path = tm_path("retimed.ivf");
    int fd = open_out(path);
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_fd(&out, fd), 0);
    rtc_ivf_writer *w;
    ASSERT_EQ(rtc_ivf_writer_new(&w, &out, &(rtc_ivf_writer_config){ .codec = c, .timebase_den = den }), 0);
    for (int i = 0; i < v->n; i++) ASSERT_EQ(rtc_ivf_writer_write(w, v->f[i].data, v->f[i].len, ms(i)), 0);
    ASSERT_EQ(rtc_ivf_writer_close(w), 0);
    ASSERT_EQ(rtc_ivf_writer_frames(w), (uint32_t)v->n);
    ASSERT_EQ(rtc_ivf_writer_retimed(w), want_retimed);
    rtc_ivf_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
    size_t len;
    uint8_t *d = tm_read(path, &len);
    rtc_ivf_reader r;
    ASSERT_EQ(rtc_ivf_reader_init(&r, d, len), 0);
    ASSERT_EQ(r.info.timebase_den, den);
    ASSERT_EQ(r.info.timebase_num, 1u);
    rtc_ivf_frame f;
    int64_t last = -1;
    int n = 0;
    while (rtc_ivf_reader_next(&r, &f) == 1) {
        ASSERT(f.pts > last);
        /* within the retimed stretch a frame is one tick on; elsewhere at its time */
        ASSERT(f.pts >= (ms(n) * (int64_t)den + 500) / 1000);
        last = f.pts;
        n++;
    }
    ASSERT_EQ(n, v->n);
    free(d);
    /* ffmpeg reads the same time base and the same, increasing, packet times. */
    char tb[32];
    snprintf(tb, sizeof tb, "1/%u", den);
    const char *p = tm_run("ffprobe -v error -show_entries stream=time_base -of default=nw=1:nk=1 '%s'", path);
    ASSERT(strncmp(p, tb, strlen(tb)) == 0);
    p = tm_run("ffprobe -v error -show_entries packet=pts -of csv=p=0 '%s'", path);
    int64_t prev = -1;
    int k = 0;
    for (const char *q = p; *q; k++) {
        int64_t pts = strtoll(q, NULL, 10);
        ASSERT(pts > prev);
        prev = pts;
        q = strchr(q, '\n');
        if (!q) break;
        q++;
    }
    ASSERT_EQ(k, v->n);
    tm_decodes_exact(path);
}

static int64_t ms_50fps(int i) { return i * 20; }
static int64_t ms_30fps(int i) { return i * 100 / 3; }

static void test_retimed_frames(void)
{
    tm_track v = { .n = 0 }, a = { .n = 0 };
    read_ivf(tm_path("in-vp8.ivf"), &v, RTC_CODEC_VP8);
    read_ogg(tm_path("in.ogg"), &a);
    ASSERT(v.n >= 60 && a.n >= 100);
    ivf_retimed(RTC_CODEC_VP8, &v, 1000, odd_ms, 5);      /* 11..14 stand still, 20 steps back */
    ivf_retimed(RTC_CODEC_VP8, &v, 90000, odd_ms, 5);
    ivf_retimed(RTC_CODEC_VP8, &v, 90000, ms_30fps, 0);   /* every ms is its own tick */
    /* 50 fps in a 1/30 s time base: from the third frame on each rounds to a tick
     * already taken and goes one tick on */
    ivf_retimed(RTC_CODEC_VP8, &v, 30, ms_50fps, (uint32_t)v.n - 2);

    /* WebM: video standing still and stepping back, an audio frame repeating the
     * time of the one before. */
    const char *path = tm_path("retimed.webm");
    int fd = open_out(path);
    rtc_media_out out;
    ASSERT_EQ(rtc_media_out_init_fd(&out, fd), 0);
    rtc_webm_writer *w;
    ASSERT_EQ(rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ .audio = true, .channels = 1,
        .video = true, .video_codec = RTC_CODEC_VP8 }), 0);
    int ia = 0, iv = 0;
    while (ia < 100 || iv < 60) {
        if (iv < 60 && (ia >= 100 || odd_ms(iv) <= a.f[ia].pts_ms)) {
            ASSERT_EQ(rtc_webm_writer_write(w, true, v.f[iv].data, v.f[iv].len, 5000 + odd_ms(iv), v.f[iv].key), 0);
            iv++;
        } else {
            int64_t t = a.f[ia].pts_ms - (ia == 50 ? 20 : 0);
            ASSERT_EQ(rtc_webm_writer_write(w, false, a.f[ia].data, a.f[ia].len, 5000 + t, true), 0);
            ia++;
        }
    }
    ASSERT_EQ(rtc_webm_writer_close(w), 0);
    rtc_webm_writer_stats st;
    rtc_webm_writer_get_stats(w, &st);
    ASSERT_EQ(st.retimed, 6u);                          /* 5 video, 1 audio */
    ASSERT_EQ(st.video_frames, 60u);
    ASSERT_EQ(st.audio_frames, 100u);
    rtc_webm_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
    size_t len;
    uint8_t *d = tm_read(path, &len);
    rtc_webm_reader r;
    ASSERT_EQ(rtc_webm_reader_init(&r, d, len), 0);
    rtc_webm_frame f;
    int64_t last[2] = { -1, -1 };
    int count[2] = { 0, 0 };
    while (rtc_webm_reader_next(&r, &f) == 1) {
        ASSERT(f.pts_ms > last[f.track]);
        last[f.track] = f.pts_ms;
        count[f.track]++;
    }
    ASSERT_EQ(count[0], 100);
    ASSERT_EQ(count[1], 60);
    free(d);
    tm_decodes_exact(path);
    track_free(&v); track_free(&a);
}

int main(void)
{
    if (system("command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null") != 0) {
        fprintf(stderr, "ffmpeg/ffprobe are required for this test\n");
        return 1;
    }
    tm_mkdir();
    RUN(test_ogg_roundtrip);
    RUN(test_ivf_vp8);
    RUN(test_ivf_vp9);
    RUN(test_ivf_av1);
    RUN(test_webm_read_ffmpeg);
    RUN(test_webm_vp8);
    RUN(test_webm_vp9);
    RUN(test_webm_h264);
    RUN(test_webm_av1);
    RUN(test_opus_tone);
    RUN(test_disk_full);
    RUN(test_retimed_frames);
    tm_rmdir();
    return 0;
}
