/* SCTP associations over two DTLS transports, composed by polling as the peer
 * connection does: DTLS application data goes into SCTP, SCTP packets go out as DTLS
 * records, all on one virtual clock over a lossy virtual network. */
#include "test_sctp_harness.h"
#include "dtls/dtls_cert.h"
#include "dtls/dtls_transport.h"

typedef struct stack {
    rtc_dtls_transport *dtls;
    rtc_dtls_cert *cert;
    side s;                          /* the SCTP association and what it saw */
    rtc_addr addr;
    rtc_sctp_config cfg;
    int dtls_connected, dtls_failed;
    uint64_t records_out;
} stack;

typedef struct world {
    vnet *net;
    rtc_time now;
    stack st[2];
    rtc_rng rng;
} world;

static void stack_drain(world *w, int i)
{
    stack *me = &w->st[i], *peer = &w->st[!i];
    for (bool again = true; again;) {
        again = false;
        rtc_buf *b;
        if (me->s.a) {
            while (rtc_sctp_assoc_poll_transmit(me->s.a, &b)) {
                /* One SCTP packet is one DTLS record (RFC 8261). */
                ASSERT_OK(rtc_dtls_transport_send(me->dtls, b->data, b->len, w->now));
                me->records_out++;
                rtc_buf_unref(b);
                again = true;
            }
            rtc_sctp_event ev;
            while (rtc_sctp_assoc_poll_event(me->s.a, &ev)) {
                side_record(&me->s, &ev);
                if (ev.type == RTC_SCTP_EV_MESSAGE) rtc_buf_unref(ev.buf);
                again = true;
            }
        }
        while (rtc_dtls_transport_poll_transmit(me->dtls, &b)) {
            vnet_send(w->net, &me->addr, &peer->addr, b->data, b->len, w->now);
            rtc_buf_unref(b);
            again = true;
        }
        rtc_dtls_event dev;
        while (rtc_dtls_transport_poll_event(me->dtls, &dev)) {
            again = true;
            if (dev.type == RTC_DTLS_EV_CONNECTED) {
                me->dtls_connected++;
                /* The SCTP association starts once DTLS is up; the DTLS role picks the
                 * stream id parity. */
                me->cfg.dtls_client = rtc_dtls_transport_role(me->dtls) == RTC_DTLS_CLIENT;
                ASSERT_OK(rtc_sctp_assoc_new(&me->s.a, &me->cfg, w->now));
            } else if (dev.type == RTC_DTLS_EV_DATA) {
                if (me->s.a) rtc_sctp_assoc_handle_packet(me->s.a, dev.data->data, dev.data->len, w->now);
                rtc_buf_unref(dev.data);
            } else if (dev.type == RTC_DTLS_EV_FAILED) {
                me->dtls_failed++;
            }
        }
    }
}

static void world_drain(world *w)
{
    for (int k = 0; k < 3; k++) {
        stack_drain(w, 0);
        stack_drain(w, 1);
    }
}

static rtc_time stack_timeout(stack *s)
{
    rtc_time t = rtc_dtls_transport_poll_timeout(s->dtls);
    return s->s.a ? rtc_time_min(t, rtc_sctp_assoc_poll_timeout(s->s.a)) : t;
}

static bool world_run(world *w, bool (*cond)(world *), rtc_time budget)
{
    rtc_time end = w->now + budget;
    world_drain(w);
    while (!(cond && cond(w)) && w->now < end) {
        rtc_time next = rtc_time_min(vnet_next_delivery(w->net), end);
        for (int i = 0; i < 2; i++) next = rtc_time_min(next, stack_timeout(&w->st[i]));
        if (next > w->now) w->now = next;
        test_vclock = w->now;
        vnet_packet pk;
        while (vnet_poll(w->net, w->now, &pk)) {
            int to = rtc_addr_eq(&pk.to, &w->st[0].addr) ? 0 : 1;
            rtc_dtls_transport_handle_datagram(w->st[to].dtls, pk.data, pk.len, w->now);
            world_drain(w);
        }
        for (int i = 0; i < 2; i++) {
            stack *s = &w->st[i];
            if (rtc_dtls_transport_poll_timeout(s->dtls) <= w->now) rtc_dtls_transport_handle_timeout(s->dtls, w->now);
            if (s->s.a && rtc_sctp_assoc_poll_timeout(s->s.a) <= w->now) rtc_sctp_assoc_handle_timeout(s->s.a, w->now);
            world_drain(w);
        }
    }
    return cond ? cond(w) : true;
}

static bool sctp_up(world *w) { return w->st[0].s.connected && w->st[1].s.connected; }
static bool got_msgs(world *w) { return w->st[1].s.nmsgs >= 3 && w->st[0].s.nmsgs >= 1; }

static void test_data_channels_over_dtls(void)
{
    world w;
    memset(&w, 0, sizeof w);
    w.now = test_vclock;
    w.net = vnet_new(41);
    vnet_set_link(w.net, (vnet_link){ .loss = 0.03, .delay = RTC_MS(20), .jitter = RTC_MS(5) });
    rtc_rng_init_seed(&w.rng, 41);
    rtc_addr_parse(&w.st[0].addr, "10.0.0.1:5000");
    rtc_addr_parse(&w.st[1].addr, "10.0.0.2:6000");
    for (int i = 0; i < 2; i++) {
        ASSERT_OK(rtc_dtls_cert_generate(&w.st[i].cert, RTC_DTLS_KEY_ECDSA_P256, &w.rng, 1700000000));
        rtc_dtls_config dc = { .role = i == 0 ? RTC_DTLS_CLIENT : RTC_DTLS_SERVER, .cert = w.st[i].cert, .no_srtp = true };
        ASSERT_OK(rtc_dtls_transport_new(&w.st[i].dtls, &dc, w.now));
        w.st[i].s.keep = true;
    }
    for (int i = 0; i < 2; i++)
        ASSERT_OK(rtc_dtls_transport_set_remote_fingerprint(w.st[i].dtls, "sha-256",
                                                            rtc_dtls_cert_fingerprint(w.st[!i].cert), w.now));
    ASSERT_OK(rtc_dtls_transport_start(w.st[1].dtls, w.now));
    ASSERT_OK(rtc_dtls_transport_start(w.st[0].dtls, w.now));
    ASSERT(world_run(&w, sctp_up, RTC_SEC(60)));
    ASSERT_EQ(w.st[0].dtls_failed + w.st[1].dtls_failed, 0);

    rtc_sctp_assoc *client = w.st[0].s.a, *server = w.st[1].s.a;
    int sid = rtc_data_channel_create(client, &(rtc_data_channel_init){ .label = "over-dtls" }, w.now);
    ASSERT_EQ(sid, 0);
    static uint8_t big[256 * 1024];
    fill_pattern(big, sizeof big, 5);
    ASSERT_OK(rtc_data_channel_send(client, 0, "hello", 5, false, w.now));
    ASSERT_OK(rtc_data_channel_send(client, 0, big, sizeof big, true, w.now));
    ASSERT_OK(rtc_data_channel_send(client, 0, NULL, 0, true, w.now));
    world_run(&w, NULL, RTC_MS(200));
    ASSERT_EQ(w.st[1].s.datachannel, 1);
    ASSERT_STREQ(w.st[1].s.last_label, "over-dtls");
    ASSERT_OK(rtc_data_channel_send(server, 0, "echo", 4, false, w.now));
    ASSERT(world_run(&w, got_msgs, RTC_SEC(60)));
    side *b = &w.st[1].s;
    ASSERT_MEMEQ(b->msgs[0].buf->data, "hello", 5);
    ASSERT_EQ(b->msgs[1].buf->len, sizeof big);
    ASSERT(check_pattern(b->msgs[1].buf->data, sizeof big, 5));
    ASSERT(b->msgs[2].binary && b->msgs[2].buf->len == 0);
    ASSERT_MEMEQ(w.st[0].s.msgs[0].buf->data, "echo", 4);
    ASSERT(w.st[0].records_out > 200);     /* the big message really went as DTLS records */
    ASSERT(vnet_dropped(w.net) > 0);

    for (int i = 0; i < 2; i++) {
        side_clear_msgs(&w.st[i].s);
        free(w.st[i].s.msgs);
        rtc_sctp_assoc_free(w.st[i].s.a);
        rtc_dtls_transport_free(w.st[i].dtls);
        rtc_dtls_cert_unref(w.st[i].cert);
    }
    vnet_free(w.net);
}

int main(void)
{
    if (getenv("RTC_LOG")) rtc_log_set_filter(getenv("RTC_LOG"));
    RUN(test_data_channels_over_dtls);
    ASSERT_OK(rtc_sctp_global_shutdown());
    return 0;
}
