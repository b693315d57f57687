/* http/: WebSocket framing (RFC 6455): frames split at every byte, masking rules,
 * fragmentation with interleaved control frames, UTF-8 validation, limits, close
 * codes, and a client and a server object talking to each other. */
#include "rtc_test.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include "http/http_crypto.h"
#include "http/websocket.h"

typedef struct got {
    int type, code, clean, remote;
    size_t len;
    uint8_t data[300000];
} got;

static got evs[8];

static void copy_ev(got *g, const rtc_ws_event *e)
{
    g->type = e->type;
    g->code = e->code;
    g->clean = e->clean;
    g->remote = e->remote;
    ASSERT(e->len <= sizeof g->data);
    g->len = e->len;
    if (e->len) memcpy(g->data, e->data, e->len);
}

/* Feed `len` bytes in pieces of `step` (0: split once at `cut`), polling events into
 * evs[]; output is collected into `out` when not NULL. Returns the last result. */
static int drive(rtc_ws *ws, const uint8_t *d, size_t len, size_t cut, size_t step, int *nev,
                 rtc_bufq *out)
{
    size_t pos = 0;
    int r = 0;
    *nev = 0;
    while (pos < len) {
        size_t piece = step ? step : (pos < cut ? cut - pos : len - pos);
        if (piece > len - pos) piece = len - pos;
        size_t left = piece;
        while (left > 0) {
            size_t used = 0;
            r = rtc_ws_handle_data(ws, d + pos, left, &used, 0);
            ASSERT(used <= left);
            pos += used; left -= used;
            rtc_ws_event e;
            while (rtc_ws_poll_event(ws, &e)) {
                ASSERT(*nev < 8);
                copy_ev(&evs[(*nev)++], &e);
            }
            rtc_buf *b;
            while ((b = rtc_ws_poll_output(ws))) {
                if (out) rtc_bufq_push(out, b); else rtc_buf_unref(b);
            }
            if (r < 0) return r;
            if (used == 0) return r;
        }
    }
    return r;
}

static rtc_ws *mk(rtc_ws_role role, size_t max_message, rtc_rng *rng)
{
    rtc_ws_config c = { .role = role, .max_message = max_message, .rng = rng };
    rtc_ws *ws;
    ASSERT_OK(rtc_ws_new(&ws, &c, 0));
    return ws;
}

/* A raw frame; `rsv` goes into bits 4-6 of the first byte; mask NULL = unmasked. */
static size_t frame(uint8_t *out, int op, bool fin, int rsv, const uint8_t *mask,
                    const void *payload, size_t len)
{
    size_t h = rtc_ws_frame_header(out, op, fin, len, mask);
    out[0] |= (uint8_t)(rsv << 4);
    if (len) memcpy(out + h, payload, len);
    if (mask) rtc_ws_mask(out + h, len, mask, 0);
    return h + len;
}

static const uint8_t K[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* The examples of RFC 6455 §5.7, byte for byte. */
static void test_rfc_examples(void)
{
    static const uint8_t masked_hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    static const uint8_t hello[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    static const uint8_t frag[] = { 0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f };
    static const uint8_t ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    int n;
    rtc_ws *s = mk(RTC_WS_SERVER, 0, NULL);
    ASSERT_EQ(drive(s, masked_hello, sizeof masked_hello, 0, 1, &n, NULL), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(evs[0].type, RTC_WS_EV_TEXT);
    ASSERT_EQ(evs[0].len, 5);
    ASSERT_MEMEQ(evs[0].data, "Hello", 5);
    rtc_ws_free(s);

    rtc_rng rng;
    rtc_rng_init_seed(&rng, 1);
    rtc_ws *c = mk(RTC_WS_CLIENT, 0, &rng);
    ASSERT_EQ(drive(c, hello, sizeof hello, 0, 3, &n, NULL), 0);
    ASSERT_EQ(n, 1);
    ASSERT_MEMEQ(evs[0].data, "Hello", 5);
    ASSERT_EQ(drive(c, frag, sizeof frag, 0, 1, &n, NULL), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(evs[0].len, 5);
    ASSERT_MEMEQ(evs[0].data, "Hello", 5);
    rtc_bufq out = { 0 };
    ASSERT_EQ(drive(c, ping, sizeof ping, 0, 0, &n, &out), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(evs[0].type, RTC_WS_EV_PING);
    ASSERT_EQ(out.count, 1);                      /* the pong, masked by the client */
    rtc_buf *b = rtc_bufq_pop(&out);
    ASSERT_EQ(b->len, 11);
    ASSERT_EQ(b->data[0], 0x8a);
    ASSERT_EQ(b->data[1], 0x85);
    rtc_ws_mask(b->data + 6, 5, b->data + 2, 0);
    ASSERT_MEMEQ(b->data + 6, "Hello", 5);
    rtc_buf_unref(b);
    rtc_ws_free(c);

    /* 256 bytes and 64 KiB: 16- and 64-bit lengths */
    uint8_t h[RTC_WS_MAX_HEADER];
    ASSERT_EQ(rtc_ws_frame_header(h, RTC_WS_OP_BINARY, true, 256, NULL), 4);
    ASSERT_MEMEQ(h, "\x82\x7e\x01\x00", 4);
    ASSERT_EQ(rtc_ws_frame_header(h, RTC_WS_OP_BINARY, true, 65536, NULL), 10);
    ASSERT_MEMEQ(h, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    ASSERT_EQ(rtc_ws_frame_header(h, RTC_WS_OP_BINARY, true, 125, K), 6);
}

/* A stream of frames of every length class, cut at every byte. */
static void test_split_everywhere(void)
{
    static uint8_t stream[70000 + 300 + 200];
    static uint8_t big[70000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    size_t len = 0;
    len += frame(stream + len, RTC_WS_OP_TEXT, true, 0, K, "hi", 2);
    len += frame(stream + len, RTC_WS_OP_BINARY, true, 0, K, big, 200);        /* 16-bit length */
    len += frame(stream + len, RTC_WS_OP_BINARY, false, 0, K, big, 0);         /* empty first fragment */
    len += frame(stream + len, RTC_WS_OP_PING, true, 0, K, "p", 1);
    len += frame(stream + len, RTC_WS_OP_CONT, true, 0, K, big, 3);
    len += frame(stream + len, RTC_WS_OP_TEXT, true, 0, K, "", 0);
    size_t small = len;
    len += frame(stream + len, RTC_WS_OP_BINARY, true, 0, K, big, sizeof big); /* 64-bit length */
    for (size_t cut = 0; cut <= len; cut += (cut < small + 20 ? 1 : 997)) {
        rtc_ws *s = mk(RTC_WS_SERVER, 0, NULL);
        int types[8], k = 0;
        size_t lens[8];
        size_t pos = 0;
        /* collect across the two pieces */
        for (int piece = 0; piece < 2; piece++) {
            size_t end = piece == 0 ? cut : len;
            while (pos < end) {
                size_t used;
                int r = rtc_ws_handle_data(s, stream + pos, end - pos, &used, 0);
                ASSERT_OK(r);
                pos += used;
                rtc_ws_event e;
                while (rtc_ws_poll_event(s, &e)) {
                    ASSERT(k < 8);
                    types[k] = e.type;
                    lens[k] = e.len;
                    if (e.type == RTC_WS_EV_BINARY && e.len) ASSERT_MEMEQ(e.data, big, e.len);
                    k++;
                }
                rtc_buf *b;
                while ((b = rtc_ws_poll_output(s))) rtc_buf_unref(b);
            }
        }
        ASSERT_EQ(k, 6);
        ASSERT_EQ(types[0], RTC_WS_EV_TEXT); ASSERT_EQ(lens[0], 2);
        ASSERT_EQ(types[1], RTC_WS_EV_BINARY); ASSERT_EQ(lens[1], 200);
        ASSERT_EQ(types[2], RTC_WS_EV_PING); ASSERT_EQ(lens[2], 1);
        ASSERT_EQ(types[3], RTC_WS_EV_BINARY); ASSERT_EQ(lens[3], 3);
        ASSERT_EQ(types[4], RTC_WS_EV_TEXT); ASSERT_EQ(lens[4], 0);
        ASSERT_EQ(types[5], RTC_WS_EV_BINARY); ASSERT_EQ(lens[5], sizeof big);
        rtc_ws_stats st;
        rtc_ws_get_stats(s, &st);
        ASSERT_EQ(st.messages_in, 5);
        ASSERT_EQ(st.pings_in, 1);
        rtc_ws_free(s);
    }
}

/* Feed one stream to a fresh object; expect a failure with this close code. */
static void expect_fail(rtc_ws_role role, size_t max, const uint8_t *d, size_t len, int err, int code)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 7);
    for (size_t step = 1; step <= len; step = step * 2 + 1) {
        rtc_ws *ws = mk(role, max, &rng);
        int n;
        rtc_bufq out = { 0 };
        int r = drive(ws, d, len, 0, step, &n, &out);
        if (r != err) RTC_TEST_FAIL("step %zu: result %d, want %d", step, r, err);
        ASSERT(n >= 1);
        got *g = &evs[n - 1];
        ASSERT_EQ(g->type, RTC_WS_EV_CLOSE);
        ASSERT_EQ(g->code, code);
        ASSERT(!g->clean);
        ASSERT_EQ(rtc_ws_get_state(ws), RTC_WS_CLOSED);
        /* the last thing written is a close frame with that code */
        ASSERT(out.tail != NULL);
        rtc_buf *b = out.tail;
        ASSERT_EQ(b->data[0], 0x88);
        size_t h = (b->data[1] & 0x80) ? 6 : 2;
        uint8_t p[125];
        size_t pl = b->data[1] & 0x7f;
        ASSERT(pl >= 2);
        memcpy(p, b->data + h, pl);
        if (h == 6) rtc_ws_mask(p, pl, b->data + 2, 0);
        ASSERT_EQ(rtc_rd16(p), code);
        rtc_bufq_clear(&out);
        size_t used;
        ASSERT_EQ(rtc_ws_handle_data(ws, (const uint8_t *)"x", 1, &used, 0), err);   /* stays failed */
        rtc_ws_stats st;
        rtc_ws_get_stats(ws, &st);
        ASSERT_EQ(st.protocol_errors, 1);
        rtc_ws_free(ws);
    }
}

static void test_masking_rules(void)
{
    uint8_t f[32];
    size_t n = frame(f, RTC_WS_OP_TEXT, true, 0, NULL, "hi", 2);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);     /* clients must mask */
    n = frame(f, RTC_WS_OP_TEXT, true, 0, K, "hi", 2);
    expect_fail(RTC_WS_CLIENT, 0, f, n, RTC_EPROTO, 1002);     /* servers must not */
    /* mask applied at any offset gives the same bytes as all at once */
    uint8_t a[37], b[37];
    for (int i = 0; i < 37; i++) a[i] = b[i] = (uint8_t)(i * 13 + 1);
    rtc_ws_mask(a, 37, K, 0);
    rtc_ws_mask(b, 5, K, 0);
    rtc_ws_mask(b + 5, 11, K, 5);
    rtc_ws_mask(b + 16, 21, K, 16);
    ASSERT_MEMEQ(a, b, 37);
}

static void test_fragmented_with_interleaved_control(void)
{
    /* "fragmented €!" in four fragments, the euro sign cut between the last two,
     * with a ping and a pong in the middle */
    uint8_t s[256];
    size_t n;
    n = 0;
    n += frame(s + n, RTC_WS_OP_TEXT, false, 0, K, "frag", 4);
    n += frame(s + n, RTC_WS_OP_PING, true, 0, K, "are you there", 13);
    n += frame(s + n, RTC_WS_OP_CONT, false, 0, K, "men", 3);
    n += frame(s + n, RTC_WS_OP_PONG, true, 0, K, "", 0);
    n += frame(s + n, RTC_WS_OP_CONT, false, 0, K, "ted \xe2\x82", 6);
    n += frame(s + n, RTC_WS_OP_CONT, true, 0, K, "\xac!", 2);
    for (size_t step = 1; step <= n; step++) {
        rtc_ws *ws = mk(RTC_WS_SERVER, 0, NULL);
        int k;
        rtc_bufq out = { 0 };
        ASSERT_EQ(drive(ws, s, n, 0, step, &k, &out), 0);
        ASSERT_EQ(k, 3);
        ASSERT_EQ(evs[0].type, RTC_WS_EV_PING);
        ASSERT_EQ(evs[0].len, 13);
        ASSERT_MEMEQ(evs[0].data, "are you there", 13);
        ASSERT_EQ(evs[1].type, RTC_WS_EV_PONG);
        ASSERT_EQ(evs[2].type, RTC_WS_EV_TEXT);
        ASSERT_EQ(evs[2].len, 15);
        ASSERT_MEMEQ(evs[2].data, "fragmented \xe2\x82\xac!", 15);
        ASSERT_EQ(out.count, 1);                   /* the pong, unmasked from a server */
        ASSERT_MEMEQ(out.head->data, "\x8a\x0d" "are you there", 15);
        rtc_bufq_clear(&out);
        rtc_ws_free(ws);
    }
}

static void test_protocol_errors(void)
{
    uint8_t f[300];
    size_t n;
    uint8_t big[200] = { 0 };
    n = frame(f, 3, true, 0, K, "x", 1);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);          /* reserved data opcode */
    n = frame(f, 0xb, true, 0, K, "x", 1);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);          /* reserved control opcode */
    for (int rsv = 1; rsv <= 7; rsv++) {
        n = frame(f, RTC_WS_OP_TEXT, true, rsv, K, "x", 1);
        expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);      /* no extension negotiated */
    }
    n = frame(f, RTC_WS_OP_PING, false, 0, K, "x", 1);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);          /* fragmented control */
    n = frame(f, RTC_WS_OP_PING, true, 0, K, big, 126);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);          /* control > 125 */
    n = frame(f, RTC_WS_OP_CONT, true, 0, K, "x", 1);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);          /* nothing to continue */
    n = frame(f, RTC_WS_OP_TEXT, false, 0, K, "a", 1);
    n += frame(f + n, RTC_WS_OP_BINARY, true, 0, K, "b", 1);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);          /* new message mid-fragment */
    static const uint8_t msb[] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 };
    expect_fail(RTC_WS_SERVER, 0, msb, sizeof msb, RTC_EPROTO, 1002);
}

static void test_too_big(void)
{
    uint8_t f[300];
    uint8_t payload[200] = { 0 };
    size_t n = frame(f, RTC_WS_OP_BINARY, true, 0, K, payload, 101);
    expect_fail(RTC_WS_SERVER, 100, f, n, RTC_ETOOBIG, 1009);
    n = frame(f, RTC_WS_OP_BINARY, false, 0, K, payload, 60);
    n += frame(f + n, RTC_WS_OP_CONT, true, 0, K, payload, 41);
    expect_fail(RTC_WS_SERVER, 100, f, n, RTC_ETOOBIG, 1009);
    /* a 2^40-byte claim fails on the header, before any allocation */
    static const uint8_t huge[] = { 0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
    expect_fail(RTC_WS_SERVER, 0, huge, sizeof huge, RTC_ETOOBIG, 1009);
    /* exactly at the limit is fine */
    rtc_ws *ws = mk(RTC_WS_SERVER, 100, NULL);
    n = frame(f, RTC_WS_OP_BINARY, false, 0, K, payload, 60);
    n += frame(f + n, RTC_WS_OP_CONT, true, 0, K, payload, 40);
    int k;
    ASSERT_EQ(drive(ws, f, n, 0, 0, &k, NULL), 0);
    ASSERT_EQ(k, 1);
    ASSERT_EQ(evs[0].len, 100);
    rtc_ws_free(ws);
}

static void test_invalid_utf8(void)
{
    static const char *bad[] = {
        "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
        "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",
        "\x80", "\xbf", "a\xe2\x82" "b", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80",
    };
    uint8_t f[300];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = frame(f, RTC_WS_OP_TEXT, true, 0, K, bad[i], strlen(bad[i]));
        expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1007);
    }
    /* truncated at the end of the message */
    size_t n = frame(f, RTC_WS_OP_TEXT, true, 0, K, "ok\xe2\x82", 4);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1007);
    /* a bad continuation byte in the next fragment */
    n = frame(f, RTC_WS_OP_TEXT, false, 0, K, "ok\xe2\x82", 4);
    n += frame(f + n, RTC_WS_OP_CONT, true, 0, K, "A", 1);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1007);
    /* fail fast: the bad first fragment is refused before the message ends */
    n = frame(f, RTC_WS_OP_TEXT, false, 0, K, "\xf5", 1);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1007);
    /* binary messages are not checked */
    rtc_ws *ws = mk(RTC_WS_SERVER, 0, NULL);
    n = frame(f, RTC_WS_OP_BINARY, true, 0, K, "\xff\xc0", 2);
    int k;
    ASSERT_EQ(drive(ws, f, n, 0, 0, &k, NULL), 0);
    ASSERT_EQ(k, 1);
    rtc_ws_free(ws);
}

/* Reference decoder: the code point and length of a well-formed sequence, or -1. */
static int ref_utf8(const uint8_t *s, size_t n)
{
    if (n == 1) return s[0] < 0x80 ? 1 : -1;
    uint32_t cp;
    if (n == 2 && (s[0] & 0xe0) == 0xc0) cp = s[0] & 0x1f;
    else if (n == 3 && (s[0] & 0xf0) == 0xe0) cp = s[0] & 0x0f;
    else if (n == 4 && (s[0] & 0xf8) == 0xf0) cp = s[0] & 0x07;
    else return -1;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    return (int)n;
}

/* The validator agrees with the reference on every 1-, 2- and 3-byte string and on
 * every 4-byte string with a 4-byte lead, fed whole and split after each byte. */
static void test_utf8_exhaustive(void)
{
    uint8_t s[4];
    for (uint32_t v = 0; v < (1u << 24); v++) {
        s[0] = (uint8_t)(v >> 16); s[1] = (uint8_t)(v >> 8); s[2] = (uint8_t)v;
        for (size_t n = 1; n <= 3; n++) {
            if (n < 3 && (v & ((1u << (8 * (3 - n))) - 1))) continue;   /* shorter strings once */
            bool want = ref_utf8(s, n) > 0 || (n == 2 && ref_utf8(s, 1) > 0 && ref_utf8(s + 1, 1) > 0);
            if (n == 3) {
                want = ref_utf8(s, 3) > 0 ||
                       (ref_utf8(s, 1) > 0 && (ref_utf8(s + 1, 2) > 0 || (ref_utf8(s + 1, 1) > 0 && ref_utf8(s + 2, 1) > 0))) ||
                       (ref_utf8(s, 2) > 0 && ref_utf8(s + 2, 1) > 0);
            }
            if (rtc_utf8_valid(s, n) != want) RTC_TEST_FAIL("utf8 %zu bytes %06x", n, v);
        }
    }
    for (uint32_t v = 0xf00000; v < 0xf80000; v += 1) {
        s[0] = (uint8_t)(v >> 16); s[1] = (uint8_t)(v >> 8); s[2] = (uint8_t)v;
        for (int last = 0x70; last < 0xd0; last += 0x1f) {
            s[3] = (uint8_t)last;
            bool want = ref_utf8(s, 4) > 0;
            rtc_utf8 u = { 0, 0, 0 };
            bool split = rtc_utf8_feed(&u, s, 1) == 0 && rtc_utf8_feed(&u, s + 1, 2) == 0 &&
                         rtc_utf8_feed(&u, s + 3, 1) == 0 && rtc_utf8_complete(&u);
            if (rtc_utf8_valid(s, 4) != want || split != want) RTC_TEST_FAIL("utf8 4 bytes %06x%02x", v, last);
        }
    }
}

static void test_close_codes(void)
{
    static const int valid[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999 };
    static const int invalid[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535 };
    uint8_t f[64], p[16];
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        ASSERT(rtc_ws_close_code_valid(valid[i]));
        rtc_ws *ws = mk(RTC_WS_SERVER, 0, NULL);
        rtc_wr16(p, (uint16_t)valid[i]);
        memcpy(p + 2, "bye", 3);
        size_t n = frame(f, RTC_WS_OP_CLOSE, true, 0, K, p, 5);
        int k;
        rtc_bufq out = { 0 };
        ASSERT_EQ(drive(ws, f, n, 0, 1, &k, &out), 0);
        ASSERT_EQ(k, 1);
        ASSERT_EQ(evs[0].type, RTC_WS_EV_CLOSE);
        ASSERT_EQ(evs[0].code, valid[i]);
        ASSERT(evs[0].clean && evs[0].remote);
        ASSERT_EQ(evs[0].len, 3);
        ASSERT_MEMEQ(evs[0].data, "bye", 3);
        ASSERT_EQ(out.count, 1);                         /* the echo */
        ASSERT_EQ(out.head->len, 4);
        ASSERT_EQ(out.head->data[0], 0x88);
        ASSERT_EQ(rtc_rd16(out.head->data + 2), valid[i]);
        rtc_bufq_clear(&out);
        ASSERT_EQ(rtc_ws_get_state(ws), RTC_WS_CLOSED);
        size_t used;
        ASSERT_EQ(rtc_ws_handle_data(ws, f, n, &used, 0), RTC_ECLOSED);
        ASSERT_EQ(rtc_ws_send_text(ws, "x", 1, 0), RTC_ECLOSED);
        rtc_ws_free(ws);
    }
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        ASSERT(!rtc_ws_close_code_valid(invalid[i]));
        rtc_wr16(p, (uint16_t)invalid[i]);
        size_t n = frame(f, RTC_WS_OP_CLOSE, true, 0, K, p, 2);
        expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);
    }
    size_t n = frame(f, RTC_WS_OP_CLOSE, true, 0, K, "\x03", 1);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1002);            /* one-byte payload */
    n = frame(f, RTC_WS_OP_CLOSE, true, 0, K, "\x03\xe8\xc0\xaf", 4);
    expect_fail(RTC_WS_SERVER, 0, f, n, RTC_EPROTO, 1007);            /* reason not UTF-8 */

    /* an empty close is reported as 1005 and answered with an empty close */
    rtc_ws *ws = mk(RTC_WS_SERVER, 0, NULL);
    n = frame(f, RTC_WS_OP_CLOSE, true, 0, K, "", 0);
    int k;
    rtc_bufq out = { 0 };
    ASSERT_EQ(drive(ws, f, n, 0, 0, &k, &out), 0);
    ASSERT_EQ(evs[0].code, 1005);
    ASSERT_EQ(out.head->len, 2);
    ASSERT_MEMEQ(out.head->data, "\x88\x00", 2);
    rtc_bufq_clear(&out);
    rtc_ws_free(ws);

    /* our own close() refuses codes that may not go on the wire */
    ws = mk(RTC_WS_SERVER, 0, NULL);
    ASSERT_EQ(rtc_ws_close(ws, 1005, NULL, 0, 0), RTC_EINVAL);
    ASSERT_EQ(rtc_ws_close(ws, 1000, "\xff", 1, 0), RTC_EINVAL);
    ASSERT_EQ(rtc_ws_close(ws, 0, "x", 1, 0), RTC_EINVAL);
    ASSERT_EQ(rtc_ws_close(ws, 4000, "done", 4, 0), 0);
    ASSERT_EQ(rtc_ws_close(ws, 4000, "done", 4, 0), RTC_ECLOSED);
    rtc_ws_free(ws);
}

/* Move every queued byte from one side into the other, draining events into `ev`. */
static int pump(rtc_ws *from, rtc_ws *to, rtc_time now, int *nev)
{
    rtc_buf *b;
    int r = 0;
    while ((b = rtc_ws_poll_output(from))) {
        size_t pos = 0;
        while (pos < b->len) {
            size_t used;
            r = rtc_ws_handle_data(to, b->data + pos, b->len - pos, &used, now);
            pos += used;
            rtc_ws_event e;
            while (rtc_ws_poll_event(to, &e)) copy_ev(&evs[(*nev)++], &e);
            if (r < 0 || used == 0) break;
        }
        rtc_buf_unref(b);
        if (r < 0) break;
    }
    return r;
}

static void test_client_server(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 42);
    rtc_ws *c = mk(RTC_WS_CLIENT, 0, &rng), *s = mk(RTC_WS_SERVER, 0, NULL);
    int n = 0;
    static uint8_t big[250000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i ^ (i >> 8));

    ASSERT_EQ(rtc_ws_send_text(c, "{\"type\":\"join\"}", 15, 0), 0);
    ASSERT_EQ(rtc_ws_send_binary(c, big, sizeof big, 0), 0);
    ASSERT_EQ(rtc_ws_send_text(c, "\xff", 1, 0), RTC_EINVAL);
    ASSERT_GE(rtc_ws_buffered_amount(c), sizeof big + 15);
    ASSERT_EQ(pump(c, s, 0, &n), 0);
    ASSERT_EQ(rtc_ws_buffered_amount(c), 0);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(evs[0].type, RTC_WS_EV_TEXT);
    ASSERT_MEMEQ(evs[0].data, "{\"type\":\"join\"}", 15);
    ASSERT_EQ(evs[1].type, RTC_WS_EV_BINARY);
    ASSERT_EQ(evs[1].len, sizeof big);
    ASSERT_MEMEQ(evs[1].data, big, sizeof big);

    /* fragmented send with a ping in between, and a code point across fragments */
    n = 0;
    ASSERT_EQ(rtc_ws_send_fragment(s, RTC_WS_OP_TEXT, "caf\xc3", 4, false, 0), 0);
    ASSERT_EQ(rtc_ws_send_text(s, "no", 2, 0), RTC_ESTATE);
    ASSERT_EQ(rtc_ws_send_ping(s, "tick", 4, 0), 0);
    ASSERT_EQ(rtc_ws_send_fragment(s, RTC_WS_OP_BINARY, "x", 1, true, 0), RTC_ESTATE);
    ASSERT_EQ(rtc_ws_send_fragment(s, RTC_WS_OP_CONT, "\xa9", 1, true, 0), 0);
    ASSERT_EQ(pump(s, c, 0, &n), 0);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(evs[0].type, RTC_WS_EV_PING);
    ASSERT_EQ(evs[1].type, RTC_WS_EV_TEXT);
    ASSERT_EQ(evs[1].len, 5);
    ASSERT_MEMEQ(evs[1].data, "caf\xc3\xa9", 5);
    n = 0;
    ASSERT_EQ(pump(c, s, 0, &n), 0);                   /* the client's automatic pong */
    ASSERT_EQ(n, 1);
    ASSERT_EQ(evs[0].type, RTC_WS_EV_PONG);
    ASSERT_EQ(evs[0].len, 4);
    ASSERT_MEMEQ(evs[0].data, "tick", 4);

    /* closing handshake started by the client */
    ASSERT_EQ(rtc_ws_close(c, 1000, "done", 4, RTC_SEC(1)), 0);
    ASSERT_EQ(rtc_ws_get_state(c), RTC_WS_CLOSING);
    ASSERT_EQ(rtc_ws_poll_timeout(c), RTC_SEC(6));
    n = 0;
    ASSERT_EQ(pump(c, s, RTC_SEC(1), &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(evs[0].type, RTC_WS_EV_CLOSE);
    ASSERT(evs[0].clean && evs[0].remote);
    ASSERT_EQ(evs[0].code, 1000);
    ASSERT_EQ(rtc_ws_get_state(s), RTC_WS_CLOSED);
    n = 0;
    ASSERT_EQ(pump(s, c, RTC_SEC(1), &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(evs[0].type, RTC_WS_EV_CLOSE);
    ASSERT(evs[0].clean && !evs[0].remote);
    ASSERT_EQ(evs[0].code, 1000);
    ASSERT_EQ(rtc_ws_get_state(c), RTC_WS_CLOSED);
    ASSERT_EQ(rtc_ws_poll_timeout(c), RTC_TIME_NEVER);
    rtc_ws_stats st;
    rtc_ws_get_stats(s, &st);
    ASSERT_EQ(st.messages_in, 2);
    ASSERT_EQ(st.messages_out, 1);
    ASSERT_EQ(st.pongs_in, 1);
    ASSERT_EQ(st.protocol_errors, 0);
    rtc_ws_free(c);
    rtc_ws_free(s);
}

static void test_close_timeout_and_eof(void)
{
    rtc_ws *s = mk(RTC_WS_SERVER, 0, NULL);
    ASSERT_EQ(rtc_ws_poll_timeout(s), RTC_TIME_NEVER);
    ASSERT_EQ(rtc_ws_close(s, 1001, NULL, 0, RTC_SEC(10)), 0);
    ASSERT_EQ(rtc_ws_poll_timeout(s), RTC_SEC(15));
    rtc_ws_event e;
    ASSERT_EQ(rtc_ws_handle_timeout(s, RTC_SEC(14)), 0);
    ASSERT(!rtc_ws_poll_event(s, &e));
    /* data still arrives while we wait for the reply */
    uint8_t f[16];
    size_t n = frame(f, RTC_WS_OP_TEXT, true, 0, K, "late", 4), used;
    ASSERT_EQ(rtc_ws_handle_data(s, f, n, &used, RTC_SEC(14)), 0);
    ASSERT(rtc_ws_poll_event(s, &e) && e.type == RTC_WS_EV_TEXT);
    ASSERT_EQ(rtc_ws_handle_timeout(s, RTC_SEC(15)), 0);
    ASSERT(rtc_ws_poll_event(s, &e));
    ASSERT_EQ(e.type, RTC_WS_EV_CLOSE);
    ASSERT_EQ(e.code, 1006);
    ASSERT(!e.clean);
    ASSERT_EQ(rtc_ws_get_state(s), RTC_WS_CLOSED);
    rtc_ws_free(s);

    s = mk(RTC_WS_SERVER, 0, NULL);
    ASSERT_EQ(rtc_ws_handle_eof(s, 0), 0);
    ASSERT(rtc_ws_poll_event(s, &e));
    ASSERT_EQ(e.code, 1006);
    ASSERT(e.remote && !e.clean);
    ASSERT(!rtc_ws_poll_event(s, &e));
    ASSERT_EQ(rtc_ws_handle_eof(s, 0), 0);            /* once */
    ASSERT(!rtc_ws_poll_event(s, &e));
    rtc_ws_free(s);
}

static void test_keepalive(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 3);
    rtc_ws_config cc = { .role = RTC_WS_CLIENT, .rng = &rng, .ping_interval = RTC_SEC(20) };
    rtc_ws *c, *s = mk(RTC_WS_SERVER, 0, NULL);
    ASSERT_OK(rtc_ws_new(&c, &cc, 0));
    ASSERT_EQ(rtc_ws_poll_timeout(c), RTC_SEC(20));
    ASSERT_EQ(rtc_ws_handle_timeout(c, RTC_SEC(20)), 0);
    int n = 0;
    ASSERT_EQ(pump(c, s, RTC_SEC(20), &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(evs[0].type, RTC_WS_EV_PING);
    n = 0;
    ASSERT_EQ(pump(s, c, RTC_SEC(21), &n), 0);         /* the pong resets the clock */
    ASSERT_EQ(evs[0].type, RTC_WS_EV_PONG);
    ASSERT_EQ(rtc_ws_poll_timeout(c), RTC_SEC(41));
    ASSERT_EQ(rtc_ws_handle_timeout(c, RTC_SEC(41)), 0);
    rtc_buf *b = rtc_ws_poll_output(c);                /* a ping the server never answers */
    ASSERT(b != NULL);
    rtc_buf_unref(b);
    rtc_ws_event e;
    ASSERT(!rtc_ws_poll_event(c, &e));
    ASSERT_EQ(rtc_ws_handle_timeout(c, RTC_SEC(61)), 0);
    ASSERT(rtc_ws_poll_event(c, &e));
    ASSERT_EQ(e.type, RTC_WS_EV_CLOSE);
    ASSERT_EQ(e.code, 1006);
    rtc_ws_free(c);
    rtc_ws_free(s);
}

static void test_unpolled_event_blocks(void)
{
    uint8_t f[32];
    size_t n = frame(f, RTC_WS_OP_TEXT, true, 0, K, "a", 1);
    n += frame(f + n, RTC_WS_OP_TEXT, true, 0, K, "b", 1);
    rtc_ws *s = mk(RTC_WS_SERVER, 0, NULL);
    size_t used;
    ASSERT_EQ(rtc_ws_handle_data(s, f, n, &used, 0), 0);
    ASSERT_EQ(used, n / 2);
    ASSERT_EQ(rtc_ws_handle_data(s, f + used, n - used, &used, 0), RTC_EAGAIN);
    ASSERT_EQ(used, 0);
    rtc_ws_event e;
    ASSERT(rtc_ws_poll_event(s, &e));
    ASSERT_MEMEQ(e.data, "a", 1);
    ASSERT_EQ(rtc_ws_handle_data(s, f + n / 2, n - n / 2, &used, 0), 0);
    ASSERT(rtc_ws_poll_event(s, &e));
    ASSERT_MEMEQ(e.data, "b", 1);
    rtc_ws_free(s);
    rtc_ws_config bad = { .role = RTC_WS_CLIENT };
    ASSERT_EQ(rtc_ws_new(&s, &bad, 0), RTC_EINVAL);    /* a client needs an rng */
}

int main(void)
{
    RUN(test_rfc_examples);
    RUN(test_split_everywhere);
    RUN(test_masking_rules);
    RUN(test_fragmented_with_interleaved_control);
    RUN(test_protocol_errors);
    RUN(test_too_big);
    RUN(test_invalid_utf8);
    RUN(test_utf8_exhaustive);
    RUN(test_close_codes);
    RUN(test_client_server);
    RUN(test_close_timeout_and_eof);
    RUN(test_keepalive);
    RUN(test_unpolled_event_blocks);
    return 0;
}
