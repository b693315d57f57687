/* http/: interop with a WebSocket implementation from another project. A plain
 * POSIX accept loop on 127.0.0.1 drives our HTTP parser, the server handshake and an
 * rtc_ws; the client is Python's `websockets` (Debian python3-websockets). It covers
 * subprotocol negotiation, text and binary echo, a fragmented message from each side
 * with a ping in the middle, pings both ways, and the closing handshake. The second
 * test turns it around: our client (handshake request, masking) against a Python
 * websockets server that echoes and then closes with its own code.
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

/* ---- our client against a Python websockets server ---- */

static const char server_script[] =
    "import asyncio, sys, websockets\n"
    "async def handler(ws, path):\n"
    "    assert path == '/py?room=1', path\n"
    "    async for msg in ws:\n"
    "        if msg == 'close-me':\n"
    "            await ws.close(4001, 'bye from python')\n"
    "            break\n"
    "        await ws.send(msg)\n"
    "    done.set_result(ws.close_code)\n"
    "async def main():\n"
    "    global done\n"
    "    done = asyncio.get_running_loop().create_future()\n"
    "    async with websockets.serve(handler, '127.0.0.1', 0, subprotocols=['luartc.v1'],\n"
    "                                compression=None, max_size=2**22, ping_interval=None) as srv:\n"
    "        print(srv.sockets[0].getsockname()[1], flush=True)\n"
    "        code = await asyncio.wait_for(done, 20)\n"
    "    print('OK', code, flush=True)\n"
    "asyncio.run(main())\n";

typedef struct client {
    int fd;
    rtc_ws *ws;
    rtc_ws_event last;
    uint8_t data[300000];
    const uint8_t *rest;          /* bytes read but not fed yet (inside the read buffer) */
    size_t nrest;
} client;

static void client_flush(client *c)
{
    rtc_buf *b;
    while ((b = rtc_ws_poll_output(c->ws))) {
        write_all(c->fd, b->data, b->len);
        rtc_buf_unref(b);
    }
}

/* Read and feed until an event of `type` arrives; its payload is copied to c->data.
 * Bytes after that event's frame wait in c->rest for the next call. */
static void wait_event(client *c, rtc_ws_event_type type)
{
    static uint8_t buf[65536];
    const uint8_t *d = c->rest;
    size_t n = c->nrest;
    for (;;) {
        while (n > 0) {
            size_t used;
            int r = rtc_ws_handle_data(c->ws, d, n, &used, 0);
            ASSERT_OK(r);
            d += used;
            n -= used;
            rtc_ws_event e;
            bool hit = false;
            while (rtc_ws_poll_event(c->ws, &e)) {
                if (e.type != type) continue;
                ASSERT(e.len <= sizeof c->data);
                if (e.len) memcpy(c->data, e.data, e.len);
                c->last = e;
                c->last.data = c->data;
                hit = true;
            }
            client_flush(c);
            if (hit) {
                c->rest = d;
                c->nrest = n;
                return;
            }
        }
        struct pollfd pf = { .fd = c->fd, .events = POLLIN };
        ASSERT_EQ(poll(&pf, 1, 20000), 1);
        ssize_t got = read(c->fd, buf, sizeof buf);
        ASSERT(got > 0);
        d = buf;
        n = (size_t)got;
    }
}

static void test_python_server(void)
{
    char path[] = "/tmp/luartc-wss-XXXXXX";
    int sfd = mkstemp(path);
    ASSERT(sfd >= 0);
    write_all(sfd, (const uint8_t *)server_script, sizeof server_script - 1);
    close(sfd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", path);
    FILE *py = popen(cmd, "r");
    ASSERT(py != NULL);
    char line[128];
    ASSERT(fgets(line, sizeof line, py) != NULL);
    int port = atoi(line);
    ASSERT(port > 0 && port < 65536);

    static client c;
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(connect(c.fd, (struct sockaddr *)&a, sizeof a), 0);

    rtc_rng rng;
    rtc_rng_init_seed(&rng, 2024);
    rtc_http_buf req = { 0 };
    char key[RTC_WS_KEY_LEN + 1];
    static const char *const protos[] = { "luartc.v1" };
    char host[32];
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    ASSERT_EQ(rtc_ws_client_request(&req, &rng, host, "/py?room=1", NULL, protos, 1, key), 0);
    write_all(c.fd, req.data, req.len);
    rtc_http_buf_free(&req);

    rtc_http_parser *hp;
    ASSERT_OK(rtc_http_parser_new(&hp, RTC_HTTP_RESPONSE, NULL));
    static uint8_t buf[65536];
    size_t used = 0, n = 0;
    rtc_http_message m;
    for (;;) {
        struct pollfd pf = { .fd = c.fd, .events = POLLIN };
        ASSERT_EQ(poll(&pf, 1, 20000), 1);
        ssize_t got = read(c.fd, buf, sizeof buf);
        ASSERT(got > 0);
        n = (size_t)got;
        ASSERT_OK(rtc_http_parser_handle_data(hp, buf, n, &used));
        if (rtc_http_parser_poll_message(hp, &m) == 1) break;
    }
    const char *sel = NULL;
    ASSERT_EQ(rtc_ws_client_check_response(&m, key, protos, 1, &sel), 0);
    ASSERT_STREQ(sel, "luartc.v1");
    rtc_http_parser_free(hp);

    rtc_ws_config cfg = { .role = RTC_WS_CLIENT, .rng = &rng, .max_message = 1 << 22 };
    ASSERT_OK(rtc_ws_new(&c.ws, &cfg, 0));
    /* whatever followed the 101 belongs to the WebSocket (normally nothing yet) */
    c.rest = buf + used;
    c.nrest = n - used;

    ASSERT_EQ(rtc_ws_send_text(c.ws, "hello \xf0\x9f\x8c\x8d", 10, 0), 0);
    client_flush(&c);
    wait_event(&c, RTC_WS_EV_TEXT);
    ASSERT_EQ(c.last.len, 10);
    ASSERT_MEMEQ(c.data, "hello \xf0\x9f\x8c\x8d", 10);

    static uint8_t big[200000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 31 + (i >> 9));
    ASSERT_EQ(rtc_ws_send_binary(c.ws, big, sizeof big, 0), 0);
    client_flush(&c);
    wait_event(&c, RTC_WS_EV_BINARY);
    ASSERT_EQ(c.last.len, sizeof big);
    ASSERT_MEMEQ(c.data, big, sizeof big);

    /* a fragmented text with a ping between the fragments; the euro sign is cut */
    ASSERT_EQ(rtc_ws_send_fragment(c.ws, RTC_WS_OP_TEXT, "pieces of \xe2\x82", 12, false, 0), 0);
    ASSERT_EQ(rtc_ws_send_ping(c.ws, "c-ping", 6, 0), 0);
    ASSERT_EQ(rtc_ws_send_fragment(c.ws, RTC_WS_OP_CONT, "\xac", 1, true, 0), 0);
    client_flush(&c);
    wait_event(&c, RTC_WS_EV_PONG);
    ASSERT_EQ(c.last.len, 6);
    ASSERT_MEMEQ(c.data, "c-ping", 6);
    wait_event(&c, RTC_WS_EV_TEXT);
    ASSERT_EQ(c.last.len, 13);
    ASSERT_MEMEQ(c.data, "pieces of \xe2\x82\xac", 13);

    /* the server starts the closing handshake */
    ASSERT_EQ(rtc_ws_send_text(c.ws, "close-me", 8, 0), 0);
    client_flush(&c);
    wait_event(&c, RTC_WS_EV_CLOSE);
    ASSERT_EQ(c.last.code, 4001);
    ASSERT(c.last.clean && c.last.remote);
    ASSERT_EQ(c.last.len, 15);
    ASSERT_MEMEQ(c.data, "bye from python", 15);
    ASSERT_EQ(rtc_ws_get_state(c.ws), RTC_WS_CLOSED);
    /* our echo went out in wait_event; the server then closes TCP */
    struct pollfd pf = { .fd = c.fd, .events = POLLIN };
    ASSERT_EQ(poll(&pf, 1, 20000), 1);
    ASSERT_EQ(read(c.fd, buf, sizeof buf), 0);
    close(c.fd);

    ASSERT(fgets(line, sizeof line, py) != NULL);
    int status = pclose(py);
    unlink(path);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_STREQ(line, "OK 4001\n");
    rtc_ws_stats st;
    rtc_ws_get_stats(c.ws, &st);
    ASSERT_EQ(st.protocol_errors, 0);
    ASSERT_EQ(st.messages_in, 3);
    rtc_ws_free(c.ws);
}

int main(void)
{
    if (system("/usr/bin/python3 -c 'import websockets' 2>/dev/null") != 0) {
        /* A missing peer is a failure, not a pass: ./setup.sh installs it. */
        fprintf(stderr, "python3-websockets is not installed (apt-get install python3-websockets)\n");
        return 1;
    }
    RUN(test_python_client);
    RUN(test_python_server);
    return 0;
}
