/* Renegotiation that changes what a transceiver carries: a new codec (and so new payload
 * types) takes effect on both sides and frames of the new codec flow; a sender that
 * restarts on a new SSRC on the same mid is followed at once, whether the new SSRC is
 * signalled by a renegotiation or only seen in packets carrying the mid. */
#include "test_pc_harness.h"
#include "pc/pc_media_internal.h"   /* a sender restarting on a new SSRC, as another stack's does */
#include <stdio.h>

static int h264_frames, vp8_frames;

static void count_frame(peer *p, const rtc_pc_event *ev)
{
    if (ev->codec == RTC_CODEC_H264) h264_frames++;
    else if (ev->codec == RTC_CODEC_VP8) vp8_frames++;
    p->frames[0]++;
}

static size_t vp8_frame(uint8_t *out, int i)
{
    size_t len = 800;
    for (size_t k = 0; k < len; k++) out[k] = (uint8_t)(k * 31 + (size_t)i);
    out[0] = 0x10; out[3] = 0x9d; out[4] = 0x01; out[5] = 0x2a;   /* every frame a keyframe */
    return len;
}

static size_t h264_frame(uint8_t *out, int i)
{
    static const uint8_t sps[] = { 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40 };
    static const uint8_t pps[] = { 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80 };
    size_t len = 0;
    memcpy(out, sps, sizeof sps); len += sizeof sps;
    memcpy(out + len, pps, sizeof pps); len += sizeof pps;
    out[len++] = 0; out[len++] = 0; out[len++] = 0; out[len++] = 1; out[len++] = 0x65; out[len++] = 0x88;
    for (int k = 0; k < 700; k++) out[len++] = (uint8_t)(k * 13 + i) | 1;
    return len;
}

static void send_frames(peer *a, peer *b, vnet *n, int tr, bool h264, int count)
{
    static uint8_t buf[2000];
    static uint32_t ts;
    for (int i = 0; i < count; i++) {
        size_t len = h264 ? h264_frame(buf, i) : vp8_frame(buf, i);
        ts += 3000;
        ASSERT(rtc_pc_send_frame(a->pc, tr, buf, len, ts, true, now) > 0);
        step(a, b, n, now + RTC_MS(33));
    }
    step(a, b, n, now + RTC_MS(500));
}

static void setup(peer *a, peer *b, vnet **n, int *tr)
{
    *n = vnet_new(3);
    vnet_set_link(*n, (vnet_link){ .delay = RTC_MS(10) });
    peer_init(a, "10.0.0.1:1000", cert_a);
    peer_init(b, "10.0.0.2:2000", cert_b);
    *tr = rtc_pc_add_transceiver(a->pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    ASSERT_OK(*tr);
    connect_peers(a, b, *n);
    ASSERT_EQ(b->tracks, 1);
    h264_frames = vp8_frames = 0;
}

static void test_codec_change(void)
{
    peer a, b;
    vnet *n;
    int tr;
    setup(&a, &b, &n, &tr);
    send_frames(&a, &b, n, tr, false, 20);
    ASSERT(vp8_frames >= 19);
    rtc_transceiver_info ia, ib;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, tr, &ia));
    ASSERT_EQ(ia.codec, RTC_CODEC_VP8);
    uint8_t vp8_pt = ia.pt;

    ASSERT_EQ(rtc_pc_transceiver_set_codec(a.pc, tr, RTC_CODEC_OPUS), RTC_EINVAL);
    ASSERT_OK(rtc_pc_transceiver_set_codec(a.pc, tr, RTC_CODEC_H264));
    negotiate(&a, &b, n);
    step(&a, &b, n, now + RTC_MS(200));
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, tr, &ia));
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
    ASSERT_EQ(ia.codec, RTC_CODEC_H264);
    ASSERT_EQ(ib.codec, RTC_CODEC_H264);
    ASSERT_EQ(ia.pt, ib.pt);
    ASSERT(ia.pt != vp8_pt);
    ASSERT_EQ(ia.rtx_pt, ib.rtx_pt);
    int vp8_before = vp8_frames;
    send_frames(&a, &b, n, tr, true, 20);
    ASSERT(h264_frames >= 19);
    ASSERT_EQ(vp8_frames, vp8_before);
    rtc_pc_media_stats ms;
    rtc_pc_media_get_stats(b.pc, &ms);
    ASSERT_EQ(ms.unroutable, 0);

    /* and back again, on the same mid */
    ASSERT_OK(rtc_pc_transceiver_set_codec(a.pc, tr, RTC_CODEC_VP8));
    negotiate(&a, &b, n);
    step(&a, &b, n, now + RTC_MS(200));
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
    ASSERT_EQ(ib.codec, RTC_CODEC_VP8);
    ASSERT_EQ(ib.pt, vp8_pt);
    send_frames(&a, &b, n, tr, false, 20);
    ASSERT(vp8_frames - vp8_before >= 19);
    ASSERT_EQ(b.tracks, 1);
    close_peers(&a, &b, n);
}

/* The sender of a's transceiver starts over on new SSRCs (media and RTX). */
static void restart_sender(peer *a, int tr, uint32_t ssrc, uint32_t rtx_ssrc)
{
    pc_tr *t = pc__media_tr(a->pc, tr);
    ASSERT(t != NULL);
    pc__media_reset_streams(a->pc, t, true, false);
    t->ssrc = ssrc;
    t->rtx_ssrc = rtx_ssrc;
    pc__media_start_streams(a->pc, t);
    ASSERT(t->sender != NULL);
}

static void test_new_ssrc_on_mid(bool resignal)
{
    peer a, b;
    vnet *n;
    int tr;
    setup(&a, &b, &n, &tr);
    send_frames(&a, &b, n, tr, false, 20);
    ASSERT(vp8_frames >= 19);
    rtc_transceiver_info ib;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
    uint32_t old = ib.remote_ssrc;
    ASSERT(old != 0);

    uint32_t ssrc = old ^ 0x5a5a5a5a, rtx = old ^ 0x0f0f0f0f;
    restart_sender(&a, tr, ssrc, rtx);
    if (resignal) {
        negotiate(&a, &b, n);                    /* the new offer names the new SSRCs */
        step(&a, &b, n, now + RTC_MS(200));
        ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
        ASSERT_EQ(ib.remote_ssrc, ssrc);
        ASSERT_EQ(ib.remote_rtx_ssrc, rtx);
    }
    int before = vp8_frames;
    send_frames(&a, &b, n, tr, false, 20);
    ASSERT(vp8_frames - before >= 19);
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
    ASSERT_EQ(ib.remote_ssrc, ssrc);
    ASSERT_EQ(ib.layers, 1);
    rtc_pc_media_stats ms;
    rtc_pc_media_get_stats(b.pc, &ms);
    ASSERT_EQ(ms.unroutable, 0);
    close_peers(&a, &b, n);
}

static void test_new_ssrc_in_packets(void) { test_new_ssrc_on_mid(false); }
static void test_new_ssrc_resignalled(void) { test_new_ssrc_on_mid(true); }

int main(void)
{
    harness_default_on_frame = count_frame;
    harness_begin(7);
    RUN(test_codec_change);
    RUN(test_new_ssrc_in_packets);
    RUN(test_new_ssrc_resignalled);
    harness_end();
    return 0;
}
