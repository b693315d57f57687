/* Interop with OpenSSL's command-line TLS peers over real TCP on 127.0.0.1: our stream
 * as client against `openssl s_server`, then as server against `openssl s_client`
 * (TLS 1.3 and TLS 1.2). Certificate checks, SNI and ALPN are verified from both
 * sides' output. The real clock drives the pump; nothing is asserted about timing. */
#define _GNU_SOURCE
#include <string.h>
#include "test_tls_pair.h"
#include "test_child.h"
#include "core/rtc_time.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static char dir[64];

typedef struct session { tls_side x; int fd; bool eof; } session;

/* Ciphertext out to the socket (blocking writes are fine at these sizes), events in. */
static void flush(session *s)
{
    if (!s->x.s) return;
    rtc_buf *b;
    while (rtc_tls_stream_poll_transmit(s->x.s, &b)) {
        size_t off = 0;
        while (off < b->len) {
            ssize_t n = write(s->fd, b->data + off, b->len - off);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) { struct pollfd p = { s->fd, POLLOUT, 0 }; poll(&p, 1, 100); continue; }
            if (n <= 0) break;
            off += (size_t)n;
        }
        rtc_buf_unref(b);
    }
    tls_side_drain_events(&s->x);
}

typedef bool (*until_fn)(session *s, test_cli *c);

static bool pump(session *s, test_cli *c, until_fn until)
{
    rtc_time deadline = rtc_clock_now() + RTC_SEC(10);
    uint8_t buf[4096];
    for (;;) {
        flush(s);
        test_cli_read(c);
        if (until(s, c)) return true;
        if (rtc_clock_now() > deadline) return false;
        struct pollfd pf[2] = { { .fd = s->fd, .events = POLLIN }, { .fd = c->out_fd, .events = POLLIN } };
        poll(pf, s->fd >= 0 && !s->eof ? 2 : 1, 50);
        if (s->fd < 0 || s->eof) continue;
        for (;;) {
            ssize_t n = read(s->fd, buf, sizeof buf);
            if (n == 0) { s->eof = true; break; }
            if (n < 0) break;
            rtc_tls_stream_handle_input(s->x.s, buf, (size_t)n, rtc_clock_now());
            flush(s);
        }
    }
}

static bool tool_listening(session *s, test_cli *c) { (void)s; return strstr(c->out, "ACCEPT") != NULL; }
static bool opened(session *s, test_cli *c) { (void)c; return s->x.open || s->x.failed; }
static bool got_ping(session *s, test_cli *c) { (void)c; return s->x.got_len >= 18 && memmem(s->x.got, s->x.got_len, "ping from openssl", 17); }
static bool tool_got_hello(session *s, test_cli *c) { (void)s; return strstr(c->out, "hello from luartc") != NULL; }
static bool tool_verified(session *s, test_cli *c) { return s->x.open && strstr(c->out, "Verify return code:") != NULL; }
static bool closed(session *s, test_cli *c) { (void)c; return s->x.closed > 0 || s->eof; }

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static int tcp_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(listen(fd, 4), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_client_against_s_server(void)
{
    char *cert, *key, cpath[128], kpath[128], port_s[32];
    tls_make_cert(&cert, &key, "S");
    snprintf(cpath, sizeof cpath, "%s/server.pem", dir);
    snprintf(kpath, sizeof kpath, "%s/server.key", dir);
    test_write_file(cpath, cert);
    test_write_file(kpath, key);
    uint16_t port;
    close(tcp_listener(&port));       /* a free port for the tool */
    snprintf(port_s, sizeof port_s, "127.0.0.1:%u", port);
    char *argv[] = { "openssl", "s_server", "-cert", cpath, "-key", kpath, "-accept", port_s,
                     "-alpn", "http/1.1", NULL };
    test_cli c;
    test_child_spawn(&c, argv);
    session s = { .fd = -1 };
    ASSERT(pump(&s, &c, tool_listening));

    rtc_tls_context *ctx = NULL;
    char err[RTC_TLS_ERRLEN];
    rtc_tls_context_config cc = { .role = RTC_TLS_CLIENT, .ca_file = cpath, .alpn = "h2,http/1.1" };
    ASSERT_EQ(rtc_tls_context_new(&ctx, &cc, err, sizeof err), 0);
    rtc_tls_stream_config sc = { .ctx = ctx, .server_name = "localhost" };
    ASSERT_EQ(rtc_tls_stream_new(&s.x.s, &sc, rtc_clock_now()), 0);
    rtc_tls_context_unref(ctx);
    s.fd = tcp_connect(port);
    if (!pump(&s, &c, opened) || !s.x.open) fprintf(stderr, "ours: %s\nopenssl said:\n%s\n", s.x.reason, c.out);
    ASSERT_EQ(s.x.open, 1);
    ASSERT_STREQ(s.x.alpn, "http/1.1");

    ASSERT_EQ(rtc_tls_stream_write(s.x.s, (const uint8_t *)"hello from luartc\n", 18, rtc_clock_now()), 0);
    ASSERT(pump(&s, &c, tool_got_hello));
    ASSERT(write(c.in_fd, "ping from openssl\n", 18) == 18);
    ASSERT(pump(&s, &c, got_ping));
    ASSERT_EQ(rtc_tls_stream_close(s.x.s, rtc_clock_now()), 0);
    flush(&s);
    ASSERT(pump(&s, &c, closed));
    test_cli_close(&c);
    close(s.fd);
    tls_side_free(&s.x);
    free(cert); free(key);
}

static void test_server_against_s_client(void)
{
    const char *versions[] = { "-tls1_3", "-tls1_2" };
    const char *names[] = { "TLSv1.3", "TLSv1.2" };
    char *cert, *key, cpath[128], port_s[32];
    tls_make_cert(&cert, &key, "C");
    snprintf(cpath, sizeof cpath, "%s/ours.pem", dir);
    test_write_file(cpath, cert);
    for (int round = 0; round < 2; round++) {
        uint16_t port;
        int lfd = tcp_listener(&port);
        snprintf(port_s, sizeof port_s, "127.0.0.1:%u", port);
        char *argv[] = { "openssl", "s_client", (char *)versions[round], "-connect", port_s, "-servername", "localhost",
                         "-CAfile", cpath, "-verify_return_error", "-verify_hostname", "localhost",
                         "-alpn", "http/1.1", NULL };
        test_cli c;
        test_child_spawn(&c, argv);
        rtc_tls_context *ctx = NULL;
        char err[RTC_TLS_ERRLEN];
        rtc_tls_context_config sv = { .role = RTC_TLS_SERVER, .cert_pem = cert, .key_pem = key, .alpn = "http/1.1" };
        ASSERT_EQ(rtc_tls_context_new(&ctx, &sv, err, sizeof err), 0);
        session s = { .fd = -1 };
        rtc_tls_stream_config sc = { .ctx = ctx };
        ASSERT_EQ(rtc_tls_stream_new(&s.x.s, &sc, rtc_clock_now()), 0);
        rtc_tls_context_unref(ctx);
        struct pollfd p = { lfd, POLLIN, 0 };
        ASSERT_EQ(poll(&p, 1, 10000), 1);
        s.fd = accept(lfd, NULL, NULL);
        ASSERT(s.fd >= 0);
        fcntl(s.fd, F_SETFL, O_NONBLOCK);
        close(lfd);
        if (!pump(&s, &c, tool_verified)) fprintf(stderr, "ours: %s\nopenssl said:\n%s\n", s.x.reason, c.out);
        ASSERT_EQ(s.x.open, 1);
        ASSERT_STREQ(s.x.sni, "localhost");
        ASSERT_STREQ(s.x.alpn, "http/1.1");
        ASSERT(strstr(c.out, "Verify return code: 0 (ok)"));
        ASSERT(strstr(c.out, "ALPN protocol: http/1.1"));
        ASSERT(strstr(c.out, names[round]));

        ASSERT(write(c.in_fd, "ping from openssl\n", 18) == 18);
        ASSERT(pump(&s, &c, got_ping));
        ASSERT_EQ(rtc_tls_stream_write(s.x.s, (const uint8_t *)"hello from luartc\n", 18, rtc_clock_now()), 0);
        ASSERT(pump(&s, &c, tool_got_hello));
        /* "Q" on s_client's stdin: it sends close_notify and exits */
        ASSERT(write(c.in_fd, "Q\n", 2) == 2);
        ASSERT(pump(&s, &c, closed));
        ASSERT_EQ(s.x.closed, 1);
        ASSERT_EQ(rtc_tls_stream_state(s.x.s), RTC_TLS_CLOSED);
        test_cli_close(&c);
        close(s.fd);
        tls_side_free(&s.x);
    }
    free(cert); free(key);
}

int main(void)
{
    if (system("openssl version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "openssl command-line tool not found\n");
        return 1;
    }
    test_child_guard();
    test_tmpdir_make(dir, sizeof dir, "luartc-tls");
    RUN(test_client_against_s_server);
    RUN(test_server_against_s_client);
    test_tmpdir_remove(dir);
    return 0;
}
