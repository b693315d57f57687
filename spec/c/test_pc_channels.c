/* Data channels of a peer connection: handles reused after close with bounded
 * bookkeeping, label caps, and closing that reaches the peer at once (SCTP ABORT or
 * SHUTDOWN, DTLS close_notify) rather than after SCTP's timeouts. */
#include "test_pc_harness.h"
#include "test_sctp_vclock.h"
#include "pc/pc_internal.h"

static void move_vclock(rtc_time t) { test_vclock = RTC_SEC(1000) + t; }

static bool channel_up(peer *a, peer *b) { return a->opened >= 1 && b->datachannel >= 1; }
static bool b_closed(peer *a, peer *b) { (void)a; return b->closed >= 1; }

static void open_pair(peer *a, peer *b, vnet *n, int *dc)
{
    peer_init(a, "10.0.0.1:1000", cert_a);
    peer_init(b, "10.0.0.2:2000", cert_b);
    rtc_dc_init init = { .label = "chat", .max_retransmits = -1, .max_packet_life_time = -1 };
    *dc = rtc_pc_create_data_channel(a->pc, &init, now);
    ASSERT(*dc >= 0);
    negotiate(a, b, n);
    run_until(a, b, n, now + RTC_SEC(20), channel_up);
    ASSERT(channel_up(a, b));
}

/* pc_close on one side: the other side's channel reports close within a few round
 * trips, far below SCTP's own failure detection (heartbeats every 10 s, RTO up to 10 s,
 * ten retransmissions). */
static void test_close_reaches_peer(void)
{
    peer a, b;
    vnet *n = vnet_new(11);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20) });
    int dc;
    open_pair(&a, &b, n, &dc);
    rtc_time t0 = now;
    ASSERT_OK(rtc_pc_close(a.pc, now));
    run_until(&a, &b, n, now + RTC_SEC(300), b_closed);
    ASSERT_EQ(b.closed, 1);
    ASSERT(now - t0 < RTC_SEC(1));
    rtc_pc_free(a.pc);
    rtc_pc_free(b.pc);
    vnet_free(n);
}

static int cycle_dc = -1;
static bool cycle_open(peer *a, peer *b) { (void)a; return b->datachannel >= 1; }
static bool cycle_closed(peer *a, peer *b) { return a->closed >= 1 && b->closed >= 1; }

/* 1000 channels opened and closed one after the other, each with a label and a
 * protocol at the cap: both sides keep reusing one slot, nothing of a closed channel
 * stays (strings, stream index), and old handles are refused rather than aliased. */
static void test_cycles_reuse_slots(void)
{
    peer a, b;
    vnet *n = vnet_new(14);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(2) });
    int dc;
    open_pair(&a, &b, n, &dc);
    ASSERT_OK(rtc_pc_dc_close(a.pc, dc, now));
    run_until(&a, &b, n, now + RTC_SEC(5), cycle_closed);
    static char label[RTC_DC_MAX_LABEL + 2], proto[RTC_DC_MAX_PROTOCOL + 1];
    memset(label, 'l', RTC_DC_MAX_LABEL + 1);
    memset(proto, 'p', RTC_DC_MAX_PROTOCOL);
    rtc_dc_init init = { .label = label, .protocol = proto, .max_retransmits = -1, .max_packet_life_time = -1 };
    ASSERT_EQ(rtc_pc_create_data_channel(a.pc, &init, now), RTC_EINVAL);      /* label over the cap */
    label[RTC_DC_MAX_LABEL] = 0;
    int first = -1, prev = dc;
    for (int i = 0; i < 1000; i++) {
        a.closed = b.closed = b.datachannel = 0;
        cycle_dc = rtc_pc_create_data_channel(a.pc, &init, now);
        ASSERT(cycle_dc >= 0);
        ASSERT(cycle_dc != prev);
        ASSERT(!rtc_pc_dc_exists(a.pc, prev));
        ASSERT_EQ(rtc_pc_dc_send(a.pc, prev, "x", 1, false, now), RTC_ENOTFOUND);
        if (first < 0) first = cycle_dc;
        run_until(&a, &b, n, now + RTC_SEC(5), cycle_open);
        ASSERT_EQ(b.datachannel, 1);
        rtc_dc_info info;
        ASSERT_OK(rtc_pc_dc_info(b.pc, b.last_dc, &info));
        ASSERT_EQ(strlen(info.label), RTC_DC_MAX_LABEL);
        ASSERT_EQ(strlen(info.protocol), RTC_DC_MAX_PROTOCOL);
        ASSERT_OK(rtc_pc_dc_send(a.pc, cycle_dc, "m", 1, false, now));
        ASSERT_OK(rtc_pc_dc_close(a.pc, cycle_dc, now));
        run_until(&a, &b, n, now + RTC_SEC(5), cycle_closed);
        ASSERT_EQ(a.closed, 1);
        ASSERT_EQ(b.closed, 1);
        prev = cycle_dc;
    }
    ASSERT_EQ(b.nmsgs, 16);                 /* the harness keeps the first 16 of 1000 */
    /* Everything of the closed channels is gone on both sides. */
    for (peer *p = &a; p; p = p == &a ? &b : NULL) {
        ASSERT_EQ(rtc_pc_dc_count(p->pc), 0);
        ASSERT(rtc_pc_dc_slots(p->pc) <= 2);
        ASSERT(p->pc->capchans <= 4);
        ASSERT(p->pc->cap_sid <= 256);          /* by stream id: at most the streams offered (max_channels) */
        for (int i = 0; i < p->pc->nchans; i++) ASSERT(!p->pc->chans[i].label && !p->pc->chans[i].protocol);
        rtc_sctp_stats st;
        rtc_sctp_assoc_get_stats(p->pc->sctp, &st);
        ASSERT_EQ(st.channels, 0);
    }
    rtc_pc_stats st;
    rtc_pc_get_stats(a.pc, &st);
    ASSERT_EQ(st.data_channels_opened, 1001);
    ASSERT_EQ(st.data_channels_closed, 1001);
    rtc_pc_free(a.pc);
    rtc_pc_free(b.pc);
    vnet_free(n);
}

/* Send a's queued datagrams except DTLS records of content type `drop` (21 alert,
 * 23 application data: the SCTP packets). */
static void drain_dropping(peer *a, vnet *n, uint8_t drop)
{
    rtc_transmit tx;
    int dropped = 0;
    while (rtc_pc_poll_transmit(a->pc, &tx)) {
        if (tx.buf->len && tx.buf->data[0] == drop) dropped++;
        else vnet_send(n, &a->addr, &tx.remote, tx.buf->data, tx.buf->len, now);
        rtc_buf_unref(tx.buf);
    }
    ASSERT(dropped >= 1);
}

/* The close_notify is lost (DTLS does not resend alerts): the SCTP ABORT alone closes
 * the peer's channel at once. A SHUTDOWN would not: the peer answers it and waits for
 * a SHUTDOWN COMPLETE that never comes. */
static void test_abort_without_close_notify(void)
{
    peer a, b;
    vnet *n = vnet_new(12);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20) });
    int dc;
    open_pair(&a, &b, n, &dc);
    rtc_time t0 = now;
    ASSERT_OK(rtc_pc_close(a.pc, now));
    drain_dropping(&a, n, 21);
    run_until(&a, &b, n, now + RTC_SEC(300), b_closed);
    ASSERT_EQ(b.closed, 1);
    ASSERT(now - t0 < RTC_SEC(1));
    ASSERT(!b.pc->sctp || !rtc_sctp_assoc_is_connected(b.pc->sctp));
    rtc_pc_free(a.pc);
    rtc_pc_free(b.pc);
    vnet_free(n);
}

/* The ABORT is lost and the close_notify arrives: the peer ends its association then
 * and there (no timers left running for it), and its channel reports close. */
static void test_close_notify_ends_association(void)
{
    peer a, b;
    vnet *n = vnet_new(13);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20) });
    int dc;
    open_pair(&a, &b, n, &dc);
    rtc_time t0 = now;
    ASSERT_OK(rtc_pc_close(a.pc, now));
    drain_dropping(&a, n, 23);
    run_until(&a, &b, n, now + RTC_SEC(300), b_closed);
    ASSERT_EQ(b.closed, 1);
    ASSERT(now - t0 < RTC_SEC(1));
    ASSERT(b.pc->sctp);
    ASSERT(!rtc_sctp_assoc_is_connected(b.pc->sctp));
    ASSERT_EQ(rtc_sctp_assoc_poll_timeout(b.pc->sctp), RTC_TIME_NEVER);
    rtc_pc_free(a.pc);
    rtc_pc_free(b.pc);
    vnet_free(n);
}

int main(void)
{
    harness_on_clock = move_vclock;
    harness_begin(77);
    RUN(test_cycles_reuse_slots);
    RUN(test_close_reaches_peer);
    RUN(test_abort_without_close_notify);
    RUN(test_close_notify_ends_association);
    harness_end();
    return 0;
}
