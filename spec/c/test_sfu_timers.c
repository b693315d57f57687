/* The router's deadline heap: many timers with different deadlines fire in order,
 * moved and removed ones behave, and none is ever lost (checked against a plain array). */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "sfu/sfu_timers.h"
#include <stdbool.h>
#include <stdlib.h>

#define N 1000

static uint32_t rng = 12345;
static uint32_t rnd(void) { rng = rng * 1103515245u + 12345u; return rng >> 8; }

static void test_fire_in_order(void)
{
    static sfu_timer t[N];
    sfu_timers ts = { 0 };
    for (int i = 0; i < N; i++) ASSERT_OK(sfu_timers_add(&ts, &t[i], (rtc_time)(rnd() % 5000)));
    ASSERT_EQ(ts.n, N);
    rtc_time last = -1;
    int fired = 0;
    static bool seen[N];
    for (sfu_timer *f; (f = sfu_timers_first(&ts)); fired++) {
        ASSERT_GE(f->at, last);
        ASSERT_EQ(sfu_timers_next(&ts), f->at);
        last = f->at;
        ASSERT(!seen[f - t]);
        seen[f - t] = true;
        sfu_timers_remove(&ts, f);
        ASSERT_EQ(f->slot, SFU_TIMER_OFF);
    }
    ASSERT_EQ(fired, N);
    ASSERT_EQ(sfu_timers_next(&ts), RTC_TIME_NEVER);
    sfu_timers_free(&ts);
}

/* Random adds, moves and removes against a reference array; after each step the
 * heap's first is the reference minimum and every slot points back at its timer. */
static void test_against_reference(void)
{
    static sfu_timer t[N];
    static bool in[N];
    sfu_timers ts = { 0 };
    for (int i = 0; i < N; i++) t[i].slot = SFU_TIMER_OFF;
    for (int step = 0; step < 50000; step++) {
        int i = (int)(rnd() % N);
        rtc_time at = (rtc_time)(rnd() % 100000);
        switch (rnd() % 3) {
        case 0: if (!in[i]) { ASSERT_OK(sfu_timers_add(&ts, &t[i], at)); in[i] = true; } break;
        case 1: if (in[i]) { sfu_timers_set(&ts, &t[i], at); ASSERT_EQ(t[i].at, at); } break;
        case 2: sfu_timers_remove(&ts, &t[i]); in[i] = false; break;   /* also when not in */
        }
        size_t count = 0;
        rtc_time min = RTC_TIME_NEVER;
        for (int k = 0; k < N; k++) if (in[k]) { count++; if (t[k].at < min) min = t[k].at; }
        ASSERT_EQ(ts.n, count);
        ASSERT_EQ(sfu_timers_next(&ts), min);
        if (step % 1000 == 0)
            for (size_t s = 0; s < ts.n; s++) {
                ASSERT_EQ(ts.h[s]->slot, s);
                if (s) ASSERT_LE(ts.h[(s - 1) / 2]->at, ts.h[s]->at);
            }
    }
    /* Drain: every timer still in comes out exactly once, in order. */
    rtc_time last = -1;
    while (ts.n) {
        sfu_timer *f = sfu_timers_first(&ts);
        ASSERT(in[f - t]);
        ASSERT_GE(f->at, last);
        last = f->at;
        in[f - t] = false;
        sfu_timers_remove(&ts, f);
    }
    for (int k = 0; k < N; k++) ASSERT(!in[k]);
    sfu_timers_free(&ts);
}

/* The router's use: pop the due ones, push each one interval on. Every timer fires
 * once per its own interval, none is skipped, removed ones never fire again. */
static void test_periodic(void)
{
    enum { M = 300 };
    static sfu_timer t[M];
    static rtc_time interval[M];
    static int fires[M];
    sfu_timers ts = { 0 };
    for (int i = 0; i < M; i++) {
        interval[i] = 1000 + i * 7;
        ASSERT_OK(sfu_timers_add(&ts, &t[i], interval[i]));
    }
    rtc_time end = 1000000;
    for (rtc_time now = 0; now <= end; now += 333) {
        if (now == 1500 * 333)     /* removed before this tick's pops */ for (int i = 0; i < M; i += 3) sfu_timers_remove(&ts, &t[i]);
        for (sfu_timer *f; (f = sfu_timers_first(&ts)) && f->at <= now; ) {
            int i = (int)(f - t);
            ASSERT_GE(f->at + 333, now + 1);            /* fired within one tick of due */
            fires[i]++;
            sfu_timers_set(&ts, f, f->at + interval[i]);
        }
    }
    for (int i = 0; i < M; i++) {
        rtc_time last_tick = i % 3 == 0 ? 1499 * 333 : end / 333 * 333;
        ASSERT_EQ(fires[i], last_tick / interval[i]);
    }
    sfu_timers_free(&ts);
}

int main(void)
{
    RUN(test_fire_in_order);
    RUN(test_against_reference);
    RUN(test_periodic);
    return 0;
}
