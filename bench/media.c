/* Media file benchmark: CPU per recorded audio+video stream (synthetic Opus and VP8
 * frames muxed to WebM on disk, to Ogg, to IVF), Opus encode and decode cost per
 * stream, and from these how many simultaneous recordings one core sustains.
 * Figures only; nothing asserts on time. */
#include "codec/opus_codec.h"
#include "media/ivf.h"
#include "media/ogg.h"
#include "media/webm.h"
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MEDIA_SECONDS = 600, AUDIO_BYTES = 80, VIDEO_BYTES = 2500, KEY_BYTES = 25000 };

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void row(const char *what, double cpu, double media_s, const char *unit_note)
{
    double per = cpu / media_s;                     /* core-seconds per media second */
    printf("| %-40s | %10.1f | %8.4f | %12.0f | %s\n", what, per * 1e6, per * 100, 1.0 / per, unit_note);
}

static uint8_t vkey[KEY_BYTES], vdelta[VIDEO_BYTES], afr[AUDIO_BYTES];

static int tmpfile_fd(char *name)
{
    strcpy(name, "/tmp/rtc-bench-media-XXXXXX");
    int fd = mkstemp(name);
    if (fd < 0) { perror("mkstemp"); exit(1); }
    return fd;
}

static void bench_webm(void)
{
    char name[64];
    int fd = tmpfile_fd(name);
    rtc_media_out out;
    rtc_media_out_init_fd(&out, fd);
    rtc_webm_writer *w;
    rtc_webm_writer_new(&w, &out, &(rtc_webm_writer_config){ .audio = true, .video = true,
        .video_codec = RTC_CODEC_VP8, .width = 640, .height = 480 });
    double t = cpu_now();
    for (int ms = 0; ms < MEDIA_SECONDS * 1000; ms += 10) {
        if (ms % 20 == 0) rtc_webm_writer_write(w, false, afr, sizeof afr, ms, true);
        if (ms % 30 == 0) {
            bool key = ms % 3000 == 0;
            rtc_webm_writer_write(w, true, key ? vkey : vdelta, key ? sizeof vkey : sizeof vdelta, ms, key);
        }
    }
    rtc_webm_writer_close(w);
    double cpu = cpu_now() - t;
    rtc_webm_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
    unlink(name);
    row("WebM A+V record (Opus 50/s + VP8 30/s)", cpu, MEDIA_SECONDS, "~700 kbit/s to disk");
}

static void bench_ogg(void)
{
    char name[64];
    int fd = tmpfile_fd(name);
    rtc_media_out out;
    rtc_media_out_init_fd(&out, fd);
    rtc_ogg_writer *w;
    rtc_ogg_writer_new(&w, &out, NULL);
    double t = cpu_now();
    for (int ms = 0; ms < MEDIA_SECONDS * 1000; ms += 20) rtc_ogg_writer_write(w, afr, sizeof afr, ms);
    rtc_ogg_writer_close(w);
    double cpu = cpu_now() - t;
    rtc_ogg_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
    unlink(name);
    row("Ogg/Opus record (50 packets/s)", cpu, MEDIA_SECONDS, "");
}

static void bench_ivf(void)
{
    char name[64];
    int fd = tmpfile_fd(name);
    rtc_media_out out;
    rtc_media_out_init_fd(&out, fd);
    rtc_ivf_writer *w;
    rtc_ivf_writer_new(&w, &out, &(rtc_ivf_writer_config){ .codec = RTC_CODEC_VP8 });
    double t = cpu_now();
    for (int ms = 0; ms < MEDIA_SECONDS * 1000; ms += 30) {
        bool key = ms % 3000 == 0;
        rtc_ivf_writer_write(w, key ? vkey : vdelta, key ? sizeof vkey : sizeof vdelta, ms);
    }
    rtc_ivf_writer_close(w);
    double cpu = cpu_now() - t;
    rtc_ivf_writer_free(w);
    rtc_media_out_free(&out);
    close(fd);
    unlink(name);
    row("IVF VP8 record (30 frames/s)", cpu, MEDIA_SECONDS, "");
}

static void bench_opus(int channels, int bitrate)
{
    enum { SECS = 20 };
    rtc_opus_encoder *e;
    rtc_opus_decoder *d;
    rtc_opus_encoder_new(&e, &(rtc_opus_encoder_config){ .channels = channels, .bitrate = bitrate });
    rtc_opus_decoder_new(&d, 48000, channels);
    static int16_t pcm[SECS * 50][960 * 2];
    static uint8_t pkt[SECS * 50][1500];
    static int len[SECS * 50];
    for (int f = 0; f < SECS * 50; f++)
        for (int i = 0; i < 960; i++)
            for (int c = 0; c < channels; c++)
                pcm[f][i * channels + c] = (int16_t)(8000 * sin(2 * M_PI * (440 + 110 * c) * (f * 960 + i) / 48000.0));
    double t = cpu_now();
    for (int f = 0; f < SECS * 50; f++) len[f] = rtc_opus_encode(e, pcm[f], 960, pkt[f], sizeof pkt[f]);
    double enc = cpu_now() - t;
    int16_t outpcm[960 * 2];
    t = cpu_now();
    for (int f = 0; f < SECS * 50; f++) rtc_opus_decode(d, pkt[f], (size_t)len[f], outpcm, 960);
    double dec = cpu_now() - t;
    char what[64];
    snprintf(what, sizeof what, "Opus encode %s %d kbit/s, 20 ms", channels == 2 ? "stereo" : "mono", bitrate / 1000);
    row(what, enc, SECS, "libopus default complexity");
    snprintf(what, sizeof what, "Opus decode %s %d kbit/s, 20 ms", channels == 2 ? "stereo" : "mono", bitrate / 1000);
    row(what, dec, SECS, "");
    rtc_opus_encoder_free(e);
    rtc_opus_decoder_free(d);
}

int main(void)
{
    for (size_t i = 0; i < sizeof vkey; i++) vkey[i] = (uint8_t)(i * 131 + 7);
    vkey[0] = 0x10; vkey[3] = 0x9d; vkey[4] = 0x01; vkey[5] = 0x2a;
    for (size_t i = 0; i < sizeof vdelta; i++) vdelta[i] = (uint8_t)(i * 71 + 3);
    vdelta[0] |= 1;
    for (size_t i = 0; i < sizeof afr; i++) afr[i] = (uint8_t)(i * 13);
    afr[0] = 0xFC;                                       /* 20 ms CELT fullband stereo */
    printf("media files and Opus, CPU per stream (one core; synthetic frames; %d s of media per writer)\n\n", MEDIA_SECONDS);
    printf("| %-40s | %10s | %8s | %12s | note\n", "what", "us/media s", "% core", "streams/core");
    printf("|%s|%s|%s|%s|\n", "------------------------------------------", "------------", "----------", "--------------");
    bench_webm();
    bench_ogg();
    bench_ivf();
    bench_opus(1, 32000);
    bench_opus(2, 64000);
    return 0;
}
