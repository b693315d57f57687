/* Cost of an Allocate in the TURN server machine (turn/turn_server.h) against how many
 * allocations it already holds, with the per-user quota on: an Allocate refused by
 * the quota (486) and an Allocate followed by its Refresh 0. In process, no sockets:
 * a driver binds every relay the machine asks for at once.
 *
 * Usage: bench_turn_alloc [iterations per row (20000)] */
#include "core/rtc_errors.h"
#include "core/rtc_time.h"
#include "stun/stun.h"
#include "turn/turn_server.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_USER 8

typedef struct bench {
    rtc_turn_server *s;
    rtc_rng rng;
    rtc_time now;
    rtc_addr srv;
    int last_code;             /* 0 success, else the error code of the last response */
    char nonce[128];
    uint32_t tid;
} bench;

static void drain(bench *b)
{
    rtc_turn_srv_event e;
    rtc_transmit tx;
    uint32_t rid;
    for (bool any = true; any;) {
        any = false;
        while (rtc_turn_server_poll_event(b->s, &e)) {
            any = true;
            if (e.type == RTC_TURN_SRV_EV_RELAY_OPEN) rtc_turn_server_relay_bound(b->s, e.relay_id, 0, &e.addr, b->now);
        }
        while (rtc_turn_server_poll_transmit2(b->s, &tx, &rid)) {
            any = true;
            rtc_stun_msg m;
            if (rtc_stun_parse(tx.buf->data, tx.buf->len, &m) == 0) {
                int code = 0;
                rtc_str nonce;
                if (m.cls == RTC_STUN_ERROR) rtc_stun_get_error(&m, &code, NULL);
                if (rtc_stun_get_str(&m, RTC_STUN_ATTR_NONCE, &nonce) == 0 && nonce.len < sizeof b->nonce) {
                    memcpy(b->nonce, nonce.p, nonce.len);
                    b->nonce[nonce.len] = 0;
                }
                b->last_code = code;
            }
            rtc_buf_unref(tx.buf);
        }
    }
}

/* A signed request as `user` (password = user) into buf; returns its length. */
static size_t build(bench *b, uint8_t *buf, size_t cap, const char *user, uint16_t method, bool refresh0)
{
    uint8_t tid[12] = { 0 };
    b->tid++;
    memcpy(tid, &b->tid, sizeof b->tid);
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, cap, method, RTC_STUN_REQUEST, tid);
    if (method == RTC_STUN_ALLOCATE) rtc_stun_put_transport(&w, 17);
    if (refresh0) rtc_stun_put_u32(&w, RTC_STUN_ATTR_LIFETIME, 0);
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

static int feed(bench *b, const rtc_addr *client, const uint8_t *buf, size_t n)
{
    rtc_turn_server_handle_packet(b->s, &b->srv, client, RTC_PROTO_UDP, buf, n, b->now);
    drain(b);
    return b->last_code;
}

static int request_once(bench *b, const rtc_addr *client, const char *user, uint16_t method, bool refresh0)
{
    uint8_t buf[512];
    size_t n = build(b, buf, sizeof buf, user, method, refresh0);
    return feed(b, client, buf, n);
}

/* Nonces are per client: a 401 with a fresh one is retried once, as a client would. */
static int request(bench *b, const rtc_addr *client, const char *user, uint16_t method, bool refresh0)
{
    int r = request_once(b, client, user, method, refresh0);
    if (r == 401 || r == 438) r = request_once(b, client, user, method, refresh0);
    return r;
}

static void client_addr(rtc_addr *a, uint32_t i)
{
    char ip[32];
    snprintf(ip, sizeof ip, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    rtc_addr_set(a, ip, (uint16_t)(10000 + (i % 50000)));
}

static void row(uint32_t held, uint32_t max_allocations, int iters)
{
    bench b = { 0 };
    rtc_rng_init_seed(&b.rng, 1);
    rtc_addr_set(&b.srv, "203.0.113.1", 3478);
    rtc_turn_server_config cfg = { .realm = RTC_STR("bench"), .rng = &b.rng, .max_per_user = PER_USER,
                                   .max_allocations = max_allocations, .min_port = 1024, .max_port = 65535 };
    rtc_addr_set(&cfg.relay_v4, "203.0.113.1", 0);
    b.now = RTC_SEC(1);
    if (rtc_turn_server_new(&b.s, &cfg, b.now) < 0) { fprintf(stderr, "server\n"); exit(1); }
    rtc_turn_server_set_unix_time(b.s, 1700000000);
    rtc_turn_server_add_own_address(b.s, &b.srv);
    uint32_t users = held / PER_USER + 2;
    char name[32];
    for (uint32_t u = 0; u < users; u++) {
        snprintf(name, sizeof name, "u%u", u);
        rtc_turn_server_add_user(b.s, rtc_str_c(name), rtc_str_c(name));
    }
    rtc_addr c;
    for (uint32_t i = 0; i < held; i++) {
        client_addr(&c, i);
        snprintf(name, sizeof name, "u%u", i / PER_USER);
        if (request(&b, &c, name, RTC_STUN_ALLOCATE, false) != 0) { fprintf(stderr, "fill %u failed: %d\n", i, b.last_code); exit(1); }
    }
    /* u0 is at its quota: refused. The requests are built once (with this client's
     * nonce), so only the server's work is timed. */
    client_addr(&c, held + 1);
    if (request(&b, &c, "u0", RTC_STUN_ALLOCATE, false) != 486) { fprintf(stderr, "expected 486\n"); exit(1); }
    uint8_t refused[512], alloc[512], free0[512];
    size_t nrefused = build(&b, refused, sizeof refused, "u0", RTC_STUN_ALLOCATE, false);
    snprintf(name, sizeof name, "u%u", users - 1);     /* the last user has room */
    size_t nalloc = build(&b, alloc, sizeof alloc, name, RTC_STUN_ALLOCATE, false);
    size_t nfree0 = build(&b, free0, sizeof free0, name, RTC_STUN_REFRESH, true);
    rtc_time t0 = rtc_clock_now();
    for (int i = 0; i < iters; i++)
        if (feed(&b, &c, refused, nrefused) != 486) { fprintf(stderr, "expected 486\n"); exit(1); }
    double refused_us = (double)(rtc_clock_now() - t0) / iters;
    t0 = rtc_clock_now();
    for (int i = 0; i < iters; i++) {
        if (feed(&b, &c, alloc, nalloc) != 0) { fprintf(stderr, "allocate: %d\n", b.last_code); exit(1); }
        if (feed(&b, &c, free0, nfree0) != 0) { fprintf(stderr, "refresh 0: %d\n", b.last_code); exit(1); }
    }
    double cycle_us = (double)(rtc_clock_now() - t0) / iters;
    printf("| %6u | %6u | %8.2f | %8.2f |\n", held, max_allocations, refused_us, cycle_us);
    rtc_turn_server_free(b.s);
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 20000;
    if (iters <= 0) iters = 20000;
    printf("TURN Allocate cost with max_per_user = %d (µs per request, in process)\n\n", PER_USER);
    printf("| held   | max    | 486 (µs) | allocate + refresh 0 (µs) |\n|---|---|---|---|\n");
    row(10, 10000, iters);
    row(1000, 10000, iters);
    row(10000, 10000 + 16, iters);
    row(60000, 65535, iters);
    return 0;
}
