/* A small real-socket driver for ICE agents in tests: one UDP socket per agent, an
 * optional TCP connection to a TURN server, poll() and the monotonic clock. It follows
 * the drain-until-quiet contract the way runtime/io does, without libuv. */
#ifndef TEST_ICE_SOCK_H
#define TEST_ICE_SOCK_H
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "core/rtc_time.h"
#include "ice/ice_agent.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

typedef struct sock_peer {
    rtc_ice_agent *a;
    int fd;                       /* UDP socket, bound to addr */
    rtc_addr addr;
    int tcp_fd;                   /* TCP connection to tcp_server, opened on first use */
    rtc_addr tcp_server;
    struct sock_peer *other;
    rtc_ice_state state;
    int selected, turn_failed, turn_failed_code, gathering_done, relay_candidates;
    rtc_ice_pair_info sel;
    uint64_t data_rx, relay_data_rx;
} sock_peer;

static rtc_rng sock_rng;

static int sock_udp_bind(rtc_addr *addr)
{
    int fd = socket(rtc_addr_family(addr), SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ASSERT(fd >= 0);
    ASSERT_EQ(bind(fd, &addr->u.sa, rtc_addr_len(addr)), 0);
    socklen_t sl = sizeof addr->u;
    ASSERT_EQ(getsockname(fd, &addr->u.sa, &sl), 0);
    return fd;
}

static void sock_peer_init(sock_peer *p, const char *ip, bool controlling, uint64_t tb, const char *ufrag,
                           bool relay_only)
{
    memset(p, 0, sizeof *p);
    p->tcp_fd = -1;
    ASSERT_EQ(rtc_addr_set(&p->addr, ip, 0), 0);
    p->fd = sock_udp_bind(&p->addr);
    rtc_ice_config cfg = {
        .controlling = controlling, .tie_breaker = tb, .rng = &sock_rng, .relay_only = relay_only,
        .local_ufrag = rtc_str_c(ufrag), .local_pwd = RTC_STR("abcdefghijklmnopqrstuvwx"),
    };
    ASSERT_EQ(rtc_ice_agent_new(&p->a, &cfg, rtc_clock_now()), 0);
}

static void sock_peer_free(sock_peer *p)
{
    rtc_ice_agent_free(p->a);
    close(p->fd);
    if (p->tcp_fd >= 0) close(p->tcp_fd);
}

static void sock_link(sock_peer *x, const char *xu, sock_peer *y, const char *yu)
{
    x->other = y;
    y->other = x;
    rtc_time now = rtc_clock_now();
    ASSERT_EQ(rtc_ice_agent_set_remote_credentials(x->a, rtc_str_c(yu), RTC_STR("abcdefghijklmnopqrstuvwx"), now), 0);
    ASSERT_EQ(rtc_ice_agent_set_remote_credentials(y->a, rtc_str_c(xu), RTC_STR("abcdefghijklmnopqrstuvwx"), now), 0);
}

static void sock_write_tcp(sock_peer *p, const rtc_transmit *t)
{
    if (p->tcp_fd < 0) {
        p->tcp_fd = socket(rtc_addr_family(&t->remote), SOCK_STREAM, 0);
        ASSERT(p->tcp_fd >= 0);
        ASSERT_EQ(connect(p->tcp_fd, &t->remote.u.sa, rtc_addr_len(&t->remote)), 0);
        p->tcp_server = t->remote;
    }
    size_t off = 0;
    while (off < t->buf->len) {
        ssize_t n = write(p->tcp_fd, t->buf->data + off, t->buf->len - off);
        ASSERT(n > 0);
        off += (size_t)n;
    }
}

static void sock_drain(sock_peer *p)
{
    rtc_transmit t;
    rtc_ice_event e;
    bool more = true;
    while (more) {
        more = false;
        while (rtc_ice_agent_poll_transmit(p->a, &t)) {
            more = true;
            if (t.proto == RTC_PROTO_TCP_RAW) sock_write_tcp(p, &t);
            else sendto(p->fd, t.buf->data, t.buf->len, 0, &t.remote.u.sa, rtc_addr_len(&t.remote));
            rtc_buf_unref(t.buf);
        }
        while (rtc_ice_agent_poll_event(p->a, &e)) {
            more = true;
            rtc_time now = rtc_clock_now();
            switch (e.type) {
            case RTC_ICE_EV_STATE: p->state = e.u.state; break;
            case RTC_ICE_EV_SELECTED_PAIR: p->selected++; p->sel = e.u.pair; break;
            case RTC_ICE_EV_LOCAL_CANDIDATE:
                if (e.u.cand.type == RTC_ICE_RELAY) p->relay_candidates++;
                if (p->other) rtc_ice_agent_add_remote_candidate(p->other->a, &e.u.cand, now);
                break;
            case RTC_ICE_EV_GATHERING_DONE:
                p->gathering_done++;
                if (p->other) rtc_ice_agent_end_of_candidates(p->other->a, now);
                break;
            case RTC_ICE_EV_DATA:
                ASSERT(e.u.data.buf->len == 8 && memcmp(e.u.data.buf->data, "app-data", 8) == 0);
                p->relay_data_rx++;
                rtc_buf_unref(e.u.data.buf);
                break;
            case RTC_ICE_EV_TURN_FAILED: p->turn_failed++; p->turn_failed_code = e.u.turn.code; break;
            default: break;
            }
        }
    }
}

/* One poll() round over all peers, waiting at most until the earliest agent deadline. */
static void sock_step(sock_peer **ps, int n)
{
    for (int i = 0; i < n; i++) sock_drain(ps[i]);
    rtc_time now = rtc_clock_now(), next = now + RTC_MS(50);
    for (int i = 0; i < n; i++) next = rtc_time_min(next, rtc_ice_agent_poll_timeout(ps[i]->a));
    struct pollfd pf[16];
    int np = 0;
    for (int i = 0; i < n; i++) {
        pf[np++] = (struct pollfd){ .fd = ps[i]->fd, .events = POLLIN };
        pf[np++] = (struct pollfd){ .fd = ps[i]->tcp_fd, .events = POLLIN };   /* -1 is ignored */
    }
    int wait_ms = next > now ? (int)((next - now + 999) / 1000) : 0;
    poll(pf, (nfds_t)np, wait_ms);
    uint8_t buf[4096];
    for (int i = 0; i < n; i++) {
        sock_peer *p = ps[i];
        for (;;) {
            rtc_addr from;
            socklen_t sl = sizeof from.u;
            ssize_t r = recvfrom(p->fd, buf, sizeof buf, 0, &from.u.sa, &sl);
            if (r < 0) break;
            now = rtc_clock_now();
            /* RFC 7983: STUN and ChannelData go to ICE; the rest is application data here. */
            if ((r > 0 && buf[0] <= 3) || (r > 0 && buf[0] >= 64 && buf[0] <= 79)) {
                rtc_ice_agent_handle_packet(p->a, &p->addr, &from, buf, (size_t)r, RTC_PROTO_UDP, now);
            } else {
                ASSERT(r == 8 && memcmp(buf, "app-data", 8) == 0);
                p->data_rx++;
            }
            sock_drain(p);
        }
        if (p->tcp_fd >= 0 && (pf[2 * i + 1].revents & POLLIN)) {
            ssize_t r = read(p->tcp_fd, buf, sizeof buf);
            if (r > 0) {
                rtc_ice_agent_handle_packet(p->a, &p->addr, &p->tcp_server, buf, (size_t)r, RTC_PROTO_TCP_RAW,
                                            rtc_clock_now());
                sock_drain(p);
            }
        }
        now = rtc_clock_now();
        if (rtc_ice_agent_poll_timeout(p->a) <= now) {
            rtc_ice_agent_handle_timeout(p->a, now);
            sock_drain(p);
        }
    }
}

static bool sock_both_connected(const sock_peer *x, const sock_peer *y)
{
    return x->selected && y->selected && (x->state == RTC_ICE_CONNECTED || x->state == RTC_ICE_COMPLETED) &&
           (y->state == RTC_ICE_CONNECTED || y->state == RTC_ICE_COMPLETED);
}

/* Step until cond(x, y) or `limit` of wall time passed; returns cond's final value. */
static bool sock_run_until(sock_peer *x, sock_peer *y, bool (*cond)(const sock_peer *, const sock_peer *),
                           rtc_time limit)
{
    sock_peer *ps[2] = { x, y };
    rtc_time end = rtc_clock_now() + limit;
    while (rtc_clock_now() < end) {
        if (cond(x, y)) return true;
        sock_step(ps, 2);
    }
    return cond(x, y);
}

/* Each side sends `count` datagrams through rtc_ice_agent_send, stepping between them. */
static void sock_exchange(sock_peer *x, sock_peer *y, int count)
{
    sock_peer *ps[2] = { x, y };
    for (int i = 0; i < count; i++) {
        rtc_time now = rtc_clock_now();
        ASSERT_EQ(rtc_ice_agent_send(x->a, (const uint8_t *)"app-data", 8, now), 0);
        ASSERT_EQ(rtc_ice_agent_send(y->a, (const uint8_t *)"app-data", 8, now), 0);
        sock_step(ps, 2);
    }
    rtc_time end = rtc_clock_now() + RTC_MS(300);
    while (rtc_clock_now() < end) sock_step(ps, 2);
}

#endif
