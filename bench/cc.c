/* Congestion control on the virtual network (spec/c/cc_scenario.h): one flow offered
 * twice the link over a bottleneck with a 300 ms drop-tail queue, for link rates from
 * 300 kbit/s to 50 Mbit/s and RTTs from 10 to 200 ms, 20 s of virtual time each.
 * Prints per run: the utilisation (goodput over the last 10 s / link), the p50 and p95
 * queuing delay over the same 10 s, the final estimate, and the estimator's CPU time
 * per TWCC feedback packet (real clock, measured around rtc_cc_handle_twcc).
 * Usage: bench_cc [seconds (default 20)] */
#include "../spec/c/cc_scenario.h"
#include "../spec/c/vnet.c"
#include <time.h>

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double pct(scenario *s, double q)
{
    if (!s->ndelay) return 0;
    qsort(s->delay_ms, s->ndelay, sizeof *s->delay_ms, cmp_double);
    return s->delay_ms[(size_t)(q * (double)(s->ndelay - 1))];
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 20;
    if (secs < 4) secs = 4;
    static const uint64_t links[] = { 300000, 1000000, 5000000, 20000000, 50000000 };
    static const int rtts[] = { 10, 50, 200 };
    printf("%-10s %-6s %-8s %-9s %-9s %-12s %-10s\n", "link", "rtt_ms", "util_%", "p50_ms", "p95_ms", "estimate", "us/feedback");
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        for (size_t k = 0; k < sizeof rtts / sizeof rtts[0]; k++) {
            scenario s;
            sc_init_rtt(&s, 1000 + i * 10 + k, 1, 2.0 * (double)links[i], RTC_MS(rtts[k]));
            s.clock = wall;
            set_link(&s, links[i]);
            sc_run(&s, RTC_SEC(secs - 10));
            s.sample = true;
            double gp = goodput(&s, 0, RTC_SEC(10));
            double p50 = pct(&s, 0.5), p95 = pct(&s, 0.95);
            printf("%-10.1f %-6d %-8.1f %-9.1f %-9.1f %-12.0f %-10.2f\n", (double)links[i] / 1e6, rtts[k],
                   100.0 * gp / (double)links[i], p50, p95, rtc_cc_target_bps(s.f[0].cc),
                   s.fb_count ? s.fb_seconds * 1e6 / (double)s.fb_count : 0);
            fflush(stdout);
            sc_free(&s);
        }
    printf("(link in Mbit/s; estimate in bit/s; virtual network, one flow offered 2x the link)\n");
    return 0;
}
