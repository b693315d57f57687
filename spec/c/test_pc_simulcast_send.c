/* Sending simulcast: a peer with three send encodings ("q", "h", "f") offers a=rid and
 * a=simulcast:send, each encoding goes out on its own SSRC with its RID, and the other
 * peer receives three layers by RID, every frame byte for byte, through loss repaired
 * per layer with NACK/RTX. An inactive encoding sends nothing. */
#include "test_pc_harness.h"
#include "pc/pc_cc.h"
#include "pc/pc_internal.h"      /* b's SRTP session protects a hand-made PLI */
#include "rtp/rtcp.h"
#include <string.h>

static const char *const rids[3] = { "q", "h", "f" };
static int got[3], bad[3], keys[3], last_index[3];

static int layer_of(const char *rid)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(rid, rids[i]) == 0) return i;
    return -1;
}

/* Content from (layer, index): the receiver checks each byte; sizes differ per layer. */
static size_t make_frame(uint8_t *out, int layer, int i, bool key)
{
    size_t len = (size_t)(300 + layer * 1500) + (key ? 2000 : (size_t)(i * 37 % 900));
    for (size_t k = 0; k < len; k++) out[k] = (uint8_t)(k * 31 + (size_t)i * 7 + (size_t)layer * 101);
    out[0] = key ? 0x10 : 0x11;                   /* VP8 frame tag: bit 0 clear on keyframes */
    if (key) { out[3] = 0x9d; out[4] = 0x01; out[5] = 0x2a; }
    return len;
}

/* Keyframe requests the sender saw, by RID ("" = none). */
static int req_q, req_h, req_f, req_none;
static void on_event(peer *p, const rtc_pc_event *ev)
{
    (void)p;
    if (ev->type != RTC_PC_EV_KEYFRAME_REQUEST) return;
    if (strcmp(ev->rid, "q") == 0) req_q++;
    else if (strcmp(ev->rid, "h") == 0) req_h++;
    else if (strcmp(ev->rid, "f") == 0) req_f++;
    else req_none++;
}

static void on_frame(peer *p, const rtc_pc_event *ev)
{
    (void)p;
    int l = layer_of(ev->rid);
    ASSERT(l >= 0);
    int i = (int)(ev->ts / 3000);
    static uint8_t want[8000];
    size_t len = make_frame(want, l, i, ev->keyframe);
    if (ev->buf->len != len || memcmp(ev->buf->data, want, len) != 0) bad[l]++;
    ASSERT(i > last_index[l]);                    /* in order per layer */
    last_index[l] = i;
    got[l]++;
    if (ev->keyframe) keys[l]++;
}

static void test_three_encodings(void)
{
    memset(got, 0, sizeof got);
    memset(bad, 0, sizeof bad);
    memset(keys, 0, sizeof keys);
    for (int i = 0; i < 3; i++) last_index[i] = -1;
    peer a, b;
    vnet *n = vnet_new(7);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20), .jitter = RTC_MS(2), .loss = 0.05 });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    b.on_frame = on_frame;
    int tr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    ASSERT_OK(rtc_pc_transceiver_set_send_encodings(a.pc, tr, rids, 3));

    char *offer;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    ASSERT(strstr(offer, "a=rid:q send\r\n") && strstr(offer, "a=rid:h send\r\n") && strstr(offer, "a=rid:f send\r\n"));
    ASSERT(strstr(offer, "a=simulcast:send q;h;f\r\n") != NULL);
    ASSERT(strstr(offer, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id") != NULL);
    ASSERT(strstr(offer, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id") != NULL);
    ASSERT(strstr(offer, "a=ssrc:") == NULL);     /* the receiver learns SSRCs by MID and RID */
    free(offer);

    connect_peers(&a, &b, n);
    ASSERT_EQ(b.tracks, 1);
    rtc_transceiver_info ib;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
    ASSERT_EQ(ib.nsimulcast, 3);
    ASSERT_STREQ(ib.simulcast[0], "q");
    ASSERT_STREQ(ib.simulcast[2], "f");

    rtc_encoding_info enc[4];
    ASSERT_EQ(rtc_pc_transceiver_encodings(a.pc, tr, enc, 4), 3);
    for (int i = 0; i < 3; i++) {
        ASSERT_STREQ(enc[i].rid, rids[i]);
        ASSERT(enc[i].sending && enc[i].active);
        for (int k = 0; k < i; k++) ASSERT(enc[i].ssrc != enc[k].ssrc);
    }
    ASSERT_EQ(rtc_pc_send_frame_rid(a.pc, tr, "x", (const uint8_t *)"\x10", 1, 0, true, now), RTC_ENOTFOUND);

    static uint8_t frame[8000];
    int sent = 0;
    for (int i = 0; i < 300; i++) {
        bool key = i % 90 == 0;
        for (int l = 0; l < 3; l++) {
            size_t len = make_frame(frame, l, i, key);
            ASSERT(rtc_pc_send_frame_rid(a.pc, tr, rids[l], frame, len, (uint32_t)i * 3000, key, now) > 0);
        }
        sent++;
        step(&a, &b, n, now + RTC_MS(33));
    }
    step(&a, &b, n, now + RTC_SEC(2));
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
    fprintf(stderr, "layers %d: q %d h %d f %d of %d; repaired %llu rtx %llu\n", ib.layers, got[0], got[1], got[2], sent,
            (unsigned long long)ib.packets_repaired, (unsigned long long)ib.rtx_received);
    ASSERT_EQ(ib.layers, 3);
    for (int l = 0; l < 3; l++) {
        ASSERT_EQ(bad[l], 0);
        ASSERT(got[l] >= sent - 1);              /* the very last packet may stay lost */
        ASSERT(keys[l] >= 3);
    }
    ASSERT(ib.rtx_received > 10);
    ASSERT_EQ(rtc_pc_transceiver_encodings(a.pc, tr, enc, 4), 3);
    for (int l = 0; l < 3; l++) {
        fprintf(stderr, "enc %s: %llu packets, %llu rtx, %llu nacks\n", enc[l].rid, (unsigned long long)enc[l].packets_sent,
                (unsigned long long)enc[l].retransmitted_packets, (unsigned long long)enc[l].nacks_received);
        ASSERT(enc[l].nacks_received > 0);       /* each encoding repaired by its own sender */
        ASSERT(enc[l].retransmitted_packets > 0);
        ASSERT_EQ(enc[l].frames_sent, (uint64_t)sent);
    }
    ASSERT(enc[2].packets_sent > enc[0].packets_sent);   /* bigger frames, more packets */

    /* "h" inactive: its frames are dropped; the others go on. */
    ASSERT_OK(rtc_pc_transceiver_set_encoding_rid(a.pc, tr, "h", false, 0));
    int before[3] = { got[0], got[1], got[2] };
    for (int i = 300; i < 330; i++) {
        for (int l = 0; l < 3; l++) {
            size_t len = make_frame(frame, l, i, false);
            int r = rtc_pc_send_frame_rid(a.pc, tr, rids[l], frame, len, (uint32_t)i * 3000, false, now);
            ASSERT(l == 1 ? r == 0 : r > 0);
        }
        step(&a, &b, n, now + RTC_MS(33));
    }
    step(&a, &b, n, now + RTC_SEC(1));
    ASSERT_EQ(got[1], before[1]);
    ASSERT(got[0] >= before[0] + 28 && got[2] >= before[2] + 28);
    ASSERT_EQ(bad[0] + bad[1] + bad[2], 0);
    /* A PLI for "h"'s SSRC is a keyframe request for "h" alone. */
    harness_on_event = on_event;
    req_q = req_h = req_f = req_none = 0;
    int before_req = a.keyframe_requests;
    uint8_t pli[64];
    int pl = rtc_rtcp_write_pli(pli, sizeof pli, 0x1234, enc[1].ssrc);
    ASSERT(pl > 0);
    rtc_buf *pb = rtc_buf_alloc(NULL, 1500);
    memcpy(pb->data, pli, (size_t)pl);
    pb->len = (size_t)pl;
    ASSERT_OK(rtc_srtp_session_protect_rtcp(b.pc->srtp, pb));
    rtc_pc_handle_datagram(a.pc, &a.addr, &b.addr, pb->data, pb->len, now);
    rtc_buf_unref(pb);
    step(&a, &b, n, now + RTC_MS(10));
    ASSERT_EQ(a.keyframe_requests, before_req + 1);
    ASSERT_EQ(req_h, 1);
    ASSERT_EQ(req_q + req_f + req_none, 0);
    harness_on_event = NULL;

    /* max_bitrate per encoding: the send-side estimate stays under the sum of the
     * caps of the encodings that send; one uncapped encoding leaves it unbounded. */
    ASSERT_OK(rtc_pc_transceiver_set_encoding_rid(a.pc, tr, "q", true, 50000));
    ASSERT_OK(rtc_pc_transceiver_set_encoding_rid(a.pc, tr, "h", true, 60000));   /* active again */
    step(&a, &b, n, now + RTC_MS(100));
    rtc_cc_estimate est;
    ASSERT_OK(rtc_pc_get_bandwidth(a.pc, &est));
    ASSERT(est.bps > 180000);                    /* "f" has no cap yet */
    ASSERT_OK(rtc_pc_transceiver_set_encoding_rid(a.pc, tr, "f", true, 70000));
    step(&a, &b, n, now + RTC_MS(100));
    ASSERT_OK(rtc_pc_get_bandwidth(a.pc, &est));
    ASSERT(est.bps <= 180000);

    close_peers(&a, &b, n);
}

static void test_bad_args(void)
{
    peer a;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    int tr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    int au = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDONLY, -1 }, now);
    const char *dup[2] = { "a", "a" }, *bad_chars[2] = { "a", "b c" }, *long_rid[2] = { "a", "0123456789abcdef" };
    ASSERT_EQ(rtc_pc_transceiver_set_send_encodings(a.pc, tr, dup, 2), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_send_encodings(a.pc, tr, bad_chars, 2), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_send_encodings(a.pc, tr, long_rid, 2), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_send_encodings(a.pc, tr, rids, 0), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_send_encodings(a.pc, au, rids, 3), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_send_encodings(a.pc, 9, rids, 3), RTC_ENOTFOUND);
    ASSERT_OK(rtc_pc_transceiver_set_send_encodings(a.pc, tr, rids, 3));
    char *offer;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    ASSERT_EQ(rtc_pc_transceiver_set_send_encodings(a.pc, tr, rids, 3), RTC_ESTATE);   /* has a section */
    rtc_pc_free(a.pc);
}

int main(void)
{
    harness_begin(42);
    RUN(test_bad_args);
    RUN(test_three_encodings);
    harness_end();
    return 0;
}
