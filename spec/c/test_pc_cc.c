#define _GNU_SOURCE
/* The peer connection's congestion control: video paced and measured through a
 * bottleneck on the virtual network; the estimate reaches the application as
 * RTC_PC_EV_BANDWIDTH and rtc_pc_get_bandwidth. Virtual time only. */
#include "test_pc_harness.h"
#include "pc/pc_cc.h"

static int bw_events;
static double last_bw;

static void on_event(peer *p, const rtc_pc_event *ev)
{
    (void)p;
    if (ev->type == RTC_PC_EV_BANDWIDTH) { bw_events++; last_bw = ev->bps; }
}

static void test_video_through_bottleneck(void)
{
    harness_on_event = on_event;
    peer a, b;
    vnet *n = vnet_new(31);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int vtr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    ASSERT_OK(vtr);
    connect_peers(&a, &b, n);
    rtc_cc_estimate e;
    ASSERT_EQ(rtc_pc_get_bandwidth(a.pc, &e), RTC_ENOTFOUND);   /* nothing sent yet */
    /* 800 kbit/s in front of b with 250 ms of queue; the sender asks up to 4 Mbit/s,
     * sizing frames to the estimate as an encoder would. */
    rtc_addr baddr;
    rtc_addr_parse(&baddr, "10.0.0.2:2000");
    vnet_set_bottleneck(n, &baddr, 800000, 25000);
    static uint8_t frame[40000];
    bool padding_on = false;
    rtc_time start = now;
    int sent = 0;
    double maxbw = 0;
    for (int i = 0; now - start < RTC_SEC(15); i++) {
        double target = 300e3;
        if (rtc_pc_get_bandwidth(a.pc, &e) == 0) target = e.bps;
        if (target > 4e6) target = 4e6;
        size_t len = (size_t)(target / 30 / 8);
        if (len < 200) len = 200;
        memset(frame, i & 0xff, len);
        frame[0] = i % 90 == 0 ? 0x10 : 0x11;
        ASSERT(rtc_pc_send_frame(a.pc, vtr, frame, len, (uint32_t)i * 3000, i % 90 == 0, now) >= 0);
        sent++;
        if (!padding_on && rtc_pc_set_probe_padding(a.pc, true) == 0) padding_on = true;
        step(&a, &b, n, now + RTC_MS(33));
        if (now - start > RTC_SEC(8) && last_bw > maxbw) maxbw = last_bw;
    }
    ASSERT_OK(rtc_pc_get_bandwidth(a.pc, &e));
    fprintf(stderr, "estimate %.0f (delay %.0f, loss %.0f, acked %.0f), %d events, max after 8 s %.0f, queue drops %zu\n",
            e.bps, e.delay_bps, e.loss_bps, e.acked_bps, bw_events, maxbw, vnet_queue_dropped(n));
    ASSERT(e.delay_bps > 0);                       /* the peer's TWCC feedback reached the estimator */
    ASSERT(bw_events >= 3);
    ASSERT(last_bw > 0.95 * e.bps && last_bw < 1.05 * e.bps);   /* events follow the estimate */
    ASSERT(e.bps > 0.6 * 800e3 && e.bps < 1.1 * 800e3);
    ASSERT(maxbw < 1.15 * 800e3);
    /* The start probes (900 kbit/s and 1.8 Mbit/s over 300 kbit/s of video) were
     * filled with padding-only RTX once switched on, and measured. */
    rtc_pc_cc_stats cs;
    ASSERT_OK(rtc_pc_get_cc_stats(a.pc, &cs));
    fprintf(stderr, "padding %llu packets %llu bytes, unsent %llu, paced drops %llu, probe result %.0f\n",
            (unsigned long long)cs.padding_packets, (unsigned long long)cs.padding_bytes,
            (unsigned long long)cs.padding_unsent, (unsigned long long)cs.paced_dropped, e.probe_bps);
    ASSERT(cs.padding_packets > 0);
    ASSERT_EQ(cs.padding_unsent, 0);
    ASSERT(e.probe_bps > 0);
    harness_on_event = NULL;
    close_peers(&a, &b, n);
}

/* Video written at 3 Mbit/s into a 500 kbit/s path, then at the estimate: the pacer's queue reaches its 1 s
 * bound and drops video. The sender is asked for a keyframe in the very pass that
 * dropped (more requests than the peer's PLIs and FIRs), again every 500 ms while the application
 * writes none, and no more once a keyframe has left the pacer. */
static void send_vp8(peer *a, int vtr, int i, size_t len, bool key)
{
    static uint8_t frame[12500];
    memset(frame, i & 0xff, len);
    frame[0] = key ? 0x10 : 0x11;
    ASSERT(rtc_pc_send_frame(a->pc, vtr, frame, len, (uint32_t)i * 3000, key, now) >= 0);
}

/* A frame of 80% of the estimate at 30 fps, as an encoder following it would write. */
static size_t encoder_size(peer *a)
{
    rtc_cc_estimate e;
    ASSERT_OK(rtc_pc_get_bandwidth(a->pc, &e));
    size_t len = (size_t)(0.8 * e.bps / 30 / 8);
    return len < 100 ? 100 : len > 12500 ? 12500 : len;
}

static void test_pacer_drop_asks_for_keyframe(void)
{
    peer a, b;
    vnet *n = vnet_new(37);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int vtr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    ASSERT_OK(vtr);
    connect_peers(&a, &b, n);
    rtc_addr baddr;
    rtc_addr_parse(&baddr, "10.0.0.2:2000");
    vnet_set_bottleneck(n, &baddr, 500000, 25000);
    rtc_pc_cc_stats cs = { 0 };
    rtc_transceiver_info ti;
    int i = 0;
    bool seen_drop = false;
    /* 1: overload, requests ignored */
    for (rtc_time start = now; now - start < RTC_SEC(3); i++) {
        send_vp8(&a, vtr, i, 12500, i == 0);
        step(&a, &b, n, now + RTC_MS(33));
        ASSERT_OK(rtc_pc_get_cc_stats(a.pc, &cs));
        if (!seen_drop && cs.paced_dropped > 0) {
            seen_drop = true;
            ASSERT_OK(rtc_pc_transceiver_info(a.pc, vtr, &ti));
            /* more requests than the peer's PLIs and FIRs (a lossy link makes some) */
            ASSERT((uint64_t)a.keyframe_requests > ti.plis_received + ti.firs_received);
            ASSERT(cs.keyframes_requested >= 1);
        }
    }
    ASSERT(seen_drop);
    uint64_t after_overload = cs.keyframes_requested;
    /* 2: following the estimate, still no keyframe: the request is repeated */
    for (rtc_time start = now; now - start < RTC_SEC(2); i++) {
        send_vp8(&a, vtr, i, encoder_size(&a), false);
        step(&a, &b, n, now + RTC_MS(33));
    }
    ASSERT_OK(rtc_pc_get_cc_stats(a.pc, &cs));
    fprintf(stderr, "paced drops %llu, requests %llu after overload, %llu after 2 s more\n",
            (unsigned long long)cs.paced_dropped, (unsigned long long)after_overload,
            (unsigned long long)cs.keyframes_requested);
    ASSERT(cs.keyframes_requested >= after_overload + 3);
    ASSERT_EQ(cs.keyframes_pending, 1);
    /* 3: the application answers every request with a keyframe */
    rtc_transceiver_info bi0, bi;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &bi0));
    int seen = a.keyframe_requests;
    for (rtc_time start = now; now - start < RTC_MS(500); i++) {
        bool key = a.keyframe_requests != seen;
        seen = a.keyframe_requests;
        send_vp8(&a, vtr, i, encoder_size(&a), key);
        step(&a, &b, n, now + RTC_MS(33));
    }
    ASSERT_OK(rtc_pc_get_cc_stats(a.pc, &cs));
    uint64_t answered = cs.keyframes_requested;
    for (rtc_time start = now; now - start < RTC_SEC(2); i++) {
        send_vp8(&a, vtr, i, encoder_size(&a), false);
        step(&a, &b, n, now + RTC_MS(33));
    }
    ASSERT_OK(rtc_pc_get_cc_stats(a.pc, &cs));
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &bi));
    fprintf(stderr, "requests %llu once answered, %llu 2 s later; paced drops %llu; keyframes at b %llu -> %llu\n",
            (unsigned long long)answered, (unsigned long long)cs.keyframes_requested,
            (unsigned long long)cs.paced_dropped, (unsigned long long)bi0.keyframes_received,
            (unsigned long long)bi.keyframes_received);
    ASSERT_EQ(cs.keyframes_requested, answered);   /* the keyframe left: nothing pending */
    ASSERT_EQ(cs.keyframes_pending, 0);
    ASSERT(bi.keyframes_received > bi0.keyframes_received);
    close_peers(&a, &b, n);
}

/* Strip transport-cc (its rtcp-fb and its header extension) from the offer: the
 * answerer then estimates itself and sends REMB. */
static void strip_twcc(char *sdp)
{
    char *out = sdp, *line = sdp;
    while (*line) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        bool drop = (strncmp(line, "a=rtcp-fb:", 10) == 0 && memmem(line, len, "transport-cc", 12)) ||
                    (strncmp(line, "a=extmap:", 9) == 0 && memmem(line, len, "transport-wide-cc", 17));
        if (!drop) { memmove(out, line, len); out += len; }
        line += len;
    }
    *out = 0;
}

/* goog-remb only, 1 Mbit/s behind a 1 s drop-tail queue (no loss until it is full):
 * the receiver's delay-based estimate sees the queue build, so the REMB the sender
 * gets climbs to the link and not past it, then follows it down to 500 kbit/s
 * (16 s in). A loss-only estimate
 * grows 8% a second to 1.5 x what arrives until the queue overflows. */
static void test_remb_follows_bottleneck(void)
{
    harness_munge_offer = strip_twcc;
    peer a, b;
    vnet *n = vnet_new(43);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int vtr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    ASSERT_OK(vtr);
    connect_peers(&a, &b, n);
    harness_munge_offer = NULL;
    rtc_transceiver_info ti;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, vtr, &ti));
    ASSERT(ti.fb_remb && !ti.fb_twcc);
    rtc_addr baddr;
    rtc_addr_parse(&baddr, "10.0.0.2:2000");
    double link = 1e6;
    vnet_set_bottleneck(n, &baddr, link, 125000);
    rtc_time start = now;
    double lo = 1e12, hi = 0, lo2 = 1e12, hi2 = 0;
    rtc_cc_estimate e = { 0 };
    for (int i = 0; now - start < RTC_SEC(30); i++) {
        if (now - start >= RTC_SEC(16) && link > 600e3) { link = 500e3; vnet_set_bottleneck(n, &baddr, link, 62500); }
        double target = 300e3;
        if (rtc_pc_get_bandwidth(a.pc, &e) == 0) target = e.bps;
        if (target > 4e6) target = 4e6;
        size_t len = (size_t)(target / 30 / 8);
        send_vp8(&a, vtr, i, len < 200 ? 200 : len > 12500 ? 12500 : len, i % 90 == 0);
        step(&a, &b, n, now + RTC_MS(33));
        rtc_time t = now - start;
        if (e.remb_bps > 0 && t < RTC_SEC(16)) { if (e.remb_bps > hi) hi = e.remb_bps; lo = e.remb_bps; }
        if (e.remb_bps > 0 && t > RTC_SEC(24)) { if (e.remb_bps < lo2) lo2 = e.remb_bps; if (e.remb_bps > hi2) hi2 = e.remb_bps; }
    }
    fprintf(stderr, "REMB over 1 Mbit/s: highest %.0f, at 16 s %.0f; over 500 kbit/s from 24 s %.0f..%.0f; queue drops %zu\n",
            lo, hi, lo2, hi2, vnet_queue_dropped(n));
    ASSERT(hi > 0.6 * 1e6 && hi < 1.15 * 1e6);         /* up to the link, not past it */
    ASSERT(lo > 0.6 * 1e6);
    ASSERT(lo2 > 0.5 * 500e3 && hi2 < 1.15 * 500e3);   /* and down with it */
    close_peers(&a, &b, n);
}

int main(void)
{
    harness_begin(41);
    RUN(test_video_through_bottleneck);
    RUN(test_pacer_drop_asks_for_keyframe);
    RUN(test_remb_follows_bottleneck);
    harness_end();
    return 0;
}
