/* Two DTLS transports joined by a virtual network, for test_dtls*.c and test_srtp*.c.
 * The loop always advances to the earliest deadline (a delivery or either side's
 * timer), drains both machines after every input, and records what each side saw. */
#ifndef TEST_DTLS_PAIR_H
#define TEST_DTLS_PAIR_H
#include "rtc_test.h"
#include "vnet.h"
#include "dtls/dtls_cert.h"
#include "dtls/dtls_transport.h"
#include "core/rtc_errors.h"

typedef struct dpeer {
    rtc_dtls_transport *t;
    rtc_dtls_cert *cert;
    rtc_addr addr;
    int connected, closed, failed, fail_err, data_events;
    char fail_reason[200];
    rtc_srtp_profile profile;
    rtc_srtp_keying keying;
    rtc_bufq data;                  /* DATA events, in arrival order */
    size_t sent;                    /* datagrams handed to the network */
    bool mute;                      /* drop everything this side sends */
} dpeer;

typedef struct dpair {
    vnet *net;
    rtc_pool *pool;
    rtc_rng rng;
    dpeer a, b;                     /* a is the client, b the server */
    rtc_time now;
    void (*on_deliver)(struct dpair *p, const vnet_packet *pkt);   /* optional test hook */
    bool (*drop)(struct dpair *p, const vnet_packet *pkt);        /* optional: true = lose it */
    int hook_count, dropped;
} dpair;

static inline rtc_dtls_cert *dpair_cert(rtc_rng *rng, rtc_dtls_key_type type)
{
    rtc_dtls_cert *c = NULL;
    ASSERT_EQ(rtc_dtls_cert_generate(&c, type, rng, 1700000000), 0);
    return c;
}

/* cfg_a/cfg_b may be NULL for defaults; role and cert are filled in here. */
static inline void dpair_init(dpair *p, uint64_t seed, vnet_link link, const rtc_dtls_config *cfg_a,
                       const rtc_dtls_config *cfg_b)
{
    memset(p, 0, sizeof *p);
    p->net = vnet_new(seed);
    vnet_set_link(p->net, link);
    p->pool = rtc_pool_new(64);
    rtc_rng_init_seed(&p->rng, seed);
    p->a.cert = dpair_cert(&p->rng, RTC_DTLS_KEY_ECDSA_P256);
    p->b.cert = dpair_cert(&p->rng, RTC_DTLS_KEY_ECDSA_P256);
    rtc_addr_parse(&p->a.addr, "10.0.0.1:5000");
    rtc_addr_parse(&p->b.addr, "10.0.0.2:6000");
    rtc_dtls_config ca = cfg_a ? *cfg_a : (rtc_dtls_config){0};
    rtc_dtls_config cb = cfg_b ? *cfg_b : (rtc_dtls_config){0};
    ca.role = RTC_DTLS_CLIENT; ca.cert = p->a.cert; ca.pool = p->pool;
    cb.role = RTC_DTLS_SERVER; cb.cert = p->b.cert; cb.pool = p->pool;
    ASSERT_EQ(rtc_dtls_transport_new(&p->a.t, &ca, 0), 0);
    ASSERT_EQ(rtc_dtls_transport_new(&p->b.t, &cb, 0), 0);
}

/* Each side learns the other's real fingerprint, as from SDP. */
static inline void dpair_exchange_fingerprints(dpair *p)
{
    ASSERT_EQ(rtc_dtls_transport_set_remote_fingerprint(p->a.t, "sha-256", rtc_dtls_cert_fingerprint(p->b.cert), p->now), 0);
    ASSERT_EQ(rtc_dtls_transport_set_remote_fingerprint(p->b.t, "sha-256", rtc_dtls_cert_fingerprint(p->a.cert), p->now), 0);
}

static inline void dpeer_drain(dpair *p, dpeer *me, dpeer *other)
{
    rtc_buf *b;
    while (rtc_dtls_transport_poll_transmit(me->t, &b)) {
        me->sent++;
        if (!me->mute) vnet_send(p->net, &me->addr, &other->addr, b->data, b->len, p->now);
        rtc_buf_unref(b);
    }
    rtc_dtls_event ev;
    while (rtc_dtls_transport_poll_event(me->t, &ev)) {
        switch (ev.type) {
        case RTC_DTLS_EV_CONNECTED:
            me->connected++; me->profile = ev.srtp_profile; me->keying = ev.keying; break;
        case RTC_DTLS_EV_DATA:
            me->data_events++; rtc_bufq_push(&me->data, ev.data); break;
        case RTC_DTLS_EV_CLOSED: me->closed++; break;
        case RTC_DTLS_EV_FAILED:
            me->failed++; me->fail_err = ev.error;
            snprintf(me->fail_reason, sizeof me->fail_reason, "%s", ev.reason);
            break;
        }
    }
}

static inline void dpair_drain(dpair *p)
{
    dpeer_drain(p, &p->a, &p->b);
    dpeer_drain(p, &p->b, &p->a);
}

typedef bool (*dpair_done_fn)(dpair *p);

/* Run until `done` (checked after each step) or `until`; returns whether done. */
static inline bool dpair_run(dpair *p, rtc_time until, dpair_done_fn done)
{
    dpair_drain(p);
    for (;;) {
        if (done && done(p)) return true;
        rtc_time next = vnet_next_delivery(p->net);
        next = rtc_time_min(next, rtc_dtls_transport_poll_timeout(p->a.t));
        next = rtc_time_min(next, rtc_dtls_transport_poll_timeout(p->b.t));
        if (next > until) { if (until > p->now) p->now = until; return done ? done(p) : true; }
        if (next > p->now) p->now = next;
        vnet_packet pkt;
        while (vnet_poll(p->net, p->now, &pkt)) {
            dpeer *to = rtc_addr_eq(&pkt.to, &p->a.addr) ? &p->a : &p->b;
            if (p->drop && p->drop(p, &pkt)) { p->dropped++; continue; }
            if (p->on_deliver) p->on_deliver(p, &pkt);
            rtc_dtls_transport_handle_datagram(to->t, pkt.data, pkt.len, p->now);
            dpair_drain(p);
        }
        if (rtc_dtls_transport_poll_timeout(p->a.t) <= p->now) rtc_dtls_transport_handle_timeout(p->a.t, p->now);
        if (rtc_dtls_transport_poll_timeout(p->b.t) <= p->now) rtc_dtls_transport_handle_timeout(p->b.t, p->now);
        dpair_drain(p);
    }
}

static inline bool dpair_both_connected(dpair *p) { return p->a.connected && p->b.connected; }
static inline bool dpair_both_ended(dpair *p)
{
    return (p->a.failed || p->a.closed) && (p->b.failed || p->b.closed);
}

static inline void dpair_start(dpair *p)
{
    ASSERT_EQ(rtc_dtls_transport_start(p->b.t, p->now), 0);
    ASSERT_EQ(rtc_dtls_transport_start(p->a.t, p->now), 0);
}

static inline void dpair_free(dpair *p)
{
    rtc_dtls_transport_free(p->a.t);
    rtc_dtls_transport_free(p->b.t);
    rtc_dtls_cert_unref(p->a.cert);
    rtc_dtls_cert_unref(p->b.cert);
    rtc_bufq_clear(&p->a.data);
    rtc_bufq_clear(&p->b.data);
    vnet_free(p->net);
    rtc_pool_free(p->pool);
}

#endif
