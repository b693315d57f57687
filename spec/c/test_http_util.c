/* http/: the message writer (round trip through the parser, header injection), the
 * static path normaliser, query parameters, content types, base64/base64url,
 * HMAC-SHA1/SHA256 and the constant-time comparison. */
#define _GNU_SOURCE   /* memmem */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "http/http_crypto.h"
#include "http/http_parser.h"
#include "http/http_static.h"
#include "http/http_url.h"
#include "http/http_writer.h"

static void test_writer_round_trip(void)
{
    rtc_http_buf b = { 0 };
    ASSERT_EQ(rtc_http_write_status_line(&b, 200, NULL), 0);
    ASSERT_EQ(rtc_http_write_header(&b, "Content-Type", "application/json"), 0);
    ASSERT_EQ(rtc_http_write_header(&b, "X-Empty", ""), 0);
    ASSERT_EQ(rtc_http_write_body(&b, "{}", 2), 0);
    /* a chunked response after it, on the same connection */
    ASSERT_EQ(rtc_http_write_status_line(&b, 404, "Gone Fishing"), 0);
    ASSERT_EQ(rtc_http_write_header(&b, "Transfer-Encoding", "chunked"), 0);
    ASSERT_EQ(rtc_http_write_end_head(&b), 0);
    ASSERT_EQ(rtc_http_write_chunk(&b, "0123456789abcdefg", 17), 0);
    ASSERT_EQ(rtc_http_write_chunk(&b, "!", 1), 0);
    ASSERT_EQ(rtc_http_write_chunk(&b, NULL, 0), 0);
    ASSERT_EQ(rtc_http_write_response(&b, 503, "text/plain", "busy", 4, false), 0);
    static const char want_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Empty: \r\n"
                                    "Content-Length: 2\r\n\r\n{}HTTP/1.1 404 Gone Fishing\r\n";
    ASSERT_MEMEQ(b.data, want_head, sizeof want_head - 1);
    ASSERT(memmem(b.data, b.len, "11\r\n0123456789abcdefg\r\n1\r\n!\r\n0\r\n\r\n", 33) != NULL);

    rtc_http_parser *p;
    ASSERT_OK(rtc_http_parser_new(&p, RTC_HTTP_RESPONSE, NULL));
    size_t pos = 0, used;
    rtc_http_message m;
    int statuses[3], k = 0;
    while (pos < b.len) {
        int r = rtc_http_parser_handle_data(p, b.data + pos, b.len - pos, &used);
        pos += used;
        while (rtc_http_parser_poll_message(p, &m) == 1) {
            statuses[k] = m.status;
            if (k == 0) { ASSERT_EQ(m.body_len, 2); ASSERT_MEMEQ(m.body, "{}", 2); }
            if (k == 1) { ASSERT_EQ(m.body_len, 18); ASSERT_MEMEQ(m.body, "0123456789abcdefg!", 18); }
            if (k == 2) { ASSERT(!m.keep_alive); ASSERT_MEMEQ(m.body, "busy", 4); }
            k++;
        }
        if (r < 0) break;
    }
    ASSERT_EQ(k, 3);
    ASSERT_EQ(statuses[0], 200); ASSERT_EQ(statuses[1], 404); ASSERT_EQ(statuses[2], 503);
    rtc_http_parser_free(p);

    /* requests, and values that would forge header lines are refused, leaving no trace */
    size_t len = b.len;
    ASSERT_EQ(rtc_http_write_header(&b, "X", "a\r\nSet-Cookie: x=1"), RTC_EINVAL);
    ASSERT_EQ(rtc_http_write_header(&b, "X", "a\nb"), RTC_EINVAL);
    ASSERT_EQ(rtc_http_write_header(&b, "Bad Name", "v"), RTC_EINVAL);
    ASSERT_EQ(rtc_http_write_header(&b, "", "v"), RTC_EINVAL);
    ASSERT_EQ(rtc_http_write_status_line(&b, 200, "O\r\nK"), RTC_EINVAL);
    ASSERT_EQ(rtc_http_write_status_line(&b, 99, NULL), RTC_EINVAL);
    ASSERT_EQ(rtc_http_write_request_line(&b, "GET", "/a b"), RTC_EINVAL);
    ASSERT_EQ(rtc_http_write_request_line(&b, "G T", "/"), RTC_EINVAL);
    ASSERT_EQ(b.len, len);
    ASSERT_EQ(rtc_http_write_request_line(&b, "POST", "/x?y=1"), 0);
    ASSERT_MEMEQ(b.data + len, "POST /x?y=1 HTTP/1.1\r\n", 22);
    ASSERT_STREQ(rtc_http_status_reason(431), "Request Header Fields Too Large");
    ASSERT_STREQ(rtc_http_status_reason(799), "Unknown");
    rtc_http_buf_free(&b);
    rtc_http_buf_free(&b);
}

static void norm_ok(const char *in, const char *want, unsigned flags)
{
    char out[256];
    int r = rtc_http_path_normalize(rtc_str_c(in), out, sizeof out, flags);
    if (r < 0) RTC_TEST_FAIL("normalize(%s) = %d (%s)", in, r, rtc_err_name(r));
    ASSERT_EQ(r, strlen(want));
    if (strcmp(out, want)) RTC_TEST_FAIL("normalize(%s) = %s, want %s", in, out, want);
}

static void norm_err(const char *in, int err)
{
    char out[256];
    int r = rtc_http_path_normalize(rtc_str_c(in), out, sizeof out, 0);
    if (r != err) RTC_TEST_FAIL("normalize(%s) = %d, want %d", in, r, err);
}

static void test_path_normalize(void)
{
    norm_ok("/", "/", 0);
    norm_ok("/index.html", "/index.html", 0);
    norm_ok("/a/b/", "/a/b/", 0);
    norm_ok("//a///b", "/a/b", 0);
    norm_ok("/a/./b/.", "/a/b/", 0);
    norm_ok("/a/b/../c", "/a/c", 0);
    norm_ok("/a/b/../../c", "/c", 0);
    norm_ok("/a/..", "/", 0);
    norm_ok("/js/app.js?v=3#frag", "/js/app.js", 0);
    norm_ok("/hello%20world.txt", "/hello world.txt", 0);
    norm_ok("/caf%C3%A9", "/caf\xc3\xa9", 0);
    norm_ok("/a/%2e/b", "/a/b", 0);
    norm_ok("/a/%2E%2E/b", "/b", 0);
    norm_ok("/%252e%252e/x", "/%2e%2e/x", 0);          /* decoded once, never twice */
    norm_ok("/.well-known/x", "/.well-known/x", RTC_HTTP_PATH_ALLOW_DOTFILES);
    norm_err("/..", RTC_EACCESS);
    norm_err("/../etc/passwd", RTC_EACCESS);
    norm_err("/a/../../etc/passwd", RTC_EACCESS);
    norm_err("/%2e%2e/etc/passwd", RTC_EACCESS);
    norm_err("/a/%2E%2e/%2e%2E/x", RTC_EACCESS);
    norm_err("/a%2f..%2f..%2fetc", RTC_EACCESS);
    norm_err("/a%2F..", RTC_EACCESS);
    norm_err("/a\\..\\b", RTC_EACCESS);
    norm_err("/a%5c..%5cb", RTC_EACCESS);
    norm_err("/a%00.html", RTC_EACCESS);
    norm_err("/a%0d%0a", RTC_EACCESS);
    norm_err("/.git/config", RTC_EACCESS);
    norm_err("/a/.env", RTC_EACCESS);
    norm_err("/a%", RTC_EPROTO);
    norm_err("/a%2", RTC_EPROTO);
    norm_err("/a%zz", RTC_EPROTO);
    norm_err("a/b", RTC_EPROTO);
    norm_err("", RTC_EPROTO);
    norm_err("http://host/a", RTC_EPROTO);
    char small[6];
    ASSERT_EQ(rtc_http_path_normalize(RTC_STR("/abcdef"), small, sizeof small, 0), RTC_EOVERFLOW);
    ASSERT_EQ(rtc_http_path_normalize(RTC_STR("/abcd"), small, sizeof small, 0), 5);
}

static void test_query(void)
{
    rtc_str t = RTC_STR("/ws/room?room=blue%20team&token=a.b-c_d&flag&x=1+2&room=second#frag");
    rtc_str path = rtc_http_target_path(t);
    ASSERT(rtc_str_eq(path, RTC_STR("/ws/room")));
    rtc_str q = rtc_http_target_query(t);
    ASSERT_EQ(q.len, strlen("room=blue%20team&token=a.b-c_d&flag&x=1+2&room=second"));
    char v[64];
    ASSERT_EQ(rtc_http_query_param(t, "room", v, sizeof v), 9);
    ASSERT_STREQ(v, "blue team");                           /* the first one wins */
    ASSERT_EQ(rtc_http_query_param(t, "token", v, sizeof v), 7);
    ASSERT_STREQ(v, "a.b-c_d");
    ASSERT_EQ(rtc_http_query_param(t, "flag", v, sizeof v), 0);
    ASSERT_STREQ(v, "");
    ASSERT_EQ(rtc_http_query_param(t, "x", v, sizeof v), 3);
    ASSERT_STREQ(v, "1 2");
    ASSERT_EQ(rtc_http_query_param(t, "frag", v, sizeof v), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_http_query_param(t, "roo", v, sizeof v), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_http_query_param(RTC_STR("/plain"), "room", v, sizeof v), RTC_ENOTFOUND);
    ASSERT(rtc_http_target_query(RTC_STR("/plain#a?b")).p == NULL);
    ASSERT_EQ(rtc_http_query_param(RTC_STR("/?a%3Db=c"), "a=b", v, sizeof v), 1);   /* decoded names */
    ASSERT_EQ(rtc_http_query_param(RTC_STR("/?a=%zz"), "a", v, sizeof v), RTC_EPROTO);
    ASSERT_EQ(rtc_http_query_param(RTC_STR("/?a=%00"), "a", v, sizeof v), RTC_EPROTO);
    ASSERT_EQ(rtc_http_query_param(RTC_STR("/?a=%4"), "a", v, sizeof v), RTC_EPROTO);
    ASSERT_EQ(rtc_http_query_param(RTC_STR("/?a=toolong"), "a", v, 4), RTC_EOVERFLOW);
    ASSERT_EQ(rtc_http_url_decode(RTC_STR("a+b%2Bc"), v, sizeof v, false), 5);
    ASSERT_STREQ(v, "a+b+c");
}

static void test_content_types(void)
{
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/index.html")), "text/html; charset=utf-8");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/a/APP.JS")), "text/javascript; charset=utf-8");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/s.css")), "text/css; charset=utf-8");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/d.json")), "application/json");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/app.js.map")), "application/json");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/i.png")), "image/png");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/i.svg")), "image/svg+xml");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/m.wasm")), "application/wasm");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/favicon.ico")), "image/x-icon");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/r.txt")), "text/plain; charset=utf-8");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/dir.html/file")), "application/octet-stream");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/noext")), "application/octet-stream");
    ASSERT_STREQ(rtc_http_content_type(RTC_STR("/x.")), "application/octet-stream");
}

static void test_base64(void)
{
    /* RFC 4648 §10 */
    static const char *vec[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
                                    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
    char enc[64];
    uint8_t dec[64];
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        size_t n = strlen(vec[i][0]);
        ASSERT_EQ(rtc_base64_encode((const uint8_t *)vec[i][0], n, enc, sizeof enc, false), strlen(vec[i][1]));
        ASSERT_STREQ(enc, vec[i][1]);
        ASSERT_EQ(rtc_base64_decode(vec[i][1], strlen(vec[i][1]), dec, sizeof dec, false), n);
        ASSERT_MEMEQ(dec, vec[i][0], n);
        /* url: same minus padding */
        int u = rtc_base64_encode((const uint8_t *)vec[i][0], n, enc, sizeof enc, true);
        ASSERT_EQ(rtc_base64_decode(enc, (size_t)u, dec, sizeof dec, true), n);
        ASSERT_MEMEQ(dec, vec[i][0], n);
    }
    static const uint8_t bin[] = { 0xfb, 0xff, 0xbf };
    ASSERT_EQ(rtc_base64_encode(bin, 3, enc, sizeof enc, false), 4);
    ASSERT_STREQ(enc, "+/+/");
    ASSERT_EQ(rtc_base64_encode(bin, 3, enc, sizeof enc, true), 4);
    ASSERT_STREQ(enc, "-_-_");
    ASSERT_EQ(rtc_base64_encode(bin, 3, enc, 4, false), RTC_EOVERFLOW);
    ASSERT_EQ(rtc_base64_decode("Zg", 2, dec, sizeof dec, false), RTC_EPROTO);     /* unpadded std */
    ASSERT_EQ(rtc_base64_decode("Zg==", 4, dec, sizeof dec, true), RTC_EPROTO);    /* padded url */
    ASSERT_EQ(rtc_base64_decode("Zh==", 4, dec, sizeof dec, false), RTC_EPROTO);   /* stray bits */
    ASSERT_EQ(rtc_base64_decode("Zm9v YmFy", 9, dec, sizeof dec, false), RTC_EPROTO);
    ASSERT_EQ(rtc_base64_decode("Z===", 4, dec, sizeof dec, false), RTC_EPROTO);
    ASSERT_EQ(rtc_base64_decode("=Zg=", 4, dec, sizeof dec, false), RTC_EPROTO);
    ASSERT_EQ(rtc_base64_decode("-_-_", 4, dec, sizeof dec, false), RTC_EPROTO);
    ASSERT_EQ(rtc_base64_decode("Z", 1, dec, sizeof dec, true), RTC_EPROTO);
    ASSERT_EQ(rtc_base64_decode("Zm9vYmFy", 8, dec, 5, false), RTC_EOVERFLOW);
}

static void test_hmac_and_compare(void)
{
    /* RFC 4231 test cases 1 and 2 */
    uint8_t key[20];
    memset(key, 0x0b, sizeof key);
    char hex[65], b64[44];
    ASSERT_EQ(rtc_hmac_sha256_hex(key, 20, "Hi There", 8, hex), 64);
    ASSERT_STREQ(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    ASSERT_EQ(rtc_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex), 64);
    ASSERT_STREQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    ASSERT_EQ(rtc_hmac_sha256_b64url("Jefe", 4, "what do ya want for nothing?", 28, b64), 43);
    ASSERT_STREQ(b64, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
    ASSERT_EQ(rtc_hmac_sha256_hex("", 0, "", 0, hex), 64);
    ASSERT_STREQ(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");

    /* RFC 2202 test case 2 */
    uint8_t mac1[RTC_SHA1_LEN];
    ASSERT_EQ(rtc_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, mac1), 0);
    ASSERT_MEMEQ(mac1, "\xef\xfc\xdf\x6a\xe5\xeb\x2f\xa2\xd2\x74\x16\xd5\xf1\x84\xdf\x9c\x25\x9a\x7c\x79", 20);

    ASSERT(rtc_ct_equal("abc", 3, "abc", 3));
    ASSERT(!rtc_ct_equal("abc", 3, "abd", 3));
    ASSERT(!rtc_ct_equal("abc", 3, "abcd", 4));
    ASSERT(rtc_ct_equal("", 0, "", 0));
    uint8_t d[RTC_SHA1_LEN];
    rtc_sha1("abc", 3, d);
    ASSERT_MEMEQ(d, "\xa9\x99\x3e\x36\x47\x06\x81\x6a\xba\x3e\x25\x71\x78\x50\xc2\x6c\x9c\xd0\xd8\x9d", 20);
}

int main(void)
{
    RUN(test_writer_round_trip);
    RUN(test_path_normalize);
    RUN(test_query);
    RUN(test_content_types);
    RUN(test_base64);
    RUN(test_hmac_and_compare);
    return 0;
}
