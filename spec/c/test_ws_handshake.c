/* http/: the WebSocket opening handshake: RFC 6455's example key, request checks and
 * their status codes, subprotocol selection, and a client and server upgrading over
 * the HTTP codec and then exchanging frames that arrived with the handshake. */
#define _GNU_SOURCE   /* memmem */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "http/websocket.h"
#include "http/ws_handshake.h"

/* Parse one message of `kind` from `d`; *rest gets the offset after it. The parser is
 * returned so the message's views stay valid; the caller frees it. */
static rtc_http_parser *parse(rtc_http_kind kind, const void *d, size_t len, rtc_http_message *m, size_t *rest)
{
    rtc_http_parser *p;
    ASSERT_OK(rtc_http_parser_new(&p, kind, NULL));
    size_t used;
    ASSERT_EQ(rtc_http_parser_handle_data(p, d, len, &used), 0);
    ASSERT_EQ(rtc_http_parser_poll_message(p, m), 1);
    if (rest) *rest = used;
    return p;
}

static void test_accept_key(void)
{
    char acc[RTC_WS_ACCEPT_LEN + 1];
    ASSERT_EQ(rtc_ws_accept_key(RTC_STR("dGhlIHNhbXBsZSBub25jZQ=="), acc), RTC_WS_ACCEPT_LEN);
    ASSERT_STREQ(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ASSERT_EQ(rtc_ws_accept_key(RTC_STR(""), acc), RTC_EINVAL);
}

static const char rfc_request[] =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

static void test_server_accepts_rfc_request(void)
{
    rtc_http_message m;
    rtc_http_parser *p = parse(RTC_HTTP_REQUEST, rfc_request, sizeof rfc_request - 1, &m, NULL);
    ASSERT(m.upgrade);
    rtc_http_buf out = { 0 };
    const char *sel = "unset";
    static const char *const protos[] = { "superchat", "chat" };
    ASSERT_EQ(rtc_ws_server_handshake(&m, protos, 2, &out, &sel), 0);
    ASSERT_STREQ(sel, "superchat");                      /* the server's preference wins */
    static const char want[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                               "Sec-WebSocket-Protocol: superchat\r\n\r\n";
    ASSERT_EQ(out.len, sizeof want - 1);
    ASSERT_MEMEQ(out.data, want, out.len);

    /* no common protocol: accepted without one */
    out.len = 0;
    static const char *const other[] = { "mqtt" };
    ASSERT_EQ(rtc_ws_server_handshake(&m, other, 1, &out, &sel), 0);
    ASSERT(sel == NULL);
    ASSERT(memmem(out.data, out.len, "Sec-WebSocket-Protocol", 22) == NULL);
    rtc_http_buf_free(&out);
    rtc_http_parser_free(p);
}

static void expect_reject(const char *req, int err, int status)
{
    rtc_http_message m;
    rtc_http_parser *p = parse(RTC_HTTP_REQUEST, req, strlen(req), &m, NULL);
    rtc_http_buf out = { 0 };
    int r = rtc_ws_server_handshake(&m, NULL, 0, &out, NULL);
    if (r != err) RTC_TEST_FAIL("%s: %d, want %d", req, r, err);
    rtc_http_message resp;
    rtc_http_parser *q = parse(RTC_HTTP_RESPONSE, out.data, out.len, &resp, NULL);
    ASSERT_EQ(resp.status, status);
    ASSERT(!resp.keep_alive);
    if (status == 426) {
        rtc_str v = rtc_http_message_header(&resp, "sec-websocket-version");
        ASSERT(rtc_str_eq(v, RTC_STR("13")));
    }
    rtc_http_parser_free(q);
    rtc_http_buf_free(&out);
    rtc_http_parser_free(p);
}

#define KEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define UPG "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
static void test_server_rejects(void)
{
    expect_reject("POST /ws HTTP/1.1\r\n" UPG KEY "Sec-WebSocket-Version: 13\r\n\r\n", RTC_EPROTO, 400);
    expect_reject("GET /ws HTTP/1.0\r\n" UPG KEY "Sec-WebSocket-Version: 13\r\n\r\n", RTC_EPROTO, 400);
    expect_reject("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n" KEY "Sec-WebSocket-Version: 13\r\n\r\n", RTC_EPROTO, 400);
    expect_reject("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n" KEY "Sec-WebSocket-Version: 13\r\n\r\n", RTC_EPROTO, 400);
    expect_reject("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n" KEY "Sec-WebSocket-Version: 13\r\n\r\n", RTC_EPROTO, 400);
    expect_reject("GET /ws HTTP/1.1\r\n" UPG KEY "\r\n", RTC_ENOTSUP, 426);
    expect_reject("GET /ws HTTP/1.1\r\n" UPG KEY "Sec-WebSocket-Version: 8\r\n\r\n", RTC_ENOTSUP, 426);
    expect_reject("GET /ws HTTP/1.1\r\n" UPG "Sec-WebSocket-Version: 13\r\n\r\n", RTC_EPROTO, 400);
    expect_reject("GET /ws HTTP/1.1\r\n" UPG KEY KEY "Sec-WebSocket-Version: 13\r\n\r\n", RTC_EPROTO, 400);
    expect_reject("GET /ws HTTP/1.1\r\n" UPG "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", RTC_EPROTO, 400);
    expect_reject("GET /ws HTTP/1.1\r\n" UPG "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\nSec-WebSocket-Version: 13\r\n\r\n", RTC_EPROTO, 400);
    /* case and list forms that are fine */
    rtc_http_message m;
    static const char ok[] = "GET /ws HTTP/1.1\r\nhost: h\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
                             KEY "sec-websocket-version: 13\r\n\r\n";
    rtc_http_parser *p = parse(RTC_HTTP_REQUEST, ok, sizeof ok - 1, &m, NULL);
    rtc_http_buf out = { 0 };
    ASSERT_EQ(rtc_ws_server_handshake(&m, NULL, 0, &out, NULL), 0);
    rtc_http_buf_free(&out);
    rtc_http_parser_free(p);
}

/* Full upgrade over the HTTP codec; the first frames ride in the same segments as the
 * handshake messages. */
static void test_client_server_upgrade(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 99);
    rtc_http_buf req = { 0 };
    char key[RTC_WS_KEY_LEN + 1];
    static const char *const cprotos[] = { "luartc.v1", "json" };
    ASSERT_EQ(rtc_ws_client_request(&req, &rng, "127.0.0.1:8080", "/ws?room=a", "http://127.0.0.1:8080",
                                    cprotos, 2, key), 0);
    ASSERT_EQ(strlen(key), RTC_WS_KEY_LEN);

    rtc_ws_config cc = { .role = RTC_WS_CLIENT, .rng = &rng }, sc = { .role = RTC_WS_SERVER };
    rtc_ws *c, *s;
    ASSERT_OK(rtc_ws_new(&c, &cc, 0));
    ASSERT_EQ(rtc_ws_send_text(c, "early", 5, 0), 0);       /* pipelined behind the request */
    rtc_buf *b = rtc_ws_poll_output(c);
    ASSERT_EQ(rtc_http_buf_append(&req, b->data, b->len), 0);
    rtc_buf_unref(b);

    rtc_http_message m;
    size_t used;
    rtc_http_parser *sp = parse(RTC_HTTP_REQUEST, req.data, req.len, &m, &used);
    ASSERT(m.upgrade);
    ASSERT(rtc_str_eq(m.target, RTC_STR("/ws?room=a")));
    ASSERT(rtc_str_eq(rtc_http_message_header(&m, "origin"), RTC_STR("http://127.0.0.1:8080")));
    rtc_http_buf resp = { 0 };
    const char *sel;
    static const char *const sprotos[] = { "json" };
    ASSERT_EQ(rtc_ws_server_handshake(&m, sprotos, 1, &resp, &sel), 0);
    ASSERT_STREQ(sel, "json");
    ASSERT_OK(rtc_ws_new(&s, &sc, 0));
    size_t u2;
    ASSERT_EQ(rtc_ws_handle_data(s, req.data + used, req.len - used, &u2, 0), 0);
    ASSERT_EQ(u2, req.len - used);
    rtc_ws_event e;
    ASSERT(rtc_ws_poll_event(s, &e));
    ASSERT_EQ(e.type, RTC_WS_EV_TEXT);
    ASSERT_EQ(e.len, 5);
    ASSERT_MEMEQ(e.data, "early", 5);
    rtc_http_parser_free(sp);

    ASSERT_EQ(rtc_ws_send_binary(s, "\x00\x01", 2, 0), 0);
    b = rtc_ws_poll_output(s);
    ASSERT_EQ(rtc_http_buf_append(&resp, b->data, b->len), 0);
    rtc_buf_unref(b);
    rtc_http_parser *cp = parse(RTC_HTTP_RESPONSE, resp.data, resp.len, &m, &used);
    ASSERT(m.upgrade);
    const char *csel = NULL;
    ASSERT_EQ(rtc_ws_client_check_response(&m, key, cprotos, 2, &csel), 0);
    ASSERT_STREQ(csel, "json");
    ASSERT_EQ(rtc_ws_client_check_response(&m, "AAAAAAAAAAAAAAAAAAAAAA==", cprotos, 2, NULL), RTC_EAUTH);
    ASSERT_EQ(rtc_ws_client_check_response(&m, key, cprotos, 1, NULL), RTC_EPROTO);  /* "json" not offered */
    ASSERT_EQ(rtc_ws_handle_data(c, resp.data + used, resp.len - used, &u2, 0), 0);
    ASSERT(rtc_ws_poll_event(c, &e));
    ASSERT_EQ(e.type, RTC_WS_EV_BINARY);
    ASSERT_EQ(e.len, 2);
    rtc_http_parser_free(cp);

    /* responses a client must refuse */
    static const char *bad[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rtc_http_parser *q = parse(RTC_HTTP_RESPONSE, bad[i], strlen(bad[i]), &m, NULL);
        ASSERT_EQ(rtc_ws_client_check_response(&m, key, NULL, 0, NULL), RTC_EPROTO);
        rtc_http_parser_free(q);
    }
    char ext[512];
    char acc[RTC_WS_ACCEPT_LEN + 1];
    rtc_ws_accept_key(rtc_str_c(key), acc);
    snprintf(ext, sizeof ext, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", acc);
    rtc_http_parser *q = parse(RTC_HTTP_RESPONSE, ext, strlen(ext), &m, NULL);
    ASSERT_EQ(rtc_ws_client_check_response(&m, key, NULL, 0, NULL), RTC_EPROTO);
    rtc_http_parser_free(q);

    /* a header value that would break the request is refused */
    rtc_http_buf junk = { 0 };
    ASSERT_EQ(rtc_ws_client_request(&junk, &rng, "h\r\nX: y", "/", NULL, NULL, 0, key), RTC_EINVAL);
    static const char *const badp[] = { "a,b" };
    ASSERT_EQ(rtc_ws_client_request(&junk, &rng, "h", "/", NULL, badp, 1, key), RTC_EINVAL);
    ASSERT_EQ(junk.len, 0);
    rtc_http_buf_free(&junk);

    rtc_http_buf_free(&req);
    rtc_http_buf_free(&resp);
    rtc_ws_free(c);
    rtc_ws_free(s);
}

int main(void)
{
    RUN(test_accept_key);
    RUN(test_server_accepts_rfc_request);
    RUN(test_server_rejects);
    RUN(test_client_server_upgrade);
    return 0;
}
