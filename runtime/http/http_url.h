/* Request-target pieces for handlers: the raw path, percent-decoding, and query
 * parameters (browsers cannot set headers on a WebSocket, so a signaling URL carries
 * its room and token as ?room=...&token=...). Pure functions over borrowed views. */
#ifndef RTC_HTTP_URL_H
#define RTC_HTTP_URL_H
#include <stdbool.h>
#include <stddef.h>
#include "core/rtc_bytes.h"

/* The path part of a target: everything before '?' or '#' (not decoded). */
rtc_str rtc_http_target_path(rtc_str target);
/* The query part: after the first '?' up to '#', {NULL, 0} when there is none. */
rtc_str rtc_http_target_query(rtc_str target);

/* Percent-decode `in` into `out` (caller's, `cap` bytes, NUL-terminated); with `form`,
 * '+' means a space (application/x-www-form-urlencoded). Returns the length, or
 * RTC_EPROTO (a malformed escape, or an escape decoding to NUL, which no C string
 * consumer could see past), or RTC_EOVERFLOW. */
int rtc_http_url_decode(rtc_str in, char *out, size_t cap, bool form);

/* The value of the first query parameter named `name` (compared after decoding),
 * form-decoded into `out`. A parameter without '=' has the empty value. Returns the
 * length, RTC_ENOTFOUND, RTC_EPROTO or RTC_EOVERFLOW as above. */
int rtc_http_query_param(rtc_str target, const char *name, char *out, size_t cap);

#endif
