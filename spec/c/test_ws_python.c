/* http/: interop with a WebSocket implementation from another project. A plain
 * POSIX accept loop on 127.0.0.1 drives our HTTP parser, the server handshake and an
 * rtc_ws; the client is Python's `websockets` (Debian python3-websockets). It covers
 * subprotocol negotiation, text and binary echo, a fragmented message from each side
 * with a ping in the middle, pings both ways, and the closing handshake.
 * Without python3-websockets on the machine the test says so and passes. */
#define _GNU_SOURCE
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "http/websocket.h"
#include "http/ws_handshake.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char script[] =
    "import asyncio, sys, websockets\n"
    "async def main(port):\n"
    "    uri = 'ws://127.0.0.1:%d/echo' % port\n"
    "    async with websockets.connect(uri, subprotocols=['luartc.v1'], compression=None,\n"
    "                                  max_size=2**22, ping_interval=None) as ws:\n"
    "        assert ws.subprotocol == 'luartc.v1', ws.subprotocol\n"
    "        await ws.send('hello')\n"
    "        assert await ws.recv() == 'echo:hello'\n"
    "        await ws.send(['frag', 'men', 'ted \\u20ac'])\n"
    "        r = await ws.recv()\n"
    "        assert r == 'echo:fragmented \\u20ac', r\n"
    "        big = bytes(range(256)) * 1000\n"
    "        await ws.send(big)\n"
    "        assert await ws.recv() == big\n"
    "        pong = await ws.ping(b'py')\n"
    "        await asyncio.wait_for(pong, 5)\n"
    "        await ws.send('ping-me')\n"
    "        assert await ws.recv() == 'pinged'\n"
    "        await ws.send('frag-me')\n"
    "        assert await ws.recv() == 'server fragments'\n"
    "    print('OK', ws.close_code, flush=True)\n"
    "asyncio.run(main(int(sys.argv[1])))\n";

typedef struct server {
    int fd;
    rtc_http_parser *http;
    rtc_ws *ws;
    int texts, binaries, pings, pongs, closes, close_code, clean, remote;
    bool want_pong, done;
} server;

static void write_all(int fd, const uint8_t *d, size_t n)
{
    while (n) {
        ssize_t w = write(fd, d, n);
        ASSERT(w > 0);
        d += w;
        n -= (size_t)w;
    }
}

static void flush(server *s)
{
    rtc_buf *b;
    while ((b = rtc_ws_poll_output(s->ws))) {
        write_all(s->fd, b->data, b->len);
        rtc_buf_unref(b);
    }
}

static void on_event(server *s, const rtc_ws_event *e)
{
    switch (e->type) {
    case RTC_WS_EV_TEXT:
        s->texts++;
        if (e->len == 7 && !memcmp(e->data, "ping-me", 7)) {
            ASSERT_EQ(rtc_ws_send_ping(s->ws, "srv", 3, 0), 0);
            s->want_pong = true;
        } else if (e->len == 7 && !memcmp(e->data, "frag-me", 7)) {
            ASSERT_EQ(rtc_ws_send_fragment(s->ws, RTC_WS_OP_TEXT, "server ", 7, false, 0), 0);
            ASSERT_EQ(rtc_ws_send_ping(s->ws, "mid", 3, 0), 0);
            ASSERT_EQ(rtc_ws_send_fragment(s->ws, RTC_WS_OP_CONT, "fragments", 9, true, 0), 0);
        } else {
            uint8_t buf[64];
            ASSERT(e->len + 5 <= sizeof buf);
            memcpy(buf, "echo:", 5);
            memcpy(buf + 5, e->data, e->len);
            ASSERT_EQ(rtc_ws_send_text(s->ws, buf, e->len + 5, 0), 0);
        }
        break;
    case RTC_WS_EV_BINARY:
        s->binaries++;
        ASSERT_EQ(rtc_ws_send_binary(s->ws, e->data, e->len, 0), 0);
        break;
    case RTC_WS_EV_PING:
        s->pings++;
        break;
    case RTC_WS_EV_PONG:
        s->pongs++;
        if (s->want_pong && e->len == 3 && !memcmp(e->data, "srv", 3)) {
            s->want_pong = false;
            ASSERT_EQ(rtc_ws_send_text(s->ws, "pinged", 6, 0), 0);
        }
        break;
    case RTC_WS_EV_CLOSE:
        s->closes++;
        s->close_code = e->code;
        s->clean = e->clean;
        s->remote = e->remote;
        s->done = true;
        break;
    }
}

static void on_bytes(server *s, const uint8_t *d, size_t n)
{
    if (!s->ws) {
        size_t used;
        int r = rtc_http_parser_handle_data(s->http, d, n, &used);
        ASSERT_OK(r);
        rtc_http_message m;
        if (rtc_http_parser_poll_message(s->http, &m) != 1) return;
        ASSERT(m.upgrade);
        ASSERT(rtc_str_eq(m.target, RTC_STR("/echo")));
        rtc_http_buf out = { 0 };
        static const char *const protos[] = { "other", "luartc.v1" };
        const char *sel;
        ASSERT_EQ(rtc_ws_server_handshake(&m, protos, 2, &out, &sel), 0);
        ASSERT_STREQ(sel, "luartc.v1");
        write_all(s->fd, out.data, out.len);
        rtc_http_buf_free(&out);
        rtc_ws_config c = { .role = RTC_WS_SERVER, .max_message = 1 << 22 };
        ASSERT_OK(rtc_ws_new(&s->ws, &c, 0));
        d += used;
        n -= used;
    }
    while (n > 0 && !s->done) {
        size_t used;
        int r = rtc_ws_handle_data(s->ws, d, n, &used, 0);
        d += used;
        n -= used;
        rtc_ws_event e;
        while (rtc_ws_poll_event(s->ws, &e)) on_event(s, &e);
        flush(s);
        ASSERT_OK(r);
    }
}

static void test_python_client(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(lfd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(listen(lfd, 1), 0);
    socklen_t al = sizeof a;
    ASSERT_EQ(getsockname(lfd, (struct sockaddr *)&a, &al), 0);

    char path[] = "/tmp/luartc-ws-XXXXXX";
    int sfd = mkstemp(path);
    ASSERT(sfd >= 0);
    write_all(sfd, (const uint8_t *)script, sizeof script - 1);
    close(sfd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %d", path, ntohs(a.sin_port));
    FILE *py = popen(cmd, "r");
    ASSERT(py != NULL);

    /* The poll timeouts only bound a broken run; nothing asserts on time. */
    struct pollfd pf = { .fd = lfd, .events = POLLIN };
    ASSERT_EQ(poll(&pf, 1, 20000), 1);
    server s = { 0 };
    s.fd = accept(lfd, NULL, NULL);
    ASSERT(s.fd >= 0);
    ASSERT_OK(rtc_http_parser_new(&s.http, RTC_HTTP_REQUEST, NULL));
    uint8_t buf[65536];
    while (!s.done) {
        pf = (struct pollfd){ .fd = s.fd, .events = POLLIN };
        ASSERT_EQ(poll(&pf, 1, 20000), 1);
        ssize_t n = read(s.fd, buf, sizeof buf);
        ASSERT(n >= 0);
        if (n == 0) {
            ASSERT(s.ws != NULL);
            ASSERT_EQ(rtc_ws_handle_eof(s.ws, 0), 0);
            rtc_ws_event e;
            while (rtc_ws_poll_event(s.ws, &e)) on_event(&s, &e);
            break;
        }
        on_bytes(&s, buf, (size_t)n);
    }
    flush(&s);
    close(s.fd);          /* the server closes the TCP connection first (RFC 6455 §7.1.1) */
    close(lfd);

    char line[128] = { 0 };
    ASSERT(fgets(line, sizeof line, py) != NULL);
    int status = pclose(py);
    unlink(path);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_STREQ(line, "OK 1000\n");
    ASSERT_EQ(s.texts, 4);
    ASSERT_EQ(s.binaries, 1);
    ASSERT_EQ(s.pings, 1);
    ASSERT_EQ(s.pongs, 2);              /* "srv" and the one inside the fragmented send */
    ASSERT_EQ(s.closes, 1);
    ASSERT_EQ(s.close_code, 1000);
    ASSERT(s.clean && s.remote);
    rtc_ws_stats st;
    rtc_ws_get_stats(s.ws, &st);
    ASSERT_EQ(st.protocol_errors, 0);
    rtc_ws_free(s.ws);
    rtc_http_parser_free(s.http);
}

int main(void)
{
    if (system("/usr/bin/python3 -c 'import websockets' 2>/dev/null") != 0) {
        fprintf(stderr, "python3-websockets is not installed: interop not exercised\n");
        return 0;
    }
    RUN(test_python_client);
    return 0;
}
