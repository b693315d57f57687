#include "rtc_log.h"
#include "rtc_errors.h"
#include "rtc_time.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TAGS 32
#define TAG_LEN 24

/* One process-wide filter: logging is configuration, not per-object state. */
static struct {
    rtc_log_level def;
    int ntags;
    char tags[MAX_TAGS][TAG_LEN];
    rtc_log_level levels[MAX_TAGS];
    rtc_log_sink_cb sink;
    void *sink_ud;
    rtc_time t0;
} g_log = { .def = RTC_LOG_WARN };

static const char *level_names[] = { "trace", "debug", "info", "warn", "error", "off" };

int rtc_log_level_parse(const char *name)
{
    for (int i = 0; i <= RTC_LOG_OFF; i++)
        if (strcmp(name, level_names[i]) == 0) return i;
    if (strcmp(name, "warning") == 0) return RTC_LOG_WARN;
    return -1;
}

int rtc_log_set_filter(const char *spec)
{
    rtc_log_level def = RTC_LOG_WARN;
    int ntags = 0;
    char tags[MAX_TAGS][TAG_LEN];
    rtc_log_level levels[MAX_TAGS];
    char item[64];
    const char *p = spec ? spec : "";
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n >= sizeof item) return RTC_EINVAL;
        memcpy(item, p, n);
        item[n] = 0;
        p += n + (p[n] == ',');
        if (!item[0]) continue;
        char *eq = strchr(item, '=');
        if (!eq) {
            int l = rtc_log_level_parse(item);
            if (l < 0) return RTC_EINVAL;
            def = (rtc_log_level)l;
            continue;
        }
        *eq = 0;
        int l = rtc_log_level_parse(eq + 1);
        if (l < 0 || strlen(item) >= TAG_LEN || !item[0] || ntags == MAX_TAGS) return RTC_EINVAL;
        strcpy(tags[ntags], item);
        levels[ntags++] = (rtc_log_level)l;
    }
    g_log.def = def;
    g_log.ntags = ntags;
    memcpy(g_log.tags, tags, sizeof tags[0] * (size_t)ntags);
    memcpy(g_log.levels, levels, sizeof levels[0] * (size_t)ntags);
    return 0;
}

rtc_log_level rtc_log_level_for(const char *tag)
{
    for (int i = 0; i < g_log.ntags; i++)
        if (tag && strcmp(g_log.tags[i], tag) == 0) return g_log.levels[i];
    return g_log.def;
}

bool rtc_log_enabled(const char *tag, rtc_log_level lvl)
{
    if (g_log.ntags == 0) return lvl >= g_log.def;
    return lvl >= rtc_log_level_for(tag);
}

void rtc_log_set_sink(rtc_log_sink_cb cb, void *ud)
{
    g_log.sink = cb;
    g_log.sink_ud = ud;
}

void rtc_log_vwrite(rtc_log_level lvl, const char *tag, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (g_log.sink) {
        g_log.sink(lvl, tag, msg, g_log.sink_ud);
        return;
    }
    rtc_time now = rtc_clock_now();
    if (!g_log.t0) g_log.t0 = now;
    rtc_time t = now - g_log.t0;
    fprintf(stderr, "%lld.%06lld %c %s: %s\n", (long long)(t / 1000000), (long long)(t % 1000000),
            "TDIWEO"[lvl < RTC_LOG_OFF ? lvl : RTC_LOG_OFF], tag ? tag : "-", msg);
}

void rtc_log_write(rtc_log_level lvl, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rtc_log_vwrite(lvl, tag, fmt, ap);
    va_end(ap);
}
