/* tls/: two TLS stream machines wired back to back in memory: handshake (with SNI,
 * ALPN, name checks), data both ways including writes far larger than a record,
 * close_notify, garbage input, the wrong CA, a handshake that never finishes, and
 * context errors. */
#include "test_tls_pair.h"
#include <unistd.h>

static char *cert_a, *key_a, *cert_b, *key_b;

static rtc_tls_context *server_ctx(const char *cert, const char *key, const char *alpn)
{
    rtc_tls_context *c = NULL;
    char err[RTC_TLS_ERRLEN];
    rtc_tls_context_config cfg = { .role = RTC_TLS_SERVER, .cert_pem = cert, .key_pem = key, .alpn = alpn };
    int r = rtc_tls_context_new(&c, &cfg, err, sizeof err);
    if (r < 0) RTC_TEST_FAIL("server ctx: %s", err);
    return c;
}

static rtc_tls_context *client_ctx(const char *ca, bool insecure, const char *alpn)
{
    rtc_tls_context *c = NULL;
    char err[RTC_TLS_ERRLEN];
    rtc_tls_context_config cfg = { .role = RTC_TLS_CLIENT, .ca_pem = ca, .insecure = insecure, .alpn = alpn };
    int r = rtc_tls_context_new(&c, &cfg, err, sizeof err);
    if (r < 0) RTC_TEST_FAIL("client ctx: %s", err);
    return c;
}

/* A connected pair; the contexts are released (the streams hold refs). */
static void make_pair(tls_side *cl, tls_side *sv, rtc_tls_context *cc, rtc_tls_context *sc, const char *name)
{
    memset(cl, 0, sizeof *cl);
    memset(sv, 0, sizeof *sv);
    rtc_tls_stream_config c = { .ctx = cc, .server_name = name };
    rtc_tls_stream_config s = { .ctx = sc };
    ASSERT_EQ(rtc_tls_stream_new(&sv->s, &s, 0), 0);
    ASSERT_EQ(rtc_tls_stream_new(&cl->s, &c, 0), 0);
    rtc_tls_context_unref(cc);
    rtc_tls_context_unref(sc);
}

static void test_handshake_sni_alpn(void)
{
    tls_side cl, sv;
    make_pair(&cl, &sv, client_ctx(cert_a, false, "x-test,http/1.1"), server_ctx(cert_a, key_a, "http/1.1"), "localhost");
    ASSERT_EQ(rtc_tls_stream_state(cl.s), RTC_TLS_HANDSHAKING);
    ASSERT_EQ(rtc_tls_stream_poll_timeout(cl.s), RTC_SEC(10));
    tls_pump(&cl, &sv, 0, RTC_MS(1));
    ASSERT_EQ(cl.open, 1); ASSERT_EQ(sv.open, 1);
    ASSERT_EQ(cl.failed + sv.failed, 0);
    ASSERT_STREQ(cl.alpn, "http/1.1");
    ASSERT_STREQ(sv.alpn, "http/1.1");
    ASSERT_STREQ(sv.sni, "localhost");
    ASSERT_EQ(rtc_tls_stream_state(cl.s), RTC_TLS_OPEN);
    ASSERT_EQ(rtc_tls_stream_poll_timeout(cl.s), RTC_TIME_NEVER);
    tls_side_free(&cl); tls_side_free(&sv);

    /* an IP literal is checked against the IP SAN and sends no SNI */
    make_pair(&cl, &sv, client_ctx(cert_a, false, NULL), server_ctx(cert_a, key_a, NULL), "127.0.0.1");
    tls_pump(&cl, &sv, 0, 0);
    ASSERT_EQ(cl.open, 1); ASSERT_EQ(sv.open, 1);
    ASSERT_EQ(sv.sni[0], 0);
    ASSERT_EQ(cl.alpn[0], 0);
    tls_side_free(&cl); tls_side_free(&sv);
}

static void test_data_both_ways_large(void)
{
    tls_side cl, sv;
    make_pair(&cl, &sv, client_ctx(cert_a, false, NULL), server_ctx(cert_a, key_a, NULL), "localhost");
    /* written before the handshake: held, then sent in order */
    ASSERT_EQ(rtc_tls_stream_write(cl.s, (const uint8_t *)"early ", 6, 0), 0);
    tls_pump(&cl, &sv, 0, 0);
    ASSERT_EQ(sv.got_len, 6);
    ASSERT_MEMEQ(sv.got, "early ", 6);

    size_t big = 3 * 1024 * 1024 + 17;          /* many records, odd tail */
    uint8_t *p = malloc(big);
    for (size_t i = 0; i < big; i++) p[i] = (uint8_t)(i * 31 + (i >> 11));
    ASSERT_EQ(rtc_tls_stream_write(cl.s, p, big, 0), 0);
    ASSERT_GE(rtc_tls_stream_write_pending(cl.s), big);
    ASSERT_EQ(rtc_tls_stream_write(sv.s, p, big, 0), 0);
    /* deliver in odd-sized chunks: records split across inputs */
    tls_pump(&cl, &sv, 1499, 0);
    ASSERT_EQ(sv.got_len, 6 + big);
    ASSERT_MEMEQ(sv.got + 6, p, big);
    ASSERT_EQ(cl.got_len, big);
    ASSERT_MEMEQ(cl.got, p, big);
    ASSERT_EQ(rtc_tls_stream_read_pending(cl.s), 0);
    rtc_tls_stats st;
    rtc_tls_stream_get_stats(cl.s, &st);
    ASSERT_EQ(st.plain_out, big + 6);
    ASSERT_EQ(st.plain_in, big);
    ASSERT_GE(st.bytes_out, big);

    /* one byte at a time still works */
    ASSERT_EQ(rtc_tls_stream_write(sv.s, (const uint8_t *)"tiny", 4, 0), 0);
    tls_pump(&cl, &sv, 1, 0);
    ASSERT_EQ(cl.got_len, big + 4);
    ASSERT_MEMEQ(cl.got + big, "tiny", 4);
    free(p);
    tls_side_free(&cl); tls_side_free(&sv);
}

/* The TURN host answers a record while it is still draining that stream's events:
 * writes in between poll_event calls must not disturb what is queued. */
static void test_write_while_draining(void)
{
    tls_side cl, sv;
    make_pair(&cl, &sv, client_ctx(NULL, true, NULL), server_ctx(cert_a, key_a, NULL), NULL);
    tls_pump(&cl, &sv, 0, 0);
    for (int i = 0; i < 5; i++) {
        char m[16];
        snprintf(m, sizeof m, "req%d;", i);
        ASSERT_EQ(rtc_tls_stream_write(cl.s, (const uint8_t *)m, strlen(m), 0), 0);
        rtc_buf *b;
        while (rtc_tls_stream_poll_transmit(cl.s, &b)) {     /* one record per input */
            ASSERT_EQ(rtc_tls_stream_handle_input(sv.s, b->data, b->len, 0), 0);
            rtc_buf_unref(b);
        }
    }
    rtc_tls_event ev;
    int n = 0;
    while (rtc_tls_stream_poll_event(sv.s, &ev)) {
        ASSERT_EQ(ev.type, RTC_TLS_EV_DATA);
        uint8_t reply[32];
        memcpy(reply, "re:", 3);
        memcpy(reply + 3, ev.data->data, ev.data->len);
        ASSERT_EQ(rtc_tls_stream_write(sv.s, reply, 3 + ev.data->len, 0), 0);
        rtc_buf_unref(ev.data);
        n++;
    }
    ASSERT_EQ(n, 5);
    tls_pump(&cl, &sv, 0, 0);
    const char *want = "re:req0;re:req1;re:req2;re:req3;re:req4;";
    ASSERT_EQ(cl.got_len, strlen(want));
    ASSERT_MEMEQ(cl.got, want, strlen(want));
    tls_side_free(&cl); tls_side_free(&sv);
}

static void test_close_notify(void)
{
    tls_side cl, sv;
    make_pair(&cl, &sv, client_ctx(NULL, true, NULL), server_ctx(cert_a, key_a, NULL), NULL);
    tls_pump(&cl, &sv, 0, 0);
    ASSERT_EQ(cl.open, 1);
    ASSERT_EQ(rtc_tls_stream_write(cl.s, (const uint8_t *)"last words", 10, 0), 0);
    ASSERT_EQ(rtc_tls_stream_close(cl.s, 0), 0);
    ASSERT_EQ(rtc_tls_stream_close(cl.s, 0), 0);               /* idempotent */
    ASSERT_EQ(rtc_tls_stream_write(cl.s, (const uint8_t *)"x", 1, 0), RTC_ECLOSED);
    tls_pump(&cl, &sv, 0, 0);
    /* the server got the data, then the close, and answered with its own */
    ASSERT_EQ(sv.got_len, 10);
    ASSERT_EQ(sv.closed, 1);
    ASSERT_EQ(cl.closed, 1);
    rtc_tls_stats a, b;
    rtc_tls_stream_get_stats(cl.s, &a);
    rtc_tls_stream_get_stats(sv.s, &b);
    ASSERT(a.close_sent && a.close_received && b.close_sent && b.close_received);
    ASSERT_EQ(rtc_tls_stream_state(sv.s), RTC_TLS_CLOSED);
    ASSERT_EQ(rtc_tls_stream_write(sv.s, (const uint8_t *)"x", 1, 0), RTC_ECLOSED);
    ASSERT_EQ(rtc_tls_stream_handle_input(sv.s, (const uint8_t *)"x", 1, 0), RTC_ECLOSED);
    tls_side_free(&cl); tls_side_free(&sv);
}

static void test_garbage_input(void)
{
    /* plain HTTP at a TLS server: a clean failure with OpenSSL's reason */
    tls_side sv = {0};
    rtc_tls_context *sc = server_ctx(cert_a, key_a, NULL);
    rtc_tls_stream_config s = { .ctx = sc };
    ASSERT_EQ(rtc_tls_stream_new(&sv.s, &s, 0), 0);
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(rtc_tls_stream_handle_input(sv.s, (const uint8_t *)req, strlen(req), 0), RTC_ETLS);
    tls_side_drain_events(&sv);
    ASSERT_EQ(sv.failed, 1);
    ASSERT_EQ(sv.fail_err, RTC_ETLS);
    ASSERT(strstr(sv.reason, "handshake: ") == sv.reason);
    ASSERT(strlen(sv.reason) > strlen("handshake: TLS error"));
    ASSERT_EQ(rtc_tls_stream_state(sv.s), RTC_TLS_FAILED);
    ASSERT_EQ(rtc_tls_stream_handle_input(sv.s, (const uint8_t *)req, 3, 0), RTC_ECLOSED);
    rtc_buf *b;
    while (rtc_tls_stream_poll_transmit(sv.s, &b)) rtc_buf_unref(b);   /* maybe an alert */
    tls_side_free(&sv);

    /* random bytes after a good handshake: the record layer fails, nothing leaks */
    tls_side cl;
    make_pair(&cl, &sv, client_ctx(NULL, true, NULL), server_ctx(cert_a, key_a, NULL), NULL);
    rtc_tls_context_unref(sc);
    tls_pump(&cl, &sv, 0, 0);
    ASSERT_EQ(sv.open, 1);
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 73 + 5);
    junk[0] = 23; junk[1] = 3; junk[2] = 3; junk[3] = 0; junk[4] = 200;   /* app data record */
    ASSERT_EQ(rtc_tls_stream_handle_input(sv.s, junk, sizeof junk, 0), RTC_ETLS);
    tls_side_drain_events(&sv);
    ASSERT_EQ(sv.failed, 1);
    /* a record header claiming 64 KiB is refused by length, not buffered */
    tls_side_free(&cl); tls_side_free(&sv);
    make_pair(&cl, &sv, client_ctx(NULL, true, NULL), server_ctx(cert_a, key_a, NULL), NULL);
    tls_pump(&cl, &sv, 0, 0);
    uint8_t hdr[5] = { 23, 3, 3, 0xff, 0xff };
    ASSERT_EQ(rtc_tls_stream_handle_input(sv.s, hdr, sizeof hdr, 0), RTC_ETLS);
    tls_side_free(&cl); tls_side_free(&sv);
}

static void test_wrong_ca_and_name(void)
{
    /* the client trusts B; the server shows A */
    tls_side cl, sv;
    make_pair(&cl, &sv, client_ctx(cert_b, false, NULL), server_ctx(cert_a, key_a, NULL), "localhost");
    tls_pump(&cl, &sv, 0, 0);
    ASSERT_EQ(cl.failed, 1);
    ASSERT_EQ(cl.open, 0);
    ASSERT_EQ(cl.fail_err, RTC_ETLS);
    ASSERT(strstr(cl.reason, "certificate verify failed"));
    ASSERT_EQ(sv.open, 0);
    ASSERT_EQ(sv.failed, 1);                    /* the client's alert reached it */
    tls_side_free(&cl); tls_side_free(&sv);

    /* right CA, wrong name */
    make_pair(&cl, &sv, client_ctx(cert_a, false, NULL), server_ctx(cert_a, key_a, NULL), "example.org");
    tls_pump(&cl, &sv, 0, 0);
    ASSERT_EQ(cl.failed, 1);
    ASSERT(strstr(cl.reason, "hostname mismatch"));
    tls_side_free(&cl); tls_side_free(&sv);

    /* no CA at all, not insecure: the system store does not know our test cert */
    make_pair(&cl, &sv, client_ctx(NULL, false, NULL), server_ctx(cert_b, key_b, NULL), "localhost");
    tls_pump(&cl, &sv, 0, 0);
    ASSERT_EQ(cl.failed, 1);
    tls_side_free(&cl); tls_side_free(&sv);
}

static void test_handshake_timeout(void)
{
    tls_side cl = {0};
    rtc_tls_context *cc = client_ctx(NULL, true, NULL);
    rtc_tls_stream_config c = { .ctx = cc, .handshake_timeout = RTC_SEC(3) };
    ASSERT_EQ(rtc_tls_stream_new(&cl.s, &c, RTC_SEC(1)), 0);
    rtc_tls_context_unref(cc);
    ASSERT_EQ(rtc_tls_stream_poll_timeout(cl.s), RTC_SEC(4));
    rtc_tls_stream_handle_timeout(cl.s, RTC_SEC(2));
    tls_side_drain_events(&cl);
    ASSERT_EQ(cl.failed, 0);
    rtc_tls_stream_handle_timeout(cl.s, RTC_SEC(4));
    tls_side_drain_events(&cl);
    ASSERT_EQ(cl.failed, 1);
    ASSERT_EQ(cl.fail_err, RTC_ETIMEDOUT);
    ASSERT_EQ(rtc_tls_stream_poll_timeout(cl.s), RTC_TIME_NEVER);
    /* early data cap */
    tls_side_free(&cl);
    cc = client_ctx(NULL, true, NULL);
    rtc_tls_stream_config c2 = { .ctx = cc, .max_early_write = 10 };
    ASSERT_EQ(rtc_tls_stream_new(&cl.s, &c2, 0), 0);
    rtc_tls_context_unref(cc);
    ASSERT_EQ(rtc_tls_stream_write(cl.s, (const uint8_t *)"0123456789", 10, 0), 0);
    ASSERT_EQ(rtc_tls_stream_write(cl.s, (const uint8_t *)"x", 1, 0), RTC_EOVERFLOW);
    tls_side_free(&cl);
}

static void test_context_errors(void)
{
    rtc_tls_context *c = NULL;
    char err[RTC_TLS_ERRLEN];
    rtc_tls_context_config cfg = { .role = RTC_TLS_SERVER };
    ASSERT_EQ(rtc_tls_context_new(&c, &cfg, err, sizeof err), RTC_EINVAL);
    ASSERT(strstr(err, "certificate"));
    cfg.cert_file = "/nonexistent/cert.pem";
    cfg.key_file = "/nonexistent/key.pem";
    ASSERT_EQ(rtc_tls_context_new(&c, &cfg, err, sizeof err), RTC_ETLS);
    ASSERT(strstr(err, "/nonexistent/cert.pem"));
    rtc_tls_context_config m = { .role = RTC_TLS_SERVER, .cert_pem = cert_a, .key_pem = key_b };
    ASSERT_EQ(rtc_tls_context_new(&c, &m, err, sizeof err), RTC_ETLS);
    ASSERT(strstr(err, "key"));
    rtc_tls_context_config g = { .role = RTC_TLS_SERVER, .cert_pem = "garbage", .key_pem = key_a };
    ASSERT_EQ(rtc_tls_context_new(&c, &g, err, sizeof err), RTC_ETLS);
    rtc_tls_context_config a = { .role = RTC_TLS_CLIENT, .alpn = "h2,,x" };
    ASSERT_EQ(rtc_tls_context_new(&c, &a, err, sizeof err), RTC_EINVAL);
    rtc_tls_context_config ca = { .role = RTC_TLS_CLIENT, .ca_pem = "not a cert" };
    ASSERT_EQ(rtc_tls_context_new(&c, &ca, err, sizeof err), RTC_ETLS);
    ASSERT(c == NULL);
    rtc_tls_stream *s = NULL;
    rtc_tls_stream_config sc = { .ctx = NULL };
    ASSERT_EQ(rtc_tls_stream_new(&s, &sc, 0), RTC_EINVAL);
    /* PEM files work as well as PEM text */
    char cf[] = "/tmp/tls_test_cert_XXXXXX", kf[] = "/tmp/tls_test_key_XXXXXX";
    int fd1 = mkstemp(cf), fd2 = mkstemp(kf);
    ASSERT(fd1 >= 0 && fd2 >= 0);
    FILE *f1 = fdopen(fd1, "w"), *f2 = fdopen(fd2, "w");
    fputs(cert_a, f1); fclose(f1);
    fputs(key_a, f2); fclose(f2);
    rtc_tls_context_config files = { .role = RTC_TLS_SERVER, .cert_file = cf, .key_file = kf };
    ASSERT_EQ(rtc_tls_context_new(&c, &files, err, sizeof err), 0);
    rtc_tls_context_config cafile = { .role = RTC_TLS_CLIENT, .ca_file = cf };
    rtc_tls_context *cc = NULL;
    ASSERT_EQ(rtc_tls_context_new(&cc, &cafile, err, sizeof err), 0);
    unlink(cf); unlink(kf);
    tls_side cl, sv;
    make_pair(&cl, &sv, cc, c, "localhost");
    tls_pump(&cl, &sv, 0, 0);
    ASSERT_EQ(cl.open, 1); ASSERT_EQ(sv.open, 1);
    tls_side_free(&cl); tls_side_free(&sv);
}

int main(void)
{
    tls_make_cert(&cert_a, &key_a, "A");
    tls_make_cert(&cert_b, &key_b, "B");
    RUN(test_handshake_sni_alpn);
    RUN(test_data_both_ways_large);
    RUN(test_write_while_draining);
    RUN(test_close_notify);
    RUN(test_garbage_input);
    RUN(test_wrong_ca_and_name);
    RUN(test_handshake_timeout);
    RUN(test_context_errors);
    free(cert_a); free(key_a); free(cert_b); free(key_b);
    return 0;
}
