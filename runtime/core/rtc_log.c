#include "rtc_log.h"
#include "rtc_errors.h"
#include "rtc_time.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdint.h>

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
    bool json;
} g_log = { .def = RTC_LOG_WARN };

static _Thread_local const char *g_conn;

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

int rtc_log_set_format(const char *name)
{
    if (!name || (strcmp(name, "json") != 0 && strcmp(name, "text") != 0)) return RTC_EINVAL;
    g_log.json = name[0] == 'j';
    return 0;
}

const char *rtc_log_format(void) { return g_log.json ? "json" : "text"; }

const char *rtc_log_conn_enter(const char *id)
{
    const char *prev = g_conn;
    g_conn = id;
    return prev;
}

void rtc_log_conn_leave(const char *prev) { g_conn = prev; }
const char *rtc_log_conn(void) { return g_conn; }

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if it is not one:
 * messages quote network bytes (labels, reasons), and a JSON line must stay JSON. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    uint32_t min, cp;
    if (p[0] < 0x80) return 1;
    if ((p[0] & 0xE0) == 0xC0) { len = 2; min = 0x80; cp = p[0] & 0x1F; }
    else if ((p[0] & 0xF0) == 0xE0) { len = 3; min = 0x800; cp = p[0] & 0x0F; }
    else if ((p[0] & 0xF8) == 0xF0) { len = 4; min = 0x10000; cp = p[0] & 0x07; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* Appends s as a JSON string (quotes included); invalid UTF-8 becomes U+FFFD. */
static void json_str(char *out, size_t cap, size_t *pos, const char *s)
{
    size_t o = *pos, n = strlen(s);
    const unsigned char *p = (const unsigned char *)s;
    if (o + 1 < cap) out[o++] = '"';
    for (size_t i = 0; i < n && o + 8 < cap;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; i++; continue; }
        if (c < 0x20) {
            const char *esc = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (esc) { memcpy(out + o, esc, 2); o += 2; }
            else o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
            i++;
            continue;
        }
        size_t l = utf8_len(p + i, n - i);
        if (!l) { memcpy(out + o, "\xef\xbf\xbd", 3); o += 3; i++; continue; }
        memcpy(out + o, p + i, l);
        o += l;
        i += l;
    }
    if (o + 1 < cap) out[o++] = '"';
    out[o] = 0;
    *pos = o;
}

static void write_json(rtc_log_level lvl, const char *tag, const char *msg)
{
    char line[3 * 1024 + 256];
    int64_t us = rtc_clock_unix_us();
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t pos = (size_t)snprintf(line, sizeof line,
                                  "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ\",\"level\":\"%s\",\"module\":",
                                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                  tm.tm_sec, (long long)(us % 1000000), level_names[lvl < RTC_LOG_OFF ? lvl : RTC_LOG_OFF]);
    json_str(line, sizeof line, &pos, tag ? tag : "-");
    pos += (size_t)snprintf(line + pos, sizeof line - pos, ",\"conn\":");
    if (g_conn) json_str(line, sizeof line, &pos, g_conn);
    else pos += (size_t)snprintf(line + pos, sizeof line - pos, "null");
    pos += (size_t)snprintf(line + pos, sizeof line - pos, ",\"msg\":");
    json_str(line, sizeof line, &pos, msg);
    fprintf(stderr, "%s}\n", line);
}

void rtc_log_vwrite(rtc_log_level lvl, const char *tag, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (g_log.sink) {
        g_log.sink(lvl, tag, msg, g_log.sink_ud);
        return;
    }
    if (g_log.json) {
        write_json(lvl, tag, msg);
        return;
    }
    rtc_time now = rtc_clock_now();
    if (!g_log.t0) g_log.t0 = now;
    rtc_time t = now - g_log.t0;
    fprintf(stderr, "%lld.%06lld %c %s%s%s: %s\n", (long long)(t / 1000000), (long long)(t % 1000000),
            "TDIWEO"[lvl < RTC_LOG_OFF ? lvl : RTC_LOG_OFF], tag ? tag : "-", g_conn ? " " : "",
            g_conn ? g_conn : "", msg);
}

void rtc_log_write(rtc_log_level lvl, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rtc_log_vwrite(lvl, tag, fmt, ap);
    va_end(ap);
}
