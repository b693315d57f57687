/* SRTP never protects two different packets under one (SSRC, index). Two peers over
 * the virtual network with 10% loss negotiate AEAD_AES_128_GCM, NACK and
 * transport-cc; every RTP datagram the sender puts on the wire goes through
 * srtp_nonce_check.h. Without RTX a NACKed packet is resent under its first index, and
 * it must be the same ciphertext as the first time (the transport-wide seq it carries
 * included); with RTX the repairs travel under their own SSRC and indices. */
#include "test_pc_harness.h"
#include "srtp_nonce_check.h"
#include "sdp_strip_rtx.h"
#include <stdio.h>

static nonce_check g_check;
static peer *g_sender;

static void watch(peer *p, const uint8_t *data, size_t len)
{
    if (p == g_sender) nonce_check_packet(&g_check, data, len);
}

static void make_frame(uint8_t *out, size_t len, int i, bool video, bool key)
{
    for (size_t k = 0; k < len; k++) out[k] = (uint8_t)(k * 31 + (size_t)i * 7);
    if (video) { out[0] = key ? 0x10 : 0x11; if (key) { out[3] = 0x9d; out[4] = 0x01; out[5] = 0x2a; } }
    else out[0] = 0x78;
}

static void send_with_loss(bool rtx)
{
    memset(&g_check, 0, sizeof g_check);
    harness_munge_offer = rtx ? NULL : strip_rtx;
    harness_on_send = watch;
    peer a, b;
    vnet *n = vnet_new(rtx ? 21 : 22);
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    g_sender = &a;
    int vtr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    int atr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDONLY, -1 }, now);
    connect_peers(&a, &b, n);
    rtc_pc_stats st;
    rtc_pc_get_stats(a.pc, &st);
    ASSERT_STREQ(st.srtp_cipher, "SRTP_AEAD_AES_128_GCM");
    rtc_transceiver_info ia, ib;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, vtr, &ia));
    ASSERT(ia.fb_nack && ia.fb_twcc);
    ASSERT_EQ(ia.rtx_pt != 0, rtx);

    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20), .jitter = RTC_MS(2), .loss = 0.10 });
    static uint8_t frame[4000];
    int sent_v = 0, sent_a = 0;
    for (int ms = 0; ms < 5000; ms += 10) {
        if (ms % 20 == 0) {
            make_frame(frame, 80, sent_a, false, false);
            ASSERT_OK(rtc_pc_send_frame(a.pc, atr, frame, 80, (uint32_t)sent_a * 960, false, now));
            sent_a++;
        }
        if (ms % 30 == 0) {
            bool key = sent_v % 60 == 0;
            size_t len = key ? 4000 : 1500 + (size_t)(sent_v * 37 % 1500);
            make_frame(frame, len, sent_v, true, key);
            ASSERT_OK(rtc_pc_send_frame(a.pc, vtr, frame, len, (uint32_t)sent_v * 3000, key, now));
            sent_v++;
        }
        step(&a, &b, n, now + RTC_MS(10));
    }
    step(&a, &b, n, now + RTC_SEC(2));

    ASSERT_OK(rtc_pc_transceiver_info(a.pc, vtr, &ia));
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
    rtc_pc_media_stats ms;
    rtc_pc_media_get_stats(b.pc, &ms);
    fprintf(stderr, "%s: %llu RTP datagrams, %llu sent again identical, %llu different; video repaired %llu, rtx %llu\n",
            rtx ? "rtx" : "no rtx", (unsigned long long)g_check.packets, (unsigned long long)g_check.repeats,
            (unsigned long long)g_check.mismatches, (unsigned long long)ib.packets_repaired,
            (unsigned long long)ib.rtx_received);
    ASSERT(ms.twcc_feedback_sent > 20);             /* the transport-wide seqs were in use */
    ASSERT(ib.packets_repaired > 20);
    ASSERT(ib.packets_repaired <= ib.rtx_received);
    if (rtx) ASSERT(ib.rtx_received > 20);
    /* Plain resends count as retransmissions received too (a late original after its
     * NACK the same: without RTX the two cannot be told apart). */
    else ASSERT_EQ(ib.rtx_received, ib.packets_repaired);
    /* Without RTX every video resend goes under the first index (audio is repaired
     * that way in both cases, when RED has not filled the hole first). */
    ASSERT(g_check.repeats >= (rtx ? 1 : ia.retransmitted_packets));
    ASSERT_EQ(g_check.mismatches, 0);

    close_peers(&a, &b, n);
    nonce_check_free(&g_check);
    harness_munge_offer = NULL;
    harness_on_send = NULL;
}

static void test_nack_without_rtx_resends_same_ciphertext(void) { send_with_loss(false); }
static void test_nack_with_rtx_never_reuses_an_index(void) { send_with_loss(true); }

int main(void)
{
    harness_begin(0x5e4d);
    RUN(test_nack_without_rtx_resends_same_ciphertext);
    RUN(test_nack_with_rtx_never_reuses_an_index);
    harness_end();
    return 0;
}
