/* STUN codec: RFC 5769 vectors, builder round trips, hostile input, 420, timing. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "core/rtc_rng.h"
#include "stun/stun.h"
#include "stun/stun_txn.h"

static const uint8_t sample_req[] = {
    0x00,0x01,0x00,0x58, 0x21,0x12,0xa4,0x42, 0xb7,0xe7,0xa7,0x01, 0xbc,0x34,0xd6,0x86,
    0xfa,0x87,0xdf,0xae, 0x80,0x22,0x00,0x10, 0x53,0x54,0x55,0x4e, 0x20,0x74,0x65,0x73,
    0x74,0x20,0x63,0x6c, 0x69,0x65,0x6e,0x74, 0x00,0x24,0x00,0x04, 0x6e,0x00,0x01,0xff,
    0x80,0x29,0x00,0x08, 0x93,0x2f,0xf9,0xb1, 0x51,0x26,0x3b,0x36, 0x00,0x06,0x00,0x09,
    0x65,0x76,0x74,0x6a, 0x3a,0x68,0x36,0x76, 0x59,0x20,0x20,0x20, 0x00,0x08,0x00,0x14,
    0x9a,0xea,0xa7,0x0c, 0xbf,0xd8,0xcb,0x56, 0x78,0x1e,0xf2,0xb5, 0xb2,0xd3,0xf2,0x49,
    0xc1,0xb5,0x71,0xa2, 0x80,0x28,0x00,0x04, 0xe5,0x7a,0x3b,0xcf,
};
static const uint8_t sample_v4[] = {
    0x01,0x01,0x00,0x3c, 0x21,0x12,0xa4,0x42, 0xb7,0xe7,0xa7,0x01, 0xbc,0x34,0xd6,0x86,
    0xfa,0x87,0xdf,0xae, 0x80,0x22,0x00,0x0b, 0x74,0x65,0x73,0x74, 0x20,0x76,0x65,0x63,
    0x74,0x6f,0x72,0x20, 0x00,0x20,0x00,0x08, 0x00,0x01,0xa1,0x47, 0xe1,0x12,0xa6,0x43,
    0x00,0x08,0x00,0x14, 0x2b,0x91,0xf5,0x99, 0xfd,0x9e,0x90,0xc3, 0x8c,0x74,0x89,0xf9,
    0x2a,0xf9,0xba,0x53, 0xf0,0x6b,0xe7,0xd7, 0x80,0x28,0x00,0x04, 0xc0,0x7d,0x4c,0x96,
};
static const uint8_t sample_v6[] = {
    0x01,0x01,0x00,0x48, 0x21,0x12,0xa4,0x42, 0xb7,0xe7,0xa7,0x01, 0xbc,0x34,0xd6,0x86,
    0xfa,0x87,0xdf,0xae, 0x80,0x22,0x00,0x0b, 0x74,0x65,0x73,0x74, 0x20,0x76,0x65,0x63,
    0x74,0x6f,0x72,0x20, 0x00,0x20,0x00,0x14, 0x00,0x02,0xa1,0x47, 0x01,0x13,0xa9,0xfa,
    0xa5,0xd3,0xf1,0x79, 0xbc,0x25,0xf4,0xb5, 0xbe,0xd2,0xb9,0xd9, 0x00,0x08,0x00,0x14,
    0xa3,0x82,0x95,0x4e, 0x4b,0xe6,0x7b,0xf1, 0x17,0x84,0xc9,0x7c, 0x82,0x92,0xc2,0x75,
    0xbf,0xe3,0xed,0x41, 0x80,0x28,0x00,0x04, 0xc8,0xfb,0x0b,0x4c,
};
static const uint8_t sample_lt[] = {
    0x00,0x01,0x00,0x60, 0x21,0x12,0xa4,0x42, 0x78,0xad,0x34,0x33, 0xc6,0xad,0x72,0xc0,
    0x29,0xda,0x41,0x2e, 0x00,0x06,0x00,0x12, 0xe3,0x83,0x9e,0xe3, 0x83,0x88,0xe3,0x83,
    0xaa,0xe3,0x83,0x83, 0xe3,0x82,0xaf,0xe3, 0x82,0xb9,0x00,0x00, 0x00,0x15,0x00,0x1c,
    0x66,0x2f,0x2f,0x34, 0x39,0x39,0x6b,0x39, 0x35,0x34,0x64,0x36, 0x4f,0x4c,0x33,0x34,
    0x6f,0x4c,0x39,0x46, 0x53,0x54,0x76,0x79, 0x36,0x34,0x73,0x41, 0x00,0x14,0x00,0x0b,
    0x65,0x78,0x61,0x6d, 0x70,0x6c,0x65,0x2e, 0x6f,0x72,0x67,0x00, 0x00,0x08,0x00,0x14,
    0xf6,0x70,0x24,0x65, 0x6d,0xd6,0x4a,0x3e, 0x02,0xb8,0xe0,0x71, 0x2e,0x85,0xc9,0xa2,
    0x8c,0xa8,0x96,0x66,
};
static const char *pwd = "VOkJxbRl1RmTxUk/WvJxBt";

static void test_rfc5769_request(void)
{
    rtc_stun_msg m;
    ASSERT_EQ(rtc_stun_parse(sample_req, sizeof sample_req, &m), 0);
    ASSERT_EQ(m.method, RTC_STUN_BINDING);
    ASSERT_EQ(m.cls, RTC_STUN_REQUEST);
    ASSERT(m.has_fingerprint);
    ASSERT_EQ(m.nunknown, 0);
    rtc_str u;
    ASSERT_EQ(rtc_stun_get_str(&m, RTC_STUN_ATTR_USERNAME, &u), 0);
    ASSERT(rtc_str_eq(u, RTC_STR("evtj:h6vY")));
    uint32_t prio; uint64_t tb;
    ASSERT_EQ(rtc_stun_get_u32(&m, RTC_STUN_ATTR_PRIORITY, &prio), 0);
    ASSERT_EQ(prio, 0x6e0001ff);
    ASSERT_EQ(rtc_stun_get_u64(&m, RTC_STUN_ATTR_ICE_CONTROLLED, &tb), 0);
    ASSERT_EQ(tb, 0x932ff9b151263b36ULL);
    ASSERT_EQ(rtc_stun_check_integrity(&m, (const uint8_t *)pwd, strlen(pwd)), 0);
    ASSERT_EQ(rtc_stun_check_integrity(&m, (const uint8_t *)"wrong", 5), RTC_EAUTH);
    /* A flipped bit anywhere breaks the fingerprint, so the parse fails. */
    uint8_t bad[sizeof sample_req];
    memcpy(bad, sample_req, sizeof bad);
    bad[30] ^= 1;
    ASSERT_EQ(rtc_stun_parse(bad, sizeof bad, &m), RTC_EPROTO);
}

static void test_rfc5769_responses(void)
{
    rtc_stun_msg m;
    rtc_addr a, want;
    char s[RTC_ADDR_STRLEN];
    ASSERT_EQ(rtc_stun_parse(sample_v4, sizeof sample_v4, &m), 0);
    ASSERT_EQ(m.cls, RTC_STUN_SUCCESS);
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &a), 0);
    rtc_addr_parse(&want, "192.0.2.1:32853");
    ASSERT(rtc_addr_eq(&a, &want));
    ASSERT_EQ(rtc_stun_check_integrity(&m, (const uint8_t *)pwd, strlen(pwd)), 0);

    ASSERT_EQ(rtc_stun_parse(sample_v6, sizeof sample_v6, &m), 0);
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &a), 0);
    ASSERT_STREQ(rtc_addr_str(&a, s, sizeof s), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
    ASSERT_EQ(rtc_stun_check_integrity(&m, (const uint8_t *)pwd, strlen(pwd)), 0);
}

static void test_rfc5769_long_term(void)
{
    rtc_stun_msg m;
    ASSERT_EQ(rtc_stun_parse(sample_lt, sizeof sample_lt, &m), 0);
    ASSERT(!m.has_fingerprint);
    rtc_str user, realm, nonce;
    ASSERT_EQ(rtc_stun_get_str(&m, RTC_STUN_ATTR_USERNAME, &user), 0);
    ASSERT_EQ(rtc_stun_get_str(&m, RTC_STUN_ATTR_REALM, &realm), 0);
    ASSERT_EQ(rtc_stun_get_str(&m, RTC_STUN_ATTR_NONCE, &nonce), 0);
    ASSERT(rtc_str_eq(realm, RTC_STR("example.org")));
    ASSERT(rtc_str_eq(nonce, RTC_STR("f//499k954d6OL34oL9FSTvy64sA")));
    uint8_t key[32];
    ASSERT_EQ(rtc_stun_long_term_key(user, realm, RTC_STR("TheMatrIX"), RTC_STUN_PWALG_MD5, key), 16);
    ASSERT_EQ(rtc_stun_check_integrity(&m, key, 16), 0);
    ASSERT_EQ(rtc_stun_long_term_key(user, realm, RTC_STR("TheMatrix"), RTC_STUN_PWALG_MD5, key), 16);
    ASSERT_EQ(rtc_stun_check_integrity(&m, key, 16), RTC_EAUTH);
    /* RFC 8489 appendix B.1: USERHASH of the same user and realm. */
    static const uint8_t want_hash[32] = {
        0x4a,0x3c,0xf3,0x8f, 0xef,0x69,0x92,0xbd, 0xa9,0x52,0xc6,0x78, 0x04,0x17,0xda,0x0f,
        0x24,0x81,0x94,0x15, 0x56,0x9e,0x60,0xb2, 0x05,0xc4,0x6e,0x41, 0x40,0x7f,0x17,0x04,
    };
    uint8_t uh[32];
    ASSERT_EQ(rtc_stun_userhash(user, realm, uh), 0);
    ASSERT_MEMEQ(uh, want_hash, 32);
}

static void test_build_roundtrip(void)
{
    uint8_t tid[12], buf[1024];
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 5);
    rtc_rng_bytes(&rng, tid, sizeof tid);
    rtc_addr v4, v6, peer, got;
    rtc_addr_parse(&v4, "203.0.113.7:4242");
    rtc_addr_parse(&v6, "[2001:db8::7]:65000");
    rtc_addr_parse(&peer, "198.51.100.1:3478");
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, sizeof buf, RTC_STUN_ALLOCATE, RTC_STUN_SUCCESS, tid);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &v4);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &v6);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_MAPPED_ADDRESS, &v6);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_ALTERNATE_SERVER, &peer);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer);
    rtc_stun_put_u32(&w, RTC_STUN_ATTR_LIFETIME, 600);
    rtc_stun_put_channel(&w, 0x4001);
    rtc_stun_put_transport(&w, 17);
    rtc_stun_put_family(&w, RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, AF_INET6);
    rtc_stun_put_family(&w, RTC_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, AF_INET6);
    rtc_stun_put_even_port(&w, true);
    rtc_stun_put_flag(&w, RTC_STUN_ATTR_DONT_FRAGMENT);
    rtc_stun_put_u64(&w, RTC_STUN_ATTR_RESERVATION_TOKEN, 0x0102030405060708ULL);
    rtc_stun_put(&w, RTC_STUN_ATTR_DATA, "hello", 5);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_REALM, RTC_STR("realm"));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_NONCE, RTC_STR("nonce123"));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_SOFTWARE, RTC_STR("luartc"));
    uint16_t algs[2] = { RTC_STUN_PWALG_MD5, RTC_STUN_PWALG_SHA256 };
    rtc_stun_put_pwalg(&w, RTC_STUN_ATTR_PASSWORD_ALGORITHMS, algs, 2);
    rtc_stun_put_pwalg(&w, RTC_STUN_ATTR_PASSWORD_ALGORITHM, algs + 1, 1);
    uint8_t uh[32] = { 1, 2, 3 };
    rtc_stun_put(&w, RTC_STUN_ATTR_USERHASH, uh, 32);
    rtc_stun_put_u32(&w, RTC_STUN_ATTR_PRIORITY, 0x7e0000ff);
    rtc_stun_put_flag(&w, RTC_STUN_ATTR_USE_CANDIDATE);
    rtc_stun_put_u64(&w, RTC_STUN_ATTR_ICE_CONTROLLING, 42);
    rtc_stun_put_error(&w, 438, RTC_STR("Stale Nonce"));
    uint8_t key[32];
    int kl = rtc_stun_long_term_key(RTC_STR("u"), RTC_STR("realm"), RTC_STR("p"), RTC_STUN_PWALG_SHA256, key);
    ASSERT_EQ(kl, 32);
    rtc_stun_put_integrity(&w, key, (size_t)kl);
    rtc_stun_put_integrity_sha256(&w, key, (size_t)kl);
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    ASSERT(n > 0 && n % 4 == 0);

    rtc_stun_msg m;
    ASSERT_EQ(rtc_stun_parse(buf, (size_t)n, &m), 0);
    ASSERT_EQ(m.method, RTC_STUN_ALLOCATE);
    ASSERT_EQ(m.cls, RTC_STUN_SUCCESS);
    ASSERT_MEMEQ(m.tid, tid, 12);
    ASSERT(m.has_fingerprint);
    ASSERT_EQ(m.nunknown, 0);
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &got), 0); ASSERT(rtc_addr_eq(&got, &v4));
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &got), 0); ASSERT(rtc_addr_eq(&got, &v6));
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_MAPPED_ADDRESS, &got), 0); ASSERT(rtc_addr_eq(&got, &v6));
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_ALTERNATE_SERVER, &got), 0); ASSERT(rtc_addr_eq(&got, &peer));
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &got), 0); ASSERT(rtc_addr_eq(&got, &peer));
    /* The XOR form really is masked on the wire. */
    const rtc_stun_attr *xa = rtc_stun_find(&m, RTC_STUN_ATTR_XOR_PEER_ADDRESS);
    ASSERT(rtc_rd16(xa->val + 2) != 3478);
    uint32_t u32; uint64_t u64; uint16_t ch; int code; rtc_str s;
    ASSERT_EQ(rtc_stun_get_u32(&m, RTC_STUN_ATTR_LIFETIME, &u32), 0); ASSERT_EQ(u32, 600);
    ASSERT_EQ(rtc_stun_get_channel(&m, &ch), 0); ASSERT_EQ(ch, 0x4001);
    ASSERT_EQ(rtc_stun_find(&m, RTC_STUN_ATTR_REQUESTED_TRANSPORT)->val[0], 17);
    ASSERT_EQ(rtc_stun_find(&m, RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY)->val[0], 2);
    ASSERT_EQ(rtc_stun_find(&m, RTC_STUN_ATTR_EVEN_PORT)->val[0], 0x80);
    ASSERT_EQ(rtc_stun_find(&m, RTC_STUN_ATTR_DONT_FRAGMENT)->len, 0);
    ASSERT_EQ(rtc_stun_get_u64(&m, RTC_STUN_ATTR_RESERVATION_TOKEN, &u64), 0); ASSERT_EQ(u64, 0x0102030405060708ULL);
    ASSERT_EQ(rtc_stun_get_str(&m, RTC_STUN_ATTR_DATA, &s), 0); ASSERT(rtc_str_eq(s, RTC_STR("hello")));
    ASSERT_EQ(rtc_stun_get_str(&m, RTC_STUN_ATTR_NONCE, &s), 0); ASSERT(rtc_str_eq(s, RTC_STR("nonce123")));
    ASSERT_EQ(rtc_stun_find(&m, RTC_STUN_ATTR_PASSWORD_ALGORITHMS)->len, 8);
    ASSERT_EQ(rtc_rd16(rtc_stun_find(&m, RTC_STUN_ATTR_PASSWORD_ALGORITHM)->val), RTC_STUN_PWALG_SHA256);
    ASSERT_EQ(rtc_stun_find(&m, RTC_STUN_ATTR_USERHASH)->len, 32);
    ASSERT(rtc_stun_find(&m, RTC_STUN_ATTR_USE_CANDIDATE));
    ASSERT_EQ(rtc_stun_get_u64(&m, RTC_STUN_ATTR_ICE_CONTROLLING, &u64), 0); ASSERT_EQ(u64, 42);
    ASSERT_EQ(rtc_stun_get_error(&m, &code, &s), 0);
    ASSERT_EQ(code, 438); ASSERT(rtc_str_eq(s, RTC_STR("Stale Nonce")));
    ASSERT(m.integrity_at > 0 && m.integrity256_at > m.integrity_at);
    ASSERT_EQ(rtc_stun_check_integrity(&m, key, (size_t)kl), 0);     /* SHA-256 one */
    m.integrity256_at = -1;                                         /* and the SHA-1 one */
    ASSERT_EQ(rtc_stun_check_integrity(&m, key, (size_t)kl), 0);
    key[0] ^= 1;
    ASSERT_EQ(rtc_stun_check_integrity(&m, key, (size_t)kl), RTC_EAUTH);

    /* Overflow is sticky and reported. */
    rtc_stun_writer_init(&w, buf, 30, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, RTC_STR("a-long-user-name"));
    rtc_stun_put_fingerprint(&w);
    ASSERT_EQ(rtc_stun_finish(&w), RTC_EOVERFLOW);
}

static void test_malformed(void)
{
    rtc_stun_msg m;
    /* Every truncation of a valid message is rejected. */
    for (size_t n = 0; n < sizeof sample_req; n++) ASSERT(rtc_stun_parse(sample_req, n, &m) < 0);
    uint8_t b[128];
    memcpy(b, sample_v4, sizeof sample_v4);
    b[4] = 0;                                               /* magic cookie */
    ASSERT_EQ(rtc_stun_parse(b, sizeof sample_v4, &m), RTC_EPROTO);
    memcpy(b, sample_v4, sizeof sample_v4);
    b[3] = 0x3d;                                            /* length not a multiple of 4 */
    ASSERT_EQ(rtc_stun_parse(b, sizeof sample_v4, &m), RTC_EPROTO);
    memcpy(b, sample_v4, sizeof sample_v4);
    b[23] = 0xff;                                           /* attribute runs past the end */
    ASSERT(rtc_stun_parse(b, sizeof sample_v4, &m) < 0);
    memcpy(b, sample_v4, sizeof sample_v4);
    b[0] = 0xC1;                                            /* top bits set: not STUN */
    ASSERT_EQ(rtc_stun_parse(b, sizeof sample_v4, &m), RTC_EPROTO);
    memcpy(b, sample_v4, sizeof sample_v4);                  /* trailing garbage */
    ASSERT_EQ(rtc_stun_parse(b, sizeof sample_v4 + 4, &m), RTC_EPROTO);
    /* A bad address family decodes to an error, not a crash. */
    uint8_t tid[12] = { 0 };
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, b, sizeof b, RTC_STUN_BINDING, RTC_STUN_SUCCESS, tid);
    uint8_t bogus[8] = { 0, 9, 0, 1, 1, 2, 3, 4 };
    rtc_stun_put(&w, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, bogus, 8);
    rtc_stun_put(&w, RTC_STUN_ATTR_ERROR_CODE, bogus, 2);
    int n = rtc_stun_finish(&w);
    ASSERT_EQ(rtc_stun_parse(b, (size_t)n, &m), 0);
    rtc_addr a; int code;
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &a), RTC_EPROTO);
    ASSERT_EQ(rtc_stun_get_error(&m, &code, NULL), RTC_EPROTO);
    ASSERT_EQ(rtc_stun_get_addr(&m, RTC_STUN_ATTR_MAPPED_ADDRESS, &a), RTC_ENOTFOUND);
    /* Random bytes with a valid header never crash the parser or integrity check. */
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 99);
    for (int i = 0; i < 20000; i++) {
        size_t len = 20 + 4 * rtc_rng_below(&rng, 24);
        rtc_rng_bytes(&rng, b, len);
        b[0] &= 0x3F;
        rtc_wr16(b + 2, (uint16_t)(len - 20));
        rtc_wr32(b + 4, RTC_STUN_MAGIC);
        if (rtc_stun_parse(b, len, &m) == 0) {
            rtc_stun_check_integrity(&m, (const uint8_t *)"k", 1);
            rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
            rtc_stun_get_error(&m, &code, NULL);
        }
    }
    /* Stream framing. */
    ASSERT_EQ(rtc_stun_frame_len(sample_v4, 3), 0);
    ASSERT_EQ(rtc_stun_frame_len(sample_v4, 4), (int)sizeof sample_v4);
    uint8_t cd[4] = { 0x40, 0x00, 0x00, 0x05 };
    ASSERT_EQ(rtc_stun_frame_len(cd, 4), 12);
    uint8_t junk[4] = { 0xC0, 0, 0, 0 };
    ASSERT_EQ(rtc_stun_frame_len(junk, 4), RTC_EPROTO);
}

static void test_unknown_attribute_420(void)
{
    uint8_t tid[12] = { 1, 2, 3 }, b[256], r[256];
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, b, sizeof b, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, RTC_STR("a:b"));
    rtc_stun_put(&w, 0x7777, "xx", 2);                       /* comprehension-required, unknown */
    rtc_stun_put(&w, 0xC057, "yyyy", 4);                     /* optional, unknown: fine */
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    rtc_stun_msg m, e;
    ASSERT_EQ(rtc_stun_parse(b, (size_t)n, &m), 0);
    ASSERT_EQ(m.nunknown, 1);
    ASSERT_EQ(m.unknown[0], 0x7777);
    int rn = rtc_stun_build_error(&m, 420, "Unknown Attribute", r, sizeof r);
    ASSERT(rn > 0);
    ASSERT_EQ(rtc_stun_parse(r, (size_t)rn, &e), 0);
    ASSERT_EQ(e.cls, RTC_STUN_ERROR);
    ASSERT_MEMEQ(e.tid, tid, 12);
    int code;
    ASSERT_EQ(rtc_stun_get_error(&e, &code, NULL), 0);
    ASSERT_EQ(code, 420);
    const rtc_stun_attr *ua = rtc_stun_find(&e, RTC_STUN_ATTR_UNKNOWN_ATTRIBUTES);
    ASSERT(ua && ua->len == 2 && rtc_rd16(ua->val) == 0x7777);
}

static void test_txn_timing(void)
{
    rtc_stun_txn t;
    rtc_stun_txn_start(&t, NULL, 0);
    rtc_time sends[8]; int ns = 0;
    rtc_time now = 0, timeout_at = -1;
    while (now < RTC_SEC(60)) {
        int r = rtc_stun_txn_poll(&t, now);
        if (r == RTC_STUN_TXN_SEND) sends[ns++] = now;
        if (r == RTC_STUN_TXN_TIMEOUT) { timeout_at = now; break; }
        now = rtc_stun_txn_timeout(&t);
    }
    /* RFC 8489 6.2.1: 0, 500, 1500, 3500, 7500, 15500, 31500; timeout at 39500 ms. */
    static const int want[7] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
    ASSERT_EQ(ns, 7);
    for (int i = 0; i < 7; i++) ASSERT_EQ(sends[i], RTC_MS(want[i]));
    ASSERT_EQ(timeout_at, RTC_MS(39500));
    ASSERT_EQ(rtc_stun_txn_timeout(&t), RTC_TIME_NEVER);

    rtc_stun_txn_start(&t, &(rtc_stun_rto_cfg){ .reliable = true }, 0);
    ASSERT_EQ(rtc_stun_txn_poll(&t, 0), RTC_STUN_TXN_SEND);
    ASSERT_EQ(rtc_stun_txn_timeout(&t), RTC_MS(39500));
    ASSERT_EQ(rtc_stun_txn_poll(&t, RTC_MS(39500)), RTC_STUN_TXN_TIMEOUT);

    rtc_stun_txn_start(&t, NULL, 0);
    ASSERT_EQ(rtc_stun_txn_poll(&t, 0), RTC_STUN_TXN_SEND);
    rtc_stun_txn_stop(&t);
    ASSERT_EQ(rtc_stun_txn_poll(&t, RTC_SEC(100)), RTC_STUN_TXN_IDLE);
}

int main(void)
{
    RUN(test_rfc5769_request);
    RUN(test_rfc5769_responses);
    RUN(test_rfc5769_long_term);
    RUN(test_build_roundtrip);
    RUN(test_malformed);
    RUN(test_unknown_attribute_420);
    RUN(test_txn_timing);
    return 0;
}
