#include "http_url.h"
#include "core/rtc_errors.h"
#include <string.h>

rtc_str rtc_http_target_path(rtc_str t)
{
    size_t i = 0;
    while (t.p && i < t.len && t.p[i] != '?' && t.p[i] != '#') i++;
    return (rtc_str){ t.p, i };
}

rtc_str rtc_http_target_query(rtc_str t)
{
    rtc_str path = rtc_http_target_path(t);
    if (path.len >= t.len || t.p[path.len] != '?') return (rtc_str){ NULL, 0 };
    size_t s = path.len + 1, e = s;
    while (e < t.len && t.p[e] != '#') e++;
    return (rtc_str){ t.p + s, e - s };
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int rtc_http_url_decode(rtc_str in, char *out, size_t cap, bool form)
{
    if (!out || cap == 0) return RTC_EOVERFLOW;
    size_t o = 0;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.p[i];
        if (c == '%') {
            if (i + 2 >= in.len) return RTC_EPROTO;
            int h = hexval(in.p[i + 1]), l = hexval(in.p[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) return RTC_EPROTO;
            c = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        if (o + 1 >= cap) return RTC_EOVERFLOW;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

int rtc_http_query_param(rtc_str target, const char *name, char *out, size_t cap)
{
    rtc_str q = rtc_http_target_query(target);
    size_t nlen = strlen(name);
    size_t i = 0;
    while (q.p && i <= q.len) {
        size_t s = i;
        while (i < q.len && q.p[i] != '&') i++;
        size_t e = i, eq = s;
        while (eq < e && q.p[eq] != '=') eq++;
        char key[256];
        int k = rtc_http_url_decode((rtc_str){ q.p + s, eq - s }, key, sizeof key, true);
        if (k >= 0 && (size_t)k == nlen && memcmp(key, name, nlen) == 0) {
            rtc_str v = eq < e ? (rtc_str){ q.p + eq + 1, e - eq - 1 } : (rtc_str){ q.p, 0 };
            return rtc_http_url_decode(v, out, cap, true);
        }
        i++;
    }
    return RTC_ENOTFOUND;
}
