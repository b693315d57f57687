/* Unit tests of the congestion control pieces in runtime/cc/, on a virtual clock. */
#include "rtc_test.h"
#include "cc/cc_controller.h"
#include "cc/cc_pacer.h"
#include "cc/cc_send_history.h"
#include "cc/gcc_aimd.h"
#include "cc/gcc_delay.h"
#include "cc/gcc_loss.h"
#include "cc/gcc_overuse.h"
#include "cc/gcc_trendline.h"
#include "core/rtc_errors.h"
#include "rtp/twcc.h"

/* Feedback for seqs base..base+n-1, received[i] at arrival[i]. */
static int make_fb(uint8_t *buf, size_t cap, uint16_t base, const bool *got, const rtc_time *arr, size_t n, rtc_rtcp_view *v)
{
    rtc_twcc_status st[64];
    for (size_t i = 0; i < n; i++) st[i] = (rtc_twcc_status){ (uint16_t)(base + i), got[i], 0, got[i] ? arr[i] : 0 };
    rtc_twcc_feedback fb = { 1, 2, base, 0, 0, 0 };
    size_t used = 0;
    int len = rtc_twcc_write_feedback(buf, cap, &fb, st, n, &used);
    ASSERT(len > 0);
    ASSERT_EQ(used, n);
    ASSERT_EQ(rtc_rtcp_parse_compound(buf, (size_t)len, v, 1), 1);
    return len;
}

/* The ring grows only while packets wait for feedback: acknowledged as they go, 5000
 * packets fit in the first 256 slots; 2000 in flight make it grow and the oldest of
 * them is still matched. */
static void test_history_grows_with_packets_in_flight(void)
{
    rtc_cc_send_history *h;
    ASSERT_OK(rtc_cc_send_history_new(&h, 0));
    ASSERT_EQ(rtc_cc_send_history_slots(h), 256);
    uint8_t buf[256];
    rtc_rtcp_view v;
    bool got[10];
    rtc_time arr[10];
    rtc_cc_packet out[16];
    for (int i = 0; i < 10; i++) got[i] = true, arr[i] = RTC_MS(100 + i);
    for (int i = 0; i < 5000; i += 10) {
        for (int j = 0; j < 10; j++) rtc_cc_send_history_add(h, 1000, -1, RTC_MS(i + j));
        make_fb(buf, sizeof buf, (uint16_t)i, got, arr, 10, &v);
        ASSERT_EQ(rtc_cc_send_history_handle_feedback(h, &v, out, 16), 10);
    }
    ASSERT_EQ(rtc_cc_send_history_slots(h), 256);
    ASSERT_EQ(rtc_cc_send_history_in_flight(h), 0);
    for (int i = 0; i < 2000; i++) rtc_cc_send_history_add(h, 1000, -1, RTC_SEC(10) + i);
    ASSERT_EQ(rtc_cc_send_history_slots(h), 2048);
    ASSERT_EQ(rtc_cc_send_history_in_flight(h), 2000 * 1000);
    make_fb(buf, sizeof buf, 5000, got, arr, 10, &v);
    ASSERT_EQ(rtc_cc_send_history_handle_feedback(h, &v, out, 16), 10);
    ASSERT_EQ(out[0].seq, 5000);
    ASSERT_EQ(out[0].sent, RTC_SEC(10));
    rtc_cc_send_history_free(h);
}

static void test_history_matches_feedback(void)
{
    rtc_cc_send_history *h;
    ASSERT_OK(rtc_cc_send_history_new(&h, 64));
    for (int i = 0; i < 4; i++) ASSERT_EQ(rtc_cc_send_history_add(h, 1000 + i, i == 2 ? 7 : -1, RTC_MS(10 * i)), i);
    ASSERT_EQ(rtc_cc_send_history_in_flight(h), 4006);
    uint8_t buf[256];
    rtc_rtcp_view v;
    bool got[4] = { true, false, true, true };
    rtc_time arr[4] = { RTC_MS(1000), 0, RTC_MS(1021), RTC_MS(1030) };
    make_fb(buf, sizeof buf, 0, got, arr, 4, &v);
    rtc_cc_packet out[8];
    ASSERT_EQ(rtc_cc_send_history_handle_feedback(h, &v, out, 8), 4);
    ASSERT_EQ(out[0].size, 1000);
    ASSERT_EQ(out[0].arrival, RTC_MS(1000));
    ASSERT_EQ(out[1].arrival, RTC_TIME_NEVER);
    ASSERT_EQ(out[2].probe_cluster, 7);
    ASSERT_EQ(out[2].sent, RTC_MS(20));
    ASSERT_EQ(out[3].arrival, RTC_MS(1030));
    ASSERT_EQ(rtc_cc_send_history_in_flight(h), 0);
    /* The same feedback again says nothing new; a later "received" for the lost one does. */
    ASSERT_EQ(rtc_cc_send_history_handle_feedback(h, &v, out, 8), 0);
    got[1] = true; arr[1] = RTC_MS(1015);
    make_fb(buf, sizeof buf, 0, got, arr, 4, &v);
    ASSERT_EQ(rtc_cc_send_history_handle_feedback(h, &v, out, 8), 1);
    ASSERT_EQ(out[0].seq, 1);
    ASSERT_EQ(out[0].arrival, RTC_MS(1015));
    /* Feedback for seqs never sent is ignored; a non-TWCC packet is an error. */
    make_fb(buf, sizeof buf, 100, got, arr, 4, &v);
    ASSERT_EQ(rtc_cc_send_history_handle_feedback(h, &v, out, 8), 0);
    uint8_t pli[12];
    ASSERT_EQ(rtc_rtcp_write_pli(pli, sizeof pli, 1, 2), 12);
    ASSERT_EQ(rtc_rtcp_parse_compound(pli, 12, &v, 1), 1);
    ASSERT(rtc_cc_send_history_handle_feedback(h, &v, out, 8) < 0);
    /* Wrap: seq 65535 then 0 on the wire are consecutive extended seqs. */
    rtc_cc_send_history_free(h);
    ASSERT_OK(rtc_cc_send_history_new(&h, 64));
    for (int i = 0; i < 65537; i++) rtc_cc_send_history_add(h, 100, -1, i);
    bool g2[2] = { true, true };
    rtc_time a2[2] = { RTC_MS(5), RTC_MS(6) };
    make_fb(buf, sizeof buf, 65535, g2, a2, 2, &v);
    ASSERT_EQ(rtc_cc_send_history_handle_feedback(h, &v, out, 8), 2);
    ASSERT_EQ(out[0].seq, 65535);
    ASSERT_EQ(out[1].seq, 65536);
    ASSERT_EQ(rtc_cc_send_history_new(&h, 100), RTC_EINVAL);
    rtc_cc_send_history_free(h);
}

static void test_trendline_and_detector(void)
{
    rtc_gcc_trendline t;
    rtc_gcc_trendline_init(&t);
    double m = 0;
    for (int i = 0; i < 40; i++) m = rtc_gcc_trendline_update(&t, 0.0, i * 10.0);
    ASSERT(m > -0.01 && m < 0.01);                      /* flat delay: no trend */
    for (int i = 40; i < 80; i++) m = rtc_gcc_trendline_update(&t, 2.0, i * 10.0);
    ASSERT(m > 12.5);                                   /* a queue growing 2 ms per 10 ms */
    rtc_gcc_overuse o;
    rtc_gcc_overuse_init(&o);
    ASSERT_EQ(rtc_gcc_overuse_detect(&o, m, RTC_MS(0)), RTC_GCC_NORMAL);   /* once is not enough */
    ASSERT_EQ(rtc_gcc_overuse_detect(&o, m + 1, RTC_MS(20)), RTC_GCC_OVERUSE);
    ASSERT_EQ(rtc_gcc_overuse_detect(&o, -m, RTC_MS(40)), RTC_GCC_UNDERUSE);
    ASSERT_EQ(rtc_gcc_overuse_detect(&o, 0, RTC_MS(60)), RTC_GCC_NORMAL);
    /* The threshold follows a noisy trend up, slowly. */
    double before = o.threshold_ms;
    for (int i = 0; i < 100; i++) rtc_gcc_overuse_detect(&o, (i & 1) ? 20 : -20, RTC_MS(80 + 20 * i));
    ASSERT(o.threshold_ms > before + 3);
}

static void test_aimd(void)
{
    rtc_gcc_aimd a;
    rtc_gcc_aimd_init(&a, 1e6, 30e3, 5e6);
    rtc_gcc_aimd_update(&a, RTC_GCC_NORMAL, 0, RTC_MS(50), 0);
    double r = 0;
    for (int i = 1; i <= 10; i++) r = rtc_gcc_aimd_update(&a, RTC_GCC_NORMAL, 0, RTC_MS(50), RTC_MS(100 * i));
    ASSERT(r > 1.07e6 && r < 1.1e6);                    /* about 8% in a second, no capacity known */
    r = rtc_gcc_aimd_update(&a, RTC_GCC_OVERUSE, 800e3, RTC_MS(50), RTC_MS(1100));
    ASSERT(r > 0.84 * 800e3 && r < 0.86 * 800e3);       /* beta times what got through */
    double cut = r;
    ASSERT_EQ(rtc_gcc_aimd_update(&a, RTC_GCC_OVERUSE, 700e3, RTC_MS(50), RTC_MS(1110)), cut);   /* one cut per RTT */
    ASSERT_EQ(rtc_gcc_aimd_update(&a, RTC_GCC_UNDERUSE, 700e3, RTC_MS(50), RTC_MS(1200)), cut); /* hold */
    for (int i = 1; i <= 10; i++) r = rtc_gcc_aimd_update(&a, RTC_GCC_NORMAL, 700e3, RTC_MS(50), RTC_MS(1200 + 100 * i));
    ASSERT(r > cut && r < cut * 1.08);                  /* additive near the known capacity */
    /* Increases stop at 1.5x what the network carried. */
    rtc_gcc_aimd_set(&a, 2e6, RTC_MS(2300));
    r = rtc_gcc_aimd_update(&a, RTC_GCC_NORMAL, 100e3, RTC_MS(50), RTC_MS(2400));
    ASSERT_EQ(r, 2e6);
}

static void test_loss(void)
{
    rtc_gcc_loss l;
    rtc_gcc_loss_init(&l, 1e6, 30e3, 5e6);
    double r = rtc_gcc_loss_update(&l, 1, 10, RTC_MS(50), 0);
    ASSERT_EQ(r, 1e6);                                  /* 10 packets: no verdict yet */
    r = rtc_gcc_loss_update(&l, 4, 10, RTC_MS(50), RTC_MS(100));
    ASSERT(r < 0.9e6 && r > 0.85e6);                    /* 25% lost: down by half that */
    r = rtc_gcc_loss_update(&l, 10, 20, RTC_MS(50), RTC_MS(200));
    ASSERT(r > 0.85e6);                                 /* the next cut waits 300 ms + RTT */
    double held = r;
    r = rtc_gcc_loss_update(&l, 1, 20, RTC_MS(50), RTC_MS(1000));
    ASSERT_EQ(r, held);                                 /* 5%: hold */
    r = rtc_gcc_loss_update(&l, 0, 20, RTC_MS(50), RTC_MS(2000));
    ASSERT(r > held);                                   /* under 2%: grow */
}

static void test_probe_controller_and_result(void)
{
    rtc_cc_probe_controller pc;
    rtc_cc_probe_init(&pc, 5e6);
    rtc_cc_probe_start(&pc, 300e3, 0);
    rtc_cc_probe_cluster c1, c2, c3;
    ASSERT(rtc_cc_probe_poll(&pc, &c1));
    ASSERT(rtc_cc_probe_poll(&pc, &c2));
    ASSERT(!rtc_cc_probe_poll(&pc, &c3));
    ASSERT_EQ(c1.bps, 900e3);
    ASSERT_EQ(c2.bps, 1800e3);
    ASSERT(c2.id != c1.id);
    ASSERT_EQ(c2.min_bytes, 1800e3 * 0.015 / 8);
    rtc_cc_probe_on_result(&pc, c1.id, 880e3, RTC_MS(90)); /* an older cluster: no step */
    ASSERT(!rtc_cc_probe_poll(&pc, &c3));
    rtc_cc_probe_on_result(&pc, c2.id, 1700e3, RTC_MS(100));   /* confirmed: double */
    ASSERT(rtc_cc_probe_poll(&pc, &c3));
    ASSERT_EQ(c3.bps, 3400e3);
    rtc_cc_probe_on_result(&pc, c3.id, 1000e3, RTC_MS(200));   /* not confirmed: stop */
    ASSERT(!rtc_cc_probe_poll(&pc, &c3));
    /* A large drop: once the detector is normal again, one probe at 85% of the peak. */
    rtc_cc_probe_on_estimate(&pc, 2e6, false, true, RTC_SEC(2));
    rtc_cc_probe_on_estimate(&pc, 1e6, false, false, RTC_SEC(3));
    rtc_cc_probe_on_estimate(&pc, 1e6, false, true, RTC_MS(3500));
    ASSERT(!rtc_cc_probe_poll(&pc, &c3));
    rtc_cc_probe_on_estimate(&pc, 1e6, false, true, RTC_SEC(4));
    ASSERT(rtc_cc_probe_poll(&pc, &c3));
    ASSERT_EQ(c3.bps, 0.85 * 2e6);
    /* Application-limited for a while: probe at twice the estimate every 5 s. */
    for (int i = 0; i <= 60; i++) rtc_cc_probe_on_estimate(&pc, 1e6, true, true, RTC_SEC(5) + RTC_MS(100 * i));
    ASSERT(rtc_cc_probe_poll(&pc, &c3));
    ASSERT_EQ(c3.bps, 2e6);
    ASSERT(!rtc_cc_probe_poll(&pc, &c3));

    /* Result: 10 packets of 1000 bytes sent 1 ms apart (8 Mbit/s) arriving 2 ms apart. */
    rtc_cc_probe_estimator e;
    rtc_cc_probe_estimator_init(&e);
    rtc_cc_probe_cluster c = { 3, 8e6, 15000, 5 };
    rtc_cc_probe_estimator_add(&e, &c, 0);
    double res = 0;
    for (int i = 0; i < 15; i++) {
        rtc_cc_packet p = { i, 1000, RTC_MS(i), RTC_MS(50 + 2 * i), 3 };
        int id = -1;
        res = rtc_cc_probe_estimator_update(&e, &p, RTC_MS(60), &id);
        ASSERT_EQ(id, 3);
        if (i < 11) ASSERT_EQ(res, 0);                   /* under 80% of min_bytes */
    }
    ASSERT(res > 0.95 * 4e6 * 0.9 && res < 4e6);         /* the path's 4 Mbit/s, not the probe's 8 */
    rtc_cc_packet other = { 99, 1000, 0, RTC_MS(1), 4 };
    int oid;
    ASSERT_EQ(rtc_cc_probe_estimator_update(&e, &other, RTC_MS(60), &oid), 0);   /* unknown cluster */
}

static int freed;
static void free_cb(void *pkt, void *ud) { (void)pkt; (void)ud; freed++; }

static void test_pacer_order_and_rate(void)
{
    rtc_cc_pacer *p;
    ASSERT_OK(rtc_cc_pacer_new(&p, &(rtc_cc_pacer_config){ .pacing_factor = 1 }, 0));
    rtc_cc_pacer_set_estimate(p, 800e3);                 /* 100 bytes per ms */
    static int tag[64];
    for (int i = 0; i < 20; i++) ASSERT_OK(rtc_cc_pacer_enqueue(p, &(rtc_cc_paced){ &tag[i], 1000, RTC_CC_VIDEO, 0, 0 }, 0));
    ASSERT_OK(rtc_cc_pacer_enqueue(p, &(rtc_cc_paced){ &tag[40], 1000, RTC_CC_RTX, 0, 0 }, 0));
    ASSERT_OK(rtc_cc_pacer_enqueue(p, &(rtc_cc_paced){ &tag[41], 100, RTC_CC_AUDIO, 0, 0 }, 0));
    ASSERT_EQ(rtc_cc_pacer_enqueue(p, &(rtc_cc_paced){ NULL, 100, RTC_CC_AUDIO, 0, 0 }, 0), RTC_EINVAL);
    rtc_cc_paced out;
    ASSERT(rtc_cc_pacer_poll_send(p, 0, &out));          /* audio never waits */
    ASSERT(out.pkt == &tag[41]);
    ASSERT(!rtc_cc_pacer_poll_send(p, 0, &out));         /* no budget yet */
    rtc_time t = rtc_cc_pacer_poll_timeout(p);
    ASSERT(t > 0 && t <= RTC_MS(2));
    ASSERT(rtc_cc_pacer_poll_send(p, t, &out));
    ASSERT(out.pkt == &tag[40]);                         /* retransmission before new video */
    /* Over one virtual second at 100 bytes/ms, about 100 kB leave, never much more. */
    size_t sent = 1000;
    int k = 0;
    for (rtc_time now = t; now <= RTC_SEC(1); now += RTC_MS(1))
        while (rtc_cc_pacer_poll_send(p, now, &out)) {
            ASSERT(out.pkt == &tag[k]);                  /* video in order */
            k++;
            sent += out.size;
            ASSERT(sent <= (size_t)(now / 10) + 1200 + 1000);
        }
    ASSERT_EQ(k, 20);
    ASSERT(!rtc_cc_pacer_poll_send(p, RTC_SEC(2), &out)); /* nothing left, no padding asked */
    ASSERT_EQ(rtc_cc_pacer_poll_timeout(p), RTC_TIME_NEVER);
    rtc_cc_pacer_free(p, free_cb, NULL);
}

static void test_pacer_probe_padding_and_drops(void)
{
    rtc_cc_pacer *p;
    ASSERT_OK(rtc_cc_pacer_new(&p, &(rtc_cc_pacer_config){ .max_packets = 8, .max_delay = RTC_MS(300) }, 0));
    rtc_cc_pacer_set_estimate(p, 100e3);
    rtc_cc_probe_cluster c = { 5, 4e6, 7500, 5 };
    ASSERT_OK(rtc_cc_pacer_add_probe(p, &c));
    rtc_cc_paced out;
    size_t bytes = 0;
    int pads = 0;
    rtc_time first = -1, last = 0;
    for (rtc_time now = 0; now < RTC_MS(100); now += 100)
        while (rtc_cc_pacer_poll_send(p, now, &out)) {
            ASSERT_EQ(out.probe_cluster, 5);
            ASSERT(out.pkt == NULL && out.kind == RTC_CC_PADDING);
            if (first < 0) first = now;
            last = now;
            bytes += out.size;
            pads++;
        }
    ASSERT(bytes >= 7500 && pads >= 5);
    double rate = (double)(bytes - 1100) * 8e6 / (double)(last - first);
    ASSERT(rate > 3e6 && rate < 5e6);                    /* spread at the probe's rate */
    /* Drop policy: the queue holds 8; audio displaces nothing and is never dropped, video is. */
    static int tag[32];
    for (int i = 0; i < 8; i++) ASSERT_OK(rtc_cc_pacer_enqueue(p, &(rtc_cc_paced){ &tag[i], 1200, RTC_CC_VIDEO, 0, 0 }, RTC_MS(100)));
    ASSERT_OK(rtc_cc_pacer_enqueue(p, &(rtc_cc_paced){ &tag[20], 1200, RTC_CC_RTX, 0, 0 }, RTC_MS(100)));
    ASSERT(rtc_cc_pacer_poll_drop(p, &out));
    ASSERT(out.pkt == &tag[0]);                          /* the oldest video made room */
    ASSERT(!rtc_cc_pacer_poll_drop(p, &out));
    /* Time bound: at 125 kbit/s the queue takes 600 ms; what waited 300 ms is dropped. */
    rtc_cc_pacer_set_estimate(p, 50e3);
    int sent = 0;
    for (rtc_time now = RTC_MS(100); now <= RTC_MS(500); now += RTC_MS(5))
        while (rtc_cc_pacer_poll_send(p, now, &out)) sent++;
    int dropped = 0;
    while (rtc_cc_pacer_poll_drop(p, &out)) { ASSERT(out.kind == RTC_CC_VIDEO); dropped++; }
    rtc_cc_pacer_stats st;
    rtc_cc_pacer_get_stats(p, &st);
    ASSERT(dropped > 0);
    ASSERT_EQ(st.dropped_packets, (uint64_t)dropped + 1);
    ASSERT_EQ(sent + dropped + 1, 9);
    ASSERT_EQ(st.queued_packets, 0);
    /* Padding rate: an empty queue asks for padding at about that rate. */
    rtc_cc_pacer_set_estimate(p, 1e6);
    rtc_cc_pacer_set_padding(p, 200e3);
    size_t pad = 0;
    for (rtc_time now = RTC_SEC(1); now < RTC_SEC(2); now += RTC_MS(5))
        while (rtc_cc_pacer_poll_send(p, now, &out)) { ASSERT(out.kind == RTC_CC_PADDING && out.probe_cluster == -1); pad += out.size; }
    ASSERT(pad > 20000 && pad < 30000);
    freed = 0;
    ASSERT_OK(rtc_cc_pacer_enqueue(p, &(rtc_cc_paced){ &tag[30], 1200, RTC_CC_VIDEO, 0, 0 }, RTC_SEC(2)));
    rtc_cc_pacer_free(p, free_cb, NULL);
    ASSERT_EQ(freed, 1);
}

static void test_controller_remb_and_bounds(void)
{
    rtc_cc *c;
    ASSERT_OK(rtc_cc_new(&c, &(rtc_cc_config){ .start_bps = 500e3, .max_bps = 2e6 }, 0));
    rtc_cc_estimate e;
    ASSERT(rtc_cc_poll_event(c, &e));
    ASSERT_EQ(e.bps, 500e3);
    ASSERT(!rtc_cc_poll_event(c, &e));
    rtc_cc_probe_cluster pr;
    ASSERT(!rtc_cc_poll_probe(c, &pr));                  /* probing off in this config */
    /* REMB only: it caps the estimate, and receiver reports with heavy loss cut it. */
    rtc_cc_handle_remb(c, 200e3, RTC_MS(100));
    ASSERT(rtc_cc_poll_event(c, &e));
    ASSERT_EQ(e.bps, 200e3);
    ASSERT_EQ(e.remb_bps, 200e3);
    ASSERT_EQ(e.delay_bps, 0);
    rtc_cc_handle_loss_report(c, 64, 100, RTC_MS(200));  /* 25% */
    ASSERT(rtc_cc_poll_event(c, &e));
    ASSERT(e.bps < 200e3 * 0.9);
    rtc_cc_handle_remb(c, 10e6, RTC_MS(300));
    rtc_cc_set_max_bitrate(c, 100e3, RTC_MS(400));
    ASSERT(rtc_cc_target_bps(c) <= 100e3);
    /* Hostile feedback is a counted error, never a state change. */
    uint8_t junk[20] = { 0x8f, 205, 0, 4, 0,0,0,1, 0,0,0,2, 0,0, 0,50, 0,0,0,0 };
    rtc_rtcp_view v;
    ASSERT_EQ(rtc_rtcp_parse_compound(junk, sizeof junk, &v, 1), 1);
    ASSERT(rtc_cc_handle_twcc(c, &v, RTC_MS(500)) < 0);
    rtc_cc_stats st;
    rtc_cc_get_stats(c, &st);
    ASSERT_EQ(st.feedback_errors, 1);
    rtc_cc_free(c);
    ASSERT_OK(rtc_cc_new(&c, NULL, 0));
    ASSERT(rtc_cc_poll_probe(c, &pr));                   /* default: probe at start */
    ASSERT_EQ(pr.bps, 900e3);
    rtc_cc_free(c);
}

int main(void)
{
    RUN(test_history_matches_feedback);
    RUN(test_history_grows_with_packets_in_flight);
    RUN(test_trendline_and_detector);
    RUN(test_aimd);
    RUN(test_loss);
    RUN(test_probe_controller_and_result);
    RUN(test_pacer_order_and_rate);
    RUN(test_pacer_probe_padding_and_drops);
    RUN(test_controller_remb_and_bounds);
    return 0;
}
