/* Congestion control end to end on the virtual network: senders with the estimator
 * and the pacer, receivers with the TWCC feedback generator, a bottleneck between
 * them. Everything runs on the virtual clock with a fixed seed, so the outcomes below
 * are replayed exactly; they are outcomes in virtual time, not wall-clock timings. */
#include "cc_scenario.h"

static void test_converges_to_bottleneck(void)
{
    scenario s;
    sc_init(&s, 17, 1, 5e6);
    set_link(&s, 1000000);
    sc_run(&s, RTC_SEC(5));
    double at5 = rtc_cc_target_bps(s.f[0].cc);
    fprintf(stderr, "estimate at 5 s: %.0f\n", at5);
    ASSERT(at5 > 0.9e6 && at5 < 1.1e6);              /* within 10% of the link by 5 s */
    s.sample = true;
    double minest = 1e12, maxest = 0;
    for (int k = 0; k < 20; k++) {
        sc_run(&s, s.now + RTC_MS(500));
        double e = rtc_cc_target_bps(s.f[0].cc);
        if (e < minest) minest = e;
        if (e > maxest) maxest = e;
    }
    double p95 = p95_delay(&s);
    double gp = goodput(&s, 0, RTC_SEC(5));
    fprintf(stderr, "5-15 s: estimate %.0f..%.0f, p95 queuing delay %.1f ms, goodput %.0f, queue drops %zu\n",
            minest, maxest, p95, gp, vnet_queue_dropped(s.net));
    ASSERT(minest > 0.6e6 && maxest < 1.15e6);          /* around the link, never far above */
    ASSERT(p95 < 100);
    ASSERT(gp > 0.7e6);                                 /* the link is used */
    sc_free(&s);
}

static void test_recovers_when_link_returns(void)
{
    scenario s;
    sc_init(&s, 18, 1, 5e6);
    set_link(&s, 3000000);
    sc_run(&s, RTC_SEC(15));
    double high = rtc_cc_target_bps(s.f[0].cc);
    set_link(&s, 1000000);
    sc_run(&s, RTC_SEC(30));
    double low = rtc_cc_target_bps(s.f[0].cc);
    set_link(&s, 3000000);
    sc_run(&s, RTC_SEC(50));
    double back = rtc_cc_target_bps(s.f[0].cc);
    fprintf(stderr, "3M: %.0f, 1M: %.0f, 3M again: %.0f\n", high, low, back);
    ASSERT(high > 2.2e6 && high < 3.3e6);
    ASSERT(low > 0.6e6 && low < 1.15e6);
    ASSERT(back > 2.2e6);
    sc_free(&s);
}

static void test_two_flows_share(void)
{
    scenario s;
    sc_init(&s, 19, 2, 5e6);
    set_link(&s, 2000000);
    sc_run(&s, RTC_SEC(20));
    s.f[0].rx_bytes_window = s.f[1].rx_bytes_window = 0;
    sc_run(&s, RTC_SEC(40));
    double a = (double)s.f[0].rx_bytes_window * 8 / 20, b = (double)s.f[1].rx_bytes_window * 8 / 20;
    fprintf(stderr, "two flows over 2M: %.0f + %.0f\n", a, b);
    ASSERT(a + b > 0.75 * 2e6);
    ASSERT(a > 0.3 * 2e6 && b > 0.3 * 2e6);
    sc_free(&s);
}

static double run_loss(double loss, uint64_t seed)
{
    scenario s;
    sc_init(&s, seed, 1, 5e6);
    set_link(&s, 2000000);
    vnet_set_link(s.net, (vnet_link){ .delay = RTC_MS(25), .loss = loss });
    sc_run(&s, RTC_SEC(20));
    double e = rtc_cc_target_bps(s.f[0].cc);
    rtc_cc_estimate est;
    rtc_cc_get_estimate(s.f[0].cc, &est);
    fprintf(stderr, "loss %.0f%%: estimate %.0f (loss side %.0f, delay side %.0f, measured loss %.3f)\n",
            loss * 100, e, est.loss_bps, est.delay_bps, est.loss_fraction);
    sc_free(&s);
    return e;
}

static void test_random_loss(void)
{
    double none = run_loss(0, 20), five = run_loss(0.05, 20), twenty = run_loss(0.20, 20);
    ASSERT(five > 0.6 * none);                          /* 5% does not collapse it */
    ASSERT(twenty < 0.5 * five);                        /* 20% backs it off */
}

static void test_replays_exactly(void)
{
    uint64_t t[2];
    for (int k = 0; k < 2; k++) {
        scenario s;
        sc_init(&s, 77, 1, 5e6);
        set_link(&s, 1000000);
        vnet_set_link(s.net, (vnet_link){ .delay = RTC_MS(25), .loss = 0.02, .jitter = RTC_MS(3) });
        sc_run(&s, RTC_SEC(8));
        t[k] = s.trace;
        ASSERT(s.f[0].events > 3);
        sc_free(&s);
    }
    ASSERT(t[0] == t[1]);
}

int main(void)
{
    RUN(test_converges_to_bottleneck);
    RUN(test_recovers_when_link_returns);
    RUN(test_two_flows_share);
    RUN(test_random_loss);
    RUN(test_replays_exactly);
    return 0;
}
