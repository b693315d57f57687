/* The injected-stream log (pc/pc_inject_log.h) on hand-made packets, and its keyed hash
 * against SipHash-2-4's published test vectors. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "core/rtc_siphash.h"
#include "pc/pc_inject_log.h"
#include <string.h>

static void test_siphash_vectors(void)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++) key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++) msg[i] = (uint8_t)i;
    ASSERT_EQ(rtc_siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
    ASSERT_EQ(rtc_siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
    ASSERT(rtc_siphash24(key, msg, 8) != rtc_siphash24(key, msg, 9));
    key[0] ^= 1;
    ASSERT(rtc_siphash24(key, msg, 15) != 0xa129ca6149be45e5ULL);
}

/* A 40-byte packet: its seq, a transport-wide seq at [20..21], abs-send-time at
 * [24..26], payload from fill. */
typedef struct pkt { uint8_t d[40]; } pkt;
static pkt mk(uint16_t seq, uint8_t fill, uint16_t twcc, uint32_t abs)
{
    pkt p;
    memset(p.d, fill, sizeof p.d);
    p.d[2] = (uint8_t)(seq >> 8); p.d[3] = (uint8_t)seq;
    p.d[20] = (uint8_t)(twcc >> 8); p.d[21] = (uint8_t)twcc;
    p.d[24] = (uint8_t)(abs >> 16); p.d[25] = (uint8_t)(abs >> 8); p.d[26] = (uint8_t)abs;
    return p;
}

static int check(pc_inject_log *l, pkt *p, uint16_t seq, bool resends)
{
    return pc__inject_log_check(l, p->d, sizeof p->d, seq, p->d + 20, p->d + 24, resends);
}

static void send_first(pc_inject_log *l, uint16_t seq, uint8_t fill, uint16_t twcc, bool resends)
{
    pkt p = mk(seq, fill, 0, 1000u + seq);
    ASSERT_EQ(check(l, &p, seq, resends), PC_INJECT_FIRST);
    p.d[20] = (uint8_t)(twcc >> 8); p.d[21] = (uint8_t)twcc;          /* the pc stamps it */
    pc__inject_log_note(l, p.d, sizeof p.d, seq, p.d + 20, p.d + 24, resends);
}

static void test_plain_resend_gets_first_bytes(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 1);
    pc_inject_log *l = pc__inject_log_new(&rng);
    for (uint16_t s = 65530; s != 10; s++) send_first(l, s, (uint8_t)s, (uint16_t)(s + 7), true);
    /* Built again by the forwarder: its own abs-send-time, transport seq left 0. */
    pkt p = mk(65533, (uint8_t)65533, 0, 99999);
    ASSERT_EQ(check(l, &p, 65533, true), PC_INJECT_RESEND);
    pkt first = mk(65533, (uint8_t)65533, (uint16_t)(65533 + 7), 1000u + 65533);
    ASSERT_EQ(memcmp(p.d, first.d, sizeof p.d), 0);
    /* Across the wrap too. */
    p = mk(3, 3, 0, 5);
    ASSERT_EQ(check(l, &p, 3, true), PC_INJECT_RESEND);
    /* Other payload under a used index: refused, and the packet left as it came. */
    p = mk(4, 0xEE, 0, 5);
    pkt came = p;
    ASSERT_EQ(check(l, &p, 4, true), RTC_EEXISTS);
    ASSERT_EQ(memcmp(p.d, came.d, sizeof p.d), 0);
    /* Other length: refused. */
    p = mk(5, 5, 0, 5);
    ASSERT_EQ(pc__inject_log_check(l, p.d, sizeof p.d - 1, 5, p.d + 20, p.d + 24, true), RTC_EEXISTS);
    pc__inject_log_free(l);
}

static void test_repeats_refused_without_plain_resends(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 2);
    pc_inject_log *l = pc__inject_log_new(&rng);
    for (uint16_t s = 100; s < 110; s++) send_first(l, s, 1, s, false);
    pkt p = mk(105, 1, 105, 1105);                  /* even the very same bytes */
    ASSERT_EQ(check(l, &p, 105, false), RTC_EEXISTS);
    /* A seq never sent inside the window (reordered, or skipped): a first transmission. */
    send_first(l, 120, 1, 120, false);
    p = mk(115, 1, 0, 0);
    ASSERT_EQ(check(l, &p, 115, false), PC_INJECT_FIRST);
    pc__inject_log_free(l);
}

static void test_older_than_window_refused(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 3);
    pc_inject_log *l = pc__inject_log_new(&rng);
    send_first(l, 0, 1, 0, true);
    send_first(l, PC_INJECT_WINDOW + 5, 1, 1, true);
    pkt p = mk(3, 1, 0, 0);                          /* never sent, but nothing is known so far back */
    ASSERT_EQ(check(l, &p, 3, true), RTC_EEXISTS);
    p = mk(0, 1, 0, 1000);
    ASSERT_EQ(check(l, &p, 0, true), RTC_EEXISTS);
    /* The window slid: a seq it now covers that was sent long ago is not "sent". */
    p = mk(PC_INJECT_WINDOW, 1, 0, 0);
    ASSERT_EQ(check(l, &p, PC_INJECT_WINDOW, true), PC_INJECT_FIRST);
    pc__inject_log_free(l);
}

int main(void)
{
    RUN(test_siphash_vectors);
    RUN(test_plain_resend_gets_first_bytes);
    RUN(test_repeats_refused_without_plain_resends);
    RUN(test_older_than_window_refused);
    return 0;
}
