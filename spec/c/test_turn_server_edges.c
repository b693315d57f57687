/* TURN server machine on a virtual clock, the edges: relay port retries and
 * exhaustion, EVEN-PORT reservations, IPv6 and dual-stack allocations (440, 443), and
 * hostile input (random datagrams, floods, oversized ChannelData, broken TCP streams). */
#include "test_turn_server_harness.h"

/* Relay sockets: a failed bind moves to another port; after sixteen failures 508. With
 * no configured range the driver's port is used. */
static void test_relay_ports(void)
{
    rtc_turn_server_config cfg = { .min_port = 50000, .max_port = 50003 };
    T *t = t_new(&cfg);
    rawc c[6];
    for (int i = 0; i < 6; i++) rawc_init(&c[i], t, "198.51.100.2", (uint16_t)(5000 + i), "alice", "wonderland");
    t->fail_binds = 2;
    ASSERT_EQ(request(&c[0], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_RELAY_OPEN], 3);
    /* four ports: three more allocations fit... (one of them was freed by the failures) */
    ASSERT_EQ(request(&c[1], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    ASSERT_EQ(request(&c[2], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    ASSERT_EQ(request(&c[3], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    /* ...and the fifth finds the range full */
    ASSERT_EQ(request(&c[4], RTC_STUN_ALLOCATE, a_udp, NULL), 508);
    bool seen[4] = {0};
    for (int i = 0; i < t->nrelays; i++) {
        uint16_t p = rtc_addr_port(&t->relays[i].addr);
        ASSERT(p >= 50000 && p <= 50003);
        ASSERT(!seen[p - 50000]);
        seen[p - 50000] = true;
    }
    t_free(t);

    rtc_turn_server_config cfg2 = { .min_port = 50000, .max_port = 50099 };
    t = t_new(&cfg2);
    rawc_init(&c[0], t, "198.51.100.2", 5000, "alice", "wonderland");
    t->fail_binds = 16;
    ASSERT_EQ(request(&c[0], RTC_STUN_ALLOCATE, a_udp, NULL), 508);
    ASSERT_EQ(open_relays(t), 0);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.allocations, 0);
    t_free(t);
}

static void a_even_r(rtc_stun_writer *w, void *ud)
{
    (void)ud;
    rtc_stun_put_transport(w, 17);
    rtc_stun_put_even_port(w, true);
}

static void a_token(rtc_stun_writer *w, void *ud)
{
    rtc_stun_put_transport(w, 17);
    rtc_stun_put(w, RTC_STUN_ATTR_RESERVATION_TOKEN, ud, 8);
}

/* EVEN-PORT with R: an even port, and the next one kept for the token's owner. */
static void test_even_port_reservation(void)
{
    rtc_turn_server_config cfg = {0};
    T *t = t_new(&cfg);
    rawc a, b, c;
    rawc_init(&a, t, "198.51.100.2", 5000, "alice", "wonderland");
    rawc_init(&b, t, "198.51.100.2", 5001, "alice", "wonderland");
    rawc_init(&c, t, "198.51.100.2", 5002, "alice", "wonderland");
    ASSERT_EQ(request(&a, RTC_STUN_ALLOCATE, a_even_r, NULL), 0);
    rtc_addr ra, rb;
    relayed_of(&a, &ra);
    ASSERT_EQ(rtc_addr_port(&ra) & 1, 0);
    const rtc_stun_attr *tok = rtc_stun_find(&a.m, RTC_STUN_ATTR_RESERVATION_TOKEN);
    ASSERT(tok && tok->len == 8);
    uint8_t token[8];
    memcpy(token, tok->val, 8);
    ASSERT_EQ(request(&b, RTC_STUN_ALLOCATE, a_token, token), 0);
    relayed_of(&b, &rb);
    ASSERT_EQ(rtc_addr_port(&rb), rtc_addr_port(&ra) + 1);
    /* a token works once */
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_token, token), 508);
    t_free(t);
}

/* The reserved port is held by a socket of the server's: another program on the host
 * cannot take it before the token comes back (it used to be only marked in the
 * machine's bitmap, and a port taken meanwhile left the token's Allocate a 508). The
 * token's Allocate gets it, and an unused reservation lets it go when it expires. */
static void test_reserved_port_is_held(void)
{
    rtc_turn_server_config cfg = {0};
    T *t = t_new(&cfg);
    rawc a, b, c;
    rawc_init(&a, t, "198.51.100.2", 5000, "alice", "wonderland");
    rawc_init(&b, t, "198.51.100.2", 5001, "alice", "wonderland");
    rawc_init(&c, t, "198.51.100.2", 5002, "alice", "wonderland");
    ASSERT_EQ(request(&a, RTC_STUN_ALLOCATE, a_even_r, NULL), 0);
    rtc_addr ra, rb;
    relayed_of(&a, &ra);
    uint16_t next = (uint16_t)(rtc_addr_port(&ra) + 1);
    const rtc_stun_attr *tok = rtc_stun_find(&a.m, RTC_STUN_ATTR_RESERVATION_TOKEN);
    ASSERT(tok && tok->len == 8);
    uint8_t token[8];
    memcpy(token, tok->val, 8);
    ASSERT(!foreign_bind(t, next));                  /* the host refuses the other program */
    ASSERT_EQ(request(&b, RTC_STUN_ALLOCATE, a_token, token), 0);
    relayed_of(&b, &rb);
    ASSERT_EQ(rtc_addr_port(&rb), next);
    ASSERT_EQ(open_relays(t), 2);                    /* a's relay and b's, no holder left */
    /* an unused reservation: held for its 30 s, then free for anyone */
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_even_r, NULL), 0);
    rtc_addr rc;
    relayed_of(&c, &rc);
    uint16_t kept = (uint16_t)(rtc_addr_port(&rc) + 1);
    ASSERT_EQ(open_relays(t), 4);
    ASSERT(!foreign_bind(t, kept));
    advance(t, RTC_SEC(31));
    ASSERT_EQ(open_relays(t), 3);
    ASSERT(foreign_bind(t, kept));
    t_free(t);
}

static void a_zero(rtc_stun_writer *w, void *ud)
{
    (void)ud;
    rtc_stun_put_u32(w, RTC_STUN_ATTR_LIFETIME, 0);
}

/* EVEN-PORT with R where another program already holds the port after an even one:
 * that pair is given up and the other one used, so the token really gets its port. */
static void test_reserved_port_taken_moves_pair(void)
{
    rtc_turn_server_config cfg = { .min_port = 50000, .max_port = 50003 };
    T *t = t_new(&cfg);
    ASSERT(foreign_bind(t, 50001));
    for (int round = 0; round < 2; round++) {        /* whichever pair the machine tries first */
        rawc a, b;
        rawc_init(&a, t, "198.51.100.2", (uint16_t)(5000 + 2 * round), "alice", "wonderland");
        rawc_init(&b, t, "198.51.100.2", (uint16_t)(5001 + 2 * round), "alice", "wonderland");
        ASSERT_EQ(request(&a, RTC_STUN_ALLOCATE, a_even_r, NULL), 0);
        rtc_addr ra, rb;
        relayed_of(&a, &ra);
        ASSERT_EQ(rtc_addr_port(&ra), 50002);
        const rtc_stun_attr *tok = rtc_stun_find(&a.m, RTC_STUN_ATTR_RESERVATION_TOKEN);
        ASSERT(tok && tok->len == 8);
        uint8_t token[8];
        memcpy(token, tok->val, 8);
        ASSERT_EQ(request(&b, RTC_STUN_ALLOCATE, a_token, token), 0);
        relayed_of(&b, &rb);
        ASSERT_EQ(rtc_addr_port(&rb), 50003);
        /* both go (Refresh 0) and the range is as before for the next round */
        ASSERT_EQ(request(&a, RTC_STUN_REFRESH, a_zero, NULL), 0);
        ASSERT_EQ(request(&b, RTC_STUN_REFRESH, a_zero, NULL), 0);
        ASSERT_EQ(open_relays(t), 0);
    }
    t_free(t);
}

static void a_dual_draft(rtc_stun_writer *w, void *ud)
{
    (void)ud;
    rtc_stun_put_transport(w, 17);
    rtc_stun_put_family(w, 0x8032, AF_INET6);   /* the pre-RFC code point coturn sends */
}

static void a_zero_v6(rtc_stun_writer *w, void *ud)
{
    (void)ud;
    rtc_stun_put_u32(w, RTC_STUN_ATTR_LIFETIME, 0);
    rtc_stun_put_family(w, RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, AF_INET6);
}

static void test_ipv6_and_dual(void)
{
    rtc_turn_server_config cfg = {0};
    rtc_addr_set(&cfg.relay_v6, "2001:db8::1", 0);
    T *t = t_new(&cfg);
    rawc c4, c6, cd;
    rawc_init(&c4, t, "198.51.100.2", 5000, "alice", "wonderland");
    rawc_init(&c6, t, "198.51.100.2", 5001, "alice", "wonderland");
    rawc_init(&cd, t, "198.51.100.2", 5002, "alice", "wonderland");
    int f6[2] = { AF_INET6, 0 }, fd[2] = { 0, AF_INET6 }, fbad[2] = { AF_INET, AF_INET };
    ASSERT_EQ(request(&c4, RTC_STUN_ALLOCATE, a_fam, fbad), 400);
    ASSERT_EQ(request(&c6, RTC_STUN_ALLOCATE, a_fam, f6), 0);
    rtc_addr r6;
    relayed_of(&c6, &r6);
    ASSERT_EQ(rtc_addr_family(&r6), AF_INET6);
    ASSERT_EQ(request(&cd, RTC_STUN_ALLOCATE, a_fam, fd), 0);
    int n = 0, fams = 0;
    for (int i = 0; i < cd.m.nattrs; i++)
        if (cd.m.attrs[i].type == RTC_STUN_ATTR_XOR_RELAYED_ADDRESS) { n++; fams |= cd.m.attrs[i].val[1]; }
    ASSERT_EQ(n, 2);
    ASSERT_EQ(fams, 3);
    rawc dd;
    rawc_init(&dd, t, "198.51.100.2", 5003, "alice", "wonderland");
    ASSERT_EQ(request(&dd, RTC_STUN_ALLOCATE, a_dual_draft, NULL), 0);
    n = 0;
    for (int i = 0; i < dd.m.nattrs; i++) n += dd.m.attrs[i].type == RTC_STUN_ATTR_XOR_RELAYED_ADDRESS;
    ASSERT_EQ(n, 2);
    /* the dual allocation relays to both families */
    rtc_addr p4, p6;
    rtc_addr_set(&p4, "192.0.2.9", 7000);
    rtc_addr_set(&p6, "2001:db8::9", 7000);
    ASSERT_EQ(request(&cd, RTC_STUN_CREATE_PERMISSION, a_peer, &p4), 0);
    ASSERT_EQ(request(&cd, RTC_STUN_CREATE_PERMISSION, a_peer, &p6), 0);
    send_indication(&cd, &p6, "six");
    pkt p;
    ASSERT(take(t, &p6, &p));
    ASSERT_EQ(rtc_addr_family(&p.from), AF_INET6);
    send_indication(&cd, &p4, "four");
    ASSERT(take(t, &p4, &p));
    ASSERT_EQ(rtc_addr_family(&p.from), AF_INET);
    /* Refresh 0 with REQUESTED-ADDRESS-FAMILY drops only that relay of the dual one */
    int closes = t->ev[RTC_TURN_SRV_EV_RELAY_CLOSE];
    ASSERT_EQ(request(&cd, RTC_STUN_REFRESH, a_zero_v6, NULL), 0);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_RELAY_CLOSE], closes + 1);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_DEALLOCATED], 0);
    send_indication(&cd, &p6, "six");
    ASSERT(!take(t, &p6, &p));
    send_indication(&cd, &p4, "four");
    ASSERT(take(t, &p4, &p));
    ASSERT_EQ(request(&cd, RTC_STUN_REFRESH, a_zero_v6, NULL), 443);   /* already gone */
    /* the IPv6-only allocation refuses IPv4 peers */
    ASSERT_EQ(request(&c6, RTC_STUN_CREATE_PERMISSION, a_peer, &p4), 443);
    t_free(t);

    /* without an IPv6 relay: 440 for IPv6, IPv4 plus ADDRESS-ERROR-CODE for dual */
    rtc_turn_server_config cfg2 = {0};
    t = t_new(&cfg2);
    rawc_init(&c6, t, "198.51.100.2", 5001, "alice", "wonderland");
    rawc_init(&cd, t, "198.51.100.2", 5002, "alice", "wonderland");
    ASSERT_EQ(request(&c6, RTC_STUN_ALLOCATE, a_fam, f6), 440);
    ASSERT_EQ(request(&cd, RTC_STUN_ALLOCATE, a_fam, fd), 0);
    ASSERT(rtc_stun_find(&cd.m, RTC_STUN_ATTR_ADDRESS_ERROR_CODE) != NULL);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.err_440, 1);
    t_free(t);
}

/* Hostile input: nothing crashes, nothing is kept, everything is counted. */
static void test_hostile(void)
{
    rtc_turn_server_config cfg = { .max_tcp_conns = 8 };
    T *t = t_new(&cfg);
    rtc_addr x;
    rtc_addr_set(&x, "198.51.100.66", 4000);
    rtc_rng r;
    rtc_rng_init_seed(&r, 7);
    uint8_t b[1500];
    /* random datagrams, some with STUN-looking headers */
    for (int i = 0; i < 3000; i++) {
        size_t n = rtc_rng_below(&r, sizeof b);
        rtc_rng_bytes(&r, b, n);
        if (i % 3 == 0 && n >= 20) { b[0] &= 0x01; rtc_wr32(b + 4, RTC_STUN_MAGIC); rtc_wr16(b + 2, (uint16_t)((n - 20) & ~3u)); }
        if (i % 5 == 0 && n >= 4) b[0] = 0x40;
        feed(t, &x, RTC_PROTO_UDP, b, n);
    }
    feed(t, &x, RTC_PROTO_UDP, b, 0);
    /* oversized ChannelData (length beyond the datagram) and Send without allocation */
    rtc_wr16(b, 0x4000);
    rtc_wr16(b + 2, 1400);
    feed(t, &x, RTC_PROTO_UDP, b, 100);
    rawc c;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    rtc_addr peer;
    rtc_addr_set(&peer, "192.0.2.9", 7000);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    uint64_t noalloc = st.dropped_no_allocation;
    send_indication(&c, &peer, "sneaky");
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.dropped_no_allocation, noalloc + 1);
    ASSERT_EQ(t->nout, 0);
    /* a flood of unauthenticated Allocates from many ports: answered, no state kept */
    for (int i = 0; i < 2000; i++) {
        rawc f;
        rawc_init(&f, t, "198.51.100.7", (uint16_t)(1000 + i), "alice", "x");
        uint8_t q[256];
        size_t n = build(&f, q, sizeof q, RTC_STUN_ALLOCATE, RTC_STUN_REQUEST, a_udp, NULL, false);
        feed(t, &f.addr, RTC_PROTO_UDP, q, n);
    }
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.allocations, 0);
    ASSERT_GE(st.err_401, 2000);
    ASSERT_GE(st.dropped_malformed, 100);
    ASSERT_EQ(rtc_turn_server_poll_timeout(t->s), RTC_TIME_NEVER);   /* no timers for junk */
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_RELAY_OPEN], 0);
    /* TCP: garbage framing closes the connection; too many connections are refused */
    feed(t, &x, RTC_PROTO_TCP_RAW, (const uint8_t *)"\xff\xff\xff\xff", 4);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_CLOSE_CONN], 1);
    ASSERT_STREQ(t->last[RTC_TURN_SRV_EV_CLOSE_CONN].reason, "bad framing");
    for (int i = 0; i < 10; i++) {
        rtc_addr y;
        rtc_addr_set(&y, "198.51.100.67", (uint16_t)(4000 + i));
        feed(t, &y, RTC_PROTO_TCP_RAW, (const uint8_t *)"\x00\x01", 2);   /* half a header */
    }
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.tcp_conns, 8);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_CLOSE_CONN], 3);
    /* idle connections without allocation are closed after a minute */
    advance(t, RTC_SEC(61));
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.tcp_conns, 0);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_CLOSE_CONN], 11);
    /* a stream that announces a huge STUN body is buffered only up to one frame */
    rtc_addr z;
    rtc_addr_set(&z, "198.51.100.68", 4000);
    uint8_t big[20] = { 0x00, 0x01, 0xFF, 0xFC };
    rtc_wr32(big + 4, RTC_STUN_MAGIC);
    feed(t, &z, RTC_PROTO_TCP_RAW, big, sizeof big);
    for (int i = 0; i < 100; i++) feed(t, &z, RTC_PROTO_TCP_RAW, b, 1000);
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.tcp_conns, 0);                  /* 65552-byte message parsed, refused, next bytes garbage */
    t_free(t);
}

/* The server's own IP is reachable through a relay only on relay ports. */
static void test_own_address_ports(void)
{
    rtc_turn_server_config cfg = {0};
    T *t = t_new(&cfg);
    rawc c;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    rtc_addr own_any, ssh, relay_port;
    rtc_addr_set(&own_any, "203.0.113.1", 0);
    rtc_addr_set(&ssh, "203.0.113.1", 22);
    rtc_addr_set(&relay_port, "203.0.113.1", 50050);
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &own_any), 0);   /* IP-level: fine */
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &t->srv), 403);  /* the listener */
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    uint64_t dropped = st.dropped_no_permission;
    send_indication(&c, &ssh, "knock");
    pkt p;
    ASSERT(!take(t, &ssh, &p));
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.dropped_no_permission, dropped + 1);
    send_indication(&c, &relay_port, "hi relay");
    ASSERT(take(t, &relay_port, &p));
    ASSERT_EQ(p.len, 8);
    /* an explicit allow rule lifts the restriction */
    ASSERT_EQ(rtc_turn_server_add_peer_rule(t->s, &own_any, 32, true), 0);
    send_indication(&c, &ssh, "knock");
    ASSERT(take(t, &ssh, &p));
    t_free(t);
}

/* Connections announced by the driver count against the limit and close 60 s after
 * opening unless they allocated, whether they send bytes or not. */
static void test_tcp_open_limit(void)
{
    rtc_turn_server_config cfg = { .max_tcp_conns = 3 };
    T *t = t_new(&cfg);
    rtc_addr c[4];
    for (int i = 0; i < 4; i++) {
        rtc_addr_set(&c[i], "198.51.100.9", (uint16_t)(6000 + i));
        int r = rtc_turn_server_handle_tcp_open(t->s, &t->srv_tcp, &c[i], t->now);
        ASSERT_EQ(r, i < 3 ? 0 : RTC_EQUOTA);
    }
    ASSERT_EQ(rtc_turn_server_handle_tcp_open(t->s, &t->srv_tcp, &c[0], t->now), RTC_EEXISTS);
    drain(t);
    advance(t, RTC_SEC(30));
    feed(t, &c[0], RTC_PROTO_TCP_RAW, "\x00\x01", 2);    /* bytes without an allocation ... */
    advance(t, RTC_SEC(31));
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_CLOSE_CONN], 3);      /* ... do not keep a slot */
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.tcp_conns, 0);
    t_free(t);
}

int main(void)
{
    RUN(test_tcp_open_limit);
    RUN(test_own_address_ports);
    RUN(test_relay_ports);
    RUN(test_even_port_reservation);
    RUN(test_reserved_port_is_held);
    RUN(test_reserved_port_taken_moves_pair);
    RUN(test_ipv6_and_dual);
    RUN(test_hostile);
    return 0;
}
