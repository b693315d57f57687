/* An off-path sender (an address that never passed an ICE check) sends DTLS alerts,
 * DTLS-looking garbage and SRTP-looking datagrams to both peers: before the answer,
 * during the handshake, once connected and across an ICE restart. The peer
 * connection refuses every one (RTC_EIGNORED) and nothing changes: the handshake
 * completes, the data channel carries messages, the connection stays up. */
#include "test_pc_harness.h"
#include <stdio.h>

static peer *g_a, *g_b;
static rtc_addr g_attacker;
static rtc_time g_last_inject = -1;
static int g_injected, g_refused;

static void inject_one(peer *p, const uint8_t *d, size_t n)
{
    g_injected++;
    if (rtc_pc_handle_datagram(p->pc, &p->addr, &g_attacker, d, n, now) == RTC_EIGNORED) g_refused++;
}

/* Every millisecond of virtual time: a fatal epoch-0 alert (15 bytes, what a real
 * DTLS stack would act on), random DTLS-range bytes, and an RTP-looking datagram. */
static void inject(rtc_time t)
{
    if (!g_a || t - g_last_inject < RTC_MS(1)) return;
    g_last_inject = t;
    peer *targets[2] = { g_a, g_b };
    for (int i = 0; i < 2; i++) {
        uint8_t alert[15] = { 21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40 };
        alert[10] = (uint8_t)rtc_rng_u32(&rng);
        alert[9] = (uint8_t)rtc_rng_u32(&rng);
        alert[14] = i ? 40 : 42;              /* handshake_failure, bad_certificate */
        inject_one(targets[i], alert, sizeof alert);
        uint8_t junk[64];
        for (size_t k = 0; k < sizeof junk; k++) junk[k] = (uint8_t)rtc_rng_u32(&rng);
        junk[0] = (uint8_t)(20 + junk[0] % 4);
        junk[1] = 0xfe; junk[2] = 0xfd;
        junk[11] = 0; junk[12] = 51;          /* a record of the right length */
        inject_one(targets[i], junk, sizeof junk);
        junk[0] = 0x80; junk[1] = 96;
        inject_one(targets[i], junk, 40);
    }
}

static bool channel_up(peer *a, peer *b) { return a->opened >= 1 && b->datachannel >= 1; }

static void test_offpath_datagrams_change_nothing(void)
{
    peer a, b;
    vnet *n = vnet_new(3);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5), .jitter = RTC_MS(2) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    ASSERT_OK(rtc_addr_parse(&g_attacker, "10.0.0.66:6666"));
    rtc_dc_init init = { .label = "chat", .max_retransmits = -1, .max_packet_life_time = -1 };
    int dc = rtc_pc_create_data_channel(a.pc, &init, now);
    ASSERT_EQ(dc, 0);
    g_a = &a;
    g_b = &b;
    harness_on_clock = inject;
    /* From before the first description to the open channel. */
    negotiate(&a, &b, n);
    run_until(&a, &b, n, now + RTC_SEC(20), channel_up);
    ASSERT(connected(&a) && connected(&b));
    ASSERT(channel_up(&a, &b));
    int during = g_injected;
    fprintf(stderr, "during setup: %d\n", during);
    ASSERT(during > 100);

    /* Connected: more of the same for two seconds, then a message each way. */
    step(&a, &b, n, now + RTC_SEC(2));
    ASSERT(connected(&a) && connected(&b));
    ASSERT_OK(rtc_pc_dc_send(a.pc, dc, "hello", 5, false, now));
    step(&a, &b, n, now + RTC_MS(500));
    ASSERT_EQ(b.nmsgs, 1);
    ASSERT_STREQ(b.msgs[0], "hello");

    /* An ICE restart: the new pair carries data, off-path input still changes nothing. */
    ASSERT_OK(rtc_pc_restart_ice(a.pc, now));
    negotiate(&a, &b, n);
    step(&a, &b, n, now + RTC_SEC(3));
    ASSERT(connected(&a) && connected(&b));
    ASSERT_OK(rtc_pc_dc_send(b.pc, b.last_dc, "again", 5, false, now));
    step(&a, &b, n, now + RTC_MS(500));
    ASSERT_EQ(a.nmsgs, 1);
    ASSERT_STREQ(a.msgs[0], "again");

    fprintf(stderr, "off-path datagrams: %d (%d during setup), refused %d\n", g_injected, during, g_refused);
    ASSERT_EQ(g_refused, g_injected);
    rtc_pc_stats st;
    rtc_pc_get_stats(a.pc, &st);
    ASSERT_STREQ(st.dtls_state, "connected");
    rtc_pc_get_stats(b.pc, &st);
    ASSERT_STREQ(st.dtls_state, "connected");

    harness_on_clock = NULL;
    g_a = g_b = NULL;
    close_peers(&a, &b, n);
}

int main(void)
{
    harness_begin(0x0ff9a7);
    RUN(test_offpath_datagrams_change_nothing);
    harness_end();
    return 0;
}
