/* srtp/: sessions keyed by a real DTLS handshake for each of the four profiles;
 * round trips, replay and tamper rejection, SSRCs appearing later, rollover,
 * tailroom and hostile input. */
#include "test_dtls_pair.h"
#include "srtp/srtp_session.h"
#include "core/rtc_demux.h"
#include "core/rtc_bytes.h"

static rtc_buf *make_rtp(rtc_pool *pool, uint32_t ssrc, uint16_t seq, size_t payload)
{
    rtc_buf *b = rtc_buf_alloc(pool, 1500);
    uint8_t *p = b->data;
    p[0] = 0x80; p[1] = 96;
    rtc_wr16(p + 2, seq);
    rtc_wr32(p + 4, (uint32_t)seq * 960u);
    rtc_wr32(p + 8, ssrc);
    for (size_t i = 0; i < payload; i++) p[12 + i] = (uint8_t)(i ^ seq);
    b->len = 12 + payload;
    return b;
}

static rtc_buf *make_rtcp_sr(rtc_pool *pool, uint32_t ssrc, uint32_t n)
{
    rtc_buf *b = rtc_buf_alloc(pool, 1500);
    uint8_t *p = b->data;
    p[0] = 0x80; p[1] = 200;
    rtc_wr16(p + 2, 6);                 /* 28 bytes: header, ssrc, sender info */
    rtc_wr32(p + 4, ssrc);
    for (int i = 8; i < 28; i++) p[i] = (uint8_t)(i + n);
    b->len = 28;
    return b;
}

static rtc_buf *copy_buf(rtc_pool *pool, const rtc_buf *src)
{
    rtc_buf *b = rtc_buf_alloc(pool, 1500);
    memcpy(b->data, src->data, src->len);
    b->len = src->len;
    return b;
}

static size_t tag_len(rtc_srtp_profile p, bool rtcp)
{
    if (p == RTC_SRTP_AEAD_AES_128_GCM || p == RTC_SRTP_AEAD_AES_256_GCM) return 16 + (rtcp ? 4 : 0);
    if (rtcp) return 10 + 4;
    return p == RTC_SRTP_AES128_CM_SHA1_32 ? 4 : 10;
}

/* One direction: `tx` protects, `rx` unprotects; what comes out equals what went in. */
static void round_trip(rtc_pool *pool, rtc_srtp_session *tx, rtc_srtp_session *rx, rtc_srtp_profile prof)
{
    for (uint32_t ssrc = 0x1000; ssrc < 0x1003; ssrc++) {      /* SSRCs need no setup */
        for (uint16_t seq = 100; seq < 110; seq++) {
            rtc_buf *plain = make_rtp(pool, ssrc, seq, 160);
            rtc_buf *b = copy_buf(pool, plain);
            ASSERT_EQ(rtc_srtp_session_protect_rtp(tx, b), 0);
            ASSERT_EQ(b->len, plain->len + tag_len(prof, false));
            ASSERT(memcmp(b->data + 12, plain->data + 12, 160) != 0);   /* payload encrypted */
            ASSERT_EQ(rtc_demux(b->data, b->len), RTC_PKT_RTP);
            ASSERT_EQ(rtc_srtp_session_unprotect(rx, b), RTC_PKT_RTP);
            ASSERT_EQ(b->len, plain->len);
            ASSERT_MEMEQ(b->data, plain->data, plain->len);
            rtc_buf_unref(b);
            rtc_buf_unref(plain);
        }
        rtc_buf *plain = make_rtcp_sr(pool, ssrc, ssrc);
        rtc_buf *b = copy_buf(pool, plain);
        ASSERT_EQ(rtc_srtp_session_protect_rtcp(tx, b), 0);
        ASSERT_EQ(b->len, plain->len + tag_len(prof, true));
        ASSERT_EQ(rtc_demux(b->data, b->len), RTC_PKT_RTCP);
        ASSERT_EQ(rtc_srtp_session_unprotect(rx, b), RTC_PKT_RTCP);
        ASSERT_EQ(b->len, plain->len);
        ASSERT_MEMEQ(b->data, plain->data, plain->len);
        rtc_buf_unref(b);
        rtc_buf_unref(plain);
    }
}

static void replay_and_tamper(rtc_pool *pool, rtc_srtp_session *tx, rtc_srtp_session *rx)
{
    rtc_srtp_stats before, after;
    rtc_srtp_session_get_stats(rx, &before);
    rtc_buf *b = make_rtp(pool, 0x2000, 5, 100);
    ASSERT_EQ(rtc_srtp_session_protect_rtp(tx, b), 0);
    rtc_buf *dup = copy_buf(pool, b), *bad = copy_buf(pool, b), *bad2 = copy_buf(pool, b);
    bad->data[20] ^= 0x01;                                                 /* payload bit */
    ASSERT_EQ(rtc_srtp_session_unprotect_rtp(rx, bad), RTC_EAUTH);
    bad2->data[bad2->len - 1] ^= 0x80;                                     /* tag bit */
    ASSERT_EQ(rtc_srtp_session_unprotect_rtp(rx, bad2), RTC_EAUTH);
    /* Forgeries do not advance the replay window: the real packet still passes once. */
    ASSERT_EQ(rtc_srtp_session_unprotect_rtp(rx, b), 0);
    ASSERT_EQ(rtc_srtp_session_unprotect_rtp(rx, dup), RTC_EIGNORED);      /* replay */

    rtc_buf *c = make_rtcp_sr(pool, 0x2000, 1);
    ASSERT_EQ(rtc_srtp_session_protect_rtcp(tx, c), 0);
    rtc_buf *cdup = copy_buf(pool, c), *cbad = copy_buf(pool, c);
    cbad->data[10] ^= 0x10;
    ASSERT_EQ(rtc_srtp_session_unprotect_rtcp(rx, cbad), RTC_EAUTH);
    ASSERT_EQ(rtc_srtp_session_unprotect_rtcp(rx, c), 0);
    ASSERT_EQ(rtc_srtp_session_unprotect_rtcp(rx, cdup), RTC_EIGNORED);
    rtc_srtp_session_get_stats(rx, &after);
    ASSERT_EQ(after.replays - before.replays, 2);
    ASSERT_EQ(after.auth_failures - before.auth_failures, 3);
    rtc_buf *bufs[] = { b, dup, bad, bad2, c, cdup, cbad };
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) rtc_buf_unref(bufs[i]);
}

static void test_profiles_keyed_by_dtls(void)
{
    const rtc_srtp_profile profiles[] = { RTC_SRTP_AEAD_AES_128_GCM, RTC_SRTP_AEAD_AES_256_GCM,
                                          RTC_SRTP_AES128_CM_SHA1_80, RTC_SRTP_AES128_CM_SHA1_32 };
    for (int i = 0; i < 4; i++) {
        rtc_dtls_config c = { .srtp_profiles = { profiles[i] }, .n_srtp_profiles = 1 };
        dpair p;
        dpair_init(&p, 100 + (uint64_t)i, (vnet_link){ .delay = RTC_MS(10), .loss = 0.1, .jitter = RTC_MS(10) }, &c, &c);
        dpair_exchange_fingerprints(&p);
        dpair_start(&p);
        ASSERT(dpair_run(&p, RTC_SEC(30), dpair_both_connected));
        ASSERT_EQ(p.a.profile, profiles[i]);
        ASSERT_EQ(p.b.profile, profiles[i]);
        rtc_srtp_session *sa = NULL, *sb = NULL;
        ASSERT_EQ(rtc_srtp_session_new(&sa, &p.a.keying, true), 0);
        ASSERT_EQ(rtc_srtp_session_new(&sb, &p.b.keying, false), 0);
        ASSERT_EQ(rtc_srtp_session_profile(sa), profiles[i]);
        round_trip(p.pool, sa, sb, profiles[i]);
        round_trip(p.pool, sb, sa, profiles[i]);
        replay_and_tamper(p.pool, sa, sb);
        replay_and_tamper(p.pool, sb, sa);

        /* Same role on both sides means mismatched keys: nothing authenticates. */
        rtc_srtp_session *wrong = NULL;
        ASSERT_EQ(rtc_srtp_session_new(&wrong, &p.b.keying, true), 0);
        rtc_buf *b = make_rtp(p.pool, 1, 1, 50);
        ASSERT_EQ(rtc_srtp_session_protect_rtp(sa, b), 0);
        ASSERT_EQ(rtc_srtp_session_unprotect_rtp(wrong, b), RTC_EAUTH);
        rtc_buf_unref(b);
        rtc_srtp_session_free(wrong);

        rtc_srtp_stats st;
        rtc_srtp_session_get_stats(sb, &st);
        ASSERT_EQ(st.rtp_unprotected, 30 + 1);
        ASSERT_EQ(st.rtcp_unprotected, 3 + 1);
        rtc_srtp_session_get_stats(sa, &st);
        ASSERT_EQ(st.rtp_protected, 30 + 1 + 1);
        rtc_srtp_session_free(sa);
        rtc_srtp_session_free(sb);
        dpair_free(&p);
    }
}

static void raw_pair(rtc_srtp_profile prof, rtc_srtp_session **tx, rtc_srtp_session **rx)
{
    uint8_t k[64];
    for (int i = 0; i < 64; i++) k[i] = (uint8_t)(i * 13 + 1);
    uint8_t other[64];
    for (int i = 0; i < 64; i++) other[i] = (uint8_t)(i * 31 + 7);
    ASSERT_EQ(rtc_srtp_session_new_raw(tx, prof, k, other), 0);
    ASSERT_EQ(rtc_srtp_session_new_raw(rx, prof, other, k), 0);
}

/* The sequence number wraps every 65536 packets; the rollover counter keeps the
 * index going, and late packets from before the wrap still decrypt. */
static void test_rollover_and_reorder(void)
{
    rtc_pool *pool = rtc_pool_new(16);
    rtc_srtp_session *tx, *rx;
    raw_pair(RTC_SRTP_AES128_CM_SHA1_80, &tx, &rx);
    rtc_buf *held = NULL;
    for (uint32_t i = 0; i < 200; i++) {
        uint16_t seq = (uint16_t)(65436 + i);                 /* crosses 65535 -> 0 */
        rtc_buf *b = make_rtp(pool, 77, seq, 40);
        ASSERT_EQ(rtc_srtp_session_protect_rtp(tx, b), 0);
        if (i == 90) { held = b; continue; }                  /* delivered after the wrap */
        ASSERT_EQ(rtc_srtp_session_unprotect_rtp(rx, b), 0);
        ASSERT_EQ(rtc_rd16(b->data + 2), seq);
        rtc_buf_unref(b);
    }
    ASSERT_EQ(rtc_srtp_session_unprotect_rtp(rx, held), 0);
    ASSERT_EQ(rtc_rd16(held->data + 2), (uint16_t)(65436 + 90));
    rtc_buf_unref(held);
    rtc_srtp_stats st;
    rtc_srtp_session_get_stats(rx, &st);
    ASSERT_EQ(st.rtp_unprotected, 200);
    ASSERT_EQ(st.auth_failures + st.replays + st.other_drops, 0);
    rtc_srtp_session_free(tx);
    rtc_srtp_session_free(rx);
    rtc_pool_free(pool);
}

static void test_tailroom_and_hostile_input(void)
{
    rtc_pool *pool = rtc_pool_new(16);
    rtc_srtp_session *tx, *rx;
    raw_pair(RTC_SRTP_AEAD_AES_128_GCM, &tx, &rx);

    /* Not enough room after the payload for the tag: refused, counted, untouched. */
    rtc_buf *small = rtc_buf_alloc(NULL, 200);
    memset(small->data, 0, 162);
    small->data[0] = 0x80; small->data[1] = 96; small->len = 12 + 150;
    ASSERT_EQ(rtc_srtp_session_protect_rtp(tx, small), RTC_EOVERFLOW);
    ASSERT_EQ(small->len, 162);
    rtc_buf_unref(small);
    rtc_buf *tiny = rtc_buf_from("\x80\x60\x00", 3);
    ASSERT_EQ(rtc_srtp_session_protect_rtp(tx, tiny), RTC_EPROTO);
    rtc_buf_unref(tiny);

    rtc_rng rng;
    rtc_rng_init_seed(&rng, 3);
    rtc_buf *b = rtc_buf_alloc(pool, 1500);
    int rtp = 0, rtcp = 0;
    for (int i = 0; i < 5000; i++) {
        b->len = rtc_rng_below(&rng, 1400);
        rtc_rng_bytes(&rng, b->data, b->len);
        if (b->len && i % 2) b->data[0] = (uint8_t)(0x80 | (b->data[0] & 0x3f));
        int k = rtc_demux(b->data, b->len);
        rtp += k == RTC_PKT_RTP;
        rtcp += k == RTC_PKT_RTCP;
        int rc = rtc_srtp_session_unprotect(rx, b);
        ASSERT(rc < 0);
    }
    ASSERT(rtp > 1000 && rtcp > 10);
    rtc_srtp_stats st;
    rtc_srtp_session_get_stats(rx, &st);
    ASSERT_EQ(st.auth_failures + st.replays + st.other_drops, 5000);
    ASSERT_EQ(st.rtp_unprotected + st.rtcp_unprotected, 0);
    rtc_buf_unref(b);

    /* Errors on construction. */
    rtc_srtp_session *s = NULL;
    uint8_t k[64] = {0};
    ASSERT_EQ(rtc_srtp_session_new_raw(&s, RTC_SRTP_NONE, k, k), RTC_EINVAL);
    rtc_srtp_keying bad = { .profile = RTC_SRTP_AEAD_AES_256_GCM, .key_len = 16, .salt_len = 12 };
    ASSERT_EQ(rtc_srtp_session_new(&s, &bad, true), RTC_EINVAL);
    rtc_srtp_session_free(NULL);
    rtc_srtp_session_free(tx);
    rtc_srtp_session_free(rx);
    rtc_pool_free(pool);
}

int main(void)
{
    RUN(test_profiles_keyed_by_dtls);
    RUN(test_rollover_and_reorder);
    RUN(test_tailroom_and_hostile_input);
    return 0;
}
