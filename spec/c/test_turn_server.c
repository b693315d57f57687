/* TURN server machine on a virtual clock: our TURN client and hand-built requests
 * against it. Allocate/refresh/permission/channel/data flows over UDP and TCP, expiry
 * of allocations, permissions and channels, the errors a client meets (400, 401, 403,
 * 420, 437, 438, 441, 442, 443, 486, 508), TURN REST and callback credentials, hooks
 * and the bandwidth cap. Relay ports, IPv6 and hostile input: test_turn_server_edges.c. */
#include "test_turn_server_harness.h"

/* ====== tests ====== */

static void test_binding(void)
{
    rtc_turn_server_config cfg = {0};
    T *t = t_new(&cfg);
    rawc c;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    ASSERT_EQ(request(&c, RTC_STUN_BINDING, NULL, NULL), 0);
    rtc_addr mapped;
    ASSERT_EQ(rtc_stun_get_addr(&c.m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), 0);
    ASSERT(rtc_addr_eq(&mapped, &c.addr));
    ASSERT(c.m.has_fingerprint);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.binding_requests, 1);
    ASSERT_EQ(st.allocations, 0);
    t_free(t);
}

/* Our TURN client end to end: allocate (401 then success), Send indication then
 * ChannelData to the peer, Data indication then ChannelData back, deallocate. */
static void client_flow(int transport)
{
    rtc_turn_server_config cfg = {0};
    T *t = t_new(&cfg);
    rtc_addr caddr, peer;
    rtc_addr_set(&caddr, "198.51.100.2", 5000);
    rtc_addr_set(&peer, "192.0.2.9", 7000);
    rtc_turn_config cc = { .transport = transport, .username = RTC_STR("alice"),
                           .password = RTC_STR("wonderland"), .rng = &t->rng };
    cc.server = t->srv;
    cc.local = caddr;
    rtc_turn_client *cl;
    ASSERT_EQ(rtc_turn_client_new(&cl, &cc, t->now), 0);
    int proto = transport == RTC_TURN_TCP ? RTC_PROTO_TCP_RAW : RTC_PROTO_UDP;
    int allocated = 0, data_events = 0, closed = 0;
    uint8_t stream[8192];
    size_t slen = 0;
    rtc_addr relayed;
    bool sent = false;
    for (int round = 0; round < 400; round++) {
        rtc_transmit tx;
        while (rtc_turn_client_poll_transmit(cl, &tx)) {
            if (proto == RTC_PROTO_UDP) {
                feed(t, &caddr, proto, tx.buf->data, tx.buf->len);
            } else {
                /* the stream arrives in 3-byte pieces: framing must not care */
                for (size_t off = 0; off < tx.buf->len; off += 3) {
                    size_t n = tx.buf->len - off < 3 ? tx.buf->len - off : 3;
                    feed(t, &caddr, proto, tx.buf->data + off, n);
                }
            }
            rtc_buf_unref(tx.buf);
        }
        pkt p;
        while (take(t, &caddr, &p)) {
            if (proto == RTC_PROTO_UDP) {
                ASSERT_EQ(p.proto, RTC_PROTO_UDP);
                rtc_turn_client_handle_packet(cl, p.data, p.len, t->now);
            } else {
                ASSERT_EQ(p.proto, RTC_PROTO_TCP_RAW);
                memcpy(stream + slen, p.data, p.len);
                slen += p.len;
            }
        }
        if (slen) { rtc_turn_client_handle_packet(cl, stream, slen, t->now); slen = 0; }
        rtc_turn_event ev;
        while (rtc_turn_client_poll_event(cl, &ev)) {
            if (ev.type == RTC_TURN_EV_ALLOCATED) { allocated++; relayed = ev.relayed; }
            if (ev.type == RTC_TURN_EV_DATA) {
                ASSERT(rtc_addr_eq(&ev.peer, &peer));
                ASSERT_EQ(ev.data->len, 5);
                ASSERT_MEMEQ(ev.data->data, "pong!", 5);
                data_events++;
                rtc_buf_unref(ev.data);
            }
            if (ev.type == RTC_TURN_EV_CLOSED) closed++;
            ASSERT(ev.type != RTC_TURN_EV_FAILED);
        }
        if (allocated && !sent) {
            ASSERT_EQ(rtc_turn_client_send(cl, &peer, (const uint8_t *)"ping", 4, t->now), 0);
            sent = true;
        }
        /* every packet reaching the peer is answered */
        while (take(t, &peer, &p)) {
            ASSERT_EQ(p.len, 4);
            ASSERT_MEMEQ(p.data, "ping", 4);
            ASSERT(rtc_addr_eq(&p.from, &relayed));
            ASSERT_NE(p.relay_id, 0);
            rtc_turn_server_handle_relay(t->s, p.relay_id, &peer, (const uint8_t *)"pong!", 5, t->now);
            drain(t);
            if (data_events < 3) ASSERT_EQ(rtc_turn_client_send(cl, &peer, (const uint8_t *)"ping", 4, t->now), 0);
        }
        if (data_events >= 3 && !closed && round > 50) rtc_turn_client_close(cl, t->now);
        if (closed) break;
        t->now += RTC_MS(20);
        rtc_turn_client_handle_timeout(cl, t->now);
        rtc_turn_server_handle_timeout(t->s, t->now);
        drain(t);
    }
    ASSERT_EQ(allocated, 1);
    ASSERT_GE(data_events, 3);
    ASSERT_EQ(closed, 1);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_ALLOCATED], 1);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_DEALLOCATED], 1);
    ASSERT_STREQ(t->last[RTC_TURN_SRV_EV_DEALLOCATED].reason, "refresh 0");
    ASSERT_EQ(open_relays(t), 0);
    ASSERT_GE(rtc_addr_port(&relayed), 50000);
    ASSERT_LE(rtc_addr_port(&relayed), 50099);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_GE(st.relayed_to_peer, 3);
    ASSERT_GE(st.relayed_to_client, 3);
    ASSERT_EQ(st.allocations, 0);
    ASSERT_EQ(st.allocations_total, 1);
    ASSERT_GE(st.err_401, 1);
    rtc_turn_stats cs;
    rtc_turn_client_get_stats(cl, &cs);
    ASSERT_GE(cs.sent_channel, 1);        /* the channel was bound and used */
    rtc_turn_client_free(cl);
    if (transport == RTC_TURN_TCP) {
        ASSERT_EQ(rtc_turn_server_handle_tcp_closed(t->s, &t->srv_tcp, &caddr, t->now), 0);
        rtc_turn_server_get_stats(t->s, &st);
        ASSERT_EQ(st.tcp_conns, 0);
    }
    t_free(t);
}
static void test_client_flow_udp(void) { client_flow(RTC_TURN_UDP); }
static void test_client_flow_tcp(void) { client_flow(RTC_TURN_TCP); }

/* Permissions gate peer traffic, channels carry data, and each expires on time. */
static void test_permission_channel_and_expiry(void)
{
    rtc_turn_server_config cfg = {0};
    T *t = t_new(&cfg);
    rawc c;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    uint32_t life = 3600;
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp_life, &life), 0);
    uint32_t got;
    ASSERT_EQ(rtc_stun_get_u32(&c.m, RTC_STUN_ATTR_LIFETIME, &got), 0);
    ASSERT_EQ(got, 3600);
    rtc_addr relayed, peer, other;
    relayed_of(&c, &relayed);
    uint32_t rid = relay_id_for(t, &relayed);
    rtc_addr_set(&peer, "192.0.2.9", 7000);
    rtc_addr_set(&other, "192.0.2.10", 7000);
    rtc_turn_server_stats st;

    /* no permission: both directions dropped */
    send_indication(&c, &peer, "x");
    ASSERT_EQ(rtc_turn_server_handle_relay(t->s, rid, &peer, (const uint8_t *)"y", 1, t->now), RTC_EACCESS);
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.dropped_no_permission, 2);
    ASSERT_EQ(t->nout, 0);

    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &peer), 0);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_PERMISSION], 1);
    send_indication(&c, &peer, "hello");
    pkt p;
    ASSERT(take(t, &peer, &p));
    ASSERT_EQ(p.len, 5);
    ASSERT_MEMEQ(p.data, "hello", 5);
    ASSERT(rtc_addr_eq(&p.from, &relayed));
    ASSERT_EQ(p.relay_id, rid);
    /* permission is per IP: another port of the same host may answer */
    rtc_addr peer_port2 = peer;
    rtc_addr_set_port(&peer_port2, 7001);
    ASSERT_EQ(rtc_turn_server_handle_relay(t->s, rid, &peer_port2, (const uint8_t *)"back", 4, t->now), 0);
    drain(t);
    ASSERT(take(t, &c.addr, &p));
    rtc_stun_msg dm;
    ASSERT_EQ(rtc_stun_parse(p.data, p.len, &dm), 0);
    ASSERT_EQ(dm.method, RTC_STUN_DATA);
    ASSERT_EQ(dm.cls, RTC_STUN_INDICATION);
    rtc_addr from;
    ASSERT_EQ(rtc_stun_get_addr(&dm, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &from), 0);
    ASSERT(rtc_addr_eq(&from, &peer_port2));
    /* other hosts still refused */
    ASSERT_EQ(rtc_turn_server_handle_relay(t->s, rid, &other, (const uint8_t *)"z", 1, t->now), RTC_EACCESS);

    /* channel: ChannelData both ways */
    chan_arg ca = { 0x4001, peer };
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &ca), 0);
    uint8_t b[64];
    feed(t, &c.addr, RTC_PROTO_UDP, b, channel_data(b, 0x4001, "viachan"));
    ASSERT(take(t, &peer, &p));
    ASSERT_EQ(p.len, 7);
    ASSERT_MEMEQ(p.data, "viachan", 7);
    rtc_turn_server_handle_relay(t->s, rid, &peer, (const uint8_t *)"abc", 3, t->now);
    drain(t);
    ASSERT(take(t, &c.addr, &p));
    ASSERT_EQ(p.len, 7);                            /* UDP: no padding */
    ASSERT_EQ(rtc_rd16(p.data), 0x4001);
    ASSERT_EQ(rtc_rd16(p.data + 2), 3);
    /* binding the same channel to another peer, or the peer to another channel: 400 */
    chan_arg bad = { 0x4001, other };
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &bad), 400);
    chan_arg bad2 = { 0x4002, peer };
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &bad2), 400);
    chan_arg range = { 0x3FFF, other }, range2 = { 0x7FFF, other };
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &range), 400);
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &range2), 400);

    /* 301 s later the permission is gone but the channel (600 s) is not: the channel
     * still sends, while the peer's answers are dropped */
    advance(t, RTC_SEC(301));
    ASSERT_EQ(rtc_turn_server_handle_relay(t->s, rid, &peer_port2, (const uint8_t *)"late", 4, t->now), RTC_EACCESS);
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_GE(st.expired_permissions, 0);
    /* the channel bind installed a permission at the same time, so refresh it */
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &peer), 0);
    feed(t, &c.addr, RTC_PROTO_UDP, b, channel_data(b, 0x4001, "still"));
    ASSERT(take(t, &peer, &p));
    advance(t, RTC_SEC(300));                        /* channel now 601 s old */
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &peer), 0);
    feed(t, &c.addr, RTC_PROTO_UDP, b, channel_data(b, 0x4001, "gone"));
    ASSERT(!take(t, &peer, &p));
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.dropped_unknown_channel, 1);
    ASSERT_GE(st.expired_channels, 1);
    /* an expired channel is quarantined for 5 minutes: neither side may be rebound to
     * something else, while the same pair may be bound again */
    chan_arg other_peer = { 0x4001, other }, other_num = { 0x4005, peer };
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &other_peer), 400);
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &other_num), 400);
    advance(t, RTC_SEC(301));
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &other_peer), 0);
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &other_num), 0);
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &ca), 400);     /* 0x4001 is other's now */

    /* the allocation itself expires at 3600 s unless refreshed */
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_DEALLOCATED], 0);
    advance(t, RTC_SEC(2700));
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_DEALLOCATED], 1);
    ASSERT_STREQ(t->last[RTC_TURN_SRV_EV_DEALLOCATED].reason, "expired");
    ASSERT_EQ(open_relays(t), 0);
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.allocations, 0);
    ASSERT_EQ(st.expired_allocations, 1);
    ASSERT_EQ(rtc_turn_server_poll_timeout(t->s), RTC_TIME_NEVER);
    /* data for a dead relay id is refused */
    ASSERT_EQ(rtc_turn_server_handle_relay(t->s, rid, &peer, (const uint8_t *)"z", 1, t->now), RTC_ENOTFOUND);
    t_free(t);
}

static void test_refresh_lifetimes(void)
{
    rtc_turn_server_config cfg = {0};
    T *t = t_new(&cfg);
    rawc c;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    uint32_t life = 99999, got;
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp_life, &life), 0);
    ASSERT_EQ(rtc_stun_get_u32(&c.m, RTC_STUN_ATTR_LIFETIME, &got), 0);
    ASSERT_EQ(got, 3600);                             /* capped at the maximum */
    life = 10;
    ASSERT_EQ(request(&c, RTC_STUN_REFRESH, a_life, &life), 0);
    ASSERT_EQ(rtc_stun_get_u32(&c.m, RTC_STUN_ATTR_LIFETIME, &got), 0);
    ASSERT_EQ(got, 600);                              /* below the default: the default */
    advance(t, RTC_SEC(599));
    ASSERT_EQ(request(&c, RTC_STUN_REFRESH, NULL, NULL), 0);
    advance(t, RTC_SEC(599));
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_DEALLOCATED], 0);
    advance(t, RTC_SEC(2));
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_DEALLOCATED], 1);
    /* a new allocation, deleted by lifetime 0 */
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    life = 0;
    ASSERT_EQ(request(&c, RTC_STUN_REFRESH, a_life, &life), 0);
    ASSERT_EQ(rtc_stun_get_u32(&c.m, RTC_STUN_ATTR_LIFETIME, &got), 0);
    ASSERT_EQ(got, 0);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_DEALLOCATED], 2);
    ASSERT_EQ(open_relays(t), 0);
    /* refresh without allocation: 437 */
    ASSERT_EQ(request(&c, RTC_STUN_REFRESH, NULL, NULL), 437);
    t_free(t);
}

static void test_auth_errors(void)
{
    rtc_turn_server_config cfg = { .nonce_lifetime = 60 };
    T *t = t_new(&cfg);
    rawc c, wrong, bob;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    rawc_init(&wrong, t, "198.51.100.3", 5000, "alice", "oz");
    rawc_init(&bob, t, "198.51.100.2", 5000, "bob", "builder");   /* same 5-tuple as alice */
    c.show_stale = true;
    /* no credentials at all: 401 with realm and nonce (request() retries once, then 401) */
    ASSERT_EQ(request(&wrong, RTC_STUN_ALLOCATE, a_udp, NULL), 401);
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_tcp, NULL), 442);
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, NULL, NULL), 400);   /* no REQUESTED-TRANSPORT */
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    uint8_t first_tid[12];
    memcpy(first_tid, c.last_tid, 12);
    /* a second Allocate on the same 5-tuple: 437 */
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 437);
    /* another user with valid credentials on alice's allocation: 441 */
    strcpy(bob.nonce, c.nonce);
    ASSERT_EQ(request(&bob, RTC_STUN_REFRESH, NULL, NULL), 441);
    /* nonces expire: 438 with a fresh nonce, which then works */
    advance(t, RTC_SEC(61));
    char old[64];
    strcpy(old, c.nonce);
    ASSERT_EQ(request(&c, RTC_STUN_REFRESH, NULL, NULL), 438);
    ASSERT(strcmp(old, c.nonce) != 0);
    ASSERT_EQ(request(&c, RTC_STUN_REFRESH, NULL, NULL), 0);
    /* a forged nonce is 401, not 438 */
    strcpy(c.nonce, "0000ffff0011223344556677");
    ASSERT_EQ(request(&c, RTC_STUN_REFRESH, NULL, NULL), 401);
    ASSERT_EQ(request(&c, RTC_STUN_REFRESH, NULL, NULL), 0);
    /* unknown comprehension-required attribute: 420 */
    uint8_t buf[256], tid[12] = { 1 };
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, sizeof buf, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
    rtc_stun_put_u32(&w, 0x0042, 1);
    feed(t, &c.addr, RTC_PROTO_UDP, buf, (size_t)rtc_stun_finish(&w));
    pkt p;
    ASSERT(take(t, &c.addr, &p));
    rtc_stun_msg m;
    ASSERT_EQ(rtc_stun_parse(p.data, p.len, &m), 0);
    int code; rtc_str reason;
    ASSERT_EQ(rtc_stun_get_error(&m, &code, &reason), 0);
    ASSERT_EQ(code, 420);
    ASSERT(rtc_stun_find(&m, RTC_STUN_ATTR_UNKNOWN_ATTRIBUTES) != NULL);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.err_437, 1);
    ASSERT_EQ(st.err_438, 1);
    ASSERT_EQ(st.err_441, 1);
    ASSERT_EQ(st.err_442, 1);
    ASSERT_EQ(st.err_420, 1);
    ASSERT_EQ(st.allocations, 1);
    (void)first_tid;
    t_free(t);
}

/* A retransmitted Allocate (same transaction id) gets the success again, not 437. */
static void test_allocate_retransmit(void)
{
    rtc_turn_server_config cfg = {0};
    T *t = t_new(&cfg);
    rawc c;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    rtc_addr relayed, again;
    relayed_of(&c, &relayed);
    /* rebuild the same request bytes with the same tid */
    uint8_t buf[512];
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, sizeof buf, RTC_STUN_ALLOCATE, RTC_STUN_REQUEST, c.last_tid);
    rtc_stun_put_transport(&w, 17);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, RTC_STR("alice"));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_REALM, RTC_STR("example.org"));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_NONCE, rtc_str_c(c.nonce));
    rtc_stun_put_integrity(&w, c.key, 16);
    feed(t, &c.addr, RTC_PROTO_UDP, buf, (size_t)rtc_stun_finish(&w));
    pkt p;
    ASSERT(take(t, &c.addr, &p));
    rtc_stun_msg m;
    ASSERT_EQ(rtc_stun_parse(p.data, p.len, &m), 0);
    ASSERT_EQ(m.cls, RTC_STUN_SUCCESS);
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &again), 0);
    ASSERT(rtc_addr_eq(&relayed, &again));
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_RELAY_OPEN], 1);
    t_free(t);
}

static void test_quotas(void)
{
    rtc_turn_server_config cfg = { .max_per_user = 2, .max_allocations = 3 };
    T *t = t_new(&cfg);
    rawc c[5];
    rawc_init(&c[0], t, "198.51.100.2", 5000, "alice", "wonderland");
    rawc_init(&c[1], t, "198.51.100.2", 5001, "alice", "wonderland");
    rawc_init(&c[2], t, "198.51.100.2", 5002, "alice", "wonderland");
    rawc_init(&c[3], t, "198.51.100.3", 5000, "bob", "builder");
    rawc_init(&c[4], t, "198.51.100.3", 5001, "bob", "builder");
    ASSERT_EQ(request(&c[0], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    ASSERT_EQ(request(&c[1], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    ASSERT_EQ(request(&c[2], RTC_STUN_ALLOCATE, a_udp, NULL), 486);   /* alice's quota */
    ASSERT_EQ(request(&c[3], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    ASSERT_EQ(request(&c[4], RTC_STUN_ALLOCATE, a_udp, NULL), 508);   /* server full */
    uint32_t zero = 0;
    ASSERT_EQ(request(&c[0], RTC_STUN_REFRESH, a_life, &zero), 0);
    ASSERT_EQ(request(&c[4], RTC_STUN_ALLOCATE, a_udp, NULL), 0);     /* room again */
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.err_486, 1);
    ASSERT_EQ(st.err_508, 1);
    ASSERT_EQ(st.allocations, 3);
    t_free(t);
}

static int deny_peer_cb(void *ud, const rtc_turn_authz *q)
{
    int *calls = ud;
    calls[q->kind]++;
    if (q->kind == RTC_TURN_AUTHZ_ALLOCATE) return rtc_str_eq(q->username, RTC_STR("bob")) ? -1 : 0;
    return rtc_addr_port(q->peer) == 6666 ? -1 : 0;
}

static void test_forbidden_peers(void)
{
    int calls[2] = {0};
    rtc_turn_server_config cfg = { .authorize = deny_peer_cb, .auth_ud = calls };
    T *t = t_new(&cfg);
    rtc_addr net;
    rtc_addr_set(&net, "10.20.0.0", 0);
    ASSERT_EQ(rtc_turn_server_add_peer_rule(t->s, &net, 16, true), 0);     /* allowed private range */
    rtc_addr_set(&net, "192.0.2.128", 0);
    ASSERT_EQ(rtc_turn_server_add_peer_rule(t->s, &net, 25, false), 0);    /* denied public range */
    rawc c, b;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    rawc_init(&b, t, "198.51.100.4", 5000, "bob", "builder");
    ASSERT_EQ(request(&b, RTC_STUN_ALLOCATE, a_udp, NULL), 403);           /* hook refuses bob */
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    const char *bad[] = { "127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.1.1",
                          "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.200" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rtc_addr p;
        rtc_addr_set(&p, bad[i], 7000);
        ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &p), 403);
        chan_arg ca = { 0x4000, p };
        ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &ca), 403);
    }
    /* the server's own listener: refused (relay loops) */
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &t->srv), 403);
    rtc_addr ok1, ok2, hooked, v6;
    rtc_addr_set(&ok1, "10.20.3.4", 7000);
    rtc_addr_set(&ok2, "192.0.2.9", 7000);
    rtc_addr_set(&hooked, "192.0.2.9", 6666);
    rtc_addr_set(&v6, "2001:db8::1", 7000);
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &ok1), 0);
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &ok2), 0);
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &hooked), 0);   /* permission known: no hook */
    rtc_addr fresh;
    rtc_addr_set(&fresh, "192.0.2.77", 6666);
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &fresh), 403);  /* hook refuses */
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &v6), 443);     /* no IPv6 relay */
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, NULL, NULL), 400);
    ASSERT_GE(calls[RTC_TURN_AUTHZ_ALLOCATE], 2);
    ASSERT_GE(calls[RTC_TURN_AUTHZ_PERMISSION], 2);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.err_403, 1 + 2 * 9 + 2);
    t_free(t);

    /* allow_loopback / allow_private open those classes up */
    rtc_turn_server_config cfg2 = { .allow_loopback = true, .allow_private = true };
    t = t_new(&cfg2);
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    rtc_addr lo, priv;
    rtc_addr_set(&lo, "127.0.0.1", 7000);
    rtc_addr_set(&priv, "192.168.1.1", 7000);
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &lo), 0);
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &priv), 0);
    ASSERT_EQ(request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &t->srv), 403);
    t_free(t);
}

static int key_cb(void *ud, rtc_str user, rtc_str realm, uint8_t key[16])
{
    (void)ud;
    if (!rtc_str_eq(user, RTC_STR("dyn"))) return -1;
    uint8_t k[32];
    rtc_stun_long_term_key(user, realm, RTC_STR("amic"), RTC_STUN_PWALG_MD5, k);
    memcpy(key, k, 16);
    return 16;
}

static void test_rest_and_callback_credentials(void)
{
    rtc_turn_server_config cfg = { .rest_secret = RTC_STR("north"), .get_key = key_cb };
    T *t = t_new(&cfg);
    rtc_turn_server_set_unix_time(t->s, 1700000000);
    char pass[64], pass2[64];
    ASSERT_EQ(rtc_turn_rest_password(RTC_STR("north"), RTC_STR("1700000100:carol"), pass, sizeof pass), 28);
    /* the value coturn's turnutils compute: base64(HMAC-SHA1(secret, username)) */
    ASSERT_EQ(rtc_turn_rest_password(RTC_STR("key"), RTC_STR("The quick brown fox jumps over the lazy dog"), pass2, sizeof pass2), 28);
    ASSERT_STREQ(pass2, "3nybhbi3iqa8ino29wqQcBydtNk=");
    rawc c, e, d, x;
    rawc_init(&c, t, "198.51.100.2", 5000, "1700000100:carol", pass);
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    /* wrong REST password */
    rawc_init(&x, t, "198.51.100.2", 5003, "1700000100:carol", "AAAA");
    ASSERT_EQ(request(&x, RTC_STUN_ALLOCATE, a_udp, NULL), 401);
    /* callback user */
    rawc_init(&d, t, "198.51.100.2", 5001, "dyn", "amic");
    ASSERT_EQ(request(&d, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    /* expired REST username: refused once unix time passes its expiry */
    rtc_turn_server_set_unix_time(t->s, 1700000200);
    rawc_init(&e, t, "198.51.100.2", 5002, "1700000100:carol", pass);
    ASSERT_EQ(request(&e, RTC_STUN_ALLOCATE, a_udp, NULL), 401);
    ASSERT_EQ(request(&c, RTC_STUN_REFRESH, NULL, NULL), 401);     /* also for refreshes */
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.allocations, 2);
    t_free(t);
}

static void test_bandwidth_cap(void)
{
    rtc_turn_server_config cfg = { .bandwidth = 10000 };
    T *t = t_new(&cfg);
    rawc c;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    rtc_addr peer, relayed;
    relayed_of(&c, &relayed);
    rtc_addr_set(&peer, "192.0.2.9", 7000);
    chan_arg ca = { 0x4000, peer };
    ASSERT_EQ(request(&c, RTC_STUN_CHANNEL_BIND, a_chan, &ca), 0);
    uint8_t b[1004];
    rtc_wr16(b, 0x4000);
    rtc_wr16(b + 2, 1000);
    memset(b + 4, 'x', 1000);
    for (int i = 0; i < 50; i++) rtc_turn_server_handle_packet(t->s, &t->srv, &c.addr, RTC_PROTO_UDP, b, sizeof b, t->now);
    drain(t);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.relayed_to_peer, 10);     /* one second of burst */
    ASSERT_EQ(st.dropped_bandwidth, 40);
    /* half a second later: 5000 more bytes */
    t->now += RTC_MS(500);
    for (int i = 0; i < 50; i++) rtc_turn_server_handle_packet(t->s, &t->srv, &c.addr, RTC_PROTO_UDP, b, sizeof b, t->now);
    drain(t);
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.relayed_to_peer, 15);
    /* the other direction has its own bucket */
    uint32_t rid = relay_id_for(t, &relayed);
    int ok = 0;
    for (int i = 0; i < 30; i++) ok += rtc_turn_server_handle_relay(t->s, rid, &peer, b, 1000, t->now) == 0;
    drain(t);
    ASSERT_EQ(ok, 10);
    t_free(t);
}




int main(void)
{
    RUN(test_binding);
    RUN(test_client_flow_udp);
    RUN(test_client_flow_tcp);
    RUN(test_permission_channel_and_expiry);
    RUN(test_refresh_lifetimes);
    RUN(test_auth_errors);
    RUN(test_allocate_retransmit);
    RUN(test_quotas);
    RUN(test_forbidden_peers);
    RUN(test_rest_and_callback_credentials);
    RUN(test_bandwidth_cap);
    return 0;
}
