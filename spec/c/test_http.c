/* http/: the incremental HTTP/1.1 parser: splits at every byte, pipelining, chunked
 * bodies, keep-alive, limits and malformed input mapped to status codes. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "http/http_parser.h"

/* Feed `d` in pieces cut at the given points; collect up to `max` messages (deep-copied
 * fields we check), return the number and the last handle_data result. */
typedef struct seen {
    char method[16], target[128], body[512], reason[64];
    int status, version, nheaders, ntrailers, keep_alive, upgrade, chunked;
    size_t body_len;
    long long content_length;
    char host[64], trailer_val[64];
} seen;

static void copy_str(char *dst, size_t cap, rtc_str s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n) memcpy(dst, s.p, n);
    dst[n] = '\0';
}

static void record(seen *s, const rtc_http_message *m)
{
    memset(s, 0, sizeof *s);
    copy_str(s->method, sizeof s->method, m->method);
    copy_str(s->target, sizeof s->target, m->target);
    copy_str(s->reason, sizeof s->reason, m->reason);
    ASSERT(m->body_len < sizeof s->body);
    if (m->body_len) memcpy(s->body, m->body, m->body_len);
    s->body_len = m->body_len;
    s->status = m->status;
    s->version = m->version;
    s->nheaders = (int)m->nheaders;
    s->ntrailers = (int)m->ntrailers;
    s->keep_alive = m->keep_alive;
    s->upgrade = m->upgrade;
    s->chunked = m->chunked;
    s->content_length = m->content_length;
    copy_str(s->host, sizeof s->host, rtc_http_message_header(m, "HOST"));
    if (m->ntrailers) copy_str(s->trailer_val, sizeof s->trailer_val, m->trailers[0].value);
}

/* Feed `len` bytes in pieces of at most `step` bytes, or split once at `cut` when step is 0. */
static int feed(rtc_http_parser *p, const char *d, size_t len, size_t cut, size_t step,
                seen *out, int max, int *n)
{
    size_t pos = 0;
    int r = 0;
    *n = 0;
    while (pos < len) {
        size_t piece = step ? step : (pos < cut ? cut - pos : len - pos);
        if (piece > len - pos) piece = len - pos;
        const uint8_t *q = (const uint8_t *)d + pos;
        size_t left = piece;
        while (left > 0) {
            size_t used = 0;
            r = rtc_http_parser_handle_data(p, q, left, &used);
            ASSERT(used <= left);
            q += used; left -= used; pos += used;
            rtc_http_message m;
            while (rtc_http_parser_poll_message(p, &m) == 1) {
                ASSERT(*n < max);
                record(&out[(*n)++], &m);
            }
            if (r < 0) return r;
        }
    }
    return r;
}

static const char req_post[] =
    "POST /signal?room=1 HTTP/1.1\r\n"
    "Host: example.test\r\n"
    "Content-Type: application/json\r\n"
    "X-Empty:\r\n"
    "X-Spaces:   padded value  \r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "{\"type\":\"hi\"}";

static void check_post(const seen *s)
{
    ASSERT_STREQ(s->method, "POST");
    ASSERT_STREQ(s->target, "/signal?room=1");
    ASSERT_STREQ(s->host, "example.test");
    ASSERT_EQ(s->version, 11);
    ASSERT_EQ(s->nheaders, 5);
    ASSERT_EQ(s->body_len, 13);
    ASSERT_MEMEQ(s->body, "{\"type\":\"hi\"}", 13);
    ASSERT_EQ(s->content_length, 13);
    ASSERT(s->keep_alive && !s->upgrade && !s->chunked);
}

static void test_request_split_everywhere(void)
{
    size_t len = sizeof req_post - 1;
    for (size_t cut = 0; cut <= len; cut++) {
        rtc_http_parser *p;
        ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
        seen s[2];
        int n;
        ASSERT_EQ(feed(p, req_post, len, cut, 0, s, 2, &n), 0);
        ASSERT_EQ(n, 1);
        check_post(&s[0]);
        rtc_http_parser_free(p);
    }
    rtc_http_parser *p;
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
    seen s[2];
    int n;
    ASSERT_EQ(feed(p, req_post, len, 0, 1, s, 2, &n), 0);      /* one byte at a time */
    ASSERT_EQ(n, 1);
    check_post(&s[0]);
    rtc_http_parser_free(p);
}

static void test_header_values(void)
{
    rtc_http_parser *p;
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
    size_t used;
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)req_post, sizeof req_post - 1, &used), 0);
    ASSERT_EQ(used, sizeof req_post - 1);
    rtc_http_message m;
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 0);          /* handed out once */
    rtc_str v = rtc_http_message_header(&m, "x-spaces");
    ASSERT_EQ(v.len, 12);
    ASSERT_MEMEQ(v.p, "padded value", 12);
    v = rtc_http_message_header(&m, "X-EMPTY");
    ASSERT(v.p != NULL && v.len == 0);
    v = rtc_http_message_header(&m, "absent");
    ASSERT(v.p == NULL);
    ASSERT(rtc_http_has_token(RTC_STR("keep-alive , Upgrade"), "upgrade"));
    ASSERT(!rtc_http_has_token(RTC_STR("keep-alive, upgrades"), "upgrade"));
    ASSERT(rtc_http_has_token(RTC_STR(",,close"), "CLOSE"));
    rtc_http_parser_free(p);
}

static void test_pipelined(void)
{
    static const char d[] =
        "\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        "GET /never HTTP/1.1\r\n\r\n";
    for (size_t step = 1; step <= sizeof d; step++) {
        rtc_http_parser *p;
        ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
        seen s[4];
        int n;
        ASSERT_EQ(feed(p, d, sizeof d - 1, 0, step, s, 4, &n), RTC_ECLOSED);
        ASSERT_EQ(n, 3);
        ASSERT_STREQ(s[0].target, "/a");
        ASSERT_EQ(s[0].body_len, 0);
        ASSERT_STREQ(s[1].target, "/b");
        ASSERT_MEMEQ(s[1].body, "abc", 3);
        ASSERT_STREQ(s[2].target, "/c");
        ASSERT(s[0].keep_alive && s[1].keep_alive && !s[2].keep_alive);
        rtc_http_parser_free(p);
    }
}

static void test_unpolled_message_blocks(void)
{
    static const char d[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    rtc_http_parser *p;
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
    size_t used;
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)d, sizeof d - 1, &used), 0);
    ASSERT_EQ(used, 28);                         /* stopped at the end of the first */
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)d + used, sizeof d - 1 - used, &used), RTC_EAGAIN);
    ASSERT_EQ(used, 0);
    rtc_http_message m;
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)d + 28, sizeof d - 1 - 28, &used), 0);
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    ASSERT_EQ(m.target.len, 2);
    ASSERT_MEMEQ(m.target.p, "/b", 2);
    rtc_http_parser_free(p);
}

static const char req_chunked[] =
    "PUT /up HTTP/1.1\r\n"
    "Host: h\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5;name=value;flag\r\n"
    "hello\r\n"
    "1 ; spaced-ext\r\n"
    " \r\n"
    "0000a\r\n"
    "0123456789\r\n"
    "0\r\n"
    "X-Checksum: abc123\r\n"
    "X-More: 1\r\n"
    "\r\n"
    "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";

static void test_chunked_split_everywhere(void)
{
    size_t len = sizeof req_chunked - 1;
    for (size_t cut = 0; cut <= len; cut++) {
        rtc_http_parser *p;
        ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
        seen s[3];
        int n;
        ASSERT_EQ(feed(p, req_chunked, len, cut, 0, s, 3, &n), 0);
        ASSERT_EQ(n, 2);
        ASSERT_EQ(s[0].body_len, 16);
        ASSERT_MEMEQ(s[0].body, "hello 0123456789", 16);
        ASSERT(s[0].chunked);
        ASSERT_EQ(s[0].content_length, -1);
        ASSERT_EQ(s[0].ntrailers, 2);
        ASSERT_STREQ(s[0].trailer_val, "abc123");
        ASSERT_STREQ(s[0].host, "h");          /* header views survive trailer growth */
        ASSERT_STREQ(s[0].method, "PUT");
        ASSERT_STREQ(s[1].target, "/next");
        rtc_http_parser_free(p);
    }
}

/* Trailers that make the head buffer move: every view must follow it. */
static void test_trailers_move_head(void)
{
    char d[2048];
    char pad[601];
    memset(pad, 'p', 600);
    pad[600] = '\0';
    int n = snprintf(d, sizeof d,
                     "PATCH /moved HTTP/1.1\r\nHost: h\r\nX-Pad: %.*s\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n0\r\nX-Late: %s\r\n\r\n", 440, pad, pad);
    for (size_t step = 1; step < 64; step += 9) {
        rtc_http_parser *p;
        ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
        seen s[1];
        int k;
        ASSERT_EQ(feed(p, d, (size_t)n, 0, step, s, 1, &k), 0);
        ASSERT_EQ(k, 1);
        ASSERT_STREQ(s[0].method, "PATCH");
        ASSERT_STREQ(s[0].target, "/moved");
        ASSERT_STREQ(s[0].host, "h");
        ASSERT_EQ(s[0].ntrailers, 1);
        ASSERT_EQ(strlen(s[0].trailer_val), 63);          /* copy_str truncates to the buffer */
        ASSERT_MEMEQ(s[0].body, "abc", 3);
        rtc_http_parser_free(p);
    }
}

static void test_keep_alive_rules(void)
{
    static const struct { const char *req; int keep; } cases[] = {
        { "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 1 },
        { "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 0 },
        { "GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", 0 },
        { "GET / HTTP/1.0\r\n\r\n", 0 },
        { "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1 },
        { "GET / HTTP/1.9\r\nHost: h\r\n\r\n", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rtc_http_parser *p;
        ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
        seen s[1];
        int n;
        ASSERT_EQ(feed(p, cases[i].req, strlen(cases[i].req), 0, 7, s, 1, &n), 0);
        ASSERT_EQ(n, 1);
        if (s[0].keep_alive != cases[i].keep) RTC_TEST_FAIL("case %zu keep_alive", i);
        size_t used;
        int r = rtc_http_parser_handle_data(p, (const uint8_t *)"GET", 3, &used);
        ASSERT_EQ(r, cases[i].keep ? 0 : RTC_ECLOSED);
        rtc_http_parser_free(p);
    }
}

static void test_upgrade_leaves_rest(void)
{
    static const char d[] =
        "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        "\x81\x85XXXX";
    rtc_http_parser *p;
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
    size_t used;
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)d, sizeof d - 1, &used), 0);
    ASSERT_EQ(used, sizeof d - 1 - 6);          /* the frame bytes are not HTTP */
    rtc_http_message m;
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    ASSERT(m.upgrade);
    ASSERT(rtc_http_message_has_token(&m, "connection", "upgrade"));
    rtc_http_parser_free(p);

    /* Upgrade without "Connection: upgrade" is not an upgrade request. */
    static const char d2[] = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n";
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)d2, sizeof d2 - 1, &used), 0);
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    ASSERT(!m.upgrade);
    rtc_http_parser_free(p);
}

/* One request, expected error and status. */
static void expect_error(const rtc_http_limits *lim, const char *d, size_t len, int err, int status)
{
    for (size_t step = 1; step <= len; step = step * 3 + 1) {
        rtc_http_parser *p;
        ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, lim));
        seen s[1];
        int n;
        int r = feed(p, d, len, 0, step, s, 1, &n);
        if (r != err || rtc_http_parser_error_status(p) != status)
            RTC_TEST_FAIL("request %.40s... step %zu: got %d/%d want %d/%d (%s)", d, step, r,
                          rtc_http_parser_error_status(p), err, status, rtc_http_parser_error_text(p));
        ASSERT_EQ(n, 0);
        ASSERT(rtc_http_parser_error_text(p)[0] != '\0');
        size_t used;
        ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)"x", 1, &used), err);   /* final */
        rtc_http_parser_free(p);
    }
}
#define EXPECT_ERROR(lim, lit, err, status) expect_error(lim, lit, sizeof lit - 1, err, status)

static void test_bad_requests(void)
{
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\r\nX : a\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\r\nNoColon\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\r\n: empty\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\nHost: h\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET  / HTTP/1.1\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTP/1.1 \r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET /\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "G(T / HTTP/1.1\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTX/1.1\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "GET / HTTP/2.0\r\n\r\n", RTC_ENOTSUP, 505);
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\r\n\r\n", RTC_EPROTO, 400);                 /* no Host */
    EXPECT_ERROR(NULL, "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", RTC_ENOTSUP, 501);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", RTC_ENOTSUP, 501);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n", RTC_EPROTO, 400);
    EXPECT_ERROR(NULL, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n", RTC_EPROTO, 400);
}

static void test_limits(void)
{
    rtc_http_limits lim = { .max_start_line = 64, .max_header_bytes = 128, .max_headers = 4, .max_body = 16 };
    char big[512];
    /* exactly at the start-line limit passes, one more byte is 414 */
    rtc_http_parser *p;
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, &lim));
    int n = snprintf(big, sizeof big, "GET /%0*d HTTP/1.1\r\nHost: h\r\n\r\n", 64 - 14, 0);
    size_t used;
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)big, (size_t)n, &used), 0);
    rtc_http_message m;
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    rtc_http_parser_free(p);
    n = snprintf(big, sizeof big, "GET /%0*d HTTP/1.1\r\n\r\n", 64 - 13, 0);
    expect_error(&lim, big, (size_t)n, RTC_ETOOBIG, 414);

    EXPECT_ERROR(&lim, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", RTC_ETOOBIG, 431);
    n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX: %0*d\r\n\r\n", 130, 0);
    expect_error(&lim, big, (size_t)n, RTC_ETOOBIG, 431);
    EXPECT_ERROR(&lim, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n", RTC_ETOOBIG, 413);
    EXPECT_ERROR(&lim, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", RTC_ETOOBIG, 413);
    EXPECT_ERROR(&lim, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n8\r\n", RTC_ETOOBIG, 413);
    EXPECT_ERROR(&lim, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", RTC_ETOOBIG, 413);
    /* trailers count against the header budget too */
    EXPECT_ERROR(&lim, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
                 "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", RTC_ETOOBIG, 431);

    /* a body exactly at the limit is fine */
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, &lim));
    static const char ok[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 16\r\n\r\n0123456789abcdef";
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)ok, sizeof ok - 1, &used), 0);
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    ASSERT_EQ(m.body_len, 16);
    ASSERT(rtc_http_parser_buffered(p) >= 16);
    rtc_http_parser_free(p);
}

static void test_truncated_at_eof(void)
{
    rtc_http_parser *p;
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
    size_t used;
    static const char d[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab";
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)d, sizeof d - 1, &used), 0);
    ASSERT_EQ(rtc_http_parser_handle_eof(p), RTC_ETRUNC);
    rtc_http_parser_free(p);
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_REQUEST, NULL));
    ASSERT_EQ(rtc_http_parser_handle_eof(p), 0);            /* idle connection closing is fine */
    rtc_http_parser_free(p);
}

static void test_responses(void)
{
    static const char d[] =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
        "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
        "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n";
    for (size_t step = 1; step <= sizeof d; step += 5) {
        rtc_http_parser *p;
        ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_RESPONSE, NULL));
        seen s[6];
        int n;
        ASSERT_EQ(feed(p, d, sizeof d - 1, 0, step, s, 6, &n), 0);
        ASSERT_EQ(n, 4);
        ASSERT_EQ(s[0].status, 100);
        ASSERT_STREQ(s[0].reason, "Continue");
        ASSERT_EQ(s[1].status, 200);
        ASSERT_MEMEQ(s[1].body, "ok", 2);
        ASSERT_EQ(s[2].status, 204);
        ASSERT_EQ(s[2].body_len, 0);                 /* 204 never has a body */
        ASSERT_EQ(s[3].status, 200);
        ASSERT_STREQ(s[3].reason, "");
        ASSERT_MEMEQ(s[3].body, "ab", 2);
        rtc_http_parser_free(p);
    }
    /* HEAD response: Content-Length without a body; then a body that runs to EOF */
    rtc_http_parser *p;
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_RESPONSE, NULL));
    rtc_http_parser_expect_no_body(p);
    static const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                            "HTTP/1.0 200 OK\r\n\r\nuntil the end";
    size_t used;
    rtc_http_message m;
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)h, sizeof h - 1, &used), 0);
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    ASSERT_EQ(m.body_len, 0);
    ASSERT_EQ(m.content_length, 100);
    size_t off = used;
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)h + off, sizeof h - 1 - off, &used), 0);
    ASSERT_EQ(used, sizeof h - 1 - off);
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 0);
    ASSERT_EQ(rtc_http_parser_handle_eof(p), 0);
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    ASSERT_EQ(m.body_len, 13);
    ASSERT_MEMEQ(m.body, "until the end", 13);
    ASSERT(!m.keep_alive);
    rtc_http_parser_free(p);

    /* 101: upgrade, and the bytes after the head are left for the new protocol */
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_RESPONSE, NULL));
    static const char u[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\n\r\n\x81\x02hi";
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)u, sizeof u - 1, &used), 0);
    ASSERT_EQ(used, sizeof u - 1 - 4);
    ASSERT_EQ(rtc_http_parser_poll_message(p, &m), 1);
    ASSERT(m.upgrade);
    ASSERT_EQ(m.status, 101);
    rtc_http_parser_free(p);

    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_RESPONSE, NULL));
    static const char bad[] = "HTTP/1.1 20 OK\r\n\r\n";
    ASSERT_EQ(rtc_http_parser_handle_data(p, (const uint8_t *)bad, sizeof bad - 1, &used), RTC_EPROTO);
    rtc_http_parser_free(p);
}

int main(void)
{
    RUN(test_request_split_everywhere);
    RUN(test_header_values);
    RUN(test_pipelined);
    RUN(test_unpolled_message_blocks);
    RUN(test_chunked_split_everywhere);
    RUN(test_trailers_move_head);
    RUN(test_keep_alive_rules);
    RUN(test_upgrade_leaves_rest);
    RUN(test_bad_requests);
    RUN(test_limits);
    RUN(test_truncated_at_eof);
    RUN(test_responses);
    return 0;
}
