/* Helpers for the media tests: temporary directories, whole-file reads, running
 * ffmpeg/ffprobe and reading their key=value output. */
#ifndef TEST_MEDIA_UTIL_H
#define TEST_MEDIA_UTIL_H
#include "rtc_test.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tm_dir[64];

static void tm_mkdir(void)
{
    strcpy(tm_dir, "/tmp/rtc-media-XXXXXX");
    ASSERT(mkdtemp(tm_dir));
}

static void tm_rmdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tm_dir);
    ASSERT_EQ(system(cmd), 0);
}

static const char *tm_path(const char *name)
{
    static char p[8][256];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", tm_dir, name);
    return p[i];
}

/* Whole file into a malloc'd buffer (caller frees). */
static uint8_t *tm_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    ASSERT(b);
    ASSERT_EQ(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Run a shell command; its stdout (first 64 KiB) into a static buffer. */
static const char *tm_run(const char *fmt, ...)
{
    static char out[65536];
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    ASSERT(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    if (st != 0) RTC_TEST_FAIL("command failed (%d): %s\n%s", st, cmd, out);
    return out;
}

/* The n-th (0-based) value of key= in ffprobe's default output, or NULL. */
static const char *tm_kv(const char *text, const char *key, int nth)
{
    static char val[128];
    size_t kl = strlen(key);
    const char *p = text;
    while ((p = strstr(p, key))) {
        if ((p == text || p[-1] == '\n') && p[kl] == '=') {
            if (nth-- == 0) {
                const char *e = strchr(p + kl + 1, '\n');
                size_t n = e ? (size_t)(e - p - kl - 1) : strlen(p + kl + 1);
                if (n >= sizeof val) n = sizeof val - 1;
                memcpy(val, p + kl + 1, n);
                val[n] = 0;
                return val;
            }
        }
        p += kl;
    }
    return NULL;
}

static double tm_kv_num(const char *text, const char *key, int nth)
{
    const char *v = tm_kv(text, key, nth);
    if (!v) RTC_TEST_FAIL("no %s #%d in:\n%s", key, nth, text);
    return atof(v);
}

static const char *tm_probe(const char *path)
{
    return tm_run("ffprobe -v error -show_entries stream=codec_name,codec_type,start_time,duration:format=duration,format_name "
                  "-of default=nw=1 '%s' 2>&1", path);
}

/* ffmpeg decodes the whole file and prints nothing on a clean one. */
static void tm_decodes_clean(const char *path)
{
    const char *o = tm_run("ffmpeg -nostdin -v error -i '%s' -f null - 2>&1", path);
    if (o[0]) RTC_TEST_FAIL("ffmpeg complained about %s:\n%s", path, o);
}

/* The same, video kept in the file's own time base: plain `-f null` re-times video
 * onto 1/(the frame rate it guesses) and so also reports a frame interval shorter
 * than that tick; this reports only times that do not increase in the file's units. */
static void tm_decodes_exact(const char *path)
{
    const char *o = tm_run("ffmpeg -nostdin -v error -i '%s' -fps_mode passthrough -enc_time_base:v -1 -f null - 2>&1", path);
    if (o[0]) RTC_TEST_FAIL("ffmpeg complained about %s:\n%s", path, o);
}

#define ASSERT_NEAR(a, b, tol) do { double _a = (a), _b = (b); \
    if (!(_a >= _b - (tol) && _a <= _b + (tol))) RTC_TEST_FAIL("%s ~ %s (%f vs %f)", #a, #b, _a, _b); } while (0)

#endif
