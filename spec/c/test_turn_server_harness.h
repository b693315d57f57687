/* Harness for the TURN server machine tests: a driver that binds relays and records
 * output on a virtual clock, and a hand-driven client that signs its requests. */
#ifndef TEST_TURN_SERVER_HARNESS_H
#define TEST_TURN_SERVER_HARNESS_H
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "stun/stun.h"
#include "turn/turn_client.h"
#include "turn/turn_server.h"

#define MAXOUT 512
#define MAXRELAYS 2048

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
    struct { uint32_t id; rtc_addr addr; bool open; } relays[MAXRELAYS];
    int nrelays, fail_binds, nbound;
    uint8_t foreign[65536 / 8];      /* ports another program on the host holds */
    pkt out[MAXOUT];
    int nout;
    int ev[8];
    rtc_turn_srv_event last[8];
} T;

static inline T *t_new(rtc_turn_server_config *cfg)
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

static inline void t_free(T *t)
{
    rtc_turn_server_free(t->s);
    free(t);
}

/* The host's view of a UDP port: held by an open relay socket of ours, or (IPv4) by
 * another program. */
static inline bool port_held(const T *t, int family, uint16_t port)
{
    if (family == AF_INET && (t->foreign[port >> 3] & (1u << (port & 7)))) return true;
    for (int i = 0; i < t->nrelays; i++)
        if (t->relays[i].open && rtc_addr_family(&t->relays[i].addr) == family &&
            rtc_addr_port(&t->relays[i].addr) == port) return true;
    return false;
}

/* Another program binds IPv4 `port`, as the OS allows it: false when a socket holds it. */
static inline bool foreign_bind(T *t, uint16_t port)
{
    if (port_held(t, AF_INET, port)) return false;
    t->foreign[port >> 3] |= (uint8_t)(1u << (port & 7));
    return true;
}

/* The driver's side: bind relays (a port already held fails, as it does on a host),
 * record what goes out. */
static inline void drain(T *t)
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
                if (port_held(t, rtc_addr_family(&a), rtc_addr_port(&a))) {
                    ASSERT_EQ(rtc_turn_server_relay_bound(t->s, e.relay_id, RTC_EACCESS, NULL, t->now), 0);
                    continue;
                }
                t->nbound++;
                ASSERT(t->nrelays < MAXRELAYS);
                int k = t->nrelays++;
                t->relays[k].id = e.relay_id;
                t->relays[k].addr = a;
                t->relays[k].open = true;
                /* a socket the machine no longer wants is closed at once */
                if (rtc_turn_server_relay_bound(t->s, e.relay_id, 0, &a, t->now) == RTC_ENOTFOUND)
                    t->relays[k].open = false;
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

static inline int open_relays(T *t)
{
    int n = 0;
    for (int i = 0; i < t->nrelays; i++) n += t->relays[i].open;
    return n;
}

static inline void advance(T *t, rtc_time dt)
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

static inline void feed(T *t, const rtc_addr *client, int proto, const void *data, size_t len)
{
    rtc_turn_server_handle_packet(t->s, proto == RTC_PROTO_UDP ? &t->srv : &t->srv_tcp, client, proto, data, len, t->now);
    drain(t);
}

/* Take the first packet sent to `to`; false if none. */
static inline bool take(T *t, const rtc_addr *to, pkt *out)
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

static inline void rawc_init(rawc *c, T *t, const char *ip, uint16_t port, const char *user, const char *pass)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    rtc_addr_set(&c->addr, ip, port);
    c->user = user; c->pass = pass;
    c->tid_seed = (uint8_t)port;
}

static inline size_t build(rawc *c, uint8_t *buf, size_t cap, uint16_t method, uint8_t cls, attrs_fn fn, void *ud, bool auth)
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
static inline int request(rawc *c, uint16_t method, attrs_fn fn, void *ud)
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

static inline void a_udp(rtc_stun_writer *w, void *ud) { (void)ud; rtc_stun_put_transport(w, 17); }
static inline void a_tcp(rtc_stun_writer *w, void *ud) { (void)ud; rtc_stun_put_transport(w, 6); }
static inline void a_udp_life(rtc_stun_writer *w, void *ud)
{
    rtc_stun_put_transport(w, 17);
    rtc_stun_put_u32(w, RTC_STUN_ATTR_LIFETIME, *(uint32_t *)ud);
}
static inline void a_life(rtc_stun_writer *w, void *ud) { rtc_stun_put_u32(w, RTC_STUN_ATTR_LIFETIME, *(uint32_t *)ud); }
static inline void a_peer(rtc_stun_writer *w, void *ud) { rtc_stun_put_addr(w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, ud); }
typedef struct chan_arg { uint16_t num; rtc_addr peer; } chan_arg;
static inline void a_chan(rtc_stun_writer *w, void *ud)
{
    chan_arg *a = ud;
    rtc_stun_put_channel(w, a->num);
    rtc_stun_put_addr(w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &a->peer);
}
static inline void a_fam(rtc_stun_writer *w, void *ud)
{
    int *f = ud;   /* f[0]: REQUESTED family or 0; f[1]: ADDITIONAL family or 0 */
    rtc_stun_put_transport(w, 17);
    if (f[0]) rtc_stun_put_family(w, RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, f[0]);
    if (f[1]) rtc_stun_put_family(w, RTC_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, f[1]);
}

static inline void relayed_of(rawc *c, rtc_addr *out)
{
    ASSERT_EQ(rtc_stun_get_addr(&c->m, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS, out), 0);
}

static inline uint32_t relay_id_for(T *t, const rtc_addr *relayed)
{
    for (int i = 0; i < t->nrelays; i++)
        if (t->relays[i].open && rtc_addr_eq(&t->relays[i].addr, relayed)) return t->relays[i].id;
    RTC_TEST_FAIL("no open relay for this address");
}

static inline size_t channel_data(uint8_t *b, uint16_t ch, const char *payload)
{
    size_t n = strlen(payload);
    rtc_wr16(b, ch);
    rtc_wr16(b + 2, (uint16_t)n);
    memcpy(b + 4, payload, n);
    return 4 + n;
}

static inline void send_indication(rawc *c, const rtc_addr *peer, const char *payload)
{
    uint8_t tid[12] = { 9, 9 }, buf[512];
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, sizeof buf, RTC_STUN_SEND, RTC_STUN_INDICATION, tid);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, peer);
    rtc_stun_put(&w, RTC_STUN_ATTR_DATA, payload, strlen(payload));
    int n = rtc_stun_finish(&w);
    feed(c->t, &c->addr, c->proto, buf, (size_t)n);
}

#endif
