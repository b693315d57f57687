/* Binary min-heap of intrusive timers: O(log n) add, move and remove. */
#include "sfu/sfu_timers.h"
#include "core/rtc_errors.h"
#include <stdlib.h>

static void put(sfu_timers *ts, size_t i, sfu_timer *t) { ts->h[i] = t; t->slot = i; }

static void sift_up(sfu_timers *ts, size_t i)
{
    sfu_timer *t = ts->h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (ts->h[p]->at <= t->at) break;
        put(ts, i, ts->h[p]);
        i = p;
    }
    put(ts, i, t);
}

static void sift_down(sfu_timers *ts, size_t i)
{
    sfu_timer *t = ts->h[i];
    for (;;) {
        size_t l = 2 * i + 1, m = l;
        if (l >= ts->n) break;
        if (l + 1 < ts->n && ts->h[l + 1]->at < ts->h[l]->at) m = l + 1;
        if (t->at <= ts->h[m]->at) break;
        put(ts, i, ts->h[m]);
        i = m;
    }
    put(ts, i, t);
}

void sfu_timers_free(sfu_timers *ts)
{
    for (size_t i = 0; i < ts->n; i++) ts->h[i]->slot = SFU_TIMER_OFF;
    free(ts->h);
    *ts = (sfu_timers){ 0 };
}

int sfu_timers_add(sfu_timers *ts, sfu_timer *t, rtc_time at)
{
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 16;
        sfu_timer **h = realloc(ts->h, cap * sizeof *h);
        if (!h) { t->slot = SFU_TIMER_OFF; return RTC_ENOMEM; }
        ts->h = h; ts->cap = cap;
    }
    t->at = at;
    ts->h[ts->n] = t;
    t->slot = ts->n++;
    sift_up(ts, t->slot);
    return 0;
}

void sfu_timers_set(sfu_timers *ts, sfu_timer *t, rtc_time at)
{
    if (t->slot >= ts->n || ts->h[t->slot] != t) { t->at = at; return; }
    rtc_time old = t->at;
    t->at = at;
    if (at < old) sift_up(ts, t->slot); else sift_down(ts, t->slot);
}

void sfu_timers_remove(sfu_timers *ts, sfu_timer *t)
{
    size_t i = t->slot;
    if (i >= ts->n || ts->h[i] != t) return;
    t->slot = SFU_TIMER_OFF;
    sfu_timer *last = ts->h[--ts->n];
    if (i == ts->n) return;
    /* The last one fills the hole and moves whichever way its deadline says. */
    put(ts, i, last);
    if (i > 0 && ts->h[(i - 1) / 2]->at > last->at) sift_up(ts, i); else sift_down(ts, i);
}

sfu_timer *sfu_timers_first(const sfu_timers *ts) { return ts->n ? ts->h[0] : NULL; }

rtc_time sfu_timers_next(const sfu_timers *ts) { return ts->n ? ts->h[0]->at : RTC_TIME_NEVER; }
