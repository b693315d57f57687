/* TURN client machine against a scripted server on a virtual clock: 401 then 438
 * retries, refresh timing, permissions and channels (and their refresh), Send vs
 * ChannelData, TCP stream framing across arbitrary splits, timeouts and hostile input. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "stun/stun.h"
#include "turn/turn_client.h"

static rtc_rng rng;
static rtc_addr server, local, relayed, mapped, peer;
static uint8_t lt_key[32];

static rtc_turn_client *mk(int transport)
{
    rtc_turn_config cfg = { .server = server, .local = local, .transport = transport,
                            .username = RTC_STR("alice"), .password = RTC_STR("secret"), .rng = &rng };
    rtc_turn_client *c = NULL;
    ASSERT_EQ(rtc_turn_client_new(&c, &cfg, 0), 0);
    return c;
}

/* The next transmit, parsed as STUN into *m (buffer kept in *keep for the view). */
static bool next_stun(rtc_turn_client *c, rtc_stun_msg *m, rtc_buf **keep)
{
    rtc_transmit t;
    if (!rtc_turn_client_poll_transmit(c, &t)) return false;
    ASSERT(rtc_addr_eq(&t.remote, &server));
    ASSERT(rtc_addr_eq(&t.local, &local));
    ASSERT_EQ(rtc_stun_parse(t.buf->data, t.buf->len, m), 0);
    *keep = t.buf;
    return true;
}

static int reply(rtc_turn_client *c, const rtc_stun_msg *req, uint8_t cls, int code, const char *nonce,
                 bool sign, rtc_time now)
{
    uint8_t b[512];
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, b, sizeof b, req->method, cls, req->tid);
    if (code) rtc_stun_put_error(&w, code, RTC_STR("x"));
    if (nonce) {
        rtc_stun_put_str(&w, RTC_STUN_ATTR_REALM, RTC_STR("example.org"));
        rtc_stun_put_str(&w, RTC_STUN_ATTR_NONCE, rtc_str_c(nonce));
    }
    if (cls == RTC_STUN_SUCCESS && req->method == RTC_STUN_ALLOCATE) {
        rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
        rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
        rtc_stun_put_u32(&w, RTC_STUN_ATTR_LIFETIME, 600);
    }
    if (cls == RTC_STUN_SUCCESS && req->method == RTC_STUN_REFRESH) rtc_stun_put_u32(&w, RTC_STUN_ATTR_LIFETIME, 600);
    if (sign) rtc_stun_put_integrity(&w, lt_key, 16);
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    ASSERT(n > 0);
    return rtc_turn_client_handle_packet(c, b, (size_t)n, now);
}

static void expect_signed(const rtc_stun_msg *m, const char *nonce)
{
    rtc_str s;
    ASSERT_EQ(rtc_stun_get_str(m, RTC_STUN_ATTR_USERNAME, &s), 0);
    ASSERT(rtc_str_eq(s, RTC_STR("alice")));
    ASSERT_EQ(rtc_stun_get_str(m, RTC_STUN_ATTR_NONCE, &s), 0);
    ASSERT(rtc_str_eq(s, rtc_str_c(nonce)));
    ASSERT_EQ(rtc_stun_check_integrity(m, lt_key, 16), 0);
}

/* Allocate through 401 and 438; leaves the client READY at `now`. */
static void allocate(rtc_turn_client *c, rtc_time now)
{
    rtc_stun_msg m;
    rtc_buf *b;
    ASSERT(next_stun(c, &m, &b));
    ASSERT_EQ(m.method, RTC_STUN_ALLOCATE);
    ASSERT_EQ(m.integrity_at, -1);                       /* first try is anonymous */
    ASSERT_EQ(rtc_stun_find(&m, RTC_STUN_ATTR_REQUESTED_TRANSPORT)->val[0], 17);
    ASSERT_EQ(reply(c, &m, RTC_STUN_ERROR, 401, "n1", false, now), 0);
    rtc_buf_unref(b);
    ASSERT(next_stun(c, &m, &b));
    expect_signed(&m, "n1");
    ASSERT_EQ(reply(c, &m, RTC_STUN_ERROR, 438, "n2", false, now), 0);
    rtc_buf_unref(b);
    ASSERT(next_stun(c, &m, &b));
    expect_signed(&m, "n2");
    /* A success with a wrong MAC is ignored, not believed. */
    uint8_t saved = lt_key[0];
    lt_key[0] ^= 1;
    ASSERT_EQ(reply(c, &m, RTC_STUN_SUCCESS, 0, NULL, true, now), RTC_EIGNORED);
    lt_key[0] = saved;
    ASSERT_EQ(rtc_turn_client_state(c), RTC_TURN_ALLOCATING);
    ASSERT_EQ(reply(c, &m, RTC_STUN_SUCCESS, 0, NULL, true, now), 0);
    rtc_buf_unref(b);
    rtc_turn_event e;
    ASSERT(rtc_turn_client_poll_event(c, &e));
    ASSERT_EQ(e.type, RTC_TURN_EV_ALLOCATED);
    ASSERT(rtc_addr_eq(&e.relayed, &relayed));
    ASSERT(rtc_addr_eq(&e.mapped, &mapped));
    ASSERT_EQ(rtc_turn_client_state(c), RTC_TURN_READY);
}

static void test_allocate_refresh_permission_channel(void)
{
    rtc_turn_client *c = mk(RTC_TURN_UDP);
    allocate(c, 0);
    rtc_stun_msg m;
    rtc_buf *b;
    rtc_transmit t;
    rtc_turn_event e;

    /* Data before the permission is queued, then sent once it is granted. */
    ASSERT_EQ(rtc_turn_client_send(c, &peer, (const uint8_t *)"hello", 5, RTC_MS(10)), 0);
    ASSERT(next_stun(c, &m, &b));
    ASSERT_EQ(m.method, RTC_STUN_CREATE_PERMISSION);
    expect_signed(&m, "n2");
    rtc_addr got;
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &got), 0);
    ASSERT(rtc_addr_ip_eq(&got, &peer));
    ASSERT(!rtc_turn_client_poll_transmit(c, &t));       /* nothing sent to the peer yet */
    ASSERT_EQ(reply(c, &m, RTC_STUN_SUCCESS, 0, NULL, true, RTC_MS(20)), 0);
    rtc_buf_unref(b);
    ASSERT(next_stun(c, &m, &b));                        /* the queued datagram, as a Send indication */
    ASSERT_EQ(m.method, RTC_STUN_SEND);
    ASSERT_EQ(m.cls, RTC_STUN_INDICATION);
    rtc_str d;
    ASSERT_EQ(rtc_stun_get_str(&m, RTC_STUN_ATTR_DATA, &d), 0);
    ASSERT(rtc_str_eq(d, RTC_STR("hello")));
    rtc_buf_unref(b);
    ASSERT(next_stun(c, &m, &b));                        /* and a channel for this peer */
    ASSERT_EQ(m.method, RTC_STUN_CHANNEL_BIND);
    uint16_t ch;
    ASSERT_EQ(rtc_stun_get_channel(&m, &ch), 0);
    ASSERT(ch >= 0x4000 && ch <= 0x4FFF);
    ASSERT_EQ(reply(c, &m, RTC_STUN_SUCCESS, 0, NULL, true, RTC_MS(30)), 0);
    rtc_buf_unref(b);
    ASSERT_EQ(rtc_turn_client_send(c, &peer, (const uint8_t *)"world", 5, RTC_MS(40)), 0);
    ASSERT(rtc_turn_client_poll_transmit(c, &t));
    ASSERT_EQ(t.buf->len, 9);                            /* ChannelData: 4 + 5, unpadded on UDP */
    ASSERT_EQ(rtc_rd16(t.buf->data), ch);
    ASSERT_MEMEQ(t.buf->data + 4, "world", 5);
    rtc_buf_unref(t.buf);

    /* Data from the peer, both ways it can arrive. */
    uint8_t cd[8] = { 0, 0, 0, 3, 'a', 'b', 'c', 0 };
    rtc_wr16(cd, ch);
    ASSERT_EQ(rtc_turn_client_handle_packet(c, cd, 7, RTC_MS(50)), 0);
    ASSERT(rtc_turn_client_poll_event(c, &e));
    ASSERT_EQ(e.type, RTC_TURN_EV_DATA);
    ASSERT(rtc_addr_eq(&e.peer, &peer));
    ASSERT_EQ(e.data->len, 3);
    rtc_buf_unref(e.data);
    cd[3] = 200;                                         /* length beyond the datagram */
    ASSERT(rtc_turn_client_handle_packet(c, cd, 7, RTC_MS(50)) < 0);
    uint8_t ind[128], tid[12] = { 9 };
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, ind, sizeof ind, RTC_STUN_DATA, RTC_STUN_INDICATION, tid);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer);
    rtc_stun_put(&w, RTC_STUN_ATTR_DATA, "xyz!", 4);
    int n = rtc_stun_finish(&w);
    ASSERT_EQ(rtc_turn_client_handle_packet(c, ind, (size_t)n, RTC_MS(60)), 0);
    ASSERT(rtc_turn_client_poll_event(c, &e));
    ASSERT_EQ(e.data->len, 4);
    rtc_buf_unref(e.data);

    /* Timers: permission refresh at 240 s, allocation refresh at 540 s, channel at 540 s. */
    rtc_time next = rtc_turn_client_poll_timeout(c);
    ASSERT_EQ(next, RTC_MS(20) + RTC_SEC(240));
    rtc_turn_client_handle_timeout(c, next);
    ASSERT(next_stun(c, &m, &b));
    ASSERT_EQ(m.method, RTC_STUN_CREATE_PERMISSION);
    ASSERT_EQ(reply(c, &m, RTC_STUN_SUCCESS, 0, NULL, true, next), 0);
    rtc_buf_unref(b);
    /* Then every deadline up to 541 s, answering whatever is asked. */
    int refresh = 0, chan = 0, perm = 0;
    while ((next = rtc_turn_client_poll_timeout(c)) <= RTC_SEC(541)) {
        rtc_turn_client_handle_timeout(c, next);
        while (next_stun(c, &m, &b)) {
            if (m.method == RTC_STUN_REFRESH) {
                refresh++;
                uint32_t lt;
                ASSERT_EQ(rtc_stun_get_u32(&m, RTC_STUN_ATTR_LIFETIME, &lt), 0);
                ASSERT_EQ(lt, 600);
                ASSERT_EQ(next, RTC_SEC(540));           /* lifetime - 60 s */
            }
            if (m.method == RTC_STUN_CHANNEL_BIND) { chan++; ASSERT_EQ(next, RTC_SEC(540) + RTC_MS(30)); }
            if (m.method == RTC_STUN_CREATE_PERMISSION) { perm++; ASSERT_EQ(next, RTC_SEC(480) + RTC_MS(20)); }
            ASSERT_EQ(reply(c, &m, RTC_STUN_SUCCESS, 0, NULL, true, next), 0);
            rtc_buf_unref(b);
        }
    }
    ASSERT_EQ(perm, 0);            /* unused since its refresh at 240 s: left to expire */
    ASSERT_EQ(refresh, 1);
    ASSERT_EQ(chan, 1);            /* used (40-60 ms) since it was bound */
    ASSERT_EQ(rtc_turn_client_state(c), RTC_TURN_READY);

    /* Deallocation: Refresh with lifetime 0. */
    ASSERT_EQ(rtc_turn_client_close(c, RTC_SEC(550)), 0);
    ASSERT(next_stun(c, &m, &b));
    uint32_t lt;
    ASSERT_EQ(m.method, RTC_STUN_REFRESH);
    ASSERT_EQ(rtc_stun_get_u32(&m, RTC_STUN_ATTR_LIFETIME, &lt), 0);
    ASSERT_EQ(lt, 0);
    ASSERT_EQ(reply(c, &m, RTC_STUN_SUCCESS, 0, NULL, true, RTC_SEC(550)), 0);
    rtc_buf_unref(b);
    ASSERT(rtc_turn_client_poll_event(c, &e));
    ASSERT_EQ(e.type, RTC_TURN_EV_CLOSED);
    ASSERT_EQ(rtc_turn_client_state(c), RTC_TURN_CLOSED);
    rtc_turn_client_free(c);
}

/* Permissions and channels for peers no longer used are not refreshed: their slots
 * free up, so a long session that met many candidate addresses (ICE checks each pair
 * once) can still reach a new peer, and the server is not asked to keep dead state. */
static void test_unused_permissions_expire(void)
{
    rtc_turn_client *c = mk(RTC_TURN_UDP);
    allocate(c, 0);
    rtc_stun_msg m;
    rtc_buf *b;
    rtc_transmit t;
    enum { N = 32 };                        /* every permission slot */
    rtc_addr peers[N + 1];
    rtc_time now = RTC_MS(10);
    for (int i = 0; i <= N; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "198.51.100.%d", 100 + i);
        rtc_addr_set(&peers[i], ip, 7000);
    }
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(rtc_turn_client_send(c, &peers[i], (const uint8_t *)"chk", 3, now), 0);
        while (next_stun(c, &m, &b)) {
            if (m.cls == RTC_STUN_REQUEST) ASSERT_EQ(reply(c, &m, RTC_STUN_SUCCESS, 0, NULL, true, now), 0);
            rtc_buf_unref(b);
        }
    }
    /* All slots taken: no permission for a 33rd peer. */
    rtc_turn_client_send(c, &peers[N], (const uint8_t *)"new", 3, now);
    while (next_stun(c, &m, &b)) { ASSERT(m.method != RTC_STUN_CREATE_PERMISSION); rtc_buf_unref(b); }
    /* Only peer 0 stays in use (a selected pair's consent), every 5 s for 10 minutes;
     * the others were used once, when their permission came. */
    int perm_refresh = 0, chan_refresh = 0, others = 0;
    for (now = RTC_SEC(5); now <= RTC_SEC(600); now += RTC_SEC(5)) {
        rtc_turn_client_send(c, &peers[0], (const uint8_t *)"consent", 7, now);
        rtc_turn_client_handle_timeout(c, now);
        while (rtc_turn_client_poll_transmit(c, &t)) {
            if (rtc_stun_is_stun(t.buf->data, t.buf->len) && rtc_stun_parse(t.buf->data, t.buf->len, &m) == 0 &&
                m.cls == RTC_STUN_REQUEST) {
                if (m.method == RTC_STUN_CREATE_PERMISSION) {
                    rtc_addr got;
                    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &got), 0);
                    if (rtc_addr_ip_eq(&got, &peers[0])) perm_refresh++;
                    else { ASSERT(now < RTC_SEC(300)); others++; }    /* once, for the checks just after the grant */
                }
                if (m.method == RTC_STUN_CHANNEL_BIND) {
                    rtc_addr got;
                    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &got), 0);
                    ASSERT(rtc_addr_eq(&got, &peers[0]));
                    chan_refresh++;
                }
                ASSERT_EQ(reply(c, &m, RTC_STUN_SUCCESS, 0, NULL, true, now), 0);
            }
            rtc_buf_unref(t.buf);
        }
    }
    ASSERT_EQ(perm_refresh, 2);             /* at 240 and 480 s */
    ASSERT_EQ(others, N - 1);               /* at 240 s only: unused since */
    ASSERT_EQ(chan_refresh, 1);             /* at 540 s */
    /* The slots of the other 31 are free again: the new peer gets its permission. */
    ASSERT_EQ(rtc_turn_client_send(c, &peers[N], (const uint8_t *)"new", 3, now), 0);
    ASSERT(next_stun(c, &m, &b));
    ASSERT_EQ(m.method, RTC_STUN_CREATE_PERMISSION);
    rtc_addr got;
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &got), 0);
    ASSERT(rtc_addr_ip_eq(&got, &peers[N]));
    rtc_buf_unref(b);
    rtc_turn_client_free(c);
}

static void test_timeout_and_rejection(void)
{
    /* No server at all: the Allocate gives up after the RFC 8489 schedule. */
    rtc_turn_client *c = mk(RTC_TURN_UDP);
    rtc_time now = 0;
    int sends = 0;
    rtc_turn_event e;
    while (!rtc_turn_client_poll_event(c, &e)) {
        rtc_transmit t;
        while (rtc_turn_client_poll_transmit(c, &t)) { sends++; rtc_buf_unref(t.buf); }
        now = rtc_turn_client_poll_timeout(c);
        ASSERT(now != RTC_TIME_NEVER);
        rtc_turn_client_handle_timeout(c, now);
    }
    ASSERT_EQ(e.type, RTC_TURN_EV_FAILED);
    ASSERT_EQ(e.error, RTC_ETIMEDOUT);
    ASSERT_EQ(sends, 7);
    ASSERT_EQ(now, RTC_MS(39500));
    rtc_turn_client_free(c);

    /* 441 Wrong Credentials after authenticating: a failure event, nothing pending. */
    c = mk(RTC_TURN_UDP);
    rtc_stun_msg m;
    rtc_buf *b;
    ASSERT(next_stun(c, &m, &b));
    reply(c, &m, RTC_STUN_ERROR, 401, "n1", false, 0);
    rtc_buf_unref(b);
    ASSERT(next_stun(c, &m, &b));
    reply(c, &m, RTC_STUN_ERROR, 441, NULL, false, 0);
    rtc_buf_unref(b);
    ASSERT(rtc_turn_client_poll_event(c, &e));
    ASSERT_EQ(e.type, RTC_TURN_EV_FAILED);
    ASSERT_EQ(e.error, RTC_EAUTH);
    ASSERT_EQ(e.code, 441);
    ASSERT_EQ(rtc_turn_client_poll_timeout(c), RTC_TIME_NEVER);
    rtc_turn_client_free(c);
}

static void test_tcp_framing(void)
{
    rtc_turn_client *c = mk(RTC_TURN_TCP);
    rtc_transmit t;
    ASSERT(rtc_turn_client_poll_transmit(c, &t));
    ASSERT_EQ(t.proto, RTC_PROTO_TCP_RAW);
    rtc_stun_msg m;
    ASSERT_EQ(rtc_stun_parse(t.buf->data, t.buf->len, &m), 0);
    /* Build the server's side of the stream: 401, then (after the retry) success. */
    uint8_t stream[2048];
    size_t sl = 0;
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, stream, sizeof stream, RTC_STUN_ALLOCATE, RTC_STUN_ERROR, m.tid);
    rtc_stun_put_error(&w, 401, RTC_STR("Unauthorized"));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_REALM, RTC_STR("example.org"));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_NONCE, RTC_STR("n1"));
    sl = (size_t)rtc_stun_finish(&w);
    rtc_buf_unref(t.buf);
    /* Feed it one byte at a time: framing must hold across any split. */
    for (size_t i = 0; i < sl; i++) ASSERT_EQ(rtc_turn_client_handle_packet(c, stream + i, 1, 0), 0);
    ASSERT(rtc_turn_client_poll_transmit(c, &t));
    ASSERT_EQ(rtc_stun_parse(t.buf->data, t.buf->len, &m), 0);
    ASSERT(m.integrity_at > 0);
    rtc_stun_writer_init(&w, stream, sizeof stream, RTC_STUN_ALLOCATE, RTC_STUN_SUCCESS, m.tid);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
    rtc_stun_put_u32(&w, RTC_STUN_ATTR_LIFETIME, 600);
    rtc_stun_put_integrity(&w, lt_key, 16);
    sl = (size_t)rtc_stun_finish(&w);
    rtc_buf_unref(t.buf);
    /* Append a Data indication after it in the same read. */
    uint8_t tid[12] = { 3 };
    rtc_stun_writer_init(&w, stream + sl, sizeof stream - sl, RTC_STUN_DATA, RTC_STUN_INDICATION, tid);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer);
    rtc_stun_put(&w, RTC_STUN_ATTR_DATA, "abcde", 5);
    sl += (size_t)rtc_stun_finish(&w);
    ASSERT_EQ(rtc_turn_client_handle_packet(c, stream, 7, 0), 0);
    ASSERT_EQ(rtc_turn_client_handle_packet(c, stream + 7, sl - 7, 0), 0);
    rtc_turn_event e;
    ASSERT(rtc_turn_client_poll_event(c, &e));
    ASSERT_EQ(e.type, RTC_TURN_EV_ALLOCATED);
    ASSERT(rtc_turn_client_poll_event(c, &e));
    ASSERT_EQ(e.type, RTC_TURN_EV_DATA);
    ASSERT_EQ(e.data->len, 5);
    rtc_buf_unref(e.data);
    /* Outgoing frames are padded to 4 bytes on streams. */
    rtc_turn_client_send(c, &peer, (const uint8_t *)"x", 1, 0);
    while (rtc_turn_client_poll_transmit(c, &t)) { ASSERT_EQ(t.buf->len % 4, 0); rtc_buf_unref(t.buf); }
    /* A byte that starts no frame breaks the stream: the client fails cleanly. */
    uint8_t junk[4] = { 0xC0, 1, 2, 3 };
    ASSERT_EQ(rtc_turn_client_handle_packet(c, junk, 4, 0), RTC_EPROTO);
    ASSERT(rtc_turn_client_poll_event(c, &e));
    ASSERT_EQ(e.type, RTC_TURN_EV_FAILED);
    rtc_turn_client_free(c);
}

static void test_hostile_input(void)
{
    rtc_turn_client *c = mk(RTC_TURN_UDP);
    allocate(c, 0);
    uint8_t b[300];
    for (int i = 0; i < 20000; i++) {
        size_t len = rtc_rng_below(&rng, sizeof b);
        rtc_rng_bytes(&rng, b, len);
        if (len >= 20 && (i & 1)) { b[0] &= 0x3F; rtc_wr32(b + 4, RTC_STUN_MAGIC); rtc_wr16(b + 2, (uint16_t)((len - 20) & ~3u)); }
        rtc_turn_client_handle_packet(c, b, len, 1);
    }
    rtc_turn_event e;
    while (rtc_turn_client_poll_event(c, &e)) if (e.type == RTC_TURN_EV_DATA) rtc_buf_unref(e.data);
    ASSERT_EQ(rtc_turn_client_state(c), RTC_TURN_READY);
    rtc_turn_stats st;
    rtc_turn_client_get_stats(c, &st);
    ASSERT(st.dropped > 10000);
    rtc_turn_client_free(c);
}

int main(void)
{
    rtc_rng_init_seed(&rng, 3);
    rtc_addr_parse(&server, "192.0.2.10:3478");
    rtc_addr_parse(&local, "10.0.0.2:5000");
    rtc_addr_parse(&relayed, "192.0.2.10:49152");
    rtc_addr_parse(&mapped, "203.0.113.4:6000");
    rtc_addr_parse(&peer, "198.51.100.20:7000");
    ASSERT_EQ(rtc_stun_long_term_key(RTC_STR("alice"), RTC_STR("example.org"), RTC_STR("secret"),
                                     RTC_STUN_PWALG_MD5, lt_key), 16);
    RUN(test_allocate_refresh_permission_channel);
    RUN(test_unused_permissions_expire);
    RUN(test_timeout_and_rejection);
    RUN(test_tcp_framing);
    RUN(test_hostile_input);
    return 0;
}
