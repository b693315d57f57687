/* TURN server machine on a virtual clock: our TURN client and hand-built requests
 * against it. Allocate/refresh/permission/channel/data flows over UDP and TCP, expiry
 * of allocations, permissions and channels, every error the server answers (400, 401,
 * 403, 420, 437, 438, 440, 441, 442, 486, 508), TURN REST credentials, the bandwidth
 * cap, relay port retries, IPv6 and dual-stack allocations, and hostile input. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "stun/stun.h"
#include "turn/turn_client.h"
#include "turn/turn_server.h"

#define MAXOUT 512

typedef struct pkt {
    rtc_addr from, to;
    int proto;
    uint32_t relay_id;
    uint8_t data[2048];
    size_t len;
} pkt;

typedef struct T {
    rtc_turn_server *s;
    rtc_rng rng;
    rtc_time now;
    rtc_addr srv, srv_tcp;
    struct { uint32_t id; rtc_addr addr; bool open; } relays[64];
    int nrelays, fail_binds, nbound;
    pkt out[MAXOUT];
    int nout;
    int ev[8];
    rtc_turn_srv_event last[8];
} T;

static T *t_new(rtc_turn_server_config *cfg)
{
    T *t = calloc(1, sizeof *t);
    rtc_rng_init_seed(&t->rng, 42);
    rtc_addr_set(&t->srv, "203.0.113.1", 3478);
    rtc_addr_set(&t->srv_tcp, "203.0.113.1", 3478);
    cfg->rng = &t->rng;
    if (!cfg->realm.len) cfg->realm = RTC_STR("example.org");
    if (!rtc_addr_family(&cfg->relay_v4)) rtc_addr_set(&cfg->relay_v4, "203.0.113.1", 0);
    if (!cfg->min_port && !cfg->max_port) { cfg->min_port = 50000; cfg->max_port = 50099; }
    t->now = RTC_SEC(1);
    ASSERT_EQ(rtc_turn_server_new(&t->s, cfg, t->now), 0);
    ASSERT_EQ(rtc_turn_server_add_user(t->s, RTC_STR("alice"), RTC_STR("wonderland")), 0);
    ASSERT_EQ(rtc_turn_server_add_user(t->s, RTC_STR("bob"), RTC_STR("builder")), 0);
    ASSERT_EQ(rtc_turn_server_add_own_address(t->s, &t->srv), 0);
    return t;
}

static void t_free(T *t)
{
    rtc_turn_server_free(t->s);
    free(t);
}

/* The driver's side: bind relays, record what goes out. */
static void drain(T *t)
{
    for (;;) {
        bool any = false;
        rtc_turn_srv_event e;
        while (rtc_turn_server_poll_event(t->s, &e)) {
            any = true;
            t->ev[e.type]++;
            t->last[e.type] = e;
            if (e.type == RTC_TURN_SRV_EV_RELAY_OPEN) {
                if (t->fail_binds > 0) {
                    t->fail_binds--;
                    ASSERT_EQ(rtc_turn_server_relay_bound(t->s, e.relay_id, RTC_EIO, NULL, t->now), 0);
                    continue;
                }
                rtc_addr a = e.addr;
                if (rtc_addr_port(&a) == 0) rtc_addr_set_port(&a, (uint16_t)(40000 + t->nbound));
                t->nbound++;
                ASSERT(t->nrelays < 64);
                t->relays[t->nrelays].id = e.relay_id;
                t->relays[t->nrelays].addr = a;
                t->relays[t->nrelays].open = true;
                t->nrelays++;
                rtc_turn_server_relay_bound(t->s, e.relay_id, 0, &a, t->now);
            } else if (e.type == RTC_TURN_SRV_EV_RELAY_CLOSE) {
                for (int i = 0; i < t->nrelays; i++)
                    if (t->relays[i].id == e.relay_id) t->relays[i].open = false;
            }
        }
        rtc_transmit tx;
        uint32_t rid;
        while (rtc_turn_server_poll_transmit2(t->s, &tx, &rid)) {
            any = true;
            if (t->nout < MAXOUT && tx.buf->len <= sizeof t->out[0].data) {
                pkt *p = &t->out[t->nout++];
                p->from = tx.local; p->to = tx.remote; p->proto = tx.proto; p->relay_id = rid;
                memcpy(p->data, tx.buf->data, tx.buf->len);
                p->len = tx.buf->len;
            }
            rtc_buf_unref(tx.buf);
        }
        if (!any) break;
    }
}

static int open_relays(T *t)
{
    int n = 0;
    for (int i = 0; i < t->nrelays; i++) n += t->relays[i].open;
    return n;
}

static void advance(T *t, rtc_time dt)
{
    rtc_time end = t->now + dt;
    for (;;) {
        rtc_time next = rtc_turn_server_poll_timeout(t->s);
        if (next > end) break;
        if (next > t->now) t->now = next;
        rtc_turn_server_handle_timeout(t->s, t->now);
        drain(t);
    }
    t->now = end;
    rtc_turn_server_handle_timeout(t->s, t->now);
    drain(t);
}

static void feed(T *t, const rtc_addr *client, int proto, const void *data, size_t len)
{
    rtc_turn_server_handle_packet(t->s, proto == RTC_PROTO_UDP ? &t->srv : &t->srv_tcp, client, proto, data, len, t->now);
    drain(t);
}

/* Take the first packet sent to `to`; false if none. */
static bool take(T *t, const rtc_addr *to, pkt *out)
{
    for (int i = 0; i < t->nout; i++)
        if (rtc_addr_eq(&t->out[i].to, to)) {
            *out = t->out[i];
            memmove(&t->out[i], &t->out[i + 1], (size_t)(t->nout - i - 1) * sizeof *out);
            t->nout--;
            return true;
        }
    return false;
}

/* ====== a hand-driven client ====== */

typedef struct rawc {
    T *t;
    rtc_addr addr;
    int proto;
    const char *user, *pass;
    char nonce[64];
    uint8_t key[16];
    uint8_t tid_seed;
    bool show_stale;          /* return 438 instead of retrying with the new nonce */
    uint8_t last_tid[12];
    pkt resp;
    rtc_stun_msg m;
} rawc;

typedef void (*attrs_fn)(rtc_stun_writer *w, void *ud);

static void rawc_init(rawc *c, T *t, const char *ip, uint16_t port, const char *user, const char *pass)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    rtc_addr_set(&c->addr, ip, port);
    c->user = user; c->pass = pass;
    c->tid_seed = (uint8_t)port;
}

static size_t build(rawc *c, uint8_t *buf, size_t cap, uint16_t method, uint8_t cls, attrs_fn fn, void *ud, bool auth)
{
    uint8_t tid[12] = { c->tid_seed, (uint8_t)(c->tid_seed >> 8) };
    tid[11] = (uint8_t)rtc_rng_u32(&c->t->rng);
    tid[10] = (uint8_t)rtc_rng_u32(&c->t->rng);
    memcpy(c->last_tid, tid, 12);
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, cap, method, cls, tid);
    if (fn) fn(&w, ud);
    if (auth && c->nonce[0]) {
        rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, rtc_str_c(c->user));
        rtc_stun_put_str(&w, RTC_STUN_ATTR_REALM, RTC_STR("example.org"));
        rtc_stun_put_str(&w, RTC_STUN_ATTR_NONCE, rtc_str_c(c->nonce));
        uint8_t k[32];
        rtc_stun_long_term_key(rtc_str_c(c->user), RTC_STR("example.org"), rtc_str_c(c->pass), RTC_STUN_PWALG_MD5, k);
        memcpy(c->key, k, 16);
        rtc_stun_put_integrity(&w, c->key, 16);
    }
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    ASSERT(n > 0);
    return (size_t)n;
}

/* Sends a request; returns 0 for success, the error code otherwise, -1 for no answer.
 * A first 401 carrying a nonce is answered by retrying once with credentials. */
static int request(rawc *c, uint16_t method, attrs_fn fn, void *ud)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t buf[1024];
        size_t n = build(c, buf, sizeof buf, method, RTC_STUN_REQUEST, fn, ud, method != RTC_STUN_BINDING);
        feed(c->t, &c->addr, c->proto, buf, n);
        if (!take(c->t, &c->addr, &c->resp)) return -1;
        ASSERT_EQ(rtc_stun_parse(c->resp.data, c->resp.len, &c->m), 0);
        ASSERT_MEMEQ(c->m.tid, c->last_tid, 12);
        if (c->m.cls == RTC_STUN_SUCCESS) {
            if (method != RTC_STUN_BINDING) ASSERT_EQ(rtc_stun_check_integrity(&c->m, c->key, 16), 0);
            return 0;
        }
        int code; rtc_str reason;
        ASSERT_EQ(rtc_stun_get_error(&c->m, &code, &reason), 0);
        if (code == 401 || code == 438) {
            rtc_str nonce, realm;
            ASSERT_EQ(rtc_stun_get_str(&c->m, RTC_STUN_ATTR_NONCE, &nonce), 0);
            ASSERT_EQ(rtc_stun_get_str(&c->m, RTC_STUN_ATTR_REALM, &realm), 0);
            ASSERT(rtc_str_eq(realm, RTC_STR("example.org")));
            bool had = c->nonce[0] != 0;
            memcpy(c->nonce, nonce.p, nonce.len);
            c->nonce[nonce.len] = 0;
            if ((!had && code == 401) || (code == 438 && !c->show_stale)) continue;
        }
        return code;
    }
    return 401;
}

static void a_udp(rtc_stun_writer *w, void *ud) { (void)ud; rtc_stun_put_transport(w, 17); }
static void a_tcp(rtc_stun_writer *w, void *ud) { (void)ud; rtc_stun_put_transport(w, 6); }
static void a_udp_life(rtc_stun_writer *w, void *ud)
{
    rtc_stun_put_transport(w, 17);
    rtc_stun_put_u32(w, RTC_STUN_ATTR_LIFETIME, *(uint32_t *)ud);
}
static void a_life(rtc_stun_writer *w, void *ud) { rtc_stun_put_u32(w, RTC_STUN_ATTR_LIFETIME, *(uint32_t *)ud); }
static void a_peer(rtc_stun_writer *w, void *ud) { rtc_stun_put_addr(w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, ud); }
typedef struct chan_arg { uint16_t num; rtc_addr peer; } chan_arg;
static void a_chan(rtc_stun_writer *w, void *ud)
{
    chan_arg *a = ud;
    rtc_stun_put_channel(w, a->num);
    rtc_stun_put_addr(w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &a->peer);
}
static void a_fam(rtc_stun_writer *w, void *ud)
{
    int *f = ud;   /* f[0]: REQUESTED family or 0; f[1]: ADDITIONAL family or 0 */
    rtc_stun_put_transport(w, 17);
    if (f[0]) rtc_stun_put_family(w, RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, f[0]);
    if (f[1]) rtc_stun_put_family(w, RTC_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, f[1]);
}

static void relayed_of(rawc *c, rtc_addr *out)
{
    ASSERT_EQ(rtc_stun_get_addr(&c->m, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS, out), 0);
}

static uint32_t relay_id_for(T *t, const rtc_addr *relayed)
{
    for (int i = 0; i < t->nrelays; i++)
        if (t->relays[i].open && rtc_addr_eq(&t->relays[i].addr, relayed)) return t->relays[i].id;
    RTC_TEST_FAIL("no open relay for this address");
}

static size_t channel_data(uint8_t *b, uint16_t ch, const char *payload)
{
    size_t n = strlen(payload);
    rtc_wr16(b, ch);
    rtc_wr16(b + 2, (uint16_t)n);
    memcpy(b + 4, payload, n);
    return 4 + n;
}

static void send_indication(rawc *c, const rtc_addr *peer, const char *payload)
{
    uint8_t tid[12] = { 9, 9 }, buf[512];
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, sizeof buf, RTC_STUN_SEND, RTC_STUN_INDICATION, tid);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, peer);
    rtc_stun_put(&w, RTC_STUN_ATTR_DATA, payload, strlen(payload));
    int n = rtc_stun_finish(&w);
    feed(c->t, &c->addr, c->proto, buf, (size_t)n);
}

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

    /* the allocation itself expires at 3600 s unless refreshed */
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_DEALLOCATED], 0);
    advance(t, RTC_SEC(3000));
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

/* Relay sockets: a failed bind moves to another port; after five failures 508. With
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
    t->fail_binds = 5;
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
    RUN(test_relay_ports);
    RUN(test_even_port_reservation);
    RUN(test_ipv6_and_dual);
    RUN(test_hostile);
    return 0;
}
