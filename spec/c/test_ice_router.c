/* Single-port routing tables (ice/ice_router.h): learnt senders and ufrags against a
 * plain reference model through thousands of random inserts and removals (the
 * backward-shift deletion must keep every survivor reachable), how each kind of
 * datagram is classified, the sender cap, and hostile STUN framing. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "core/rtc_rng.h"
#include "ice/ice_router.h"
#include "stun/stun.h"
#include <stdio.h>

static int owners[64];
#define OWNER(i) ((void *)&owners[i])

static rtc_addr addr_n(uint32_t n)
{
    char s[64];
    snprintf(s, sizeof s, "10.%u.%u.%u:%u", (n >> 16) & 255, (n >> 8) & 255, n & 255, 1000 + n % 50000);
    rtc_addr a;
    ASSERT_OK(rtc_addr_parse(&a, s));
    return a;
}

static size_t binding_request(uint8_t *buf, size_t cap, const char *user, bool integrity)
{
    uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, cap, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, rtc_str_c(user));
    if (integrity) rtc_stun_put_integrity(&w, (const uint8_t *)"0123456789abcdefghijklmn", 24);
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    ASSERT(n > 0);
    return (size_t)n;
}

static void test_senders_against_model(void)
{
    enum { N = 5000 };
    rtc_ice_router *r;
    ASSERT_EQ(rtc_ice_router_new(&r, 0), 0);
    static int model[N];                      /* owner index + 1, 0 = absent */
    memset(model, 0, sizeof model);
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 7);
    for (int step = 0; step < 60000; step++) {
        uint32_t k = (uint32_t)(rtc_rng_unit(&rng) * N) % N;
        rtc_addr a = addr_n(k);
        if (rtc_rng_unit(&rng) < 0.6) {
            int o = (int)(rtc_rng_unit(&rng) * 64) % 64;
            ASSERT_EQ(rtc_ice_router_learn(r, &a, OWNER(o)), 0);
            model[k] = o + 1;
        } else if (model[k]) {
            int o = model[k] - 1;
            rtc_ice_router_forget(r, &a, OWNER((o + 1) % 64));   /* not the owner: no-op */
            ASSERT(rtc_ice_router_sender(r, &a) == OWNER(o));
            rtc_ice_router_forget(r, &a, OWNER(o));
            model[k] = 0;
        }
        if (step % 5000 == 0 || step == 59999) {
            uint32_t n = 0;
            for (uint32_t i = 0; i < N; i++) {
                rtc_addr b = addr_n(i);
                void *got = rtc_ice_router_sender(r, &b);
                if (model[i]) { ASSERT(got == OWNER(model[i] - 1)); n++; }
                else ASSERT(got == NULL);
            }
            rtc_ice_router_stats st;
            rtc_ice_router_get_stats(r, &st);
            ASSERT_EQ(st.senders, n);
        }
    }
    rtc_ice_router_free(r);
}

static void test_ufrags_and_classification(void)
{
    rtc_ice_router *r;
    ASSERT_EQ(rtc_ice_router_new(&r, 2), 0);
    char uf[32];
    for (int i = 0; i < 64; i++) {
        snprintf(uf, sizeof uf, "uf%02d", i);
        ASSERT_EQ(rtc_ice_router_add_ufrag(r, rtc_str_c(uf), OWNER(i)), 0);
    }
    ASSERT_EQ(rtc_ice_router_add_ufrag(r, RTC_STR("uf07"), OWNER(8)), RTC_EEXISTS);
    ASSERT_EQ(rtc_ice_router_add_ufrag(r, RTC_STR("uf07"), OWNER(7)), 0);
    ASSERT_EQ(rtc_ice_router_add_ufrag(r, RTC_STR(""), OWNER(7)), RTC_EINVAL);
    for (int i = 0; i < 64; i += 2) {
        snprintf(uf, sizeof uf, "uf%02d", i);
        rtc_ice_router_remove_ufrag(r, rtc_str_c(uf), OWNER(i));
    }
    rtc_addr peer = addr_n(1), stranger = addr_n(2), third = addr_n(3);
    uint8_t b[256];
    rtc_ice_route how;
    for (int i = 0; i < 64; i++) {
        snprintf(uf, sizeof uf, "uf%02d:remote", i);
        size_t n = binding_request(b, sizeof b, uf, true);
        void *o = rtc_ice_router_route(r, b, n, &stranger, &how);
        if (i % 2) { ASSERT(o == OWNER(i)); ASSERT_EQ(how, RTC_ICE_ROUTE_UFRAG); }
        else { ASSERT(o == NULL); ASSERT_EQ(how, RTC_ICE_ROUTE_NONE); }
    }
    /* A learnt sender's other traffic goes to its owner; a request goes by ufrag even
     * from a learnt sender (a new session from a reused address). */
    ASSERT_EQ(rtc_ice_router_learn(r, &peer, OWNER(3)), 0);
    static const uint8_t dtls[13] = { 22, 0xfe, 0xfd };
    ASSERT(rtc_ice_router_route(r, dtls, sizeof dtls, &peer, &how) == OWNER(3));
    ASSERT_EQ(how, RTC_ICE_ROUTE_SENDER);
    size_t n = binding_request(b, sizeof b, "uf05:x", false);
    ASSERT(rtc_ice_router_route(r, b, n, &peer, &how) == OWNER(5));
    ASSERT_EQ(how, RTC_ICE_ROUTE_UFRAG);
    /* Unknown senders: DTLS and junk are dropped; a STUN response asks the owners. */
    ASSERT(rtc_ice_router_route(r, dtls, sizeof dtls, &stranger, &how) == NULL);
    ASSERT_EQ(how, RTC_ICE_ROUTE_NONE);
    b[1] = 0x01; b[0] = 0x01;                 /* Binding success response */
    ASSERT(rtc_ice_router_route(r, b, n, &stranger, &how) == NULL);
    ASSERT_EQ(how, RTC_ICE_ROUTE_ASK);
    /* The sender cap. */
    ASSERT_EQ(rtc_ice_router_learn(r, &stranger, OWNER(1)), 0);
    ASSERT_EQ(rtc_ice_router_learn(r, &third, OWNER(1)), RTC_EQUOTA);
    ASSERT_EQ(rtc_ice_router_learn(r, &stranger, OWNER(2)), 0);   /* re-owning needs no room */
    rtc_ice_router_stats st;
    rtc_ice_router_get_stats(r, &st);
    ASSERT_EQ(st.senders, 2);
    ASSERT_EQ(st.ufrags, 32);
    ASSERT_EQ(st.learn_refused, 1);
    rtc_ice_router_free(r);
}

/* Truncated and lying STUN framing: never read past the datagram, never route. */
static void test_hostile_framing(void)
{
    rtc_ice_router *r;
    ASSERT_EQ(rtc_ice_router_new(&r, 0), 0);
    ASSERT_EQ(rtc_ice_router_add_ufrag(r, RTC_STR("abcd"), OWNER(1)), 0);
    uint8_t b[256];
    size_t n = binding_request(b, sizeof b, "abcd:efgh", true);
    rtc_addr from = addr_n(9);
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, b, len);
        ASSERT(rtc_ice_router_route(r, copy, len, &from, NULL) == NULL);   /* exact length only */
        free(copy);
    }
    ASSERT(rtc_ice_router_route(r, b, n, &from, NULL) == OWNER(1));
    uint8_t bad[256];
    memcpy(bad, b, n);
    bad[22] = 0xff;                            /* USERNAME length beyond the message */
    bad[23] = 0xff;
    ASSERT(rtc_ice_router_route(r, bad, n, &from, NULL) == NULL);
    memcpy(bad, b, n);
    bad[24] = ':';                             /* empty ufrag */
    ASSERT(rtc_ice_router_route(r, bad, n, &from, NULL) == NULL);
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 3);
    for (int i = 0; i < 20000; i++) {
        size_t len = 20 + (size_t)(rtc_rng_unit(&rng) * 200);
        rtc_rng_bytes(&rng, bad, len);
        bad[0] = 0; bad[1] = 1;
        bad[2] = (uint8_t)((len - 20) >> 8); bad[3] = (uint8_t)(len - 20);
        bad[4] = 0x21; bad[5] = 0x12; bad[6] = 0xa4; bad[7] = 0x42;
        rtc_ice_router_route(r, bad, len, &from, NULL);
    }
    rtc_ice_router_free(r);
}

int main(void)
{
    RUN(test_senders_against_model);
    RUN(test_ufrags_and_classification);
    RUN(test_hostile_framing);
    return 0;
}
