/* SCTP associations and data channels over the virtual network: open both ways,
 * message kinds and order, large messages, pre-negotiated channels, close, shutdown. */
#include "test_sctp_harness.h"

static bool msgs_at_least_b3(pair *p) { return p->s[1].messages >= 3 && p->s[0].messages >= 3; }

static void test_open_and_exchange(void)
{
    pair p;
    pair_init(&p, 1, NULL, NULL);
    /* Created before the association is up: opens when it is. */
    int a1 = rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "chat", .protocol = "text" }, p.now);
    ASSERT_EQ(a1, 0);                                    /* DTLS client: even ids */
    rtc_data_channel_info info;
    ASSERT_OK(rtc_data_channel_get_info(p.s[0].a, 0, &info));
    ASSERT_EQ(info.state, RTC_DC_CONNECTING);
    ASSERT_EQ(rtc_data_channel_send(p.s[0].a, 0, "x", 1, false, p.now), RTC_ESTATE);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    ASSERT_EQ(p.s[0].connected, 1);
    ASSERT_EQ(p.s[1].connected, 1);
    ASSERT(rtc_sctp_assoc_is_connected(p.s[0].a));
    pair_drain(&p);
    ASSERT_EQ(p.s[0].chan_open, 1);
    int b1 = rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "back" }, p.now);
    ASSERT_EQ(b1, 1);                                    /* DTLS server: odd ids */
    /* Open fires at once on the creator; the peer sees "datachannel". */
    ASSERT_OK(rtc_data_channel_send(p.s[0].a, 0, "hello", 5, false, p.now));
    ASSERT_OK(rtc_data_channel_send(p.s[0].a, 0, "\x00\x01\x02\xff", 4, true, p.now));
    ASSERT_OK(rtc_data_channel_send(p.s[0].a, 0, NULL, 0, false, p.now));
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, 1, "back at you", 11, false, p.now));
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, 1, NULL, 0, true, p.now));
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, 1, "z", 1, true, p.now));
    ASSERT(pair_run(&p, msgs_at_least_b3, RTC_SEC(10)));
    ASSERT_EQ(p.s[1].datachannel, 1);
    ASSERT_EQ(p.s[0].datachannel, 1);
    ASSERT_EQ(p.s[1].open_seen[0], 1);
    ASSERT_EQ(p.s[0].open_seen[1], 1);
    ASSERT_EQ(p.s[0].open_seen[0], 1);
    ASSERT_STREQ(p.s[0].last_label, "back");
    ASSERT_OK(rtc_data_channel_get_info(p.s[1].a, 0, &info));
    ASSERT_STREQ(info.label, "chat");
    ASSERT_STREQ(info.protocol, "text");
    ASSERT_EQ(info.state, RTC_DC_OPEN);
    ASSERT(!info.unordered);
    ASSERT_EQ(info.max_retransmits, -1);
    side *b = &p.s[1], *a = &p.s[0];
    ASSERT_EQ(b->nmsgs, 3);
    ASSERT(!b->msgs[0].binary && b->msgs[0].buf->len == 5);
    ASSERT_MEMEQ(b->msgs[0].buf->data, "hello", 5);
    ASSERT(b->msgs[1].binary && b->msgs[1].buf->len == 4);
    ASSERT_MEMEQ(b->msgs[1].buf->data, "\x00\x01\x02\xff", 4);
    ASSERT(!b->msgs[2].binary && b->msgs[2].buf->len == 0);
    ASSERT_EQ(a->nmsgs, 3);
    ASSERT(!a->msgs[0].binary && a->msgs[0].sid == 1);
    ASSERT_MEMEQ(a->msgs[0].buf->data, "back at you", 11);
    ASSERT(a->msgs[1].binary && a->msgs[1].buf->len == 0);
    ASSERT(a->msgs[2].binary && a->msgs[2].buf->len == 1);
    ASSERT_OK(rtc_data_channel_get_info(p.s[0].a, 0, &info));
    ASSERT_EQ(info.messages_sent, 3);
    ASSERT_EQ(info.bytes_sent, 9);
    ASSERT_OK(rtc_data_channel_get_info(p.s[1].a, 0, &info));
    ASSERT_EQ(info.messages_received, 3);
    ASSERT_EQ(info.bytes_received, 9);
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[1].a, &st);
    ASSERT_EQ(st.dcep_malformed, 0);
    ASSERT_EQ(st.unknown_stream, 0);
    ASSERT_EQ(st.channels, 2);
    pair_free(&p);
}

static bool got_200(pair *p) { return p->s[1].nmsgs >= 200; }

static void run_ordered(double loss, rtc_time jitter, uint64_t seed)
{
    pair p;
    pair_init(&p, seed, NULL, NULL);
    vnet_set_link(p.net, (vnet_link){ .loss = loss, .delay = RTC_MS(15), .jitter = jitter });
    ASSERT(pair_run(&p, both_connected, RTC_SEC(60)));
    int sid = rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "ordered" }, p.now);
    ASSERT_OK(sid);
    uint8_t buf[3000];
    for (uint32_t i = 0; i < 200; i++) {
        size_t len = 1 + (i * 37) % sizeof buf;        /* some need several chunks */
        fill_pattern(buf, len, i);
        ASSERT_OK(rtc_data_channel_send(p.s[0].a, (uint16_t)sid, buf, len, i & 1, p.now));
        if (i % 20 == 19) pair_run(&p, NULL, RTC_MS(30));
    }
    ASSERT(pair_run(&p, got_200, RTC_SEC(120)));
    for (uint32_t i = 0; i < 200; i++) {
        msg_rec *m = &p.s[1].msgs[i];
        ASSERT_EQ(m->buf->len, 1 + (i * 37) % sizeof buf);
        ASSERT_EQ(m->binary, i & 1);
        ASSERT(check_pattern(m->buf->data, m->buf->len, i));
    }
    if (loss > 0) ASSERT(vnet_dropped(p.net) > 0);
    pair_free(&p);
}

static void test_ordered_clean(void) { run_ordered(0, 0, 2); }
static void test_ordered_lossy(void) { run_ordered(0.07, RTC_MS(20), 3); }

static bool got_2(pair *p) { return p->s[1].nmsgs >= 2; }

static void run_large(double loss, uint64_t seed)
{
    /* A 1 MiB message needs both sides to agree on a larger max-message-size. */
    rtc_sctp_config c = { .max_message_size = 2 << 20, .remote_max_message_size = 2 << 20 };
    pair p;
    pair_init(&p, seed, &c, &c);
    vnet_set_link(p.net, (vnet_link){ .loss = loss, .delay = RTC_MS(10), .jitter = loss > 0 ? RTC_MS(10) : 0 });
    ASSERT(pair_run(&p, both_connected, RTC_SEC(60)));
    int sid = rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "big" }, p.now);
    ASSERT_OK(sid);
    size_t sizes[2] = { 256 * 1024, 1024 * 1024 };
    uint8_t *buf = malloc(sizes[1]);
    for (uint32_t i = 0; i < 2; i++) {
        fill_pattern(buf, sizes[i], i + 10);
        ASSERT_OK(rtc_data_channel_send(p.s[0].a, (uint16_t)sid, buf, sizes[i], true, p.now));
    }
    free(buf);
    ASSERT(pair_run(&p, got_2, RTC_SEC(300)));
    for (uint32_t i = 0; i < 2; i++) {
        ASSERT_EQ(p.s[1].msgs[i].buf->len, sizes[i]);
        ASSERT(check_pattern(p.s[1].msgs[i].buf->data, sizes[i], i + 10));
    }
    pair_free(&p);
}

static void test_large_messages_clean(void) { run_large(0, 4); }
static void test_large_messages_lossy(void) { run_large(0.05, 5); }

static void test_default_max_size(void)
{
    /* Defaults: 256 KiB both ways; a 256 KiB message goes, one byte more is refused. */
    rtc_sctp_config c = { .remote_max_message_size = RTC_SCTP_DEFAULT_MAX_MESSAGE };
    pair p;
    pair_init(&p, 6, &c, &c);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    int sid = rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "max" }, p.now);
    ASSERT_EQ(rtc_sctp_assoc_max_send_size(p.s[1].a), 256 * 1024);
    uint8_t *buf = malloc(256 * 1024 + 1);
    fill_pattern(buf, 256 * 1024, 77);
    ASSERT_EQ(rtc_data_channel_send(p.s[1].a, (uint16_t)sid, buf, 256 * 1024 + 1, true, p.now), RTC_ETOOBIG);
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, (uint16_t)sid, buf, 256 * 1024, true, p.now));
    free(buf);
    p.s[0].keep = true;
    rtc_time end = p.now + RTC_SEC(100);
    while (p.s[0].nmsgs < 1 && p.now < end) pair_step(&p, p.now + RTC_SEC(1));
    ASSERT_EQ(p.s[0].nmsgs, 1);
    ASSERT_EQ(p.s[0].msgs[0].buf->len, 256 * 1024);
    ASSERT(check_pattern(p.s[0].msgs[0].buf->data, 256 * 1024, 77));
    pair_free(&p);
}

static bool negotiated_done(pair *p) { return p->s[0].nmsgs >= 1 && p->s[1].nmsgs >= 1; }

static void test_negotiated(void)
{
    pair p;
    pair_init(&p, 7, NULL, NULL);
    rtc_data_channel_init in = { .label = "pre", .negotiated = true, .id = 7 };
    ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &in, p.now), 7);
    ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &in, p.now), RTC_EEXISTS);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    in.unordered = true;
    ASSERT_EQ(rtc_data_channel_create(p.s[1].a, &in, p.now), 7);   /* after connect, odd id on the even side's parity is fine */
    pair_drain(&p);
    ASSERT_EQ(p.s[0].open_seen[7], 1);
    ASSERT_EQ(p.s[1].open_seen[7], 1);
    ASSERT_OK(rtc_data_channel_send(p.s[0].a, 7, "from a", 6, false, p.now));
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, 7, "from b", 6, true, p.now));
    ASSERT(pair_run(&p, negotiated_done, RTC_SEC(10)));
    ASSERT_MEMEQ(p.s[1].msgs[0].buf->data, "from a", 6);
    ASSERT_MEMEQ(p.s[0].msgs[0].buf->data, "from b", 6);
    ASSERT_EQ(p.s[0].datachannel + p.s[1].datachannel, 0);          /* no DCEP involved */
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[1].a, &st);
    ASSERT_EQ(st.dcep_malformed, 0);
    ASSERT_EQ(rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .negotiated = true, .id = 65535 }, p.now), RTC_EINVAL);
    ASSERT_EQ(rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .has_max_retransmits = true,
                                                  .has_max_packet_life_time = true }, p.now), RTC_EINVAL);
    pair_free(&p);
}

static bool closed_0_both(pair *p) { return p->s[0].close_seen[0] && p->s[1].close_seen[0]; }
static bool closed_1_both(pair *p) { return p->s[0].close_seen[1] && p->s[1].close_seen[1]; }

static void test_close_either_side(void)
{
    pair p;
    pair_init(&p, 8, NULL, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "a" }, p.now), 0);
    ASSERT_EQ(rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "b" }, p.now), 1);
    ASSERT_OK(rtc_data_channel_send(p.s[0].a, 0, "last words", 10, false, p.now));
    /* Close right after a send: the queued message still goes out first. */
    ASSERT_OK(rtc_data_channel_close(p.s[0].a, 0, p.now));
    ASSERT_OK(rtc_data_channel_close(p.s[0].a, 0, p.now));            /* idempotent */
    ASSERT_EQ(rtc_data_channel_send(p.s[0].a, 0, "x", 1, false, p.now), RTC_ESTATE);
    ASSERT(pair_run(&p, closed_0_both, RTC_SEC(10)));
    ASSERT_EQ(p.s[1].closing_seen[0], 1);                 /* the peer saw it coming */
    ASSERT_EQ(p.s[0].closing_seen[0], 0);
    ASSERT_EQ(p.s[0].close_err[0], 0);
    ASSERT_EQ(p.s[1].close_err[0], 0);
    ASSERT_EQ(p.s[1].nmsgs, 1);
    ASSERT_MEMEQ(p.s[1].msgs[0].buf->data, "last words", 10);
    ASSERT_EQ(rtc_data_channel_send(p.s[1].a, 0, "x", 1, false, p.now), RTC_ENOTFOUND);
    /* The other channel, closed by the server side this time, and still usable until then. */
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, 1, "still here", 10, false, p.now));
    ASSERT_OK(rtc_data_channel_close(p.s[1].a, 1, p.now));
    ASSERT(pair_run(&p, closed_1_both, RTC_SEC(10)));
    ASSERT_EQ(p.s[0].closing_seen[1], 1);
    ASSERT_EQ(p.s[0].nmsgs, 1);
    /* Ids are free again: the next channel of the client reuses a fresh even id and works. */
    int again = rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "again" }, p.now);
    ASSERT_OK(again);
    ASSERT_OK(rtc_data_channel_send(p.s[0].a, (uint16_t)again, "new", 3, false, p.now));
    ASSERT(pair_run(&p, got_2, RTC_SEC(10)));
    ASSERT_MEMEQ(p.s[1].msgs[1].buf->data, "new", 3);
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[1].a, &st);
    ASSERT_EQ(st.channels, 1);
    pair_free(&p);
}

static void test_simultaneous_close(void)
{
    /* Both sides close the same channel at once: each resets its outgoing stream, sees
     * the other's reset, and reports exactly one CLOSE and no CLOSING. */
    pair p;
    pair_init(&p, 11, NULL, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "both" }, p.now), 0);
    pair_run(&p, NULL, RTC_MS(100));
    ASSERT_EQ(p.s[1].datachannel, 1);
    ASSERT_OK(rtc_data_channel_close(p.s[0].a, 0, p.now));
    ASSERT_OK(rtc_data_channel_close(p.s[1].a, 0, p.now));
    ASSERT(pair_run(&p, closed_0_both, RTC_SEC(10)));
    pair_run(&p, NULL, RTC_SEC(1));
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(p.s[i].close_seen[0], 1);
        ASSERT_EQ(p.s[i].closing_seen[0], 0);
        ASSERT_EQ(p.s[i].close_err[0], 0);
    }
    pair_free(&p);
}

static bool both_closed(pair *p) { return p->s[0].closed && p->s[1].closed; }

static void test_shutdown_closes_channels(void)
{
    pair p;
    pair_init(&p, 9, NULL, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    for (int i = 0; i < 3; i++) ASSERT_OK(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "x" }, p.now));
    pair_run(&p, NULL, RTC_MS(200));
    ASSERT_EQ(p.s[1].datachannel, 3);
    ASSERT_OK(rtc_sctp_assoc_close(p.s[1].a, p.now));
    ASSERT(pair_run(&p, both_closed, RTC_SEC(10)));
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(p.s[i].close, 3);
        ASSERT_EQ(p.s[i].close_err[0], RTC_ECLOSED);
        ASSERT_EQ(p.s[i].closed_err, 0);
    }
    ASSERT_EQ(rtc_sctp_assoc_poll_timeout(p.s[0].a), RTC_TIME_NEVER);
    ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ 0 }, p.now), RTC_ECLOSED);
    uint8_t junk[32] = { 0 };
    ASSERT_EQ(rtc_sctp_assoc_handle_packet(p.s[0].a, junk, sizeof junk, p.now), RTC_ECLOSED);
    pair_free(&p);
}

static bool peer_closed(pair *p) { return p->s[1].closed >= 1; }

static void test_abort_reaches_peer(void)
{
    /* One side ends the association: its ABORT goes out through poll_transmit, and the
     * peer's channels close within one trip (20 ms here), not after retransmissions
     * give up (RTO up to 10 s, ten of them) or heartbeats (10 s). */
    pair p;
    pair_init(&p, 12, NULL, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    for (int i = 0; i < 2; i++) ASSERT_OK(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "x" }, p.now));
    pair_run(&p, NULL, RTC_MS(200));
    ASSERT_EQ(p.s[1].datachannel, 2);
    rtc_time t0 = p.now;
    ASSERT_OK(rtc_sctp_assoc_abort(p.s[0].a, p.now));
    ASSERT_OK(rtc_sctp_assoc_abort(p.s[0].a, p.now));          /* idempotent */
    pair_drain(&p);
    ASSERT_EQ(p.s[0].closed, 1);
    ASSERT_EQ(p.s[0].closed_err, 0);
    ASSERT_EQ(p.s[0].close, 2);
    /* The aborting side is gone: free it, as a peer connection does, before the ABORT lands. */
    rtc_sctp_assoc_free(p.s[0].a);
    p.s[0].a = NULL;
    ASSERT(pair_run(&p, peer_closed, RTC_SEC(300)));
    ASSERT(p.now - t0 <= RTC_MS(100));
    ASSERT_EQ(p.s[1].closed_err, 0);                            /* a deliberate close, not a failure */
    ASSERT_EQ(p.s[1].close, 2);
    ASSERT_EQ(p.s[1].close_err[0], RTC_ECLOSED);
    ASSERT_EQ(p.s[1].close_err[2], RTC_ECLOSED);
    pair_free(&p);
}

static void test_peer_vanishes(void)
{
    /* The peer stops answering: retransmissions give up and every channel closes with an error. */
    pair p;
    pair_init(&p, 10, NULL, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    ASSERT_OK(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "x" }, p.now));
    pair_run(&p, NULL, RTC_MS(200));
    rtc_sctp_assoc_free(p.s[1].a);
    p.s[1].a = NULL;
    vnet_set_link(p.net, (vnet_link){ .loss = 1.0 });
    ASSERT_OK(rtc_data_channel_send(p.s[0].a, 0, "anyone?", 7, false, p.now));
    rtc_time end = p.now + RTC_SEC(600);
    while (!p.s[0].closed && p.now < end) pair_step(&p, p.now + RTC_SEC(5));
    ASSERT_EQ(p.s[0].closed, 1);
    ASSERT(p.s[0].closed_err < 0);
    ASSERT_EQ(p.s[0].close_seen[0], 1);
    ASSERT(p.s[0].close_err[0] < 0);
    pair_free(&p);
}

static bool closed_2_both(pair *p) { return p->s[0].close_seen[2] && p->s[1].close_seen[2]; }

static void test_id_allocation(void)
{
    /* 8 streams: the client owns ids 0, 2, 4, 6. A fifth channel finds none free until
     * one closes; the server's first id is odd. */
    rtc_sctp_config c = { .max_streams = 8 };
    pair p;
    pair_init(&p, 14, &c, &c);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "n" }, p.now), 2 * i);
    ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "n" }, p.now), RTC_EQUOTA);
    ASSERT_EQ(rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "s" }, p.now), 1);
    ASSERT_EQ(rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .negotiated = true, .id = 8 }, p.now), RTC_EINVAL);
    pair_run(&p, NULL, RTC_MS(200));
    ASSERT_OK(rtc_data_channel_close(p.s[0].a, 2, p.now));
    ASSERT(pair_run(&p, closed_2_both, RTC_SEC(10)));
    ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "n" }, p.now), 2);
    pair_run(&p, NULL, RTC_MS(200));
    ASSERT_EQ(p.s[1].open_seen[2], 2);                  /* opened twice over its life */
    pair_free(&p);
}

static void test_timer_wakes_other_association(void)
{
    /* usrsctp's timers are process-wide: a retransmission for one association fires
     * during a call on another. The woken association is reported so its driver can
     * drain it at once instead of at its own next tick. */
    pair p1, p2;
    pair_init(&p1, 12, NULL, NULL);
    ASSERT(pair_run(&p1, both_connected, RTC_SEC(10)));
    ASSERT_EQ(rtc_data_channel_create(p1.s[0].a, &(rtc_data_channel_init){ .label = "t3", .negotiated = true }, p1.now), 0);
    vnet_set_link(p1.net, (vnet_link){ .loss = 1.0 });
    ASSERT_OK(rtc_data_channel_send(p1.s[0].a, 0, "lost", 4, false, p1.now));
    pair_drain(&p1);                                   /* sent, and dropped by the link */
    pair_init(&p2, 13, NULL, NULL);
    ASSERT(pair_run(&p2, both_connected, RTC_SEC(10)));
    /* Only p2's association is driven; p1's retransmission timer is due meanwhile. */
    rtc_time now = p2.now + RTC_SEC(2);
    test_vclock = now;
    ASSERT_OK(rtc_sctp_assoc_handle_timeout(p2.s[0].a, now));
    rtc_sctp_assoc *w = NULL;
    bool found = false;
    while (rtc_sctp_poll_woken(&w)) {
        ASSERT(w != p2.s[0].a);
        if (w == p1.s[0].a) found = true;
    }
    ASSERT(found);
    rtc_buf *b;
    ASSERT(rtc_sctp_assoc_poll_transmit(p1.s[0].a, &b));   /* the retransmission is queued */
    ASSERT(b->len > 28 && b->data[12] == 0);                 /* a DATA chunk */
    rtc_buf_unref(b);
    pair_free(&p1);
    ASSERT(!rtc_sctp_poll_woken(&w));                        /* a freed association is never listed */
    p2.now = now;
    pair_free(&p2);
}

int main(void)
{
    RUN(test_open_and_exchange);
    RUN(test_ordered_clean);
    RUN(test_ordered_lossy);
    RUN(test_large_messages_clean);
    RUN(test_large_messages_lossy);
    RUN(test_default_max_size);
    RUN(test_negotiated);
    RUN(test_close_either_side);
    RUN(test_simultaneous_close);
    RUN(test_shutdown_closes_channels);
    RUN(test_abort_reaches_peer);
    RUN(test_peer_vanishes);
    RUN(test_id_allocation);
    RUN(test_timer_wakes_other_association);
    ASSERT_OK(rtc_sctp_global_shutdown());
    return 0;
}
