#include "http_writer.h"
#include "core/rtc_errors.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rtc_http_buf_free(rtc_http_buf *b)
{
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int rtc_http_buf_append(rtc_http_buf *b, const void *d, size_t n)
{
    if (n > SIZE_MAX / 2 - b->len) return RTC_ENOMEM;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p) return RTC_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, d, n);
    b->len += n;
    return 0;
}

static int append_str(rtc_http_buf *b, const char *s) { return rtc_http_buf_append(b, s, strlen(s)); }

const char *rtc_http_status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

static bool is_tchar(unsigned char c)
{
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const char *s)
{
    if (!s || !*s) return false;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s)) return false;
    return true;
}

static bool is_field_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    return true;
}

int rtc_http_write_status_line(rtc_http_buf *b, int status, const char *reason)
{
    size_t mark = b->len;
    if (status < 100 || status > 999) return RTC_EINVAL;
    if (!reason) reason = rtc_http_status_reason(status);
    if (!is_field_text(reason, strlen(reason))) return RTC_EINVAL;
    char line[32];
    snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
    int r = append_str(b, line);
    if (r == 0) r = append_str(b, reason);
    if (r == 0) r = append_str(b, "\r\n");
    if (r < 0) b->len = mark;           /* never leave half a line behind */
    return r;
}

int rtc_http_write_request_line(rtc_http_buf *b, const char *method, const char *target)
{
    size_t mark = b->len;
    if (!is_token(method) || !target || !*target) return RTC_EINVAL;
    for (const char *t = target; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f) return RTC_EINVAL;
    int r = append_str(b, method);
    if (r == 0) r = append_str(b, " ");
    if (r == 0) r = append_str(b, target);
    if (r == 0) r = append_str(b, " HTTP/1.1\r\n");
    if (r < 0) b->len = mark;           /* never leave half a line behind */
    return r;
}

int rtc_http_write_header_n(rtc_http_buf *b, const char *name, const char *value, size_t vlen)
{
    size_t mark = b->len;
    if (!is_token(name) || (!value && vlen) || !is_field_text(value, vlen)) return RTC_EINVAL;
    int r = append_str(b, name);
    if (r == 0) r = append_str(b, ": ");
    if (r == 0) r = rtc_http_buf_append(b, value, vlen);
    if (r == 0) r = append_str(b, "\r\n");
    if (r < 0) b->len = mark;           /* never leave half a line behind */
    return r;
}

int rtc_http_write_header(rtc_http_buf *b, const char *name, const char *value)
{
    return rtc_http_write_header_n(b, name, value, value ? strlen(value) : 0);
}

int rtc_http_write_header_u64(rtc_http_buf *b, const char *name, uint64_t value)
{
    char v[24];
    int n = snprintf(v, sizeof v, "%llu", (unsigned long long)value);
    return rtc_http_write_header_n(b, name, v, (size_t)n);
}

int rtc_http_write_end_head(rtc_http_buf *b) { return append_str(b, "\r\n"); }

int rtc_http_write_body(rtc_http_buf *b, const void *body, size_t len)
{
    size_t mark = b->len;
    int r = rtc_http_write_header_u64(b, "Content-Length", len);
    if (r == 0) r = rtc_http_write_end_head(b);
    if (r == 0) r = rtc_http_buf_append(b, body, len);
    if (r < 0) b->len = mark;           /* never leave half a line behind */
    return r;
}

int rtc_http_write_chunk(rtc_http_buf *b, const void *data, size_t len)
{
    size_t mark = b->len;
    char size[24];
    snprintf(size, sizeof size, "%zx\r\n", len);
    int r = append_str(b, size);
    if (r == 0 && len) r = rtc_http_buf_append(b, data, len);
    if (r == 0) r = append_str(b, "\r\n");
    if (r < 0) b->len = mark;           /* never leave half a line behind */
    return r;
}

int rtc_http_write_response(rtc_http_buf *b, int status, const char *content_type,
                            const void *body, size_t len, bool keep_alive)
{
    size_t mark = b->len;
    int r = rtc_http_write_status_line(b, status, NULL);
    if (r == 0 && content_type) r = rtc_http_write_header(b, "Content-Type", content_type);
    if (r == 0 && !keep_alive) r = rtc_http_write_header(b, "Connection", "close");
    if (r == 0) r = rtc_http_write_body(b, body, len);
    if (r < 0) b->len = mark;           /* never leave half a line behind */
    return r;
}
