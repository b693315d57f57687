/* Incremental HTTP/1.1 message parser (RFC 9112), for requests or responses.
 *
 * Sans-IO: the caller feeds bytes exactly as they came off the TCP stream, in chunks of
 * any size (one byte at a time works), and takes complete messages out:
 *
 *     while (len > 0) {
 *         size_t used;
 *         int r = rtc_http_parser_handle_data(p, data, len, &used);
 *         data += used; len -= used;
 *         rtc_http_message m;
 *         while (rtc_http_parser_poll_message(p, &m) == 1) serve(&m);   // drain
 *         if (r < 0) { reply rtc_http_parser_error_status(p), then close; break; }
 *     }
 *
 * handle_data stops right after the end of each message, so pipelined requests come
 * out one per poll and memory stays bounded by the limits (one head + one body), no
 * matter how much the peer sends. When a message asks to switch protocols
 * (`upgrade`), the caller stops feeding the parser: the bytes after `used` belong to
 * the new protocol (for example the first WebSocket frames).
 *
 * A whole message (head and body) is buffered: this codec serves signaling and small
 * static files, not uploads. Errors are final for the connection and carry the HTTP
 * status to answer with (400, 413, 414, 431, 501, 505). There are no timers: a
 * header-read deadline belongs to the driver. */
#ifndef RTC_HTTP_PARSER_H
#define RTC_HTTP_PARSER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/rtc_bytes.h"

typedef enum { RTC_HTTP_REQUEST, RTC_HTTP_RESPONSE } rtc_http_kind;

typedef struct rtc_http_limits {      /* 0 in a field = its default */
    size_t max_start_line;            /* request/status line, default 8 KiB; longer: 414 */
    size_t max_header_bytes;          /* all header (and trailer) lines, default 16 KiB: 431 */
    size_t max_headers;               /* header lines, default 64; trailers the same: 431 */
    size_t max_body;                  /* decoded body, default 1 MiB; larger: 413 */
} rtc_http_limits;

typedef struct rtc_http_header { rtc_str name, value; } rtc_http_header;

/* A parsed message. Every view points into the parser and stays valid until the next
 * handle_data, handle_eof or free on that parser. */
typedef struct rtc_http_message {
    bool is_request;
    rtc_str method, target;           /* requests: "GET", "/path?q" */
    int status;                       /* responses: 100..599 */
    rtc_str reason;                   /* responses */
    int version;                      /* 10 or 11 (HTTP/1.x with x > 1 is treated as 11) */
    const rtc_http_header *headers;   /* in arrival order, names as sent */
    size_t nheaders;
    const rtc_http_header *trailers;  /* chunked trailer fields */
    size_t ntrailers;
    const uint8_t *body;              /* decoded (de-chunked) body; may be NULL when empty */
    size_t body_len;
    int64_t content_length;           /* the Content-Length header, -1 if absent */
    bool chunked;                     /* body came with Transfer-Encoding: chunked */
    bool keep_alive;                  /* the connection may carry another message */
    bool upgrade;                     /* request: Connection: upgrade + Upgrade; response: 101 */
} rtc_http_message;

typedef struct rtc_http_parser rtc_http_parser;

/* `limits` is copied; NULL gives the defaults. Returns 0, RTC_EINVAL or RTC_ENOMEM. */
int rtc_http_parser_new(rtc_http_parser **out, rtc_http_kind kind, const rtc_http_limits *limits);
void rtc_http_parser_free(rtc_http_parser *p);          /* NULL-safe */

/* Feed stream bytes (`data` borrowed for the call). `*used` gets how many were taken:
 * all of them, or fewer when a message completed (take it with poll_message, then feed
 * the rest). Returns 0; RTC_EAGAIN if a complete message has not been polled yet;
 * RTC_ECLOSED after a message that ends the connection (not keep-alive); or an error,
 * final for the connection: RTC_EPROTO (400), RTC_ETOOBIG (413/414/431), RTC_ENOTSUP
 * (501/505); rtc_http_parser_error_status() says which. */
int rtc_http_parser_handle_data(rtc_http_parser *p, const uint8_t *data, size_t len, size_t *used);
/* The peer closed its side. Completes a response whose body runs to the end of the
 * stream; in the middle of any other message returns RTC_ETRUNC. */
int rtc_http_parser_handle_eof(rtc_http_parser *p);
/* 1 and fills *m when a complete message is ready, else 0. Each message comes out once. */
int rtc_http_parser_poll_message(rtc_http_parser *p, rtc_http_message *m);

/* The next response answers a HEAD request: it has headers but no body. */
void rtc_http_parser_expect_no_body(rtc_http_parser *p);
/* After an error: the status to answer with (400, 413, 414, 431, 501, 505), else 0. */
int rtc_http_parser_error_status(const rtc_http_parser *p);
/* A short static description of the error ("header too large"), "" if none. */
const char *rtc_http_parser_error_text(const rtc_http_parser *p);
/* Bytes buffered for the message in progress (head + body), for a driver's accounting. */
size_t rtc_http_parser_buffered(const rtc_http_parser *p);

/* First header named `name` (ASCII case-insensitive) at index >= *from; sets *from to
 * its index + 1 so calls can iterate. Returns NULL when there is none. */
const rtc_http_header *rtc_http_find_header(const rtc_http_header *h, size_t n,
                                            const char *name, size_t *from);
/* The value of the first header `name`, or {NULL, 0}. */
rtc_str rtc_http_message_header(const rtc_http_message *m, const char *name);
/* true when the comma-separated list `value` contains `token` (case-insensitive, OWS
 * trimmed), as for Connection: keep-alive, Upgrade. */
bool rtc_http_has_token(rtc_str value, const char *token);
/* true when any header `name` of m (all of them form one list) contains `token`. */
bool rtc_http_message_has_token(const rtc_http_message *m, const char *name, const char *token);
/* Case-insensitive ASCII comparison of a view with a C string. */
bool rtc_http_str_ieq(rtc_str a, const char *b);

#endif
