/* rtp/rtp_packet + rtp/rtp_ext: hand-checked vectors, extension forms, hostile input,
 * sequence and timestamp unwrapping across wraps. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"

static void test_parse_vector(void)
{
    /* V=2 P=0 X=1 CC=1, M=1 PT=96, seq 0x1234, ts, ssrc, one CSRC, one-byte extension
     * block of 2 words: id 1 len 1 (0xAB), id 3 len 2 (0x01 0x02), padding. */
    static const uint8_t pkt[] = {
        0x91, 0xE0, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11, 0x22, 0x33, 0x44,
        0xCA, 0xFE, 0xBA, 0xBE,
        0xBE, 0xDE, 0x00, 0x02, 0x10, 0xAB, 0x31, 0x01, 0x02, 0x00, 0x00, 0x00,
        'h', 'i' };
    rtc_rtp_packet p;
    ASSERT_EQ(rtc_rtp_parse(&p, pkt, sizeof pkt), 0);
    ASSERT(p.h.marker && p.h.extension && !p.h.padding);
    ASSERT_EQ(p.h.pt, 96); ASSERT_EQ(p.h.seq, 0x1234);
    ASSERT_EQ(p.h.ts, 0xDEADBEEF); ASSERT_EQ(p.h.ssrc, 0x11223344);
    ASSERT_EQ(p.h.csrc_count, 1); ASSERT_EQ(p.h.csrc[0], 0xCAFEBABE);
    ASSERT_EQ(p.h.ext_profile, 0xBEDE); ASSERT_EQ(p.h.ext_count, 2);
    const rtc_rtp_ext *e = rtc_rtp_find_ext(&p.h, 1);
    ASSERT(e && e->len == 1 && e->data[0] == 0xAB);
    e = rtc_rtp_find_ext(&p.h, 3);
    ASSERT(e && e->len == 2 && e->data[0] == 1 && e->data[1] == 2);
    ASSERT(rtc_rtp_find_ext(&p.h, 2) == NULL);
    ASSERT_EQ(p.header_len, 28); ASSERT_EQ(p.payload_len, 2);
    ASSERT_MEMEQ(p.payload, "hi", 2);

    /* Re-writing the parsed header gives the same bytes. */
    uint8_t out[64];
    int n = rtc_rtp_write(out, sizeof out, &p.h, p.payload, p.payload_len, 0);
    ASSERT_EQ(n, sizeof pkt);
    ASSERT_MEMEQ(out, pkt, sizeof pkt);
}

static void test_padding(void)
{
    rtc_rtp_header h = { .pt = 111, .seq = 7, .ts = 960, .ssrc = 1 };
    uint8_t out[64];
    int n = rtc_rtp_write(out, sizeof out, &h, (const uint8_t *)"abc", 3, 5);
    ASSERT_EQ(n, 12 + 3 + 5);
    ASSERT_EQ(out[0], 0xA0); ASSERT_EQ(out[n - 1], 5);
    rtc_rtp_packet p;
    ASSERT_EQ(rtc_rtp_parse(&p, out, (size_t)n), 0);
    ASSERT(p.h.padding); ASSERT_EQ(p.padding_len, 5); ASSERT_EQ(p.payload_len, 3);
    out[n - 1] = 0;                                   /* count 0: invalid */
    ASSERT_EQ(rtc_rtp_parse(&p, out, (size_t)n), RTC_EPROTO);
    out[n - 1] = 9;                                   /* runs into the header */
    ASSERT_EQ(rtc_rtp_parse(&p, out, (size_t)n), RTC_EPROTO);
    out[n - 1] = 8;                                   /* whole payload is padding: fine */
    ASSERT_EQ(rtc_rtp_parse(&p, out, (size_t)n), 0);
    ASSERT_EQ(p.payload_len, 0);
}

static void test_two_byte_ext(void)
{
    rtc_rtp_header h = { .pt = 96, .seq = 1, .ts = 2, .ssrc = 3 };
    uint8_t big[40], empty = 0;
    for (int i = 0; i < 40; i++) big[i] = (uint8_t)i;
    ASSERT_EQ(rtc_rtp_add_ext(&h, 20, big, 40), 0);   /* id > 14, len > 16: two-byte form */
    ASSERT_EQ(rtc_rtp_add_ext(&h, 2, &empty, 0), 0);
    ASSERT_EQ(rtc_rtp_add_ext(&h, 0, big, 1), RTC_EINVAL);
    uint8_t out[128];
    int n = rtc_rtp_write(out, sizeof out, &h, (const uint8_t *)"x", 1, 0);
    ASSERT_EQ(n, 12 + 4 + 44 + 1);                     /* 2+40 + 2+0 = 44 */
    ASSERT_EQ(out[12], 0x10); ASSERT_EQ(out[13], 0x00);
    ASSERT_EQ(out[14], 0); ASSERT_EQ(out[15], 11);
    ASSERT_EQ(out[16], 20); ASSERT_EQ(out[17], 40);
    rtc_rtp_packet p;
    ASSERT_EQ(rtc_rtp_parse(&p, out, (size_t)n), 0);
    ASSERT_EQ(p.h.ext_count, 2);
    const rtc_rtp_ext *e = rtc_rtp_find_ext(&p.h, 20);
    ASSERT(e && e->len == 40); ASSERT_MEMEQ(e->data, big, 40);
    e = rtc_rtp_find_ext(&p.h, 2);
    ASSERT(e && e->len == 0);
    ASSERT_EQ(p.payload_len, 1); ASSERT_EQ(p.payload[0], 'x');
    rtc_rtp_remove_ext(&h, 20);
    rtc_rtp_remove_ext(&h, 2);
    ASSERT(!h.extension); ASSERT_EQ(rtc_rtp_header_size(&h), 12);
}

static void test_hostile(void)
{
    uint8_t b[64] = { 0x80, 96 };
    rtc_rtp_packet p;
    for (size_t i = 0; i < 12; i++) ASSERT_EQ(rtc_rtp_parse(&p, b, i), RTC_ETRUNC);
    ASSERT_EQ(rtc_rtp_parse(&p, b, 12), 0);
    b[0] = 0x40;  ASSERT_EQ(rtc_rtp_parse(&p, b, 20), RTC_EPROTO);     /* version 1 */
    b[0] = 0x8F;  ASSERT_EQ(rtc_rtp_parse(&p, b, 20), RTC_ETRUNC);     /* 15 CSRCs in 8 bytes */
    b[0] = 0x90; b[12] = 0xBE; b[13] = 0xDE; b[14] = 0x00; b[15] = 0x05;
    ASSERT_EQ(rtc_rtp_parse(&p, b, 20), RTC_ETRUNC);                    /* ext length 20 > 4 */
    b[15] = 0x01; b[16] = 0x3F;                                         /* id 3 len 16 in 4 bytes */
    ASSERT_EQ(rtc_rtp_parse(&p, b, 20), RTC_ETRUNC);
    b[16] = 0xF0;                                                       /* id 15: stop */
    ASSERT_EQ(rtc_rtp_parse(&p, b, 20), 0); ASSERT_EQ(p.h.ext_count, 0);
    b[12] = 0x10; b[13] = 0x00; b[16] = 0x05; b[17] = 0x09;             /* two-byte, len 9 > 2 */
    ASSERT_EQ(rtc_rtp_parse(&p, b, 20), RTC_ETRUNC);
    b[12] = 0x12; b[13] = 0x34;                                         /* unknown profile: raw */
    ASSERT_EQ(rtc_rtp_parse(&p, b, 20), 0); ASSERT_EQ(p.h.ext_count, 0);
    ASSERT_EQ(p.h.ext_profile, 0x1234); ASSERT_EQ(p.header_len, 20);
    /* Many one-byte elements: kept up to the limit, rest counted. */
    uint8_t m[12 + 4 + 40] = { 0x90, 96 };
    m[12] = 0xBE; m[13] = 0xDE; m[15] = 10;
    for (int i = 0; i < 20; i++) { m[16 + 2 * i] = 0x10; m[17 + 2 * i] = (uint8_t)i; }
    ASSERT_EQ(rtc_rtp_parse(&p, m, sizeof m), 0);
    ASSERT_EQ(p.h.ext_count, RTC_RTP_MAX_EXT); ASSERT_EQ(p.h.ext_dropped, 4);
    /* Writer refuses what it cannot encode. */
    uint8_t out[16];
    rtc_rtp_header h = { .pt = 96 };
    ASSERT_EQ(rtc_rtp_write(out, 11, &h, NULL, 0, 0), RTC_EOVERFLOW);
    ASSERT_EQ(rtc_rtp_write(out, 16, &h, (const uint8_t *)"12345", 5, 0), RTC_EOVERFLOW);
    h.pt = 200;
    ASSERT_EQ(rtc_rtp_write(out, 16, &h, NULL, 0, 0), RTC_EINVAL);
}

static void test_setters(void)
{
    rtc_rtp_header h = { .marker = true, .pt = 96, .seq = 1, .ts = 2, .ssrc = 3 };
    uint8_t out[32];
    int n = rtc_rtp_write(out, sizeof out, &h, NULL, 0, 0);
    rtc_rtp_set_seq(out, 0xBEEF); rtc_rtp_set_ssrc(out, 0x01020304); rtc_rtp_set_pt(out, 97);
    rtc_rtp_set_ts(out, 0xCAFEF00D);
    rtc_rtp_packet p;
    ASSERT_EQ(rtc_rtp_parse(&p, out, (size_t)n), 0);
    ASSERT_EQ(p.h.seq, 0xBEEF); ASSERT_EQ(p.h.ssrc, 0x01020304); ASSERT_EQ(p.h.pt, 97);
    ASSERT_EQ(p.h.ts, 0xCAFEF00D);
    ASSERT(p.h.marker);
    rtc_rtp_set_marker(out, false);
    ASSERT_EQ(rtc_rtp_parse(&p, out, (size_t)n), 0);
    ASSERT(!p.h.marker); ASSERT_EQ(p.h.pt, 97);
}

static void test_unwrap(void)
{
    rtc_seq_unwrapper u = {0};
    ASSERT_EQ(rtc_seq_unwrap(&u, 65530), 65530);
    ASSERT_EQ(rtc_seq_unwrap(&u, 65535), 65535);
    ASSERT_EQ(rtc_seq_unwrap(&u, 2), 65538);
    ASSERT_EQ(rtc_seq_unwrap(&u, 65534), 65534);      /* late, from before the wrap */
    ASSERT_EQ(rtc_seq_unwrap(&u, 3), 65539);
    int64_t last = 65539;
    for (uint32_t i = 0; i < 300000; i += 1000) {     /* steady forward steps over many wraps */
        int64_t v = rtc_seq_unwrap(&u, (uint16_t)(3 + i + 1000));
        ASSERT_EQ(v, last + 1000); last = v;
    }
    rtc_seq_unwrapper w = {0};
    ASSERT_EQ(rtc_seq_unwrap(&w, 5), 5);
    ASSERT_EQ(rtc_seq_unwrap(&w, 65534), -2);         /* reordered before the first */
    ASSERT(rtc_seq_newer(1, 65535)); ASSERT(!rtc_seq_newer(65535, 1)); ASSERT(!rtc_seq_newer(4, 4));

    rtc_ts_unwrapper t = {0};
    ASSERT_EQ(rtc_ts_unwrap(&t, 0xFFFFF000u), 0xFFFFF000ll);
    ASSERT_EQ(rtc_ts_unwrap(&t, 0x00000E00u), 0x100000E00ll);
    ASSERT_EQ(rtc_ts_unwrap(&t, 0xFFFFFA00u), 0xFFFFFA00ll);
    ASSERT_EQ(rtc_ts_unwrap(&t, 0x70000E00u), 0x170000E00ll);
}

static void test_ext_payloads(void)
{
    rtc_rtp_header h = { .pt = 96, .seq = 1, .ts = 1, .ssrc = 9 };
    uint8_t ast[3], tw[2], al[1];
    ASSERT_EQ(rtc_ext_add_sdes(&h, 1, RTC_STR("0")), 0);
    ASSERT_EQ(rtc_ext_add_sdes(&h, 2, RTC_STR("hi")), 0);
    ASSERT_EQ(rtc_ext_add_sdes(&h, 2, (rtc_str){ "", 0 }), RTC_EINVAL);
    uint32_t v = rtc_abs_send_time_from_us(RTC_MS(1500));
    ASSERT_EQ(v, (1u << 18) + (1u << 17));            /* 1.5 s in 6.18 */
    ASSERT_EQ(rtc_abs_send_time_from_us(RTC_SEC(64)), 0);
    ASSERT_EQ(rtc_abs_send_time_delta_us(rtc_abs_send_time_from_us(RTC_SEC(65)),
                                         rtc_abs_send_time_from_us(RTC_SEC(63))), RTC_SEC(2));
    ASSERT_EQ(rtc_abs_send_time_delta_us(0, 1u << 18), -RTC_SEC(1));
    rtc_ext_put_abs_send_time(ast, v);
    rtc_ext_put_twcc_seq(tw, 0xABCD);
    rtc_ext_put_audio_level(al, true, 30);
    ASSERT_EQ(al[0], 0x80 | 30);
    ASSERT_OK(rtc_rtp_add_ext(&h, 3, ast, 3));
    ASSERT_OK(rtc_rtp_add_ext(&h, 4, tw, 2));
    ASSERT_OK(rtc_rtp_add_ext(&h, 5, al, 1));
    uint8_t out[64];
    int n = rtc_rtp_write(out, sizeof out, &h, NULL, 0, 0);
    ASSERT_EQ(n, 12 + 4 + 16);                        /* 2+3+4+3+2 = 14 -> 16 */
    rtc_rtp_packet p;
    ASSERT_EQ(rtc_rtp_parse(&p, out, (size_t)n), 0);
    rtc_str s; uint32_t a; uint16_t q; bool voice; uint8_t lvl;
    ASSERT_EQ(rtc_ext_read_sdes(rtc_rtp_find_ext(&p.h, 1), &s), 0); ASSERT(rtc_str_eq(s, RTC_STR("0")));
    ASSERT_EQ(rtc_ext_read_sdes(rtc_rtp_find_ext(&p.h, 2), &s), 0); ASSERT(rtc_str_eq(s, RTC_STR("hi")));
    ASSERT_EQ(rtc_ext_read_abs_send_time(rtc_rtp_find_ext(&p.h, 3), &a), 0); ASSERT_EQ(a, v);
    ASSERT_EQ(rtc_ext_read_twcc_seq(rtc_rtp_find_ext(&p.h, 4), &q), 0); ASSERT_EQ(q, 0xABCD);
    ASSERT_EQ(rtc_ext_read_audio_level(rtc_rtp_find_ext(&p.h, 5), &voice, &lvl), 0);
    ASSERT(voice); ASSERT_EQ(lvl, 30);
    ASSERT_EQ(rtc_ext_read_twcc_seq(rtc_rtp_find_ext(&p.h, 5), &q), RTC_EPROTO);  /* 1 byte */
    /* Stamp a new transport-wide seq in place. */
    uint8_t tw2[2];
    rtc_ext_put_twcc_seq(tw2, 0x1234);
    ASSERT_EQ(rtc_rtp_rewrite_ext(out, (size_t)n, 4, tw2, 2), 0);
    ASSERT_EQ(rtc_rtp_rewrite_ext(out, (size_t)n, 4, tw2, 1), RTC_EINVAL);
    ASSERT_EQ(rtc_rtp_rewrite_ext(out, (size_t)n, 9, tw2, 2), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_rtp_rewrite_ext(out, 5, 4, tw2, 2), RTC_ETRUNC);
    ASSERT_EQ(rtc_rtp_parse(&p, out, (size_t)n), 0);
    ASSERT_EQ(rtc_ext_read_twcc_seq(rtc_rtp_find_ext(&p.h, 4), &q), 0); ASSERT_EQ(q, 0x1234);
    ASSERT_EQ(rtc_ext_read_sdes(rtc_rtp_find_ext(&p.h, 2), &s), 0); ASSERT(rtc_str_eq(s, RTC_STR("hi")));
    ASSERT_EQ(rtc_ext_read_abs_send_time(NULL, &a), RTC_EPROTO);
    uint8_t nul[2] = { 'a', 0 };
    rtc_rtp_ext bad = { 1, 2, nul };
    ASSERT_EQ(rtc_ext_read_sdes(&bad, &s), RTC_EPROTO);
}

int main(void)
{
    RUN(test_parse_vector);
    RUN(test_padding);
    RUN(test_two_byte_ext);
    RUN(test_hostile);
    RUN(test_setters);
    RUN(test_unwrap);
    RUN(test_ext_payloads);
    return 0;
}
