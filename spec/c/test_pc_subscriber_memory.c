/* Heap held by one SFU subscriber connection: a peer connection with one audio and one
 * video transceiver that only forwards (injected packets, no packetizer, no data
 * channel), connected over the virtual network, after 5 s of injected audio and video
 * with the peer's TWCC feedback. Bytes, never time. */
#include "test_pc_harness.h"
#include "test_heap.h"
#include "pc/pc_tap.h"
#include "rtp/rtp_packet.h"

static peer b, s;
static int s_tr[2];
static uint16_t seq[2];
static uint32_t ts[2];

static void inject(int i, size_t payload)
{
    rtc_pc_forward_params fp;
    ASSERT_OK(rtc_pc_forward_params_get(s.pc, s_tr[i], &fp));
    ASSERT(fp.twcc_id != 0);
    rtc_rtp_header h = { .pt = fp.pt, .seq = seq[i]++, .ts = ts[i], .ssrc = fp.ssrc, .marker = true };
    uint8_t twcc[2] = { 0 };
    ASSERT_OK(rtc_rtp_add_ext(&h, fp.twcc_id, twcc, 2));
    uint8_t pl[1200] = { 0x10 }, out[1300];       /* VP8: start of a partition */
    int n = rtc_rtp_write(out, sizeof out, &h, pl, payload, 0);
    ASSERT(n > 0);
    ASSERT_OK(rtc_pc_inject_rtp(s.pc, s_tr[i], out, (size_t)n, now));
}

static void test_subscriber_connection_heap(void)
{
    now = RTC_SEC(1);
    vnet *n = vnet_new(9);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5) });
    size_t h0 = heap_in_use();
    peer_init(&s, "10.0.0.1:5000", cert_a);
    size_t h_s = heap_in_use() - h0;
    peer_init(&b, "10.0.0.2:5000", cert_b);
    s_tr[0] = rtc_pc_add_transceiver(s.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDONLY, RTC_CODEC_OPUS }, now);
    s_tr[1] = rtc_pc_add_transceiver(s.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    ASSERT(s_tr[0] >= 0 && s_tr[1] >= 0);
    connect_peers(&s, &b, n);
    ASSERT_OK(rtc_pc_set_inject(s.pc, s_tr[0], true));
    ASSERT_OK(rtc_pc_set_inject(s.pc, s_tr[1], true));
    size_t h_b0 = heap_in_use();
    /* 5 s: audio every 20 ms, video 30 frames/s of 10 packets (about 3.6 Mbit/s) */
    for (int k = 0; k < 250; k++) {
        inject(0, 80);
        if (k % 2 == 0) for (int j = 0; j < 10; j++) inject(1, 1100);
        ts[0] += 960, ts[1] += 6000;
        step(&s, &b, n, now + RTC_MS(20));
    }
    rtc_pc_stats st;
    rtc_pc_get_stats(s.pc, &st);
    ASSERT_GE(st.packets_sent, 1500);          /* the media went out */
    /* What the connection holds is what freeing it gives back. */
    size_t h1 = heap_in_use();
    rtc_pc_free(s.pc);
    size_t held = h1 - heap_in_use();
    fprintf(stderr, "new pc %zu B; held after 5 s of media: %zu B\n", h_s, held);
    (void)h_b0;
    /* About 165 KB here: DTLS, SRTP, ICE, the two descriptions, the senders, the
     * inject logs and the congestion controller sized to the packets it saw. Before
     * the pacer queues, the TWCC send history, its records and the acked-rate ring
     * grew on use, this was about 1 MB (about 0.65 MB RSS per subscriber in
     * bench/sfu.lua). */
    ASSERT_LE(held, 200 * 1024);
    rtc_pc_close(b.pc, now);
    rtc_pc_free(b.pc);
    vnet_free(n);
}

int main(void)
{
    harness_begin(7);
    RUN(test_subscriber_connection_heap);
    harness_end();
    return 0;
}
