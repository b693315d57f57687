/* ICE benchmark: time from start to a selected pair for two agents over real loopback
 * UDP (median and spread of 100 runs), and Binding requests/s handled in single-port
 * mode (many agents behind one address, routed by ufrag), and the single-port routing
 * table's cost per datagram (learnt sender, Binding request by ufrag, junk from an
 * unknown sender) at 10 and 10,000 connections. Figures only; nothing asserts on time. */
#include "core/rtc_time.h"
#include "ice/ice_agent.h"
#include "ice/ice_router.h"
#include "stun/stun.h"
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PWD "abcdefghijklmnopqrstuvwx"

static rtc_rng rng;

typedef struct side { rtc_ice_agent *a; int fd; rtc_addr addr; struct side *other; int selected; } side;

static int udp_bind(rtc_addr *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, &addr->u.sa, rtc_addr_len(addr)) != 0) { perror("bind"); exit(1); }
    socklen_t sl = sizeof addr->u;
    getsockname(fd, &addr->u.sa, &sl);
    return fd;
}

static void drain(side *s)
{
    rtc_transmit t;
    rtc_ice_event e;
    for (bool more = true; more;) {
        more = false;
        while (rtc_ice_agent_poll_transmit(s->a, &t)) {
            more = true;
            sendto(s->fd, t.buf->data, t.buf->len, 0, &t.remote.u.sa, rtc_addr_len(&t.remote));
            rtc_buf_unref(t.buf);
        }
        while (rtc_ice_agent_poll_event(s->a, &e)) {
            more = true;
            if (e.type == RTC_ICE_EV_LOCAL_CANDIDATE) rtc_ice_agent_add_remote_candidate(s->other->a, &e.u.cand, rtc_clock_now());
            if (e.type == RTC_ICE_EV_SELECTED_PAIR) s->selected++;
            if (e.type == RTC_ICE_EV_DATA) rtc_buf_unref(e.u.data.buf);
        }
    }
}

static void make_side(side *s, bool controlling, const char *ufrag)
{
    memset(s, 0, sizeof *s);
    rtc_addr_set(&s->addr, "127.0.0.1", 0);
    s->fd = udp_bind(&s->addr);
    rtc_ice_config cfg = { .controlling = controlling, .tie_breaker = controlling ? 2 : 1, .rng = &rng,
                           .local_ufrag = rtc_str_c(ufrag), .local_pwd = RTC_STR(PWD) };
    rtc_ice_agent_new(&s->a, &cfg, rtc_clock_now());
}

/* One connection: create both agents, exchange credentials and candidates, run until
 * both selected a pair. Returns the elapsed microseconds. */
static rtc_time connect_once(void)
{
    side x, y;
    make_side(&x, true, "xbench");
    make_side(&y, false, "ybench");
    x.other = &y;
    y.other = &x;
    rtc_time t0 = rtc_clock_now();
    rtc_ice_agent_set_remote_credentials(x.a, RTC_STR("ybench"), RTC_STR(PWD), t0);
    rtc_ice_agent_set_remote_credentials(y.a, RTC_STR("xbench"), RTC_STR(PWD), t0);
    rtc_ice_agent_add_host_candidate(x.a, &x.addr, 65535, NULL, t0);
    rtc_ice_agent_add_host_candidate(y.a, &y.addr, 65535, NULL, t0);
    side *ss[2] = { &x, &y };
    while (!(x.selected && y.selected) && rtc_clock_now() - t0 < RTC_SEC(10)) {
        drain(&x);
        drain(&y);
        rtc_time now = rtc_clock_now();
        rtc_time next = rtc_time_min(rtc_ice_agent_poll_timeout(x.a), rtc_ice_agent_poll_timeout(y.a));
        struct pollfd pf[2] = { { .fd = x.fd, .events = POLLIN }, { .fd = y.fd, .events = POLLIN } };
        poll(pf, 2, next > now ? (int)((next - now + 999) / 1000) : 0);
        for (int i = 0; i < 2; i++) {
            uint8_t buf[2048];
            rtc_addr from;
            socklen_t sl = sizeof from.u;
            ssize_t r;
            while ((r = recvfrom(ss[i]->fd, buf, sizeof buf, 0, &from.u.sa, &sl)) > 0) {
                rtc_ice_agent_handle_packet(ss[i]->a, &ss[i]->addr, &from, buf, (size_t)r, RTC_PROTO_UDP, rtc_clock_now());
                drain(ss[i]);
                sl = sizeof from.u;
            }
            if (rtc_ice_agent_poll_timeout(ss[i]->a) <= rtc_clock_now()) {
                rtc_ice_agent_handle_timeout(ss[i]->a, rtc_clock_now());
                drain(ss[i]);
            }
        }
    }
    rtc_time dt = rtc_clock_now() - t0;
    rtc_ice_agent_free(x.a);
    rtc_ice_agent_free(y.a);
    close(x.fd);
    close(y.fd);
    return dt;
}

static int cmp_time(const void *a, const void *b)
{
    rtc_time x = *(const rtc_time *)a, y = *(const rtc_time *)b;
    return x < y ? -1 : x > y;
}

static void bench_connect(void)
{
    enum { RUNS = 100 };
    rtc_time t[RUNS];
    for (int i = 0; i < RUNS; i++) t[i] = connect_once();
    qsort(t, RUNS, sizeof *t, cmp_time);
    printf("| time to selected pair, loopback UDP (ms)  | median %7.2f | p10 %7.2f | p90 %7.2f |\n",
           t[RUNS / 2] / 1000.0, t[RUNS / 10] / 1000.0, t[RUNS * 9 / 10] / 1000.0);
}

/* Single-port: N agents on one address; each request is routed with accepts() and
 * answered by its agent. Counts requests handled per second (routing + integrity +
 * response build). */
static void bench_single_port(int n)
{
    rtc_ice_agent **ag = calloc((size_t)n, sizeof *ag);
    rtc_addr srv, *cli = calloc((size_t)n, sizeof *cli);
    rtc_addr_set(&srv, "192.0.2.1", 3478);
    enum { REQS = 64 };
    uint8_t (*req)[256] = calloc((size_t)n * REQS, sizeof *req);
    size_t *reqlen = calloc((size_t)n * REQS, sizeof *reqlen);
    for (int i = 0; i < n; i++) {
        char uf[32], ip[32];
        snprintf(uf, sizeof uf, "srv%05d", i);
        rtc_ice_config cfg = { .tie_breaker = 1, .rng = &rng, .local_ufrag = rtc_str_c(uf), .local_pwd = RTC_STR(PWD) };
        rtc_ice_agent_new(&ag[i], &cfg, 0);
        rtc_ice_agent_add_host_candidate(ag[i], &srv, 65535, NULL, 0);
        snprintf(ip, sizeof ip, "10.%d.%d.1", (i >> 8) & 255, i & 255);
        rtc_addr_set(&cli[i], ip, 5000);
        for (int k = 0; k < REQS; k++) {
            uint8_t tid[12];
            rtc_rng_bytes(&rng, tid, sizeof tid);
            char user[64];
            int ul = snprintf(user, sizeof user, "%s:cli%05d", uf, i);
            rtc_stun_writer w;
            rtc_stun_writer_init(&w, req[i * REQS + k], 256, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
            rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, (rtc_str){ user, (size_t)ul });
            rtc_stun_put_u32(&w, RTC_STUN_ATTR_PRIORITY, 1853824767u);
            rtc_stun_put_u64(&w, RTC_STUN_ATTR_ICE_CONTROLLING, 99);
            rtc_stun_put_integrity(&w, (const uint8_t *)PWD, strlen(PWD));
            rtc_stun_put_fingerprint(&w);
            reqlen[i * REQS + k] = (size_t)rtc_stun_finish(&w);
        }
    }
    rtc_time t0 = rtc_clock_now();
    size_t handled = 0, total = (size_t)n * REQS * 4;
    for (size_t r = 0; r < total; r++) {
        int i = (int)(r % (size_t)n);
        size_t k = (size_t)i * REQS + (r / (size_t)n) % REQS;
        rtc_stun_msg m;
        if (rtc_stun_parse(req[k], reqlen[k], &m) < 0) continue;
        /* Route: a real server would index agents by ufrag; here the routing itself is
         * the USERNAME prefix match of accepts_stun, tried on the owner's slot. */
        if (!rtc_ice_agent_accepts_stun(ag[i], &m, &cli[i])) continue;
        rtc_ice_agent_handle_stun(ag[i], &m, &srv, &cli[i], rtc_clock_now());
        rtc_transmit t;
        while (rtc_ice_agent_poll_transmit(ag[i], &t)) rtc_buf_unref(t.buf);
        rtc_ice_event e;
        while (rtc_ice_agent_poll_event(ag[i], &e)) {}
        handled++;
    }
    rtc_time dt = rtc_clock_now() - t0;
    printf("| single-port Binding requests, %5d agents | %10.0f req/s |\n", n, handled / (dt / 1e6));
    for (int i = 0; i < n; i++) rtc_ice_agent_free(ag[i]);
    free(ag);
    free(cli);
    free(req);
    free(reqlen);
}


/* ns per datagram through rtc_ice_router_route: `n` owners, each with a ufrag and two
 * learnt senders; datagrams visit owners in a scrambled order so the tables do not sit
 * in cache by luck. The linear scan line is the routing single-port mode used before
 * the table (an array of learnt senders compared one by one), for scale. */
static volatile uintptr_t sink;

static void bench_router(int n)
{
    rtc_ice_router *r;
    rtc_ice_router_new(&r, 0);
    int *owner = calloc((size_t)n, sizeof *owner);
    rtc_addr *from = calloc((size_t)n * 2, sizeof *from), unknown;
    uint8_t (*req)[128] = calloc((size_t)n, sizeof *req);
    size_t *reqlen = calloc((size_t)n, sizeof *reqlen);
    rtc_addr_set(&unknown, "203.0.113.9", 9);
    for (int i = 0; i < n; i++) {
        char uf[32], ip[32], user[64];
        snprintf(uf, sizeof uf, "u%07d", i);
        rtc_ice_router_add_ufrag(r, rtc_str_c(uf), &owner[i]);
        for (int k = 0; k < 2; k++) {
            snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 8) & 255, i & 255, 1 + k);
            rtc_addr_set(&from[i * 2 + k], ip, (uint16_t)(5000 + i % 1000));
            rtc_ice_router_learn(r, &from[i * 2 + k], &owner[i]);
        }
        uint8_t tid[12] = { 0 };
        int ul = snprintf(user, sizeof user, "%s:remote", uf);
        rtc_stun_writer w;
        rtc_stun_writer_init(&w, req[i], sizeof req[i], RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
        rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, (rtc_str){ user, (size_t)ul });
        rtc_stun_put_integrity(&w, (const uint8_t *)PWD, strlen(PWD));
        rtc_stun_put_fingerprint(&w);
        reqlen[i] = (size_t)rtc_stun_finish(&w);
    }
    static const uint8_t srtp[100] = { 0x80, 96 };
    enum { ROUNDS = 2000000 };
    const char *what[4] = { "learnt sender (SRTP)", "Binding request by ufrag", "junk, unknown sender", "linear scan (before)" };
    for (int kind = 0; kind < 4; kind++) {
        int rounds = kind == 3 ? (n > 1000 ? 20000 : ROUNDS / 4) : ROUNDS;
        rtc_time t0 = rtc_clock_now();
        uint32_t x = 1;
        for (int j = 0; j < rounds; j++) {
            x = x * 1664525u + 1013904223u;
            int i = (int)((x >> 8) % (uint32_t)n);
            if (kind == 0) sink += (uintptr_t)rtc_ice_router_route(r, srtp, sizeof srtp, &from[i * 2 + (j & 1)], NULL);
            else if (kind == 1) sink += (uintptr_t)rtc_ice_router_route(r, req[i], reqlen[i], &from[i * 2], NULL);
            else if (kind == 2) sink += (uintptr_t)rtc_ice_router_route(r, srtp, sizeof srtp, &unknown, NULL);
            else {
                const rtc_addr *f = &from[i * 2];
                for (int k = 0; k < n * 2; k++) if (rtc_addr_eq(&from[k], f)) { sink += (uintptr_t)k; break; }
            }
        }
        rtc_time dt = rtc_clock_now() - t0;
        printf("| single-port routing, %5d connections, %-26s | %8.1f ns/datagram |\n", n, what[kind],
               (double)dt * 1000.0 / rounds);
    }
    rtc_ice_router_free(r);
    free(owner);
    free(from);
    free(req);
    free(reqlen);
}

int main(void)
{
    rtc_rng_init_crypto(&rng);
    printf("# ICE\n");
    bench_connect();
    bench_single_port(100);
    bench_single_port(1000);
    bench_router(10);
    bench_router(10000);
    return 0;
}
