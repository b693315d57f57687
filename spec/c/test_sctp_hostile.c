/* Hostile and malformed input reaching an association: bad DCEP, messages on streams
 * nobody opened, unknown PPIDs, oversized messages, junk packets. Each is dropped and
 * counted (or closes its channel), never crashes, and the association keeps working.
 * The "attacker" is a second association that writes raw SCTP messages with the
 * internal send call, bypassing the checks of the public API. */
#include "test_sctp_harness.h"
#include "sctp/dcep.h"
#include "sctp/sctp_internal.h"

static bool got_1(pair *p) { return p->s[0].nmsgs >= 1; }

static void raw(pair *p, uint16_t sid, uint32_t ppid, const void *data, size_t len)
{
    ASSERT_OK(sctp__sendv(p->s[1].a, sid, ppid, false, -1, -1, data, len));
    pair_run(p, NULL, RTC_MS(60));
}

static void test_malformed_dcep(void)
{
    pair p;
    pair_init(&p, 31, NULL, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    side *victim = &p.s[0];          /* the DTLS client: the peer's channels are odd */
    rtc_sctp_stats st;
    uint64_t expect = 0;

    raw(&p, 3, RTC_PPID_DCEP, "\x07", 1);                       expect++;   /* unknown type */
    raw(&p, 3, RTC_PPID_DCEP, "\x03\x00\x00", 3);               expect++;   /* truncated OPEN */
    uint8_t open[64];
    rtc_dcep_open o = { .channel_type = RTC_DCEP_RELIABLE, .label = RTC_STR("abc") };
    int n = rtc_dcep_build_open(&o, open, sizeof open);
    ASSERT_EQ(n, 15);
    open[9] = 100;                                              /* label length past the end */
    raw(&p, 3, RTC_PPID_DCEP, open, (size_t)n);                 expect++;
    open[9] = 3;
    open[n] = 'x';
    raw(&p, 3, RTC_PPID_DCEP, open, (size_t)n + 1);             expect++;   /* trailing byte */
    open[1] = 0x05;
    raw(&p, 3, RTC_PPID_DCEP, open, (size_t)n);                 expect++;   /* unknown channel type */
    open[1] = RTC_DCEP_RELIABLE;
    raw(&p, 4, RTC_PPID_DCEP, open, (size_t)n);                 expect++;   /* our parity, not theirs */
    raw(&p, 5, RTC_PPID_DCEP, "\x02", 1);                       expect++;   /* ACK for nothing */
    raw(&p, 5, RTC_PPID_DCEP, "\x02\x00", 2);                   expect++;   /* ACK with a tail */
    rtc_sctp_assoc_get_stats(victim->a, &st);
    ASSERT_EQ(st.dcep_malformed, expect);
    ASSERT_EQ(victim->datachannel, 0);
    ASSERT_EQ(st.channels, 0);

    raw(&p, 3, RTC_PPID_DCEP, open, (size_t)n);                             /* finally a good one */
    ASSERT_EQ(victim->datachannel, 1);
    ASSERT_STREQ(victim->last_label, "abc");
    raw(&p, 3, RTC_PPID_DCEP, open, (size_t)n);                 expect++;   /* the same stream again */
    ASSERT_EQ(victim->datachannel, 1);
    raw(&p, 3, RTC_PPID_DCEP, "\x02", 1);                       expect++;   /* ACK to the opener's own OPEN */
    rtc_sctp_assoc_get_stats(victim->a, &st);
    ASSERT_EQ(st.dcep_malformed, expect);
    ASSERT_EQ(st.channels, 1);

    /* User data on streams nobody opened, and a PPID nobody defined. */
    raw(&p, 9, RTC_PPID_STRING, "nobody", 6);
    raw(&p, 11, RTC_PPID_BINARY, "home", 4);
    raw(&p, 3, 99, "what", 4);
    rtc_sctp_assoc_get_stats(victim->a, &st);
    ASSERT_EQ(st.unknown_stream, 2);
    ASSERT_EQ(st.bad_ppid, 1);
    ASSERT_EQ(victim->messages, 0);

    /* Deprecated partial PPIDs are put back together. */
    raw(&p, 3, RTC_PPID_STRING_PARTIAL, "hel", 3);
    raw(&p, 3, RTC_PPID_STRING_PARTIAL, "lo ", 3);
    raw(&p, 3, RTC_PPID_STRING, "world", 5);
    ASSERT(pair_run(&p, got_1, RTC_SEC(5)));
    ASSERT_EQ(victim->nmsgs, 1);
    ASSERT_EQ(victim->msgs[0].buf->len, 11);
    ASSERT_MEMEQ(victim->msgs[0].buf->data, "hello world", 11);
    ASSERT(!victim->msgs[0].binary);

    /* The victim's side of the channel still sends: the message reaches the attacker's
     * association (which, having opened the stream by hand, has no channel for it). */
    ASSERT_OK(rtc_data_channel_send(victim->a, 3, "fine", 4, false, p.now));
    pair_run(&p, NULL, RTC_MS(100));
    rtc_sctp_assoc_get_stats(p.s[1].a, &st);
    ASSERT_EQ(st.unknown_stream, 1);
    pair_free(&p);
}

static void test_junk_packets(void)
{
    pair p;
    pair_init(&p, 32, NULL, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    int sid = rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "j" }, p.now);
    pair_run(&p, NULL, RTC_MS(100));
    rtc_sctp_assoc *v = p.s[0].a;
    ASSERT_EQ(rtc_sctp_assoc_handle_packet(v, NULL, 0, p.now), RTC_ETRUNC);
    ASSERT_EQ(rtc_sctp_assoc_handle_packet(v, (const uint8_t *)"\x13\x88\x13\x88\x00", 5, p.now), RTC_ETRUNC);
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 99);
    uint8_t junk[1500];
    for (int i = 0; i < 500; i++) {
        size_t len = 16 + rtc_rng_below(&rng, sizeof junk - 16);
        rtc_rng_bytes(&rng, junk, len);
        if (i & 1) {                 /* right ports, so it reaches the association's lookup */
            junk[0] = 0x13; junk[1] = 0x88; junk[2] = 0x13; junk[3] = 0x88;
        }
        ASSERT_OK(rtc_sctp_assoc_handle_packet(v, junk, len, p.now));
        pair_drain(&p);
    }
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(v, &st);
    ASSERT_EQ(st.malformed_packets, 2);
    ASSERT_EQ(p.s[0].closed, 0);
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, (uint16_t)sid, "alive", 5, false, p.now));
    ASSERT(pair_run(&p, got_1, RTC_SEC(5)));
    ASSERT_MEMEQ(p.s[0].msgs[0].buf->data, "alive", 5);
    pair_free(&p);
}

static bool closed_both(pair *p) { return p->s[0].close >= 1 && p->s[1].close >= 1; }

static void test_oversized_rejected(void)
{
    /* The receiver allows 64 KiB; a sender that ignores it (believes "unlimited")
     * gets its channel closed, and the receiver holds no more than its limit. */
    rtc_sctp_config small = { .max_message_size = 64 * 1024 };
    rtc_sctp_config liar = { .remote_max_message_size = 0 };
    pair p;
    pair_init(&p, 33, &small, &liar);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    int sid = rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "big" }, p.now);
    ASSERT_OK(sid);
    static uint8_t buf[100 * 1024];
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, (uint16_t)sid, buf, 64 * 1024, true, p.now));    /* at the limit: fine */
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, (uint16_t)sid, buf, sizeof buf, true, p.now));   /* over it */
    ASSERT(pair_run(&p, closed_both, RTC_SEC(10)));
    ASSERT_EQ(p.s[0].nmsgs, 1);
    ASSERT_EQ(p.s[0].msgs[0].buf->len, 64 * 1024);
    ASSERT_EQ(p.s[0].close_err[sid], RTC_ETOOBIG);
    ASSERT_EQ(p.s[1].close_err[sid], 0);
    ASSERT_EQ(p.s[1].closing_seen[sid], 1);
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[0].a, &st);
    ASSERT_EQ(st.oversized, 1);
    /* The association itself is fine: a new channel works. */
    sid = rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "small" }, p.now);
    ASSERT_OK(rtc_data_channel_send(p.s[1].a, (uint16_t)sid, "ok", 2, false, p.now));
    pair_run(&p, NULL, RTC_MS(200));
    ASSERT_EQ(p.s[0].nmsgs, 2);
    ASSERT_MEMEQ(p.s[0].msgs[1].buf->data, "ok", 2);
    pair_free(&p);
}

static void test_oversized_partial_ppids(void)
{
    /* Deprecated fragments add up past the limit: same outcome, bounded memory. */
    rtc_sctp_config small = { .max_message_size = 4096 };
    pair p;
    pair_init(&p, 34, &small, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    int sid = rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "frag" }, p.now);
    pair_run(&p, NULL, RTC_MS(100));
    static uint8_t piece[1500];
    for (int i = 0; i < 3; i++) raw(&p, (uint16_t)sid, RTC_PPID_BINARY_PARTIAL, piece, sizeof piece);
    pair_run(&p, NULL, RTC_MS(500));
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[0].a, &st);
    ASSERT_EQ(st.oversized, 1);
    ASSERT_EQ(p.s[0].close_err[sid], RTC_ETOOBIG);
    ASSERT_EQ(p.s[0].nmsgs, 0);
    pair_free(&p);
}

static void test_partial_final_piece_counts(void)
{
    /* Under the limit piece by piece, over it with the final piece: the whole message
     * is what max-message-size bounds, so nothing of it is delivered. */
    rtc_sctp_config small = { .max_message_size = 4096 };
    pair p;
    pair_init(&p, 35, &small, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    int sid = rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "frag" }, p.now);
    pair_run(&p, NULL, RTC_MS(100));
    static uint8_t piece[3000];
    raw(&p, (uint16_t)sid, RTC_PPID_BINARY_PARTIAL, piece, sizeof piece);
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[0].a, &st);
    ASSERT_EQ(st.reassembly_bytes, sizeof piece);
    raw(&p, (uint16_t)sid, RTC_PPID_BINARY, piece, sizeof piece);
    pair_run(&p, NULL, RTC_MS(500));
    rtc_sctp_assoc_get_stats(p.s[0].a, &st);
    ASSERT_EQ(p.s[0].nmsgs, 0);
    ASSERT_EQ(st.oversized, 1);
    ASSERT_EQ(st.reassembly_bytes, 0);
    ASSERT_EQ(p.s[0].close_err[sid], RTC_ETOOBIG);
    pair_free(&p);
}

static void test_partial_budget_per_association(void)
{
    /* Fragments parked on many channels at once: together they may hold no more than
     * one max_message_size; the channels that would go past it are closed. */
    rtc_sctp_config small = { .max_message_size = 4096 };
    pair p;
    pair_init(&p, 36, &small, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    int sids[8];
    for (int i = 0; i < 8; i++) {
        sids[i] = rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .label = "f" }, p.now);
        ASSERT_OK(sids[i]);
    }
    pair_run(&p, NULL, RTC_MS(100));
    ASSERT_EQ(p.s[0].datachannel, 8);
    static uint8_t piece[1500];
    for (int i = 0; i < 8; i++) raw(&p, (uint16_t)sids[i], RTC_PPID_BINARY_PARTIAL, piece, sizeof piece);
    pair_run(&p, NULL, RTC_MS(500));
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[0].a, &st);
    ASSERT(st.reassembly_bytes <= 4096);
    ASSERT_EQ(st.reassembly_bytes, 2 * sizeof piece);        /* two fit, the other six do not */
    ASSERT_EQ(st.oversized, 6);
    for (int i = 2; i < 8; i++) ASSERT_EQ(p.s[0].close_err[sids[i]], RTC_ETOOBIG);
    /* The first two complete within the limit and are delivered whole. */
    raw(&p, (uint16_t)sids[0], RTC_PPID_BINARY, "end", 3);
    raw(&p, (uint16_t)sids[1], RTC_PPID_BINARY, "end", 3);
    pair_run(&p, NULL, RTC_MS(500));
    ASSERT_EQ(p.s[0].nmsgs, 2);
    ASSERT_EQ(p.s[0].msgs[0].buf->len, sizeof piece + 3);
    ASSERT_EQ(p.s[0].msgs[1].buf->len, sizeof piece + 3);
    rtc_sctp_assoc_get_stats(p.s[0].a, &st);
    ASSERT_EQ(st.reassembly_bytes, 0);
    pair_free(&p);
}

static void test_long_label_refused(void)
{
    /* A DATA_CHANNEL_OPEN with a label over RTC_DC_MAX_LABEL: nothing is kept, no ACK
     * goes back, and the stream reset closes the opener's channel. The "opener" here
     * holds a negotiated channel on the stream so that its close can be seen. */
    pair p;
    pair_init(&p, 37, NULL, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    ASSERT_EQ(rtc_data_channel_create(p.s[1].a, &(rtc_data_channel_init){ .negotiated = true, .id = 3 }, p.now), 3);
    static char label[RTC_DC_MAX_LABEL + 2];
    memset(label, 'L', RTC_DC_MAX_LABEL + 1);
    ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = label }, p.now), RTC_EINVAL);
    static uint8_t open[RTC_DCEP_OPEN_HEADER + sizeof label];
    rtc_dcep_open o = { .channel_type = RTC_DCEP_RELIABLE, .label = { label, RTC_DC_MAX_LABEL + 1 } };
    int n = rtc_dcep_build_open(&o, open, sizeof open);
    ASSERT(n > 0);
    raw(&p, 3, RTC_PPID_DCEP, open, (size_t)n);
    pair_run(&p, NULL, RTC_MS(500));
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[0].a, &st);
    ASSERT_EQ(st.dcep_refused, 1);
    ASSERT_EQ(st.dcep_malformed, 0);
    ASSERT_EQ(st.channels, 0);
    ASSERT_EQ(p.s[0].datachannel, 0);
    ASSERT_EQ(p.s[1].close_seen[3], 1);
    /* At the limit it opens. */
    o.label.len = RTC_DC_MAX_LABEL;
    n = rtc_dcep_build_open(&o, open, sizeof open);
    raw(&p, 5, RTC_PPID_DCEP, open, (size_t)n);
    pair_run(&p, NULL, RTC_MS(200));
    ASSERT_EQ(p.s[0].datachannel, 1);
    ASSERT_EQ(p.s[0].last_datachannel, 5);
    label[RTC_DC_MAX_LABEL] = 0;
    ASSERT_OK(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = label }, p.now));
    pair_free(&p);
}

int main(void)
{
    RUN(test_malformed_dcep);
    RUN(test_junk_packets);
    RUN(test_oversized_rejected);
    RUN(test_oversized_partial_ppids);
    RUN(test_partial_final_piece_counts);
    RUN(test_partial_budget_per_association);
    RUN(test_long_label_refused);
    ASSERT_OK(rtc_sctp_global_shutdown());
    return 0;
}
