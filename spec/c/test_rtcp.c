/* rtp/rtcp + rtp/twcc: hand-checked vectors for each packet type, compound parsing
 * with malformed lengths, NTP/RTT arithmetic, TWCC feedback round trips and the TWCC
 * receiver on a virtual clock. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "core/rtc_rng.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_stats.h"
#include "rtp/twcc.h"

static void test_sr_rr_vectors(void)
{
    static const uint8_t sr[] = {
        0x81, 200, 0x00, 0x0C, 0x00, 0x00, 0x04, 0xD2,           /* RC=1, len 12 words, ssrc 1234 */
        0xE5, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,           /* NTP */
        0x00, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x00, 0x0A,           /* rtp ts 1000, 10 packets */
        0x00, 0x00, 0x03, 0x20,                                   /* 800 octets */
        0x00, 0x00, 0x16, 0x2E, 0x40, 0xFF, 0xFF, 0xFE,           /* rb ssrc 5678, 25%, lost -2 */
        0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x07,           /* ext highest 65541, jitter 7 */
        0x12, 0x34, 0x56, 0x78, 0x00, 0x01, 0x00, 0x00 };         /* lsr, dlsr 1 s */
    rtc_rtcp_view v[4];
    ASSERT_EQ(rtc_rtcp_parse_compound(sr, sizeof sr, v, 4), 1);
    ASSERT_EQ(v[0].pt, RTC_RTCP_SR); ASSERT_EQ(v[0].count, 1); ASSERT_EQ(v[0].len, 52);
    rtc_rtcp_sr s;
    ASSERT_EQ(rtc_rtcp_read_sr(&v[0], &s), 0);
    ASSERT_EQ(s.ssrc, 1234); ASSERT_EQ(s.ntp, 0xE500000080000000ull);
    ASSERT_EQ(s.rtp_ts, 1000); ASSERT_EQ(s.packet_count, 10); ASSERT_EQ(s.octet_count, 800);
    ASSERT_EQ(s.rb_count, 1);
    ASSERT_EQ(s.rb[0].ssrc, 5678); ASSERT_EQ(s.rb[0].fraction_lost, 0x40);
    ASSERT_EQ(s.rb[0].cumulative_lost, -2); ASSERT_EQ(s.rb[0].ext_highest_seq, 65541);
    ASSERT_EQ(s.rb[0].jitter, 7); ASSERT_EQ(s.rb[0].lsr, 0x12345678); ASSERT_EQ(s.rb[0].dlsr, 65536);
    uint8_t out[128];
    ASSERT_EQ(rtc_rtcp_write_sr(out, sizeof out, &s), sizeof sr);
    ASSERT_MEMEQ(out, sr, sizeof sr);
    ASSERT_EQ(rtc_rtcp_write_sr(out, 51, &s), RTC_EOVERFLOW);

    rtc_rtcp_rr rr = { .ssrc = 42, .rb_count = 2 };
    rr.rb[0] = s.rb[0];
    rr.rb[1] = (rtc_rtcp_report_block){ .ssrc = 9, .cumulative_lost = 0x7FFFFFFF };  /* saturates */
    int n = rtc_rtcp_write_rr(out, sizeof out, &rr);
    ASSERT_EQ(n, 8 + 48);
    ASSERT_EQ(out[0], 0x82); ASSERT_EQ(out[1], 201); ASSERT_EQ(out[3], 13);
    ASSERT_EQ(rtc_rtcp_parse_compound(out, (size_t)n, v, 4), 1);
    rtc_rtcp_rr r2;
    ASSERT_EQ(rtc_rtcp_read_rr(&v[0], &r2), 0);
    ASSERT_EQ(r2.ssrc, 42); ASSERT_EQ(r2.rb_count, 2);
    ASSERT_EQ(r2.rb[0].cumulative_lost, -2); ASSERT_EQ(r2.rb[1].cumulative_lost, 0x7FFFFF);
    ASSERT_EQ(rtc_rtcp_read_sr(&v[0], &s), RTC_EINVAL);
}

static void test_sdes_bye(void)
{
    static const uint8_t sdes[] = {
        0x81, 202, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
        0x01, 0x04, 'a', 'b', 'c', 'd', 0x00, 0x00 };             /* CNAME "abcd" + null + pad */
    rtc_rtcp_view v[4];
    ASSERT_EQ(rtc_rtcp_parse_compound(sdes, sizeof sdes, v, 4), 1);
    rtc_rtcp_sdes_chunk ch[2];
    ASSERT_EQ(rtc_rtcp_read_sdes(&v[0], ch, 2), 1);
    ASSERT_EQ(ch[0].ssrc, 1); ASSERT(rtc_str_eq(ch[0].cname, RTC_STR("abcd")));
    uint8_t out[128];
    rtc_rtcp_sdes_chunk w[2] = { { 1, RTC_STR("abcd") }, { 2, RTC_STR("x") } };
    ASSERT_EQ(rtc_rtcp_write_sdes(out, sizeof out, w, 1), sizeof sdes);
    ASSERT_MEMEQ(out, sdes, sizeof sdes);
    int n = rtc_rtcp_write_sdes(out, sizeof out, w, 2);
    ASSERT_EQ(n, 16 + 8);
    ASSERT_EQ(rtc_rtcp_parse_compound(out, (size_t)n, v, 4), 1);
    ASSERT_EQ(rtc_rtcp_read_sdes(&v[0], ch, 2), 2);
    ASSERT(rtc_str_eq(ch[1].cname, RTC_STR("x"))); ASSERT_EQ(ch[1].ssrc, 2);
    /* An item length running past the packet. */
    uint8_t bad[sizeof sdes];
    memcpy(bad, sdes, sizeof sdes); bad[9] = 10;
    ASSERT_EQ(rtc_rtcp_parse_compound(bad, sizeof bad, v, 4), 1);
    ASSERT_EQ(rtc_rtcp_read_sdes(&v[0], ch, 2), RTC_ETRUNC);
    bad[9] = 4; bad[0] = 0x82;                                     /* claims two chunks */
    ASSERT_EQ(rtc_rtcp_parse_compound(bad, sizeof bad, v, 4), 1);
    ASSERT_EQ(rtc_rtcp_read_sdes(&v[0], ch, 2), RTC_ETRUNC);

    uint32_t ss[2] = { 7, 8 };
    n = rtc_rtcp_write_bye(out, sizeof out, ss, 2, RTC_STR("bye"));
    static const uint8_t bye[] = { 0x82, 203, 0x00, 0x03, 0, 0, 0, 7, 0, 0, 0, 8, 3, 'b', 'y', 'e' };
    ASSERT_EQ(n, sizeof bye); ASSERT_MEMEQ(out, bye, sizeof bye);
    ASSERT_EQ(rtc_rtcp_parse_compound(out, (size_t)n, v, 4), 1);
    rtc_rtcp_bye b;
    ASSERT_EQ(rtc_rtcp_read_bye(&v[0], &b), 0);
    ASSERT_EQ(b.count, 2); ASSERT_EQ(b.ssrc[1], 8); ASSERT(rtc_str_eq(b.reason, RTC_STR("bye")));
    out[12] = 9;                                                   /* reason longer than packet */
    ASSERT_EQ(rtc_rtcp_read_bye(&v[0], &b), RTC_ETRUNC);
}

static void test_feedback_vectors(void)
{
    /* NACK: PID 100 with BLP 0x0005 -> 100, 101, 103; PID 65535 BLP 1 -> 65535, 0. */
    static const uint8_t nack[] = {
        0x81, 205, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 2,
        0x00, 0x64, 0x00, 0x05, 0xFF, 0xFF, 0x00, 0x01 };
    rtc_rtcp_view v[4];
    ASSERT_EQ(rtc_rtcp_parse_compound(nack, sizeof nack, v, 4), 1);
    uint32_t s, m;
    ASSERT_EQ(rtc_rtcp_read_fb(&v[0], &s, &m), 0); ASSERT_EQ(s, 1); ASSERT_EQ(m, 2);
    uint16_t seqs[40];
    ASSERT_EQ(rtc_rtcp_read_nack(&v[0], seqs, 40), 5);
    ASSERT_EQ(seqs[0], 100); ASSERT_EQ(seqs[1], 101); ASSERT_EQ(seqs[2], 103);
    ASSERT_EQ(seqs[3], 65535); ASSERT_EQ(seqs[4], 0);
    ASSERT_EQ(rtc_rtcp_read_nack(&v[0], seqs, 2), 2);              /* bounded by max */
    uint8_t out[256];
    ASSERT_EQ(rtc_rtcp_write_nack(out, sizeof out, 1, 2, seqs, 0), RTC_EINVAL);
    uint16_t in[5] = { 100, 101, 103, 65535, 0 };
    ASSERT_EQ(rtc_rtcp_write_nack(out, sizeof out, 1, 2, in, 5), sizeof nack);
    ASSERT_MEMEQ(out, nack, sizeof nack);
    uint16_t many[40];
    for (int i = 0; i < 40; i++) many[i] = (uint16_t)(65530 + i);  /* across the wrap */
    int n = rtc_rtcp_write_nack(out, sizeof out, 1, 2, many, 40);
    ASSERT_EQ(n, 12 + 3 * 4);
    ASSERT_EQ(rtc_rtcp_parse_compound(out, (size_t)n, v, 4), 1);
    ASSERT_EQ(rtc_rtcp_read_nack(&v[0], seqs, 40), 40);
    for (int i = 0; i < 40; i++) ASSERT_EQ(seqs[i], many[i]);

    static const uint8_t pli[] = { 0x81, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2 };
    ASSERT_EQ(rtc_rtcp_write_pli(out, sizeof out, 1, 2), 12);
    ASSERT_MEMEQ(out, pli, 12);
    ASSERT_EQ(rtc_rtcp_parse_compound(pli, 12, v, 4), 1);
    ASSERT_EQ(v[0].count, RTC_RTCP_FMT_PLI);
    ASSERT_EQ(rtc_rtcp_read_nack(&v[0], seqs, 4), RTC_EINVAL);

    static const uint8_t fir[] = { 0x84, 206, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0,
                                   0, 0, 0, 9, 5, 0, 0, 0 };
    rtc_rtcp_fir_entry fe = { 9, 5 }, fo[2];
    ASSERT_EQ(rtc_rtcp_write_fir(out, sizeof out, 1, &fe, 1), sizeof fir);
    ASSERT_MEMEQ(out, fir, sizeof fir);
    ASSERT_EQ(rtc_rtcp_parse_compound(fir, sizeof fir, v, 4), 1);
    ASSERT_EQ(rtc_rtcp_read_fir(&v[0], fo, 2), 1);
    ASSERT_EQ(fo[0].ssrc, 9); ASSERT_EQ(fo[0].seq, 5);

    static const uint8_t remb[] = { 0x8F, 206, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 0,
                                    'R', 'E', 'M', 'B', 1, 0x09, 0x23, 0x45, 0, 0, 0, 7 };
    ASSERT_EQ(rtc_rtcp_parse_compound(remb, sizeof remb, v, 4), 1);
    rtc_rtcp_remb r;
    ASSERT_EQ(rtc_rtcp_read_remb(&v[0], &r), 0);
    ASSERT_EQ(r.bitrate, 0x12345u << 2); ASSERT_EQ(r.ssrc_count, 1); ASSERT_EQ(r.ssrc[0], 7);
    uint32_t ss = 7;
    ASSERT_EQ(rtc_rtcp_write_remb(out, sizeof out, 1, 0x12345u << 2, &ss, 1), sizeof remb);
    ASSERT_MEMEQ(out, remb, 17);                                   /* smallest exponent: 1 */
    ASSERT_EQ(out[17], 0x06); ASSERT_EQ(out[18], 0x46); ASSERT_EQ(out[19], 0x8A);
    ASSERT_MEMEQ(out + 20, remb + 20, 4);
    n = rtc_rtcp_write_remb(out, sizeof out, 1, 2500000000ull, &ss, 1);
    ASSERT_EQ(rtc_rtcp_parse_compound(out, (size_t)n, v, 4), 1);
    ASSERT_EQ(rtc_rtcp_read_remb(&v[0], &r), 0);
    ASSERT(r.bitrate <= 2500000000ull && r.bitrate > 2500000000ull - 2500000000ull / 100000);
    uint8_t notremb[sizeof remb];
    memcpy(notremb, remb, sizeof remb); notremb[12] = 'X';
    ASSERT_EQ(rtc_rtcp_parse_compound(notremb, sizeof notremb, v, 4), 1);
    ASSERT_EQ(rtc_rtcp_read_remb(&v[0], &r), RTC_ENOTFOUND);
    notremb[12] = 'R'; notremb[16] = 3;                            /* 3 SSRCs in room for 1 */
    ASSERT_EQ(rtc_rtcp_parse_compound(notremb, sizeof notremb, v, 4), 1);
    ASSERT_EQ(rtc_rtcp_read_remb(&v[0], &r), RTC_ETRUNC);
}

static void test_compound(void)
{
    uint8_t buf[512];
    size_t off = 0;
    rtc_rtcp_rr rr = { .ssrc = 1 };
    off += (size_t)rtc_rtcp_write_rr(buf + off, sizeof buf - off, &rr);
    rtc_rtcp_sdes_chunk c = { 1, RTC_STR("cname") };
    off += (size_t)rtc_rtcp_write_sdes(buf + off, sizeof buf - off, &c, 1);
    off += (size_t)rtc_rtcp_write_pli(buf + off, sizeof buf - off, 1, 2);
    rtc_rtcp_view v[8];
    ASSERT_EQ(rtc_rtcp_parse_compound(buf, off, v, 8), 3);
    ASSERT_EQ(v[0].pt, 201); ASSERT_EQ(v[1].pt, 202); ASSERT_EQ(v[2].pt, 206);
    ASSERT_EQ(rtc_rtcp_parse_compound(buf, off, v, 2), RTC_EOVERFLOW);
    ASSERT(rtc_rtcp_is_rtcp(buf, off));
    /* Reduced size: a lone PLI is fine. */
    ASSERT_EQ(rtc_rtcp_parse_compound(buf + off - 12, 12, v, 8), 1);
    /* Every truncation of the compound is rejected as a whole (or parses a prefix
     * exactly at a packet boundary). */
    for (size_t l = 0; l < off; l++) {
        int r = rtc_rtcp_parse_compound(buf, l, v, 8);
        if (l == 8 || l == 24) ASSERT(r > 0);
        else ASSERT(r == RTC_ETRUNC);
    }
    uint8_t bad[64];
    memcpy(bad, buf, off);
    bad[3] = 200;                                                  /* first length way too long */
    ASSERT_EQ(rtc_rtcp_parse_compound(bad, off, v, 8), RTC_ETRUNC);
    memcpy(bad, buf, off);
    bad[8] = 0x40;                                                 /* second packet version 1 */
    ASSERT_EQ(rtc_rtcp_parse_compound(bad, off, v, 8), RTC_EPROTO);
    /* Padding: valid count, zero count, count larger than the packet. */
    uint8_t pad[16] = { 0xA0, 201, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8 };
    ASSERT_EQ(rtc_rtcp_parse_compound(pad, 16, v, 8), 1); ASSERT_EQ(v[0].len, 8);
    pad[15] = 0;  ASSERT_EQ(rtc_rtcp_parse_compound(pad, 16, v, 8), RTC_EPROTO);
    pad[15] = 13; ASSERT_EQ(rtc_rtcp_parse_compound(pad, 16, v, 8), RTC_EPROTO);
    /* RR claiming 3 report blocks in a 2-word packet. */
    uint8_t rr3[8] = { 0x83, 201, 0x00, 0x01, 0, 0, 0, 1 };
    ASSERT_EQ(rtc_rtcp_parse_compound(rr3, 8, v, 8), 1);
    ASSERT_EQ(rtc_rtcp_read_rr(&v[0], &rr), RTC_ETRUNC);
}

static void test_ntp_rtt(void)
{
    int64_t t = 1700000000LL * 1000000 + 250000;
    uint64_t ntp = rtc_ntp_from_unix_us(t);
    ASSERT_EQ(ntp >> 32, 1700000000ull + 2208988800ull);
    ASSERT_EQ(ntp & 0xFFFFFFFF, 0x40000000u);                      /* 0.25 s */
    ASSERT_EQ(rtc_ntp_to_unix_us(ntp), t);
    for (int64_t us = 0; us < 3000000; us += 123457)
        ASSERT_EQ(rtc_ntp_to_unix_us(rtc_ntp_from_unix_us(t + us)), t + us);
    /* SR sent at t; the peer held it 100 ms; it comes back at t + 150 ms: RTT 50 ms. */
    uint32_t lsr = rtc_ntp_compact(ntp);
    uint32_t dlsr = rtc_rtcp_dlsr_from_us(100000);
    uint32_t arr = rtc_ntp_compact(rtc_ntp_from_unix_us(t + 150000));
    int64_t rtt = rtc_rtcp_rtt_us(arr, lsr, dlsr);
    ASSERT(rtt >= 49950 && rtt <= 50050);
    ASSERT_EQ(rtc_rtcp_rtt_us(arr, 0, dlsr), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_rtcp_rtt_us(lsr, lsr, dlsr), 0);                 /* clocks disagree: clamp */
    ASSERT_EQ(rtc_rtcp_dlsr_from_us(1000000), 65536);
}

static void test_twcc_vectors(void)
{
    static const uint8_t fb1[] = {
        0x8F, 205, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 2,
        0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x01, 0x07,            /* base 1, 3 pkts, ref 1, fb 7 */
        0x20, 0x03, 0x04, 0x08, 0x01, 0x00, 0x00, 0x00 };          /* RLE small x3, deltas, pad */
    rtc_rtcp_view v[2];
    ASSERT_EQ(rtc_rtcp_parse_compound(fb1, sizeof fb1, v, 2), 1);
    rtc_twcc_feedback fb;
    rtc_twcc_status st[8];
    ASSERT_EQ(rtc_twcc_parse(&v[0], &fb, st, 8), 3);
    ASSERT_EQ(fb.base_seq, 1); ASSERT_EQ(fb.status_count, 3); ASSERT_EQ(fb.ref_time, 1);
    ASSERT_EQ(fb.fb_count, 7); ASSERT_EQ(fb.sender_ssrc, 1); ASSERT_EQ(fb.media_ssrc, 2);
    ASSERT_EQ(st[0].seq, 1); ASSERT(st[0].received); ASSERT_EQ(st[0].arrival_us, 65000);
    ASSERT_EQ(st[1].arrival_us, 67000); ASSERT_EQ(st[2].arrival_us, 67250);
    ASSERT_EQ(st[2].delta_us, 250);
    /* Writing the same arrivals gives the same bytes but for the chunk, where the
     * writer prefers a status vector for short runs. */
    uint8_t out[64];
    size_t used;
    rtc_twcc_feedback w = { 1, 2, 1, 0, 0, 7 };
    int n = rtc_twcc_write_feedback(out, sizeof out, &w, st, 3, &used);
    ASSERT_EQ(used, 3);
    ASSERT_EQ(n, sizeof fb1);
    ASSERT_MEMEQ(out, fb1, 20);
    ASSERT_EQ(out[20], 0xB8); ASSERT_EQ(out[21], 0x00);            /* short: 1-bit vector, 3 x 1 */
    ASSERT_MEMEQ(out + 22, fb1 + 22, 6);

    /* Two-bit status vector: small, large (-2 units), small; with one not received. */
    static const uint8_t fb2[] = {
        0x8F, 205, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 2,
        0xFF, 0xFF, 0x00, 0x04, 0xFF, 0xFF, 0xFF, 0x00,            /* base 65535, 4 pkts, ref -1 */
        0xD9, 0x00, 0x01, 0xFF, 0xFE, 0x02, 0x00, 0x00 };
    ASSERT_EQ(rtc_rtcp_parse_compound(fb2, sizeof fb2, v, 2), 1);
    ASSERT_EQ(rtc_twcc_parse(&v[0], &fb, st, 8), 4);
    ASSERT_EQ(fb.ref_time, -1);
    ASSERT_EQ(st[0].seq, 65535); ASSERT_EQ(st[1].seq, 0); ASSERT_EQ(st[3].seq, 2);
    ASSERT(st[0].received && st[1].received && st[2].received && !st[3].received);
    ASSERT_EQ(st[0].arrival_us, -64000 + 250);
    ASSERT_EQ(st[1].delta_us, -500); ASSERT_EQ(st[1].arrival_us, -64000 - 250);
    ASSERT_EQ(st[2].arrival_us, -64000 + 250);
    /* Deltas missing: truncated. Reserved symbol 3: protocol error. */
    uint8_t bad[sizeof fb2];
    memcpy(bad, fb2, sizeof fb2); bad[3] = 5;
    ASSERT_EQ(rtc_rtcp_parse_compound(bad, 24, v, 2), 1);
    ASSERT_EQ(rtc_twcc_parse(&v[0], &fb, st, 8), RTC_ETRUNC);
    memcpy(bad, fb2, sizeof fb2); bad[20] = 0xFD;
    ASSERT_EQ(rtc_rtcp_parse_compound(bad, sizeof bad, v, 2), 1);
    ASSERT_EQ(rtc_twcc_parse(&v[0], &fb, st, 8), RTC_EPROTO);
    memcpy(bad, fb2, sizeof fb2); bad[14] = 0x10;                  /* 4096 statuses, 1 chunk */
    ASSERT_EQ(rtc_rtcp_parse_compound(bad, sizeof bad, v, 2), 1);
    ASSERT_LE(rtc_twcc_parse(&v[0], &fb, st, 8), -1);
}

static void test_twcc_roundtrip(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 7);
    enum { N = 3000 };
    static rtc_twcc_status in[N], got[N];
    for (int round = 0; round < 20; round++) {
        int64_t t = (int64_t)rtc_rng_below(&rng, 1000000000);
        size_t n = 1 + rtc_rng_below(&rng, N);
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rtc_rng_below(&rng, 100);
            in[i].received = r >= 10 || i == 0;                    /* 10% gaps */
            if (r < 3) t += (int64_t)rtc_rng_below(&rng, 2000000); /* large gaps, up to 2 s */
            else if (r < 6) t -= (int64_t)rtc_rng_below(&rng, 20000); /* reordered: negative */
            else t += (int64_t)rtc_rng_below(&rng, 5000);
            in[i].arrival_us = t;
        }
        for (int i = 0; i < (round % 3 == 0 ? 40 : 0); i++)        /* long runs of losses */
            in[(rtc_rng_below(&rng, (uint32_t)n))].received = false;
        in[0].received = true;
        uint16_t base = (uint16_t)rtc_rng_u32(&rng);
        size_t done = 0;
        int64_t off_t = 0;                                         /* ref-time recovery offset */
        while (done < n) {
            uint8_t pkt[1200];
            rtc_twcc_feedback fb = { 1, 2, (uint16_t)(base + done), 0, 0, (uint8_t)round };
            size_t used;
            int len = rtc_twcc_write_feedback(pkt, sizeof pkt, &fb, in + done, n - done, &used);
            ASSERT(len > 0 && used > 0 && (size_t)len <= sizeof pkt);
            rtc_rtcp_view v;
            ASSERT_EQ(rtc_rtcp_parse_compound(pkt, (size_t)len, &v, 1), 1);
            rtc_twcc_feedback pf;
            ASSERT_EQ(rtc_twcc_parse(&v, &pf, got, N), (int)used);
            ASSERT_EQ(pf.base_seq, (uint16_t)(base + done));
            int64_t first = -1;
            for (size_t i = 0; i < used; i++) {
                ASSERT_EQ(got[i].seq, (uint16_t)(base + done + i));
                ASSERT_EQ(got[i].received, in[done + i].received);
                if (!got[i].received) continue;
                if (first < 0) { first = (int64_t)i; off_t = in[done + i].arrival_us - got[i].arrival_us; }
                /* Within a feedback packet, times are exact to the 250 µs grid
                 * (rounding does not accumulate). */
                int64_t err = in[done + i].arrival_us - (got[i].arrival_us + off_t);
                ASSERT(err > -64000 && err < 64000);
                int64_t e0 = (in[done + i].arrival_us - in[done + first].arrival_us)
                           - (got[i].arrival_us - got[first].arrival_us);
                ASSERT(e0 >= -250 && e0 <= 250);
            }
            done += used;
        }
    }
}

static void test_twcc_receiver(void)
{
    rtc_twcc_receiver *r;
    rtc_twcc_receiver_config cfg = { .sender_ssrc = 11, .media_ssrc = 22 };
    ASSERT_EQ(rtc_twcc_receiver_new(&r, &cfg, 0), 0);
    ASSERT_EQ(rtc_twcc_receiver_poll_timeout(r), RTC_TIME_NEVER);
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 3);
    rtc_time now = 0;
    uint16_t seq = 65000;                                          /* crosses the wrap */
    size_t sent = 0, lost = 0, reported = 0, reported_rx = 0, fbs = 0;
    uint8_t expect_fb = 0;
    uint16_t next_expected = seq;
    while (now < RTC_SEC(3)) {
        now += 1000;                                               /* 1 packet / ms */
        if (rtc_rng_below(&rng, 10) == 0) lost++;
        else rtc_twcc_receiver_handle_packet(r, seq, now);
        seq++; sent++;
        if (rtc_twcc_receiver_poll_timeout(r) <= now) rtc_twcc_receiver_handle_timeout(r, now);
        uint8_t pkt[1200];
        int n;
        while ((n = rtc_twcc_receiver_poll_transmit(r, pkt, sizeof pkt)) > 0) {
            rtc_rtcp_view v;
            ASSERT_EQ(rtc_rtcp_parse_compound(pkt, (size_t)n, &v, 1), 1);
            rtc_twcc_feedback fb;
            static rtc_twcc_status st[2048];
            int k = rtc_twcc_parse(&v, &fb, st, 2048);
            ASSERT(k > 0);
            ASSERT_EQ(fb.fb_count, expect_fb); expect_fb++;
            ASSERT_EQ(fb.sender_ssrc, 11); ASSERT_EQ(fb.media_ssrc, 22);
            ASSERT_EQ(fb.base_seq, next_expected);             /* contiguous, no holes */
            next_expected = (uint16_t)(fb.base_seq + fb.status_count);
            for (int i = 0; i < k; i++) reported_rx += st[i].received;
            reported += (size_t)k;
            fbs++;
        }
        ASSERT_EQ(n, 0);
    }
    rtc_twcc_receiver_handle_timeout(r, now + RTC_SEC(1));
    uint8_t pkt[1200];
    int n;
    while ((n = rtc_twcc_receiver_poll_transmit(r, pkt, sizeof pkt)) > 0) {  /* the tail */
        rtc_rtcp_view v; rtc_twcc_feedback fb; static rtc_twcc_status st[2048];
        ASSERT_EQ(rtc_rtcp_parse_compound(pkt, (size_t)n, &v, 1), 1);
        int k = rtc_twcc_parse(&v, &fb, st, 2048);
        ASSERT_EQ(fb.base_seq, next_expected);
        next_expected = (uint16_t)(fb.base_seq + fb.status_count);
        for (int i = 0; i < k; i++) reported_rx += st[i].received;
        fbs++;
    }
    ASSERT_EQ(reported_rx, sent - lost);                           /* every arrival reported once */
    ASSERT_EQ(next_expected, seq);
    rtc_twcc_receiver_stats s;
    rtc_twcc_receiver_get_stats(r, &s);
    ASSERT_EQ(s.received, sent - lost);
    ASSERT(fbs >= 55 && fbs <= 62);                                /* ~ every 50 ms over 3 s */
    ASSERT(reported_rx >= sent - lost - 60);                       /* all but the tail */
    ASSERT(reported >= reported_rx);
    /* Duplicates and late packets are counted, not reported twice. */
    rtc_twcc_receiver_handle_packet(r, (uint16_t)(seq - 1), now);
    rtc_twcc_receiver_handle_packet(r, (uint16_t)(seq - 3000), now);
    rtc_twcc_receiver_get_stats(r, &s);
    ASSERT_EQ(s.duplicates + s.late, 2);
    rtc_twcc_receiver_free(r);
}

/* A packet arriving after the feedback that reported it lost is reported again. */
static void test_twcc_late_rereport(void)
{
    rtc_twcc_receiver *r;
    rtc_twcc_receiver_config cfg = { .sender_ssrc = 1 };
    ASSERT_EQ(rtc_twcc_receiver_new(&r, &cfg, 0), 0);
    for (uint16_t q = 0; q < 10; q++) if (q != 5) rtc_twcc_receiver_handle_packet(r, q, 1000 * q);
    rtc_twcc_receiver_handle_timeout(r, RTC_MS(50));
    uint8_t pkt[1200];
    rtc_rtcp_view v;
    rtc_twcc_feedback fb;
    rtc_twcc_status st[64];
    int n = rtc_twcc_receiver_poll_transmit(r, pkt, sizeof pkt);
    ASSERT(n > 0);
    ASSERT_EQ(rtc_rtcp_parse_compound(pkt, (size_t)n, &v, 1), 1);
    ASSERT_EQ(rtc_twcc_parse(&v, &fb, st, 64), 10);
    ASSERT(!st[5].received);
    ASSERT_EQ(rtc_twcc_receiver_poll_transmit(r, pkt, sizeof pkt), 0);
    rtc_twcc_receiver_handle_packet(r, 5, RTC_MS(60));             /* late */
    ASSERT_EQ(rtc_twcc_receiver_poll_timeout(r), RTC_MS(100));
    rtc_twcc_receiver_handle_timeout(r, RTC_MS(100));
    n = rtc_twcc_receiver_poll_transmit(r, pkt, sizeof pkt);
    ASSERT(n > 0);
    ASSERT_EQ(rtc_rtcp_parse_compound(pkt, (size_t)n, &v, 1), 1);
    ASSERT_EQ(rtc_twcc_parse(&v, &fb, st, 64), 5);                 /* 5..9 again */
    ASSERT_EQ(fb.base_seq, 5);
    for (int i = 0; i < 5; i++) ASSERT(st[i].received);
    ASSERT_EQ(st[1].arrival_us - st[0].arrival_us, 6000 - RTC_MS(60));   /* 6 came before 5 */
    rtc_twcc_receiver_stats rs;
    rtc_twcc_receiver_get_stats(r, &rs);
    ASSERT_EQ(rs.rereported, 1); ASSERT_EQ(rs.received, 10);
    rtc_twcc_receiver_handle_packet(r, 5, RTC_MS(110));            /* now a duplicate */
    rtc_twcc_receiver_get_stats(r, &rs);
    ASSERT_EQ(rs.duplicates, 1);
    rtc_twcc_receiver_free(r);
}

/* Sender history + receiver + feedback: every record matches what was sent, losses
 * are reported lost, and arrival spacing follows send spacing over a fixed delay. */
static void test_report_stats(void)
{
    rtc_rtp_recv_stats r;
    rtc_rtp_recv_stats_init(&r, 0xABC, 90000);
    rtc_rtcp_report_block rb;
    rtc_rtp_recv_stats_report(&r, 0, &rb);             /* nothing yet: zeros */
    ASSERT_EQ(rb.ssrc, 0xABC); ASSERT_EQ(rb.ext_highest_seq, 0); ASSERT_EQ(rb.fraction_lost, 0);
    rtc_time t = 0;
    uint32_t ts = 1000;
    for (int i = 0; i < 100; i++, t += RTC_MS(10), ts += 900) {
        uint16_t seq = (uint16_t)(65500 + i);          /* crosses the wrap */
        if (i == 10 || i == 50 || i == 51) continue;
        rtc_rtp_recv_stats_on_packet(&r, seq, ts, 100, t);
    }
    rtc_rtp_recv_stats_on_sr(&r, 0x0000123456780000ull, RTC_SEC(1));
    rtc_rtp_recv_stats_report(&r, RTC_SEC(1) + RTC_MS(500), &rb);
    ASSERT_EQ(rb.ext_highest_seq, 65536 + (uint16_t)(65500 + 99));
    ASSERT_EQ(rb.cumulative_lost, 3);
    ASSERT_EQ(rb.fraction_lost, 3 * 256 / 100);
    ASSERT_EQ(rb.jitter, 0);                           /* perfectly paced */
    ASSERT_EQ(rb.lsr, 0x12345678); ASSERT_EQ(rb.dlsr, 32768);
    /* Next interval: no loss but with arrival jitter of +-5 ms alternating. */
    for (int i = 100; i < 300; i++, t += RTC_MS(10), ts += 900)
        rtc_rtp_recv_stats_on_packet(&r, (uint16_t)(65500 + i), ts, 100, t + (i % 2 ? RTC_MS(5) : 0));
    rtc_rtp_recv_stats_report(&r, t, &rb);
    ASSERT_EQ(rb.fraction_lost, 0); ASSERT_EQ(rb.cumulative_lost, 3);
    ASSERT(rb.jitter >= 400 && rb.jitter <= 460);      /* converges to the 450-unit (5 ms) swing */
    /* A far jump counts only when confirmed by the next packet. */
    rtc_rtp_recv_stats_on_packet(&r, 20000, ts, 100, t);
    ASSERT_EQ(rtc_rtp_recv_stats_ext_max(&r), 65536 + (uint16_t)(65500 + 299));
    rtc_rtp_recv_stats_on_packet(&r, 20001, ts, 100, t);
    ASSERT_EQ(rtc_rtp_recv_stats_ext_max(&r), 20001);
    ASSERT_EQ(rtc_rtp_recv_stats_lost(&r), 0);

    rtc_rtp_send_stats snd;
    rtc_rtp_send_stats_init(&snd, 0x55, 48000);
    rtc_rtp_send_stats_on_packet(&snd, 48000, 80, RTC_SEC(10));
    rtc_rtp_send_stats_on_packet(&snd, 48960, 90, RTC_SEC(10) + RTC_MS(20));
    rtc_rtcp_sr sr;
    int64_t wall = 1700000000LL * 1000000;
    rtc_rtp_send_stats_sr(&snd, RTC_SEC(10) + RTC_MS(120), wall, &sr);
    ASSERT_EQ(sr.ssrc, 0x55); ASSERT_EQ(sr.packet_count, 2); ASSERT_EQ(sr.octet_count, 170);
    ASSERT_EQ(sr.rtp_ts, 48960 + 4800);                /* 100 ms later at 48 kHz */
    ASSERT_EQ(sr.ntp, rtc_ntp_from_unix_us(wall));
    /* The peer held our SR 100 ms and its report arrives 150 ms after we sent the SR. */
    rtc_rtcp_report_block back = { .ssrc = 0x55, .lsr = rtc_ntp_compact(sr.ntp),
                                   .dlsr = rtc_rtcp_dlsr_from_us(RTC_MS(100)) };
    int64_t rtt = rtc_rtp_send_stats_rtt(&snd, &back, RTC_SEC(10) + RTC_MS(270));
    ASSERT(rtt >= RTC_MS(50) - 20 && rtt <= RTC_MS(50) + 20);
    back.lsr = 7;
    ASSERT_EQ(rtc_rtp_send_stats_rtt(&snd, &back, 0), RTC_ENOTFOUND);
    back.lsr = 0;
    ASSERT_EQ(rtc_rtp_send_stats_rtt(&snd, &back, 0), RTC_ENOTFOUND);
    for (int i = 0; i < 20; i++) rtc_rtp_send_stats_sr(&snd, RTC_SEC(11 + i), wall + RTC_SEC(1 + i), &sr);
    ASSERT_EQ(snd.sr_count, RTC_RTP_SR_MEMORY);
}

/* Hostile input: bit flips and truncations of a valid compound through every reader. */
static void test_hostile_rtcp(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 17);
    uint8_t good[600];
    size_t off = 0;
    rtc_rtcp_sr sr = { .ssrc = 1, .rb_count = 2 };
    off += (size_t)rtc_rtcp_write_sr(good + off, sizeof good - off, &sr);
    rtc_rtcp_sdes_chunk c = { 1, RTC_STR("abcdefgh") };
    off += (size_t)rtc_rtcp_write_sdes(good + off, sizeof good - off, &c, 1);
    uint16_t seqs[5] = { 1, 2, 5, 40, 41 };
    off += (size_t)rtc_rtcp_write_nack(good + off, sizeof good - off, 1, 2, seqs, 5);
    uint32_t ss[2] = { 3, 4 };
    off += (size_t)rtc_rtcp_write_remb(good + off, sizeof good - off, 1, 1000000, ss, 2);
    rtc_twcc_status st[20];
    for (int i = 0; i < 20; i++) st[i] = (rtc_twcc_status){ 0, i % 3 != 0, 0, 1000 * i };
    rtc_twcc_feedback fb = { 1, 2, 100, 0, 0, 0 };
    size_t used;
    off += (size_t)rtc_twcc_write_feedback(good + off, sizeof good - off, &fb, st, 20, &used);
    off += (size_t)rtc_rtcp_write_bye(good + off, sizeof good - off, ss, 2, RTC_STR("x"));
    rtc_rtcp_view v[16];
    ASSERT_EQ(rtc_rtcp_parse_compound(good, off, v, 16), 6);
    uint8_t m[600];
    static rtc_twcc_status out[70000];
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(m, good, off);
        size_t len = off;
        for (int k = 0; k < 1 + (int)rtc_rng_below(&rng, 4); k++)
            m[rtc_rng_below(&rng, (uint32_t)len)] ^= (uint8_t)(1u << rtc_rng_below(&rng, 8));
        if (rtc_rng_below(&rng, 3) == 0) len = rtc_rng_below(&rng, (uint32_t)len + 1);
        int n = rtc_rtcp_parse_compound(m, len, v, 16);
        if (n < 0) continue;
        for (int i = 0; i < n; i++) {
            ASSERT(v[i].data + v[i].len <= m + len);
            rtc_rtcp_sr s2; rtc_rtcp_rr r2; rtc_rtcp_bye b2; rtc_rtcp_remb rm; rtc_rtcp_sdes_chunk ch[4];
            rtc_rtcp_fir_entry fe[4]; uint16_t q[80]; rtc_twcc_feedback f2;
            rtc_rtcp_read_sr(&v[i], &s2); rtc_rtcp_read_rr(&v[i], &r2); rtc_rtcp_read_bye(&v[i], &b2);
            rtc_rtcp_read_remb(&v[i], &rm); rtc_rtcp_read_sdes(&v[i], ch, 4); rtc_rtcp_read_fir(&v[i], fe, 4);
            ASSERT_LE(rtc_rtcp_read_nack(&v[i], q, 80), 80);
            int k = rtc_twcc_parse(&v[i], &f2, out, 70000);
            ASSERT(k <= 70000);
        }
    }
}

int main(void)
{
    RUN(test_sr_rr_vectors);
    RUN(test_sdes_bye);
    RUN(test_feedback_vectors);
    RUN(test_compound);
    RUN(test_ntp_rtt);
    RUN(test_twcc_vectors);
    RUN(test_twcc_roundtrip);
    RUN(test_twcc_receiver);
    RUN(test_twcc_late_rereport);
    RUN(test_report_stats);
    RUN(test_hostile_rtcp);
    return 0;
}
