/* HTTP/1.1 message writer: status/request lines, header fields, Content-Length and
 * chunked bodies, appended to a growable byte buffer the caller owns and then hands
 * to the transport. Field names and values are checked, so a value taken from a
 * request cannot inject CR/LF and forge headers. */
#ifndef RTC_HTTP_WRITER_H
#define RTC_HTTP_WRITER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Growable output bytes. Zero-initialise; release with rtc_http_buf_free. */
typedef struct rtc_http_buf {
    uint8_t *data;    /* owned by the struct */
    size_t len, cap;
} rtc_http_buf;

void rtc_http_buf_free(rtc_http_buf *b);                 /* frees data; the struct is reusable */
int rtc_http_buf_append(rtc_http_buf *b, const void *d, size_t n);   /* 0 or RTC_ENOMEM */

/* The standard reason phrase ("Not Found"), or "Unknown". */
const char *rtc_http_status_reason(int status);

/* "HTTP/1.1 404 Not Found\r\n". reason NULL: the standard one. RTC_EINVAL for a status
 * outside 100..999 or a reason with CR/LF. */
int rtc_http_write_status_line(rtc_http_buf *b, int status, const char *reason);
/* "GET /path HTTP/1.1\r\n". RTC_EINVAL when method is not a token or target has
 * whitespace or control characters. */
int rtc_http_write_request_line(rtc_http_buf *b, const char *method, const char *target);
/* "Name: value\r\n". RTC_EINVAL when name is not a token or value has CR, LF, NUL or
 * other control characters. */
int rtc_http_write_header(rtc_http_buf *b, const char *name, const char *value);
int rtc_http_write_header_n(rtc_http_buf *b, const char *name, const char *value, size_t vlen);
int rtc_http_write_header_u64(rtc_http_buf *b, const char *name, uint64_t value);
/* "Content-Length: n\r\n\r\n" then the body: ends the head and writes the whole body. */
int rtc_http_write_body(rtc_http_buf *b, const void *body, size_t len);
/* The CRLF ending the head (for chunked bodies or bodiless messages). */
int rtc_http_write_end_head(rtc_http_buf *b);
/* One chunk of a body sent with Transfer-Encoding: chunked. len 0 writes the last
 * chunk and the empty trailer section, ending the message. */
int rtc_http_write_chunk(rtc_http_buf *b, const void *data, size_t len);

/* A complete response: status line, Content-Type (if not NULL), Content-Length,
 * "Connection: close" when !keep_alive, then the body. For errors and small replies. */
int rtc_http_write_response(rtc_http_buf *b, int status, const char *content_type,
                            const void *body, size_t len, bool keep_alive);

#endif
