/* ULPFEC (RFC 5109): the packet format (16- and 48-bit masks), rebuilding every single
 * loss of a group byte for byte, hostile FEC payloads, and the sender and receiver
 * machines with ULPFEC inside RED: with NACK off and one packet of each group lost,
 * every frame comes out whole and the FEC counters say what happened. */
#include "rtc_test.h"
#include "codec/red.h"
#include "core/rtc_errors.h"
#include "core/rtc_rng.h"
#include "rtp/fec_recovery.h"
#include "rtp/fec_ulp.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_receiver.h"
#include "rtp/rtp_sender.h"

enum { PT = 96, RED_PT = 116, FEC_PT = 117, SSRC = 0x2222, LOCAL = 0x3333 };

/* n packets from seq base (every `step`), of varied lengths, some with CSRCs, an
 * extension block, the marker or padding. */
static size_t make_group(rtc_rng *rng, uint8_t pk[][400], size_t *len, size_t n, uint16_t base, unsigned step)
{
    for (size_t i = 0; i < n; i++) {
        rtc_rtp_header h = { .pt = PT, .seq = (uint16_t)(base + i * step), .ts = 90000u * (unsigned)i, .ssrc = SSRC,
                             .marker = i % 3 == 2 };
        if (i % 4 == 1) { h.csrc_count = 2; h.csrc[0] = 7; h.csrc[1] = 8; }
        uint8_t v[3] = { 1, 2, 3 };
        if (i % 5 == 2) rtc_rtp_add_ext(&h, 3, v, 3);
        uint8_t pay[300];
        size_t pl = 1 + rtc_rng_below(rng, sizeof pay - 1);
        rtc_rng_bytes(rng, pay, pl);
        int l = rtc_rtp_write(pk[i], sizeof pk[i], &h, pay, pl, i % 6 == 5 ? 4 : 0);
        ASSERT(l > 0);
        len[i] = (size_t)l;
    }
    return n;
}

static void check_every_loss(size_t n, unsigned step, bool want_long)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, (uint64_t)(n * 31 + step));
    static uint8_t pk[48][400];
    size_t len[48];
    make_group(&rng, pk, len, n, 65530, step);          /* the group wraps the sequence space */
    rtc_ulpfec_media m[48];
    for (size_t i = 0; i < n; i++) m[i] = (rtc_ulpfec_media){ pk[i], len[i] };
    uint8_t fec[600];
    int fl = rtc_ulpfec_write(fec, sizeof fec, m, n);
    ASSERT(fl > 0);
    rtc_ulpfec_view v;
    ASSERT_OK(rtc_ulpfec_parse(fec, (size_t)fl, &v));
    ASSERT_EQ(v.long_mask, want_long);
    ASSERT_EQ(v.sn_base, 65530);
    for (size_t miss = 0; miss < n; miss++) {
        rtc_ulpfec_media have[48];
        size_t k = 0;                                    /* any order: reversed */
        for (size_t i = n; i-- > 0;) if (i != miss) have[k++] = m[i];
        uint8_t out[400];
        uint16_t seq = (uint16_t)(65530 + miss * step);
        int rl = rtc_ulpfec_recover(&v, seq, SSRC, have, k, out, sizeof out);
        ASSERT_EQ(rl, (int)len[miss]);
        ASSERT_MEMEQ(out, pk[miss], len[miss]);          /* byte-identical, padding and all */
        /* The wrong set of packets is refused, not XORed into garbage. */
        if (k) ASSERT_EQ(rtc_ulpfec_recover(&v, seq, SSRC, have, k - 1, out, sizeof out), RTC_EINVAL);
        ASSERT_EQ(rtc_ulpfec_recover(&v, seq, SSRC, have, k, out, len[miss] - 1), RTC_EOVERFLOW);
    }
    ASSERT_EQ(rtc_ulpfec_recover(&v, (uint16_t)(65530 + 48), SSRC, m, n - 1, pk[0], 400), RTC_EINVAL);
}

static void test_format(void)
{
    check_every_loss(1, 1, false);
    check_every_loss(5, 1, false);
    check_every_loss(16, 1, false);
    check_every_loss(17, 1, true);                       /* one past the short mask: L bit */
    check_every_loss(48, 1, true);
    check_every_loss(8, 3, true);                        /* every third seq, spanning 22 */
    /* RFC 5109 header layout for two known packets. */
    uint8_t a[] = { 0x80, 0x60, 0x00, 0x0A, 0, 0, 0, 1, 0, 0, 0x22, 0x22, 0xAA };
    uint8_t b[] = { 0x80, 0xE0, 0x00, 0x0B, 0, 0, 0, 1, 0, 0, 0x22, 0x22, 0x0F, 0xF0 };
    rtc_ulpfec_media m[2] = { { a, sizeof a }, { b, sizeof b } };
    uint8_t fec[64];
    ASSERT_EQ(rtc_ulpfec_write(fec, sizeof fec, m, 2), 14 + 2);
    static const uint8_t want[] = { 0x00, 0x80, 0x00, 0x0A, 0, 0, 0, 0, 0x00, 0x03, 0x00, 0x02, 0xC0, 0x00, 0xA5, 0xF0 };
    ASSERT_MEMEQ(fec, want, sizeof want);
    ASSERT_EQ(rtc_ulpfec_write(fec, 15, m, 2), RTC_EOVERFLOW);
    rtc_ulpfec_media dup[2] = { m[0], m[0] };
    ASSERT_EQ(rtc_ulpfec_write(fec, sizeof fec, dup, 2), RTC_EINVAL);
    ASSERT_EQ(rtc_ulpfec_write(fec, sizeof fec, m, 0), RTC_EINVAL);
    rtc_ulpfec_media back[2] = { m[1], m[0] };           /* a packet before the base */
    ASSERT_EQ(rtc_ulpfec_write(fec, sizeof fec, back, 2), RTC_EINVAL);
}

static void test_malformed(void)
{
    static const uint8_t ok[] = { 0x00, 0x80, 0x00, 0x0A, 0, 0, 0, 0, 0x00, 0x03, 0x00, 0x02, 0xC0, 0x00, 0xA5, 0xF0 };
    rtc_ulpfec_view v;
    ASSERT_OK(rtc_ulpfec_parse(ok, sizeof ok, &v));
    for (size_t l = 0; l < sizeof ok; l++) ASSERT_EQ(rtc_ulpfec_parse(ok, l, &v), RTC_ETRUNC);
    uint8_t bad[sizeof ok];
    memcpy(bad, ok, sizeof ok); bad[0] |= 0x80;          /* E: no extension is defined */
    ASSERT_EQ(rtc_ulpfec_parse(bad, sizeof bad, &v), RTC_EPROTO);
    memcpy(bad, ok, sizeof ok); bad[12] = bad[13] = 0;   /* protects nothing */
    ASSERT_EQ(rtc_ulpfec_parse(bad, sizeof bad, &v), RTC_EPROTO);
    memcpy(bad, ok, sizeof ok); bad[10] = bad[11] = 0;
    ASSERT_EQ(rtc_ulpfec_parse(bad, sizeof bad, &v), RTC_EPROTO);
    memcpy(bad, ok, sizeof ok); bad[0] |= 0x40;          /* L without the longer mask */
    ASSERT_EQ(rtc_ulpfec_parse(bad, sizeof bad, &v), RTC_ETRUNC);
    /* A length recovery beyond the protection cannot be rebuilt. */
    memcpy(bad, ok, sizeof ok); bad[9] = 0x09;
    ASSERT_OK(rtc_ulpfec_parse(bad, sizeof bad, &v));
    uint8_t a[] = { 0x80, 0x60, 0x00, 0x0A, 0, 0, 0, 1, 0, 0, 0x22, 0x22, 0xAA };
    rtc_ulpfec_media have = { a, sizeof a };
    uint8_t out[64];
    ASSERT_EQ(rtc_ulpfec_recover(&v, 0x0B, SSRC, &have, 1, out, sizeof out), RTC_EPROTO);
    /* Random bytes: parse never reads out of bounds, and the window never crashes
     * or leaks whatever the FEC packets say. */
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 9);
    rtc_fec_recovery *r;
    ASSERT_OK(rtc_fec_recovery_new(&r, SSRC, NULL));
    for (int i = 0; i < 20000; i++) {
        uint8_t h[80];
        size_t l = rtc_rng_below(&rng, sizeof h);
        rtc_rng_bytes(&rng, h, l);
        if (l > 4) h[0] &= 0x7F;
        if (rtc_ulpfec_parse(h, l, &v) == 0) ASSERT(v.parity + v.prot_len <= h + l);
        if (i % 3 == 0 && l >= 12) {
            h[0] = (uint8_t)(0x80 | (h[0] & 0x0F));
            rtc_buf *b = rtc_buf_from(h, l);
            rtc_fec_recovery_add_media(r, b);
            rtc_buf_unref(b);
        } else {
            rtc_fec_recovery_add_ulpfec(r, h, l);
        }
        rtc_buf *o;
        while (rtc_fec_recovery_poll(r, &o)) {
            rtc_rtp_packet p;
            ASSERT_OK(rtc_rtp_parse(&p, o->data, o->len));   /* whatever comes out is RTP */
            rtc_buf_unref(o);
        }
    }
    rtc_fec_recovery_stats st;
    rtc_fec_recovery_get_stats(r, &st);
    ASSERT(st.malformed > 0 && st.fec_packets > 0);
    rtc_fec_recovery_free(r);
}

/* VP8 frames of 1-9 packets through a sender with ULPFEC in RED (one FEC packet per
 * 3 media packets), one random packet of each group lost (media or FEC), into a
 * receiver without NACK: every frame whole and in order. */
static void test_stream(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 21);
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = PT, .red_pt = RED_PT, .ulpfec_pt = FEC_PT, .fec_group = 3,
                                 .ssrc = SSRC, .initial_seq = 65000, .max_payload = 300 };
    /* Waiting for keyframes: a lost FEC packet leaves a hole between frames that must
     * not read as a broken chain (the next frame's PictureID follows on). */
    rtc_rtp_receiver_config rc = { .codec = RTC_CODEC_VP8, .pt = PT, .red_pt = RED_PT, .ulpfec_pt = FEC_PT, .ssrc = SSRC,
                                   .local_ssrc = LOCAL, .wait_keyframe = true };
    rtc_rtp_sender *s;
    rtc_rtp_receiver *r;
    rtc_time now = RTC_SEC(1);
    ASSERT_OK(rtc_rtp_sender_new(&s, &sc, now));
    ASSERT_OK(rtc_rtp_receiver_new(&r, &rc, now));
    enum { N = 300 };
    static uint8_t frames[N][2500];
    static size_t flen[N];
    int got = 0;
    uint64_t lost_media = 0, fec_arrived = 0, fec_unused = 0;
    for (int i = 0; i < N; i++) {
        flen[i] = 10 + rtc_rng_below(&rng, 2400);
        if (i == 0) flen[i] = 100;
        rtc_rng_bytes(&rng, frames[i], flen[i]);
        frames[i][0] = i == 0 ? 0x10 : 0x11;              /* VP8 frame tag: only the first is a keyframe */
        if (i == 0) { frames[i][3] = 0x9d; frames[i][4] = 0x01; frames[i][5] = 0x2a; }
        ASSERT(rtc_rtp_sender_send_frame(s, frames[i], flen[i], (uint32_t)i * 3000u, NULL, now) > 0);
        /* The frame's media packets, then one FEC packet per group of three. Lose one
         * member of each group (media or FEC), or none (to see discarded FEC packets). */
        rtc_buf *med[16], *fp[8];
        size_t nm = 0, nf = 0;
        rtc_rtp_out o;
        while (rtc_rtp_sender_poll_transmit(s, &o)) {
            rtc_rtp_packet p;
            ASSERT_OK(rtc_rtp_parse(&p, o.buf->data, o.buf->len));
            ASSERT_EQ(p.h.pt, RED_PT);
            if (p.payload[0] == FEC_PT) { ASSERT(nf < 8); fp[nf++] = o.buf; }
            else { ASSERT(nm < 16 && nf == 0); med[nm++] = o.buf; }
        }
        ASSERT_EQ(nf, (nm + 2) / 3);
        bool drop_m[16] = { false }, drop_f[8] = { false };
        for (size_t g = 0; g < nf; g++) {
            size_t members = (g * 3 + 3 <= nm ? 3 : nm - g * 3) + 1;
            size_t d = i == 0 || rtc_rng_below(&rng, 3) == 0 ? members : rtc_rng_below(&rng, (uint32_t)members);
            if (d == members) { fec_arrived++; fec_unused++; }
            else if (d == members - 1) drop_f[g] = true;
            else { drop_m[g * 3 + d] = true; lost_media++; fec_arrived++; }
        }
        for (size_t k = 0; k < nm; k++) if (!drop_m[k]) ASSERT_OK(rtc_rtp_receiver_handle_rtp(r, med[k], now));
        for (size_t k = 0; k < nf; k++) if (!drop_f[k]) ASSERT_OK(rtc_rtp_receiver_handle_rtp(r, fp[k], now));
        for (size_t k = 0; k < nm; k++) rtc_buf_unref(med[k]);
        for (size_t k = 0; k < nf; k++) rtc_buf_unref(fp[k]);
        now += RTC_MS(33);
        rtc_rtp_receiver_handle_timeout(r, now);
        rtc_jb_frame f;
        while (rtc_rtp_receiver_poll_frame(r, &f)) {
            int k = (int)(f.ts / 3000);
            ASSERT_EQ(k, got);
            ASSERT_EQ(f.data->len, flen[k]);
            ASSERT_MEMEQ(f.data->data, frames[k], flen[k]);
            got++;
            rtc_buf_unref(f.data);
        }
        uint8_t out[1500];
        while (rtc_rtp_receiver_poll_rtcp(r, out, sizeof out) > 0) {}
    }
    now += RTC_SEC(1);                                   /* the last frames wait out the reorder delay */
    rtc_rtp_receiver_handle_timeout(r, now);
    rtc_jb_frame f;
    while (rtc_rtp_receiver_poll_frame(r, &f)) {
        ASSERT_EQ((int)(f.ts / 3000), got);
        ASSERT_MEMEQ(f.data->data, frames[got], flen[got]);
        got++;
        rtc_buf_unref(f.data);
    }
    ASSERT_EQ(got, N);
    ASSERT(lost_media > 200);
    rtc_rtp_receiver_stats st;
    rtc_rtp_receiver_get_stats(r, &st);
    ASSERT_EQ(st.fec_recovered, lost_media);
    ASSERT_EQ(st.fec_packets, fec_arrived);
    ASSERT_EQ(st.fec_discarded, fec_unused);
    ASSERT_EQ(st.jb.frames_dropped, 0);
    rtc_rtp_sender_stats ss;
    rtc_rtp_sender_get_stats(s, &ss);
    ASSERT(ss.fec_packets >= (uint64_t)N);
    rtc_rtp_sender_free(s);
    rtc_rtp_receiver_free(r);
}

/* Configurations the format cannot serve are refused. */
static void test_config(void)
{
    rtc_rtp_sender *s;
    rtc_rtp_receiver *r;
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = PT, .ulpfec_pt = FEC_PT, .ssrc = SSRC };
    ASSERT_EQ(rtc_rtp_sender_new(&s, &sc, 0), RTC_EINVAL);            /* ULPFEC needs RED */
    sc.red_pt = RED_PT; sc.fec_group = 49;
    ASSERT_EQ(rtc_rtp_sender_new(&s, &sc, 0), RTC_EINVAL);
    sc.fec_group = 0; sc.codec = RTC_CODEC_OPUS;
    ASSERT_EQ(rtc_rtp_sender_new(&s, &sc, 0), RTC_EINVAL);            /* video only */
    rtc_rtp_receiver_config rc = { .codec = RTC_CODEC_VP8, .pt = PT, .ulpfec_pt = FEC_PT, .ssrc = SSRC };
    ASSERT_EQ(rtc_rtp_receiver_new(&r, &rc, 0), RTC_EINVAL);
    rc.red_pt = FEC_PT;
    ASSERT_EQ(rtc_rtp_receiver_new(&r, &rc, 0), RTC_EINVAL);
}

int main(void)
{
    RUN(test_format);
    RUN(test_malformed);
    RUN(test_stream);
    RUN(test_config);
    return 0;
}
