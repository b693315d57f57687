#include "http_static.h"
#include "core/rtc_errors.h"
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int rtc_http_path_normalize(rtc_str target, char *out, size_t cap, unsigned flags)
{
    if (!out || cap < 2) return RTC_EOVERFLOW;
    if (!target.p || target.len == 0 || target.p[0] != '/') return RTC_EPROTO;
    size_t end = 0;
    while (end < target.len && target.p[end] != '?' && target.p[end] != '#') end++;

    size_t o = 0;           /* output length; out[0] is always '/' */
    out[o++] = '/';
    size_t i = 1;
    bool trailing = false;
    while (i <= end) {
        /* one raw segment [i, j) */
        size_t j = i;
        while (j < end && target.p[j] != '/') j++;
        size_t seg = o;     /* where the decoded segment starts in out[] */
        if (o > 1) {
            if (o + 1 >= cap) return RTC_EOVERFLOW;
            out[o++] = '/';
            seg = o;
        }
        for (size_t k = i; k < j; k++) {
            unsigned char c = (unsigned char)target.p[k];
            if (c == '%') {
                if (k + 2 >= j) return RTC_EPROTO;
                int h = hexval(target.p[k + 1]), l = hexval(target.p[k + 2]);
                if (h < 0 || l < 0) return RTC_EPROTO;
                c = (unsigned char)(h << 4 | l);
                k += 2;
                if (c == '/') return RTC_EACCESS;        /* would forge a segment boundary */
            }
            if (c < 0x20 || c == 0x7f || c == '\\') return RTC_EACCESS;
            if (o + 1 >= cap) return RTC_EOVERFLOW;
            out[o++] = (char)c;
        }
        size_t len = o - seg;
        if (len == 0 || (len == 1 && out[seg] == '.')) {
            o = seg > 1 ? seg - 1 : seg;                 /* drop it (and its '/') */
            trailing = true;
        } else if (len == 2 && out[seg] == '.' && out[seg + 1] == '.') {
            if (seg <= 1) return RTC_EACCESS;            /* above the root */
            o = seg - 1;                                 /* back over this segment's '/' */
            while (o > 1 && out[o - 1] != '/') o--;      /* and the previous segment */
            if (o > 1) o--;
            trailing = true;
        } else {
            if (out[seg] == '.' && !(flags & RTC_HTTP_PATH_ALLOW_DOTFILES)) return RTC_EACCESS;
            trailing = false;
        }
        i = j + 1;
    }
    if (trailing && o > 1) {
        if (o + 1 >= cap) return RTC_EOVERFLOW;
        out[o++] = '/';
    }
    out[o] = '\0';
    return (int)o;
}

static bool ext_is(const char *e, size_t n, const char *want)
{
    if (strlen(want) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = e[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c | 0x20);
        if (c != want[i]) return false;
    }
    return true;
}

const char *rtc_http_content_type(rtc_str path)
{
    static const struct { const char *ext, *type; } types[] = {
        { "html", "text/html; charset=utf-8" },
        { "htm", "text/html; charset=utf-8" },
        { "js", "text/javascript; charset=utf-8" },
        { "mjs", "text/javascript; charset=utf-8" },
        { "css", "text/css; charset=utf-8" },
        { "json", "application/json" },
        { "map", "application/json" },
        { "png", "image/png" },
        { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" },
        { "gif", "image/gif" },
        { "webp", "image/webp" },
        { "svg", "image/svg+xml" },
        { "ico", "image/x-icon" },
        { "wasm", "application/wasm" },
        { "txt", "text/plain; charset=utf-8" },
        { "woff2", "font/woff2" },
    };
    size_t n = path.p ? path.len : 0, dot = n;
    for (size_t i = n; i > 0; i--) {
        if (path.p[i - 1] == '/') break;
        if (path.p[i - 1] == '.') { dot = i - 1; break; }
    }
    if (dot < n) {
        const char *e = path.p + dot + 1;
        for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
            if (ext_is(e, n - dot - 1, types[k].ext)) return types[k].type;
    }
    return "application/octet-stream";
}
