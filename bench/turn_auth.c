/* Cost of authenticating a request in the TURN server machine (turn/turn_server.h)
 * against how many static users it has (rtc_turn_server_add_user): a signed Refresh
 * from a client without an allocation, which the server authenticates and answers 437.
 * The user is the last one added (the worst case for a scan of the list). In process,
 * no sockets.
 *
 * Usage: bench_turn_auth [iterations per row (50000)] */
#include "core/rtc_errors.h"
#include "core/rtc_time.h"
#include "stun/stun.h"
#include "turn/turn_server.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bench {
    rtc_turn_server *s;
    rtc_rng rng;
    rtc_addr srv, client;
    rtc_time now;
    int last_code;
    char nonce[128];
} bench;

static int feed(bench *b, const uint8_t *buf, size_t n)
{
    rtc_turn_server_handle_packet(b->s, &b->srv, &b->client, RTC_PROTO_UDP, buf, n, b->now);
    rtc_transmit tx;
    uint32_t rid;
    rtc_turn_srv_event e;
    while (rtc_turn_server_poll_event(b->s, &e)) {}
    while (rtc_turn_server_poll_transmit2(b->s, &tx, &rid)) {
        rtc_stun_msg m;
        rtc_str nonce;
        if (rtc_stun_parse(tx.buf->data, tx.buf->len, &m) == 0) {
            b->last_code = 0;
            if (m.cls == RTC_STUN_ERROR) rtc_stun_get_error(&m, &b->last_code, NULL);
            if (rtc_stun_get_str(&m, RTC_STUN_ATTR_NONCE, &nonce) == 0 && nonce.len < sizeof b->nonce) {
                memcpy(b->nonce, nonce.p, nonce.len);
                b->nonce[nonce.len] = 0;
            }
        }
        rtc_buf_unref(tx.buf);
    }
    return b->last_code;
}

/* A Refresh signed as `user` (password = user). */
static size_t build(bench *b, uint8_t *buf, size_t cap, const char *user)
{
    uint8_t tid[12] = { 1, 2, 3 };
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, cap, RTC_STUN_REFRESH, RTC_STUN_REQUEST, tid);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, rtc_str_c(user));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_REALM, RTC_STR("bench"));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_NONCE, rtc_str_c(b->nonce));
    uint8_t key[32];
    rtc_stun_long_term_key(rtc_str_c(user), RTC_STR("bench"), rtc_str_c(user), RTC_STUN_PWALG_MD5, key);
    rtc_stun_put_integrity(&w, key, 16);
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    if (n < 0) { fprintf(stderr, "build\n"); exit(1); }
    return (size_t)n;
}

static void row(uint32_t users, int iters)
{
    bench b = { 0 };
    rtc_rng_init_seed(&b.rng, 1);
    rtc_addr_set(&b.srv, "203.0.113.1", 3478);
    rtc_addr_set(&b.client, "10.0.0.1", 40000);
    rtc_turn_server_config cfg = { .realm = RTC_STR("bench"), .rng = &b.rng };
    rtc_addr_set(&cfg.relay_v4, "203.0.113.1", 0);
    b.now = RTC_SEC(1);
    if (rtc_turn_server_new(&b.s, &cfg, b.now) < 0) { fprintf(stderr, "server\n"); exit(1); }
    char name[32];
    rtc_time t0 = rtc_clock_now();
    for (uint32_t u = 0; u < users; u++) {
        snprintf(name, sizeof name, "u%u", u);
        if (rtc_turn_server_add_user(b.s, rtc_str_c(name), rtc_str_c(name)) < 0) { fprintf(stderr, "add\n"); exit(1); }
    }
    double add_us = (double)(rtc_clock_now() - t0) / users;
    uint8_t buf[512];
    feed(&b, buf, build(&b, buf, sizeof buf, name));       /* 401 with this client's nonce */
    size_t n = build(&b, buf, sizeof buf, name);
    if (feed(&b, buf, n) != 437) { fprintf(stderr, "expected 437, got %d\n", b.last_code); exit(1); }
    t0 = rtc_clock_now();
    for (int i = 0; i < iters; i++) feed(&b, buf, n);
    double auth_us = (double)(rtc_clock_now() - t0) / iters;
    printf("| %7u | %8.2f | %8.2f |\n", users, auth_us, add_us);
    rtc_turn_server_free(b.s);
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 50000;
    if (iters <= 0) iters = 50000;
    printf("TURN request authentication against the number of static users (µs, in process)\n\n");
    printf("| users   | authenticated request | add_user |\n|---|---|---|\n");
    row(10, iters);
    row(1000, iters);
    row(100000, iters);
    return 0;
}
